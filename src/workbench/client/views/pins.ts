/**
 * The investigation's pins (`#/pins?inv=…`): every pinned event with its note, who pinned it and
 * the event as the lake holds it, as `investigation(id) { pins }` answers.
 */
import { gql, type Connection } from '../api';
import { count, h, message, replaceChildren, time } from '../dom';
import { currentInvestigation, type TimeWindow } from '../route';
import type { PinFields } from '../pins';

interface PinRow extends PinFields {
  event: { activity: string | null; actorName: string | null; sourceIpAddress: string | null } | null;
}

export async function renderPins(root: HTMLElement, _window: TimeWindow): Promise<void> {
  const inv = currentInvestigation();
  if (!inv) {
    replaceChildren(root, h('h1', {}, 'Pins'), message('empty', 'Name an investigation in the top bar to see its pins.'));
    return;
  }
  replaceChildren(root, h('h1', {}, 'Pins of ', h('code', {}, inv)), message('loading', 'Loading…'));
  const data = await gql<{ investigation: { pins: Connection<{ node: PinRow }> } }>(
    `query InvestigationPins($inv: String!) { investigation(id: $inv) { pins(first: 500) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { eventId time account note pinnedBy pinnedAt notedBy notedAt event { activity actorName sourceIpAddress } } } } } }`,
    { inv },
  );
  const pins = data.investigation.pins;
  replaceChildren(
    root,
    h('h1', {}, 'Pins of ', h('code', {}, inv), ' ', h('span', { class: 'muted', 'data-field': 'pins-total' }, count(pins.totalCount))),
    pins.edges.length === 0
      ? message('empty', 'Nothing pinned yet: pin events in any event grid.')
      : h(
          'table',
          { class: 'events pins' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['time', 'activity', 'actor', 'source', 'account', 'note', 'pinned by', 'eventId'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            pins.edges.map(({ node: p }) =>
              h(
                'tr',
                { 'data-pin': p.eventId },
                h('td', {}, time(p.time)),
                h('td', {}, p.event?.activity ?? '–'),
                h('td', {}, p.event?.actorName ?? '–'),
                h('td', {}, p.event?.sourceIpAddress ?? '–'),
                h('td', {}, p.account),
                h('td', { 'data-field': 'note' }, p.note ?? ''),
                h('td', { class: 'muted' }, `${p.pinnedBy} ${time(p.pinnedAt)}`),
                h('td', { class: 'muted' }, p.eventId),
              ),
            ),
          ),
        ),
  );
}
