/**
 * The per-request budget (issue #14 item 4): one request runs at most `maxQueriesPerRequest` engine
 * queries at once, whatever its width, so it cannot hold every connection of the pool while other
 * callers wait; its answer is the one it gets without the budget. Real DuckDB over the shared
 * cross-source lake; the engine wrapper only counts the queries in flight.
 */
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { ScoutApi } from '../../src/api/server';
import { storyById } from '../../testkit/sample/story';
import { CROSS_WINDOW, crossSample } from './fixtures/cross';

/** Passes queries through, keeping the most that were in flight at once. */
class InFlight implements QueryEngine {
  readonly name = 'duckdb' as const;
  now = 0;
  most = 0;
  constructor(private readonly inner: QueryEngine) {}
  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    this.most = Math.max(this.most, ++this.now);
    try {
      return await this.inner.query<R>(sql, params, options);
    } finally {
      this.now--;
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let engine: DuckDbEngine;
let lake: string;
let ip: string;
beforeAll(async () => {
  const sample = await crossSample();
  lake = sample.lake;
  ip = storyById(sample.stories, 'console-brute-force').expect.attackerIp;
  engine = await DuckDbEngine.open({ lake, connections: 8 });
}, 300_000);
afterAll(async () => {
  await engine?.close();
});

// Four related lists (one neighbour statement), the finding count and the recent events of one
// indicator: one wide level of engine queries.
const DOCUMENT = `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
  kind found eventCount findingCount
  identities(first: 5) { edges { node { identityId } } }
  ips(first: 5) { edges { node { address } } }
  sessions(first: 5) { edges { node { accessKeyId } } }
  resources(first: 5) { edges { relation node { resourceId } } }
  recentEvents(first: 5) { eventId activity } } }`;

async function run(maxQueriesPerRequest: number, requests: number) {
  const counted = new InFlight(engine);
  const api = new ScoutApi({ engine: counted, limits: { maxQueriesPerRequest }, latestDay: () => graphDays(lake).at(-1) ?? null });
  try {
    const answers = await Promise.all(Array.from({ length: requests }, () => api.execute(DOCUMENT, { i: ip, w: CROSS_WINDOW })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    return { most: counted.most, data: answers.map((a) => a.data) };
  } finally {
    await api.stop();
  }
}

describe('per-request budget of engine queries', () => {
  it('runs at most the budget of one request at once, and answers as without it', async () => {
    const free = await run(64, 1);
    expect(free.most).toBeGreaterThan(2); // the document is wide enough for the budget to matter
    const budgeted = await run(2, 1);
    expect(budgeted.most).toBe(2);
    expect(budgeted.data).toEqual(free.data);
    const one = await run(1, 1);
    expect(one.most).toBe(1);
    expect(one.data).toEqual(free.data);
  });

  it('is per request: requests of other callers still run beside it', async () => {
    const three = await run(2, 3);
    expect(three.most).toBeGreaterThan(2);
    expect(three.most).toBeLessThanOrEqual(6);
    expect(new Set(three.data.map((d) => JSON.stringify(d))).size).toBe(1);
  });
});
