/**
 * Several neighbour lists in one statement (neighbourPages, issue #14 item 3): each request of a
 * combined statement gets exactly the rows its own statement returns (pivot, action, page and the
 * caller's scope all per request), on both engines; and the API sends the lists a resolver level
 * asks for at once (contextFor's four) as one statement.
 */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { entityFromRow } from '../../src/api/loaders';
import { entitiesByKeys, followIndexes, neighbourPages, neighbours, type NeighbourRequest } from '../../src/queries/graph';
import { AccountScope } from '../../src/queries/scope';
import type { Statement } from '../../src/queries/sql';
import { apiForDescribe, ENGINES, lakeForFile, openApi } from './helpers';
import {
  ACCOUNT,
  ADMIN_ROLE,
  ALICE,
  BOB,
  BRUTE_IP,
  DELETED_BUCKET,
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

describe.each(ENGINES)('second hops in the statement of their first (%s)', (engineName) => {
  const t = apiForDescribe(lake, engineName);

  it("answer each neighbour's list and named entity with the rows of their own statements, in every scope", async () => {
    const { engine } = t();
    const hops: NeighbourRequest[] = [
      {
        pivot: 'resourceIps',
        keys: [PUBLIC_BUCKET],
        action: 'GetObject',
        offset: 0,
        limit: 100,
        follow: [{ pivot: 'ipIdentities', action: null, offset: 0, limit: 21 }],
      },
      {
        pivot: 'resourceSessions',
        keys: [PUBLIC_BUCKET, DELETED_BUCKET],
        action: null,
        offset: 0,
        limit: 21,
        follow: [{ entity: 'Identity', attr: 'identity' }],
      },
      // A page of one link: its follows are keyed on that neighbour alone.
      {
        pivot: 'identityIps',
        keys: [BOB, ALICE],
        action: null,
        offset: 0,
        limit: 1,
        follow: [{ pivot: 'ipSessions', action: null, offset: 0, limit: 3 }],
      },
    ];
    expect(followIndexes(hops)).toEqual([[3], [4], [5]]);
    const found: Record<string, number> = {};
    for (const scope of [AccountScope.ALL, AccountScope.of([ACCOUNT]), AccountScope.of([PROD_ACCOUNT]), AccountScope.of([])]) {
      const combined = neighbourPages(scope, hops, window);
      expect(combined.label).toBe('neighbours:resourceIps+ipIdentities+resourceSessions+identityEntities+identityIps+ipSessions');
      const rows = await run(engine, combined);
      const of = (request: number) => rows.filter((row) => Number(row.request) === request);
      // The first hops: as without follows.
      const plain = await run(
        engine,
        neighbourPages(
          scope,
          hops.map(({ follow: _f, ...r }) => r),
          window,
        ),
      );
      expect(canonical(rows.filter((row) => Number(row.request) < 3))).toEqual(canonical(plain));
      // A followed pivot: the rows of its own statement keyed on the first page's neighbours of its type.
      for (const [parent, hop] of [
        [0, 3],
        [2, 5],
      ] as const) {
        const follow = hops[parent].follow![0] as { pivot: 'ipIdentities' | 'ipSessions'; action: null; offset: number; limit: number };
        const keys = [...new Set(of(parent).map((row) => row.other_id as string))];
        const own = keys.length ? await run(engine, neighbours(scope, follow.pivot, keys, window, null, follow.offset, follow.limit)) : [];
        expect(canonical(of(hop).map((row) => ({ ...row, request: 0 })))).toEqual(canonical(own.map((row) => ({ ...row, request: 0 }))));
      }
      // Named entities: the rows entitiesByKeys gives for their ids, which cover what the sessions' merged attrs name.
      const named = of(4);
      const ids = named.map((row) => row.id as string);
      const entityColumns = (row: SqlRow) =>
        JSON.stringify([row.id, row.kind, row.provider, row.account, row.name, row.arn, row.event_count, row.attrs_by_day]);
      const byKeys = ids.length ? await run(engine, entitiesByKeys(scope, 'Identity', ids, window)) : [];
      expect(named.map(entityColumns).sort()).toEqual(byKeys.map(entityColumns).sort());
      for (const row of named) expect(row.key_id ?? null).toBeNull();
      const sessions = of(1)
        .filter((row) => row.id != null)
        .map((row) => entityFromRow(row as never, 'Session', window));
      const wanted = [...new Set(sessions.map((s) => s.attrs.identity).filter((id): id is string => typeof id === 'string'))];
      const visible = wanted.length ? await run(engine, entitiesByKeys(scope, 'Identity', wanted, window)) : [];
      for (const row of visible) expect(ids).toContain(row.id);
      if (scope.isAll) expect(visible.length).toBeGreaterThan(0);
      found[String(scope)] = of(3).length + named.length + of(5).length;
    }
    expect(found['*']).toBeGreaterThan(0);
    expect(found[ACCOUNT]).toBeGreaterThan(0);
    expect(found['']).toBe(0);
  });
});
