/**
 * Event lists read the columns the document shows, not every column of the lake: `raw` (most of an
 * event file) only when a field asks for it. A hunter relies on two things here: the answer is the
 * same whatever else the document selects, and a timeline that does not show the raw record does
 * not pay for reading it (Athena bills the column chunks read). On DuckDB and Athena alike.
 */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import { ALICE, BRUTE_IP, WINDOW, writeStoryLake } from './fixtures/story';

const lake = lakeForFile(writeStoryLake);

/** Passes statements through and keeps each event-page statement's SQL (label `events:…`). */
class PageRecorder implements QueryEngine {
  pages: string[] = [];
  constructor(private readonly inner: QueryEngine) {}
  get name(): QueryEngine['name'] {
    return this.inner.name;
  }
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    if (options?.label?.startsWith('events:')) this.pages.push(sql);
    return this.inner.query<R>(sql, params, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Every field an event of each class can show (links by their entity's id): the widest document. */
const ALL_FIELDS = `__typename id class source account region time eventId activity service outcome errorCode errorMessage
  actorId actor { identityId } actorType actorName actorArn session { accessKeyId } sourceIpAddress sourceIp { address }
  userAgent resourceIds resources { resourceId } raw flags srcCountry
  ... on ApiActivity { requestParameters readOnly issuedSessionId issuedSession { accessKeyId } }
  ... on NetworkActivity { dstIp destinationIp { address } dstPort bytes disposition }
  ... on HttpActivity { url status }`;

/** The same events, projected on a few fields. */
const pick = (nodes: Record<string, unknown>[], fields: readonly string[]) =>
  nodes.map((n) => Object.fromEntries(fields.map((f) => [f, n[f]])));

const readsRaw = (sql: string) => sql.includes('"raw"');

describe.each(ENGINES)('on %s', (engine) => {
  let recorder: PageRecorder;
  const api = apiForDescribe(lake, engine, { wrap: (inner) => (recorder = new PageRecorder(inner)) });
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });
  beforeEach(() => {
    recorder.pages = [];
  });

  const rootPage = (fields: string, extra = '') =>
    t.data(
      `query($w: TimeWindow!) { events(window: $w, first: 50) { ${extra} edges { cursor node { ${fields} } } } }
       ${fields.includes('...Raw') ? 'fragment Raw on Event { raw }' : ''}`,
      { w: WINDOW },
    );
  const nodesOf = (data: any): Record<string, unknown>[] => data.events.edges.map((e: any) => e.node);

  test('a page showing a few fields reads neither raw nor the other columns, and answers as the widest document does', async () => {
    const wide = nodesOf(await rootPage(ALL_FIELDS));
    expect(wide.length).toBeGreaterThan(5);
    expect(wide.every((n) => typeof n.raw === 'string' && n.raw.length > 0)).toBe(true);
    expect(recorder.pages.map(readsRaw)).toEqual([true]);

    recorder.pages = [];
    const narrow = nodesOf(await rootPage('id eventId time activity actorId sourceIpAddress'));
    expect(narrow).toEqual(pick(wide, ['id', 'eventId', 'time', 'activity', 'actorId', 'sourceIpAddress']));
    expect(recorder.pages).toHaveLength(1);
    expect(readsRaw(recorder.pages[0])).toBe(false);
    expect(recorder.pages[0]).not.toContain('"request_parameters"');
    expect(recorder.pages[0]).toContain('"actor_id"');
  });

  test('raw asked through a named fragment, a type condition or an alias is read and answered', async () => {
    const wide = nodesOf(await rootPage(ALL_FIELDS));
    for (const fields of ['eventId ...Raw', 'eventId ... on ApiActivity { raw } ... on Event { raw }', 'eventId original: raw']) {
      recorder.pages = [];
      const nodes = nodesOf(await rootPage(fields));
      const raws = nodes.map((n) => n.raw ?? n.original);
      expect(raws).toEqual(wide.map((n) => n.raw));
      expect(recorder.pages.map(readsRaw)).toEqual([true]);
    }
  });

  test('edges and pageInfo of one page are one statement, reading what the edges show', async () => {
    const data = await rootPage('eventId actor { identityId }', 'pageInfo { hasNextPage endCursor }');
    expect(data.events.pageInfo.endCursor).toBe(data.events.edges.at(-1).cursor);
    expect(recorder.pages).toHaveLength(1);
    expect(recorder.pages[0]).toContain('"actor_id"');
    expect(readsRaw(recorder.pages[0])).toBe(false);

    // Two lists of one request that differ only in what they show still batch into one statement.
    recorder.pages = [];
    const two = await t.data(
      `query($w: TimeWindow!, $a: String!, $ip: String!) {
        a: identity(id: $a, window: $w) { events(first: 3) { edges { node { eventId } } } }
        b: ip(address: $ip, window: $w) { events(first: 3) { edges { node { eventId raw } } } } }`,
      { w: WINDOW, a: ALICE, ip: BRUTE_IP },
    );
    expect(two.a.events.edges.length).toBeGreaterThan(0);
    expect(two.b.events.edges.every((e: any) => typeof e.node.raw === 'string')).toBe(true);
    expect(recorder.pages.filter(readsRaw).length).toBeGreaterThan(0);
  });

  test("contextFor's recent events read what they show", async () => {
    const ask = (fields: string) =>
      t.data(`query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) { recentEvents(first: 5) { ${fields} } } }`, {
        i: BRUTE_IP,
        w: WINDOW,
      });
    const wide = (await ask(ALL_FIELDS)).contextFor.recentEvents as Record<string, unknown>[];
    expect(wide.length).toBeGreaterThan(0);
    recorder.pages = [];
    const narrow = (await ask('eventId activity')).contextFor.recentEvents as Record<string, unknown>[];
    expect(narrow).toEqual(pick(wide, ['eventId', 'activity']));
    expect(recorder.pages.length).toBeGreaterThan(0);
    expect(recorder.pages.some(readsRaw)).toBe(false);
  });
});
