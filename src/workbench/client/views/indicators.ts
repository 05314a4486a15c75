/**
 * The indicator box: paste any mix of IPs, ARNs, access keys, user names, domains, instance ids…;
 * one context card each, from `contextFor` (what it was tried as and found as, counts, first and
 * last seen, findings).
 */
import { gql } from '../api';
import { count, facts, h, message, replaceChildren, time } from '../dom';
import { ENTITY_REF, entityLink, entityRef, KIND_LABEL, type EntityRefFields } from '../entities';
import { FINDING_FIELDS, findingList, type FindingFields } from '../findings';
import { href, type TimeWindow } from '../route';

const CONTEXT = `query Context($indicator: String!, $w: TimeWindow!) {
  contextFor(indicator: $indicator, window: $w) {
    indicator kind found tried
    matches { kind foundAs domain entity { ...EntityRef } }
    firstSeen lastSeen eventCount
    identities(first: 1) { totalCount }
    ips(first: 1) { totalCount }
    resources(first: 1) { totalCount }
    sessions(first: 1) { totalCount }
    findings(first: 20) { ${FINDING_FIELDS} }
  }
}
${ENTITY_REF}`;

interface IndicatorContext {
  indicator: string;
  kind: string;
  found: boolean;
  tried: string[];
  matches: { kind: string; foundAs: string; domain: string | null; entity: EntityRefFields | null }[];
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
  identities: { totalCount: number };
  ips: { totalCount: number };
  resources: { totalCount: number };
  sessions: { totalCount: number };
  findings: FindingFields[];
}

/** Indicators in pasted text: one per line, or separated by spaces, commas or semicolons; each once. */
export function splitIndicators(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,;]+/)) {
    const indicator = part.trim().replace(/^["'<([]+|["'>)\].]+$/g, '');
    if (indicator) seen.add(indicator);
  }
  return [...seen];
}

export function renderIndicators(root: HTMLElement, indicators: readonly string[], window: TimeWindow): void {
  const box = h('textarea', {
    id: 'indicators',
    rows: 4,
    spellcheck: 'false',
    placeholder: 'Paste IPs, ARNs, access keys, user names, emails, domains, instance ids… one per line or separated by spaces',
    'aria-label': 'Indicators',
  });
  box.value = indicators.join('\n');
  const lookUp = (): void => {
    const list = splitIndicators(box.value);
    if (list.length === 0) return;
    location.hash = list.length === 1 ? href(['context', list[0]], window) : href(['search'], window, { q: list.join('\n') });
  };
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) lookUp();
  });
  const cards = h('div', { class: 'cards', id: 'cards' });
  replaceChildren(
    root,
    h('h1', {}, 'Indicators'),
    h(
      'form',
      { class: 'indicator-box', onsubmit: (e) => (e.preventDefault(), lookUp()) },
      box,
      h('button', { type: 'submit', id: 'look-up' }, 'Look up'),
    ),
    cards,
  );
  for (const indicator of indicators) cards.appendChild(card(indicator, window));
}

function card(indicator: string, window: TimeWindow): HTMLElement {
  const body = h('div', { class: 'card-body' }, message('loading', 'Looking up…'));
  const section = h('section', { class: 'card', 'data-indicator': indicator, 'data-state': 'loading' }, h('h2', {}, indicator), body);
  gql<{ contextFor: IndicatorContext }>(CONTEXT, { indicator, w: window })
    .then(({ contextFor: c }) => {
      section.dataset.state = c.found ? 'found' : 'not-found';
      const found = new Set(c.matches.map((m) => m.kind));
      replaceChildren(
        body,
        h(
          'p',
          { class: c.found ? 'verdict found' : 'verdict not-found' },
          c.found ? `Found as ${c.kind}` : `Not found in the window (looks like ${c.kind})`,
        ),
        h(
          'p',
          { class: 'tried', 'data-field': 'tried' },
          'Tried as: ',
          c.tried.map((kind) =>
            h('span', { class: found.has(kind) ? 'tag hit' : 'tag', 'data-kind': kind, 'data-found': String(found.has(kind)) }, kind),
          ),
        ),
        c.matches.length > 0 &&
          h(
            'ul',
            { class: 'matches' },
            c.matches.map((m) => {
              const ref = m.entity ? entityRef(m.entity) : null;
              return h(
                'li',
                { 'data-match': m.kind },
                `${KIND_LABEL[ref?.kind ?? 'domain']} `,
                ref ? entityLink(ref, window) : (m.domain ?? ''),
                ` (${m.kind})`,
              );
            }),
          ),
        facts([
          ['eventCount', 'Events', count(c.eventCount)],
          ['firstSeen', 'First seen', time(c.firstSeen)],
          ['lastSeen', 'Last seen', time(c.lastSeen)],
          ['identities', 'Identities', count(c.identities.totalCount)],
          ['ips', 'IP addresses', count(c.ips.totalCount)],
          ['resources', 'Resources', count(c.resources.totalCount)],
          ['sessions', 'Sessions', count(c.sessions.totalCount)],
          ['findings', 'Findings', count(c.findings.length)],
        ]),
        c.findings.length > 0 ? findingList(c.findings) : null,
      );
    })
    .catch((err: unknown) => {
      section.dataset.state = 'error';
      replaceChildren(body, message('error', err instanceof Error ? err.message : String(err)));
    });
  return section;
}
