/**
 * The event grid: pages through an events connection (Relay: `first` / `after`), with a choice of
 * columns, and exports everything the connection matched (every page, not the one shown) as CSV or
 * JSON lines. With an investigation in the URL, each row can be pinned to it with a note (kept by
 * the server in the lake), and "Pinned only" narrows the grid to the pinned events.
 */
import { gql, type Connection } from '../api';
import { count, download, h, message, replaceChildren, time } from '../dom';
import { loadPins, noteEvent, pinEvent, unpinEvent, type PinFields } from '../pins';
import { currentInvestigation } from '../route';

/** The event fields the grid reads (every class has them). */
export const GRID_EVENT = `fragment GridEvent on Event {
  eventId time class source account region activity service outcome errorCode
  actorId actorName sourceIpAddress userAgent resourceIds
}`;

export interface GridEvent {
  eventId: string;
  time: string;
  class: string;
  source: string;
  account: string;
  region: string;
  activity: string | null;
  service: string | null;
  outcome: string | null;
  errorCode: string | null;
  actorId: string | null;
  actorName: string | null;
  sourceIpAddress: string | null;
  userAgent: string | null;
  resourceIds: string[];
}

type Column = keyof GridEvent;
const COLUMNS: readonly Column[] = [
  'time',
  'class',
  'source',
  'activity',
  'service',
  'outcome',
  'errorCode',
  'actorId',
  'actorName',
  'sourceIpAddress',
  'userAgent',
  'resourceIds',
  'account',
  'region',
  'eventId',
];
const SHOWN_FIRST: readonly Column[] = ['time', 'activity', 'outcome', 'actorName', 'sourceIpAddress', 'resourceIds', 'source'];

/** What the grid narrows its connection to: the pinned events, a source country (the map's pick). */
export interface GridFilter {
  eventIds?: string[];
  country?: string;
}

/** Fetches one page of the events: `first` events after the cursor `after`, narrowed by `filter`. */
export type EventPages = (first: number, after: string | null, filter: GridFilter) => Promise<Connection<{ node: GridEvent }>>;

/** The largest page the server gives (its default `maxPageSize`); export reads this many at a time. */
const EXPORT_PAGE = 500;

function cell(event: GridEvent, column: Column): string {
  const value = event[column];
  if (Array.isArray(value)) return value.join(' ');
  if (column === 'time') return time(value);
  return value == null ? '' : String(value);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Every page of the connection, in order. */
async function everyEvent(pages: EventPages, filter: GridFilter): Promise<GridEvent[]> {
  const events: GridEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await pages(EXPORT_PAGE, after, filter);
    events.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return events;
    after = page.pageInfo.endCursor;
  }
}

export function eventGrid(pages: EventPages, name: string, options: { country?: string | null } = {}): HTMLElement {
  const shown = new Set<Column>(SHOWN_FIRST);
  const investigation = currentInvestigation();
  /** The investigation's pins (null until read, or without an investigation). */
  let pins: Map<string, PinFields> | null = null;
  let pinnedOnly = false;
  const filter = (): GridFilter => ({
    ...(options.country ? { country: options.country } : {}),
    ...(pinnedOnly ? { eventIds: [...(pins?.keys() ?? [])] } : {}),
  });
  const pinStatus = h('span', { class: 'muted', 'data-field': 'pin-status' });
  let pageSize = 25;
  /** Cursors of the pages before this one (null: the first page), for Previous. */
  const cursors: (string | null)[] = [null];
  let last: Connection<{ node: GridEvent }> | null = null;

  const status = h('span', { class: 'grid-status', 'data-field': 'grid-status' });
  const table = h('div', { class: 'grid-table' }, message('loading', 'Loading events…'));
  const previous = h('button', { type: 'button', id: 'grid-previous', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', id: 'grid-next', disabled: true }, 'Next →');
  const size = h(
    'select',
    { id: 'grid-page-size', 'aria-label': 'Rows per page' },
    [10, 25, 100, 500].map((n) => h('option', { value: n, selected: n === pageSize }, `${n} rows`)),
  );
  const exportStatus = h('span', { class: 'muted', 'data-field': 'export-status' });

  const draw = (): void => {
    if (!last) return;
    const columns = COLUMNS.filter((c) => shown.has(c));
    const start = (cursors.length - 1) * pageSize;
    status.textContent =
      last.totalCount === 0 ? 'No events' : `Events ${count(start + 1)}–${count(start + last.edges.length)} of ${count(last.totalCount)}`;
    replaceChildren(
      table,
      h(
        'table',
        { class: 'events' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', class: 'col-pin' }, 'Pin'),
            h('th', { scope: 'col', class: 'col-note' }, 'Note'),
            columns.map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          last.edges.map(({ node }) =>
            h(
              'tr',
              { 'data-event': node.eventId, 'data-pinned': pins?.has(node.eventId) ? 'true' : null },
              pinCells(node),
              columns.map((c) => h('td', { class: `col-${c}` }, cell(node, c))),
            ),
          ),
        ),
      ),
    );
    previous.disabled = cursors.length <= 1;
    next.disabled = !last.pageInfo.hasNextPage;
  };
  /** The pin toggle and the note of one row; without an investigation, both say how to get one. */
  const pinCells = (event: GridEvent): HTMLElement[] => {
    const pin = pins?.get(event.eventId);
    const why = investigation ? null : 'Name an investigation (top bar) to pin events and keep notes';
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'pin-toggle',
        'data-pin-toggle': event.eventId,
        'aria-pressed': pin ? 'true' : 'false',
        'aria-label': pin ? 'Unpin' : 'Pin',
        title: why ?? (pin ? `Pinned by ${pin.pinnedBy}` : 'Pin to the investigation'),
        disabled: !investigation || !pins,
      },
      pin ? '★' : '☆',
    );
    toggle.addEventListener('click', () => void changePin(event, pin ? 'unpin' : 'pin', null));
    const note = h('input', {
      type: 'text',
      class: 'pin-note',
      'data-note': event.eventId,
      value: pin?.note ?? '',
      placeholder: pin ? 'note…' : 'note (pins)…',
      'aria-label': 'Note',
      title: why ?? (pin?.notedBy ? `Noted by ${pin.notedBy}` : 'Enter: save the note (pins the event)'),
      disabled: !investigation || !pins,
      size: 18,
    });
    note.addEventListener('change', () => void changePin(event, pins?.has(event.eventId) ? 'note' : 'pin', note.value.trim()));
    return [h('td', { class: 'col-pin' }, toggle), h('td', { class: 'col-note' }, note)];
  };
  const changePin = async (event: GridEvent, action: 'pin' | 'note' | 'unpin', note: string | null): Promise<void> => {
    if (!investigation || !pins) return;
    pinStatus.textContent = 'Saving…';
    try {
      if (action === 'unpin') {
        await unpinEvent(investigation, event.eventId);
        pins.delete(event.eventId);
      } else if (action === 'note') pins.set(event.eventId, await noteEvent(investigation, event.eventId, note ?? ''));
      else pins.set(event.eventId, await pinEvent(investigation, event.eventId, event.time, note || null));
      pinStatus.textContent = `${count(pins.size)} pinned in ${investigation}`;
      draw();
    } catch (err) {
      pinStatus.textContent = `Not saved: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
  const pinnedBox = h('input', { type: 'checkbox', id: 'grid-pinned-only', disabled: !investigation });
  pinnedBox.addEventListener('change', () => {
    pinnedOnly = pinnedBox.checked;
    cursors.splice(1);
    void load();
  });

  const load = async (): Promise<void> => {
    previous.disabled = next.disabled = true;
    try {
      if (investigation && !pins) {
        pins = await loadPins(investigation);
        pinStatus.textContent = `${count(pins.size)} pinned in ${investigation}`;
      }
      last = await pages(pageSize, cursors[cursors.length - 1], filter());
      draw();
    } catch (err) {
      replaceChildren(table, message('error', err instanceof Error ? err.message : String(err)));
    }
  };
  next.addEventListener('click', () => {
    if (!last?.pageInfo.endCursor) return;
    cursors.push(last.pageInfo.endCursor);
    void load();
  });
  previous.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    void load();
  });
  size.addEventListener('change', () => {
    pageSize = Number(size.value);
    cursors.splice(1);
    void load();
  });

  const exportAs = async (format: 'csv' | 'json'): Promise<void> => {
    exportStatus.textContent = 'Exporting…';
    try {
      const events = await everyEvent(pages, filter());
      if (format === 'json') {
        download(`${name}.json`, 'application/json', JSON.stringify(events, null, 1));
      } else {
        const lines = [COLUMNS.join(','), ...events.map((e) => COLUMNS.map((c) => csvField(c === 'time' ? e.time : cell(e, c))).join(','))];
        download(`${name}.csv`, 'text/csv', lines.join('\r\n') + '\r\n');
      }
      exportStatus.textContent = `Exported ${count(events.length)} events`;
    } catch (err) {
      exportStatus.textContent = `Export failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  };

  const chooser = h(
    'details',
    { class: 'columns' },
    h('summary', {}, 'Columns'),
    COLUMNS.map((c) =>
      h(
        'label',
        {},
        h('input', {
          type: 'checkbox',
          checked: shown.has(c),
          'data-column': c,
          onchange: (e) => {
            if ((e.target as HTMLInputElement).checked) shown.add(c);
            else shown.delete(c);
            draw();
          },
        }),
        c,
      ),
    ),
  );

  void load();
  return h(
    'section',
    { class: 'grid', id: 'events' },
    h('h2', {}, 'Events'),
    h(
      'div',
      { class: 'grid-bar' },
      status,
      previous,
      next,
      size,
      chooser,
      h('label', { class: 'pinned-only', title: investigation ? null : 'Name an investigation (top bar) first' }, pinnedBox, 'Pinned only'),
      pinStatus,
      options.country ? h('span', { class: 'grid-country', 'data-field': 'grid-country' }, `Source country ${options.country}`) : null,
      h('button', { type: 'button', id: 'export-csv', onclick: () => void exportAs('csv') }, 'Export CSV'),
      h('button', { type: 'button', id: 'export-json', onclick: () => void exportAs('json') }, 'Export JSON'),
      exportStatus,
    ),
    table,
  );
}

/** Pages of an entity's events: `events` under the root field that looks the entity up. */
export function entityEventPages(lookup: string, argument: string, id: string, window: { from: string; to: string }): EventPages {
  const query = `query Events($id: String!, $w: TimeWindow!, $first: Int!, $after: String, $filter: EventFilter) {
    entity: ${lookup}(${argument}: $id, window: $w) {
      events(first: $first, after: $after, window: $w, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { ...GridEvent } }
      }
    }
  }
  ${GRID_EVENT}`;
  return async (first, after, filter) => {
    const data = await gql<{ entity: { events: Connection<{ node: GridEvent }> } | null }>(query, { id, w: window, first, after, filter });
    if (!data.entity) return { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] };
    return data.entity.events;
  };
}
