/**
 * Bounded cost: batching (a depth-d pivot costs about d round trips), window and page caps, and
 * depth / alias / complexity limits that stop a document before any SQL runs.
 */
import type { QueryEngine, QueryOptions, SqlParam } from '../../src/engine/types';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import { CROWD_WINDOW, writeCrowdLake } from './fixtures/crowd';

const calls: string[] = [];
// Counts every statement that reaches the engine, whatever the API itself reports.
const counting = (inner: QueryEngine): QueryEngine => ({
  name: inner.name,
  query: (sql: string, params?: readonly SqlParam[], options?: QueryOptions) => {
    calls.push(options?.label ?? sql.slice(0, 40));
    return inner.query(sql, params, options);
  },
  close: () => inner.close(),
});
const lake = lakeForFile((dir) => writeCrowdLake(dir, 50));

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine, { wrap: counting, limits: { maxWindowDays: 31, maxPageSize: 500, maxAliases: 20 } });
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });
  beforeEach(() => {
    calls.length = 0;
  });
  /** StartQueryExecution calls the local Athena server has seen (0 on DuckDB). */
  const athenaStarts = () => t.server?.calls.filter((c) => c.operation === 'StartQueryExecution').length ?? 0;

  test('a depth-3 pivot over 50 identities takes at most 4 engine queries', async () => {
    const result = await t.gql(
      `query($w: TimeWindow!) {
        identities(window: $w, first: 50) { totalCount edges { node {
          identityId
          ips(first: 10) { edges { node {
            address
            identities(first: 20) { edges { node {
              identityId
              sessions(first: 5) { edges { node { accessKeyId eventCount } } }
            } } }
          } } }
        } } }
      }`,
      { w: CROWD_WINDOW },
    );
    expect(result.errors).toBeUndefined();
    const data = result.data as any;
    expect(data.identities.totalCount).toBe(50);
    expect(data.identities.edges).toHaveLength(50);
    // Every identity reaches its one IP, whose 10 users each show their own key.
    const first = data.identities.edges[0].node;
    expect(first.ips.edges).toHaveLength(1);
    const neighbours = first.ips.edges[0].node.identities.edges;
    expect(neighbours).toHaveLength(10);
    for (const n of neighbours)
      expect(n.node.sessions.edges).toEqual([{ node: { accessKeyId: expect.stringMatching(/^AKIACROWD/), eventCount: 2 } }]);
    expect(calls.length).toBeLessThanOrEqual(4);
    expect((result.extensions?.stats as any).queries).toBe(calls.length);
  });

  test("each identity's own events page and count, for 50 identities: one query for the page, one for the counts", async () => {
    const d = await t.data(
      `query($w: TimeWindow!) { identities(window: $w, first: 50) { edges { node { identityId events(first: 1) { totalCount edges { node { eventId actorId } } } } } } }`,
      { w: CROWD_WINDOW },
    );
    expect(calls.filter((c) => c.startsWith('events:')).length).toBe(1);
    expect(calls.filter((c) => c.startsWith('eventsCount:')).length).toBe(1);
    expect(calls.length).toBe(3);
    for (const { node } of d.identities.edges) {
      expect(node.events.totalCount).toBe(2);
      expect(node.events.edges).toHaveLength(1);
      expect(node.events.edges[0].node.actorId).toBe(node.identityId);
      // The earliest of the two: crowd-<i>-0.
      expect(node.events.edges[0].node.eventId).toMatch(/^crowd-\d+-0$/);
    }
  });

  test('pivot pages: first/after walk a connection without gaps, totalCount is the whole', async () => {
    const q = `query($w: TimeWindow!, $after: String) { ip(address: "198.51.100.1", window: $w) { identities(first: 4, after: $after) { totalCount edges { node { identityId } } pageInfo { hasNextPage endCursor } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (let i = 0; i < 10; i++) {
      const d: any = await t.data(q, { w: CROWD_WINDOW, after });
      total = d.ip.identities.totalCount;
      seen.push(...d.ip.identities.edges.map((e: any) => e.node.identityId));
      if (!d.ip.identities.pageInfo.hasNextPage) break;
      after = d.ip.identities.pageInfo.endCursor;
    }
    expect(total).toBe(10);
    expect(new Set(seen).size).toBe(10);
    expect(seen).toHaveLength(10);
  });

  const codeOf = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => r.errors?.map((e) => e.extensions?.code);

  test('a window longer than the cap is refused with WINDOW_TOO_LARGE before any SQL', async () => {
    const started = athenaStarts();
    const r = await t.gql(`{ events(window: { from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" }) { totalCount } }`);
    expect(codeOf(r)).toEqual(['WINDOW_TOO_LARGE']);
    expect(r.errors![0].message).toMatch(/31 days/);
    expect(calls).toEqual([]);
    // On Athena, nothing reached the service: no query was started, so nothing was billed.
    expect(athenaStarts()).toBe(started);
  });

  test('page size above the cap is PAGE_TOO_LARGE; negative, bad windows and bad cursors are BAD_USER_INPUT', async () => {
    const w = 'window: { from: "2026-05-01T00:00:00Z", to: "2026-05-02T00:00:00Z" }';
    expect(codeOf(await t.gql(`{ events(${w}, first: 501) { totalCount } }`))).toEqual(['PAGE_TOO_LARGE']);
    expect(codeOf(await t.gql(`{ ip(address: "198.51.100.1", ${w}) { identities(first: 9999) { totalCount } } }`))).toEqual([
      'PAGE_TOO_LARGE',
    ]);
    expect(codeOf(await t.gql(`{ events(${w}, first: -1) { totalCount } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codeOf(await t.gql(`{ events(window: { from: "2026-05-02T00:00:00Z", to: "2026-05-01T00:00:00Z" }) { totalCount } }`))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const badTime = await t.gql(`query($w: TimeWindow!) { events(window: $w) { totalCount } }`, {
      w: { from: 'yesterday', to: '2026-05-01T00:00:00Z' },
    });
    expect(codeOf(badTime)).toEqual(['BAD_USER_INPUT']);
    expect(codeOf(await t.gql(`{ events(${w}, after: "bm90IGEgY3Vyc29y") { totalCount } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codeOf(await t.gql(`{ node(id: "!!!") { id } }`))).toEqual(['BAD_USER_INPUT']);
  });

  test('too deep, too many aliases, too expensive: refused before any SQL runs', async () => {
    const started = athenaStarts();
    let deep = '{ accessKeyId }';
    for (let i = 0; i < 30; i++) deep = `{ parent ${deep} }`;
    const tooDeep = await t.gql(`{ session(id: "x") ${deep} }`);
    expect(codeOf(tooDeep)).toEqual(['QUERY_TOO_DEEP']);

    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: ip(address: "198.51.100.${i}") { address }`).join('\n');
    expect(codeOf(await t.gql(`{ ${aliases} }`))).toEqual(['QUERY_TOO_COMPLEX']);

    const expensive = `query($n: Int) { identities(first: $n) { edges { node { ips(first: $n) { edges { node { identities(first: $n) { edges { node { identityId sessions(first: $n) { edges { node { accessKeyId } } } } } } } } } } } } }`;
    const r = await t.gql(expensive, { n: 500 });
    expect(codeOf(r)).toEqual(['QUERY_TOO_COMPLEX']);
    // Through fragments too: cost follows spreads.
    const viaFragments = `query($n: Int) { identities(first: $n) { edges { node { ...I } } } }
      fragment I on Identity { ips(first: $n) { edges { node { identities(first: $n) { edges { node { ...S } } } } } } }
      fragment S on Identity { sessions(first: $n) { edges { node { accessKeyId sessionId } } } }`;
    expect(codeOf(await t.gql(viaFragments, { n: 500 }))).toEqual(['QUERY_TOO_COMPLEX']);
    expect(calls).toEqual([]);
    expect(athenaStarts()).toBe(started);
    // The same shape with small pages is fine.
    expect((await t.gql(expensive, { n: 5 })).errors).toBeUndefined();
  });

  test('a document longer than the cap is refused', async () => {
    const padding = ' '.repeat(25_000);
    const r = await t.gql(`{ ${padding} __typename }`);
    expect(codeOf(r)).toEqual(['DOCUMENT_TOO_LARGE']);
  });
});
