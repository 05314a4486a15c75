/**
 * Several neighbour lists in one statement (neighbourPages, issue #14 item 3): each request of a
 * combined statement gets exactly the rows its own statement returns (pivot, action, page and the
 * caller's scope all per request), on both engines; and the API sends the lists a resolver level
 * asks for at once (contextFor's four) as one statement.
 */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { neighbourPages, neighbours, type NeighbourRequest } from '../../src/queries/graph';
import { AccountScope } from '../../src/queries/scope';
import type { Statement } from '../../src/queries/sql';
import { apiForDescribe, ENGINES, lakeForFile, openApi } from './helpers';
import {
  ACCOUNT,
  ADMIN_ROLE,
  ALICE,
  BOB,
  BRUTE_IP,
  INSTANCE_IP,
  OUTSIDE_READER_IP,
  PROD_ACCOUNT,
  PUBLIC_BUCKET,
  WINDOW,
  writeStoryLake,
} from './fixtures/story';

const lake = lakeForFile(writeStoryLake);
const window = { from: new Date(WINDOW.from), to: new Date(WINDOW.to) };

const REQUESTS: NeighbourRequest[] = [
  { pivot: 'ipIdentities', keys: [BRUTE_IP, OUTSIDE_READER_IP], action: null, offset: 0, limit: 6 },
  { pivot: 'ipPeersBoth', keys: [INSTANCE_IP, BRUTE_IP], action: null, offset: 0, limit: 6 },
  { pivot: 'ipSessions', keys: [BRUTE_IP], action: null, offset: 0, limit: 6 },
  { pivot: 'ipResources', keys: [BRUTE_IP, OUTSIDE_READER_IP], action: null, offset: 0, limit: 6 },
  { pivot: 'resourceIps', keys: [PUBLIC_BUCKET], action: 'GetObject', offset: 0, limit: 100 },
  { pivot: 'resourceActors', keys: [PUBLIC_BUCKET], action: null, offset: 1, limit: 1 },
  { pivot: 'identityIps', keys: [BOB, ALICE, ADMIN_ROLE], action: null, offset: 0, limit: 2 },
  // The same pivot twice, with another page: two requests, not one.
  { pivot: 'identityIps', keys: [BOB], action: null, offset: 2, limit: 2 },
];

const canonical = (rows: SqlRow[]) => rows.map((r) => JSON.stringify(r)).sort();
const run = async (engine: QueryEngine, s: Statement) => (await engine.query(s.sql, s.params, { label: s.label, days: s.days })).rows;

describe.each(ENGINES)('neighbour lists in one statement (%s)', (engineName) => {
  const t = apiForDescribe(lake, engineName);

  it('answer each request with the rows of its own statement, in every scope', async () => {
    const { engine } = t();
    const found: Record<string, number> = {};
    for (const scope of [AccountScope.ALL, AccountScope.of([ACCOUNT]), AccountScope.of([PROD_ACCOUNT]), AccountScope.of([])]) {
      const combined = neighbourPages(scope, REQUESTS, window);
      expect(combined.label).toBe('neighbours:ipIdentities+ipPeersBoth+ipSessions+ipResources+resourceIps+resourceActors+identityIps');
      const rows = await run(engine, combined);
      let rowsOfRequests = 0;
      for (const [index, r] of REQUESTS.entries()) {
        const own = await run(engine, neighbours(scope, r.pivot, r.keys, window, r.action, r.offset, r.limit));
        const mine = rows.filter((row) => Number(row.request) === index).map((row) => ({ ...row, request: 0 }));
        expect({ scope: String(scope), request: index, rows: canonical(mine) }).toEqual({
          scope: String(scope),
          request: index,
          rows: canonical(own.map((row) => ({ ...row, request: 0 }))),
        });
        rowsOfRequests += mine.length;
      }
      expect(rowsOfRequests).toBe(rows.length);
      found[String(scope)] = rows.length;
    }
    // Something to compare: every account sees some links, each fewer than all, none without a grant.
    expect(found['*']).toBeGreaterThan(found[ACCOUNT]);
    expect(found[ACCOUNT]).toBeGreaterThan(0);
    expect(found[PROD_ACCOUNT]).toBeGreaterThan(0);
    expect(found['*']).toBeGreaterThan(found[PROD_ACCOUNT]);
    expect(found['']).toBe(0);
  });
});

/** Labels of the statements the API sends. */
class Labels implements QueryEngine {
  readonly labels: string[] = [];
  constructor(private readonly inner: QueryEngine) {}
  get name() {
    return this.inner.name;
  }
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    this.labels.push(options?.label ?? '?');
    return this.inner.query<R>(sql, params, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

it("sends contextFor's four neighbour lists of an address as one statement", async () => {
  let labels: Labels | undefined;
  const api = await openApi(lake(), { wrap: (e) => (labels = new Labels(e)) });
  try {
    const data = await api.data(
      `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
        identities(first: 5) { edges { node { identityId } } }
        ips(first: 5) { edges { node { address } } }
        sessions(first: 5) { edges { node { accessKeyId } } }
        resources(first: 5) { edges { relation node { resourceId } } } } }`,
      { i: BRUTE_IP, w: WINDOW },
    );
    expect(data.contextFor.identities.edges.length).toBeGreaterThan(0);
    expect(labels!.labels.filter((l) => l.startsWith('neighbours:'))).toEqual([
      'neighbours:ipIdentities+ipPeersBoth+ipSessions+ipResources',
    ]);
  } finally {
    await api.close();
  }
});
