/**
 * Window reads (issue #14): on a lake with a commit chain, a statement bounded to a window
 * (Statement.days → QueryOptions.days) reads only the files of the window's days, from the engine's
 * listing per table and day, instead of the view over every file. Checked here:
 * - the mechanism: a statement told it reads one day sees only that day's files;
 * - the rows: every bounded statement of the pivots returns what the views return;
 * - invalidation: a commit that adds a day is seen by the next statement (new listing), through the API.
 */
import { rmSync } from 'node:fs';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays, lakeHead } from '../../src/engine/lake';
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { ScoutApi } from '../../src/api/server';
import { entitiesByKeys, identityCandidates, neighbours } from '../../src/queries/graph';
import { eventsCount, eventsPage } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';
import { TABLE_NAMES } from '../../src/core/tables';
import { LATER_DAY_WINDOW, lakeWithLaterDay } from './fixtures/later-day';

const WINDOW = LATER_DAY_WINDOW;

let dir: string;
let lake: string;
let laterObjects: string[];
let attackerIp: string;

beforeAll(async () => {
  ({ dir, lake, laterObjects, attackerIp } = await lakeWithLaterDay('window-reads'));
  expect(graphDays(lake)).toEqual(['2026-11-02', '2026-11-03']);
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Rows in a stable order, Dates as text: what two reads of the same statement must agree on. */
const canonical = (rows: SqlRow[]) => rows.map((r) => JSON.stringify(r)).sort();

/** Counts the statements that went out bounded to days (and passes everything through). */
class Counting implements QueryEngine {
  readonly name = 'duckdb' as const;
  bounded = 0;
  constructor(private readonly inner: QueryEngine) {}
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    if (options?.days) this.bounded++;
    return this.inner.query<R>(sql, params, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('window reads on a lake with a commit chain', () => {
  it("reads only the files of the statement's days", async () => {
    const engine = await DuckDbEngine.open({ lake });
    try {
      const sql = `SELECT count(*) AS n FROM api_activity WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)`;
      const params = ['2026-11-02', '2026-11-03'];
      const [both] = (await engine.query<{ n: number }>(sql, params)).rows;
      const [first] = (await engine.query<{ n: number }>(sql, ['2026-11-02', '2026-11-02'])).rows;
      // Told (wrongly, on purpose) that it reads 11-02 only: the engine opened no other day's file.
      const [told] = (await engine.query<{ n: number }>(sql, params, { days: ['2026-11-02', '2026-11-02'] })).rows;
      expect(first.n).toBeGreaterThan(0);
      expect(both.n).toBeGreaterThan(first.n);
      expect(told.n).toBe(first.n);
      // A day with no files reads as an empty table of the same columns, not an error.
      const [none] = (await engine.query<{ n: number }>(sql, ['2030-01-01', '2030-01-01'], { days: ['2030-01-01', '2030-01-01'] })).rows;
      expect(none.n).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('returns the rows the views return, for every bounded statement of the pivots', async () => {
    const engine = await DuckDbEngine.open({ lake });
    try {
      const scope = AccountScope.ALL;
      const [ids] = (
        await engine.query<{ ids: string[] }>(
          `SELECT list(DISTINCT actor_id) AS ids FROM api_activity WHERE actor_id IS NOT NULL AND src_ip = ?`,
          [attackerIp],
        )
      ).rows;
      const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 20, descending: true } as const;
      const statements = [
        entitiesByKeys(scope, 'IPAddress', [attackerIp], WINDOW),
        entitiesByKeys(scope, 'Identity', ids.ids, WINDOW),
        identityCandidates(scope, ids.ids[0], null, WINDOW),
        neighbours(scope, 'ipIdentities', [attackerIp], WINDOW, null, 0, 10),
        neighbours(scope, 'ipPeersBoth', [attackerIp], WINDOW, null, 0, 10),
        neighbours(scope, 'identityIps', ids.ids, WINDOW, null, 0, 10),
        neighbours(scope, 'identityResources', ids.ids, WINDOW, null, 0, 10),
        eventsPage(scope, { ...base, pivot: 'ip', keys: [attackerIp], conditions: { ip: { exact: [attackerIp], ranges: [] } } }),
        eventsPage(scope, { ...base, pivot: 'identity', keys: ids.ids, columns: ['activity'] }),
        eventsCount(scope, { ...base, pivot: 'none', keys: [] }),
        eventsCount(scope, { ...base, pivot: 'identity', keys: ids.ids }),
      ];
      const empty: string[] = [];
      for (const statement of statements) {
        expect(statement.days).toEqual(['2026-11-02', '2026-11-04']);
        const viewed = await engine.query(statement.sql, statement.params);
        const windowed = await engine.query(statement.sql, statement.params, { days: statement.days });
        expect({ label: statement.label, rows: canonical(windowed.rows) }).toEqual({
          label: statement.label,
          rows: canonical(viewed.rows),
        });
        if (viewed.rows.length === 0) empty.push(statement.label);
      }
      // Flow peers need flow logs (not in this sample); the rest find something.
      expect(empty).toEqual(['neighbours:ipPeersBoth']);
    } finally {
      await engine.close();
    }
  });

  it('sees the rows of a day a later commit adds, through the API, without reopening', async () => {
    const counting = new Counting(await DuckDbEngine.open({ lake }));
    const api = new ScoutApi({ engine: counting, latestDay: () => graphDays(lake).at(-1) ?? null });
    const document = `query($w: TimeWindow!, $ip: String!) {
      events(window: $w, first: 1) { totalCount }
      ip(address: $ip, window: $w) { eventCount lastSeen identities { totalCount } }
    }`;
    const variables = { w: { from: WINDOW.from.toISOString(), to: WINDOW.to.toISOString() }, ip: attackerIp };
    try {
      const before = await api.execute(document, variables);
      expect(before.errors).toBeUndefined();
      expect(counting.bounded).toBeGreaterThan(0);
      const headBefore = lakeHead(lake);

      const summary = await ingest({ inputs: laterObjects, lake });
      expect(summary.quarantined).toBe(0);
      expect(graphDays(lake)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04']);
      expect(lakeHead(lake)).not.toBe(headBefore);

      const after = await api.execute(document, variables);
      expect(after.errors).toBeUndefined();
      const data = (r: typeof after) => r.data as { events: { totalCount: number }; ip: { eventCount: number; lastSeen: string } };
      expect(data(after).events.totalCount).toBeGreaterThan(data(before).events.totalCount);
      // The same answer as an engine opened after the commit (whose views list every file).
      const fresh = await DuckDbEngine.open({ lake });
      const freshApi = new ScoutApi({ engine: fresh, latestDay: () => graphDays(lake).at(-1) ?? null });
      try {
        const expected = await freshApi.execute(document, variables);
        expect(after.data).toEqual(expected.data);
      } finally {
        await freshApi.stop();
        await fresh.close();
      }
    } finally {
      await api.stop();
      await counting.close();
    }
  });
});
