/**
 * An entity page (identity, session, IP, resource, account): key facts, the activity histogram
 * from `aggregate`, new behaviour against the look-back (`newBehaviour`), findings, related entities (each a pivot that keeps the window), and the event
 * grid.
 */
import { gql, type Connection } from '../api';
import { count, facts, h, message, replaceChildren, time, type Child } from '../dom';
import { ENTITY_REF, entityLink, entityRef, KIND_LABEL, type EntityRefFields } from '../entities';
import { FINDING_FIELDS, findingList, type FindingFields } from '../findings';
import { href, parseHash, type EntityKind, type TimeWindow } from '../route';
import { newBehaviourPanel } from './behaviour';
import { entityEventPages, eventGrid } from './grid';
import { bucketFor, histogram } from './histogram';
import { worldMapPanel } from './worldmap';

interface KindSpec {
  /** Root field and its argument. */
  lookup: string;
  argument: string;
  /** Fields of the key facts. */
  fields: string;
  facts: (e: Record<string, unknown>, window: TimeWindow) => [string, string, Child][];
  /** Link connections shown as related entities: field and heading. */
  related: readonly [field: string, label: string][];
  findings: boolean;
  /** A world map of the events' source countries (sign-ins and source addresses). */
  map: boolean;
}

const text = (v: unknown): string => {
  if (v == null || v === '') return '–';
  if (Array.isArray(v)) return v.map((item) => text(item)).join(', ') || '–';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
};
const refLink = (v: unknown, window: TimeWindow): Child => {
  const ref = v ? entityRef(v as EntityRefFields) : null;
  return ref ? entityLink(ref, window) : '–';
};

/** What each kind of page shows. Field names come from this table only, never from the URL. */
export const KINDS: Record<EntityKind, KindSpec> = {
  identity: {
    lookup: 'identity',
    argument: 'id',
    fields: 'identityId kind provider account arn name names accessKeys',
    facts: (e) => [
      ['identityId', 'Identity', text(e.identityId)],
      ['kind', 'Kind', text(e.kind)],
      ['provider', 'Provider', text(e.provider)],
      ['account', 'Account', text(e.account)],
      ['names', 'Names', text(e.names)],
      ['accessKeys', 'Access keys', text(e.accessKeys)],
    ],
    related: [
      ['sessions', 'Sessions'],
      ['issuedSessions', 'Sessions it issued'],
      ['ips', 'IP addresses'],
      ['resources', 'Resources'],
      ['userAgents', 'User agents'],
      ['accounts', 'Accounts'],
    ],
    findings: true,
    map: true,
  },
  session: {
    lookup: 'session',
    argument: 'id',
    fields: 'sessionId accessKeyId kind provider account name mfa identity { ...EntityRef } parent { ...EntityRef }',
    facts: (e, w) => [
      ['sessionId', 'Session', text(e.sessionId)],
      ['kind', 'Kind', text(e.kind)],
      ['account', 'Account', text(e.account)],
      ['name', 'Session name', text(e.name)],
      ['mfa', 'MFA', text(e.mfa)],
      ['identity', 'Acting as', refLink(e.identity, w)],
      ['parent', 'Issued by session', refLink(e.parent, w)],
    ],
    related: [
      ['ips', 'IP addresses'],
      ['resources', 'Resources'],
      ['userAgents', 'User agents'],
      ['children', 'Sessions it issued'],
    ],
    findings: true,
    map: false,
  },
  ip: {
    lookup: 'ip',
    argument: 'address',
    fields: 'address isPrivate country asn org isCloudProvider sources',
    facts: (e) => [
      ['address', 'Address', text(e.address)],
      ['isPrivate', 'Private', text(e.isPrivate)],
      ['country', 'Country', text(e.country)],
      ['asn', 'ASN', e.asn == null ? '–' : `AS${text(e.asn)} ${text(e.org)}`],
      ['isCloudProvider', 'Cloud provider network', text(e.isCloudProvider)],
      ['sources', 'Seen by', text(e.sources)],
    ],
    related: [
      ['identities', 'Identities'],
      ['sessions', 'Sessions'],
      ['resources', 'Resources'],
      ['peers', 'Flow peers'],
      ['instances', 'Instances'],
    ],
    findings: true,
    map: true,
  },
  resource: {
    lookup: 'resource',
    argument: 'id',
    fields: 'resourceId kind provider account arn name',
    facts: (e) => [
      ['resourceId', 'Resource', text(e.resourceId)],
      ['kind', 'Kind', text(e.kind)],
      ['provider', 'Provider', text(e.provider)],
      ['account', 'Account', text(e.account)],
      ['name', 'Name', text(e.name)],
    ],
    related: [
      ['actors', 'Who touched it'],
      ['sessions', 'Sessions'],
      ['sourceIps', 'Source addresses'],
      ['interfaces', 'Network interfaces'],
      ['addresses', 'Addresses'],
    ],
    findings: true,
    map: false,
  },
  account: {
    lookup: 'account',
    argument: 'id',
    fields: 'accountId provider',
    facts: (e) => [
      ['accountId', 'Account', text(e.accountId)],
      ['provider', 'Provider', text(e.provider)],
    ],
    related: [['identities', 'Identities']],
    findings: true,
    map: true,
  },
};

interface LinkEdge {
  relation: string;
  eventCount: number;
  firstSeen: string;
  lastSeen: string;
  node: EntityRefFields;
}

const RELATED_PAGE = 10;

function pageQuery(spec: KindSpec): string {
  const related = spec.related
    .map(
      ([field]) =>
        `${field}(first: ${RELATED_PAGE}, window: $w) { totalCount edges { relation eventCount firstSeen lastSeen node { ...EntityRef } } }`,
    )
    .join('\n');
  return `query EntityPage($id: String!, $w: TimeWindow!) {
    entity: ${spec.lookup}(${spec.argument}: $id, window: $w) {
      __typename ${spec.fields} firstSeen lastSeen eventCount
      ${spec.findings ? `findings(first: 50, window: $w) { totalCount edges { node { ${FINDING_FIELDS} } } }` : ''}
      ${related}
    }
  }
  ${ENTITY_REF}`;
}

/** The histogram's own query: the same aggregate a script would ask for. */
export function activityQuery(spec: KindSpec): string {
  return `query Activity($id: String!, $w: TimeWindow!, $bucket: TimeBucket!) {
    entity: ${spec.lookup}(${spec.argument}: $id, window: $w) {
      events(first: 1, window: $w) { aggregate(bucket: $bucket, orderBy: TIME, top: 500) { totalEvents groups { bucket count } } }
    }
  }`;
}

export async function renderEntity(root: HTMLElement, kind: EntityKind, id: string, window: TimeWindow): Promise<void> {
  const spec = KINDS[kind];
  const country = spec.map ? countryOfUrl() : null;
  replaceChildren(root, h('h1', {}, `${KIND_LABEL[kind]} `, h('code', {}, id)), message('loading', 'Loading…'));
  const activity = h('section', { class: 'activity', id: 'activity' }, h('h2', {}, 'Activity'), message('loading', 'Counting…'));
  const bucket = bucketFor(window);
  gql<{ entity: { events: { aggregate: { totalEvents: number; groups: { bucket: string; count: number }[] } } } | null }>(
    activityQuery(spec),
    {
      id,
      w: window,
      bucket,
    },
  )
    .then(({ entity }) => {
      const aggregate = entity?.events.aggregate;
      replaceChildren(
        activity,
        h(
          'h2',
          {},
          'Activity ',
          h('span', { class: 'muted', 'data-field': 'activity-total' }, `${count(aggregate?.totalEvents ?? 0)} events`),
        ),
        histogram(aggregate?.groups ?? [], window, bucket),
      );
    })
    .catch((err: unknown) => activity.replaceChildren(h('h2', {}, 'Activity'), message('error', String(err))));

  const data = await gql<{ entity: (Record<string, unknown> & { __typename: string }) | null }>(pageQuery(spec), { id, w: window });
  const e = data.entity;
  if (!e) {
    replaceChildren(root, h('h1', {}, `${KIND_LABEL[kind]} `, h('code', {}, id)), message('empty', 'Not found in this window.'));
    return;
  }
  const findings = spec.findings ? (e.findings as Connection<{ node: FindingFields }>) : null;
  replaceChildren(
    root,
    h(
      'h1',
      {},
      `${KIND_LABEL[kind]} `,
      h('code', {}, id),
      ' ',
      h('a', { class: 'button', id: 'open-graph', href: href(['graph', kind, id], window) }, 'Open in graph'),
    ),
    h(
      'div',
      { class: 'entity-top' },
      h(
        'section',
        { class: 'key-facts', id: 'facts' },
        h('h2', {}, 'Key facts'),
        facts([
          ...spec.facts(e, window),
          ['firstSeen', 'First seen', time(e.firstSeen as string | null)],
          ['lastSeen', 'Last seen', time(e.lastSeen as string | null)],
          ['eventCount', 'Events', count(e.eventCount as number)],
        ]),
      ),
      activity,
    ),
    newBehaviourPanel(spec.lookup, spec.argument, id, window),
    findings &&
      h(
        'section',
        { id: 'findings' },
        h('h2', {}, 'Findings ', h('span', { class: 'muted' }, count(findings.totalCount))),
        findings.edges.length > 0 ? findingList(findings.edges.map((f) => f.node)) : message('empty', 'No findings in this window.'),
      ),
    h(
      'section',
      { class: 'related', id: 'related' },
      h('h2', {}, 'Related'),
      spec.related.map(([field, label]) => related(label, field, e[field] as Connection<LinkEdge>, window)),
    ),
    spec.map && worldMapPanel(spec.lookup, spec.argument, id, window, country, selectCountry),
    eventGrid(entityEventPages(spec.lookup, spec.argument, id, window), `${kind}-${id.replace(/[^A-Za-z0-9._-]+/g, '_')}-events`, {
      country,
    }),
  );
}

/** The source country the URL narrows the grid to (`country=NL`, the map's pick), if any. */
function countryOfUrl(): string | null {
  const country = parseHash(location.hash).params.get('country');
  return country && /^[A-Z]{2}$/.test(country) ? country : null;
}

/** The map's pick goes into the URL (so a reload or a shared link shows the same), and the page follows it. */
function selectCountry(country: string | null): void {
  const route = parseHash(location.hash);
  if (country) route.params.set('country', country);
  else route.params.delete('country');
  location.hash = `#/${route.path.map((s) => encodeURIComponent(s)).join('/')}?${route.params.toString()}`;
}

function related(label: string, field: string, links: Connection<LinkEdge>, window: TimeWindow): HTMLElement | null {
  if (links.totalCount === 0) return null;
  return h(
    'div',
    { class: 'related-list', 'data-related': field },
    h('h3', {}, `${label} `, h('span', { class: 'muted' }, count(links.totalCount))),
    h(
      'table',
      {},
      h('tbody', {}, [
        ...links.edges.map((link) => {
          const ref = entityRef(link.node);
          return h(
            'tr',
            {},
            h('td', {}, ref ? entityLink(ref, window) : '?'),
            h('td', { class: 'muted' }, link.relation),
            h('td', { class: 'num' }, count(link.eventCount)),
            h('td', { class: 'muted' }, `${time(link.firstSeen)} → ${time(link.lastSeen)}`),
          );
        }),
        links.totalCount > links.edges.length
          ? h('tr', {}, h('td', { colspan: 4, class: 'muted' }, `… ${count(links.totalCount - links.edges.length)} more`))
          : null,
      ]),
    ),
  );
}
