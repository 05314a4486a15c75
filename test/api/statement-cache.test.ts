/**
 * Prepared statements kept per connection (DuckDbEngine's statement cache, issue #14 item 4): a
 * statement's text is bound and planned once per connection, then run again with each request's
 * parameters. Checked here against an engine that prepares every statement anew:
 * - the rows: the pivots' statements, windowed or over the views, return the same rows on a kept
 *   statement run with other parameters (another indicator, another caller's accounts);
 * - scope: two callers whose statements share a text still see only their own accounts' rows;
 * - invalidation: after a commit moves the lake's HEAD, kept statements are dropped and the next
 *   run sees the new day's rows, as a freshly opened engine does;
 * - failures and the capacity bound: a failed statement is not kept, the least recently used one goes.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import type { SqlRow } from '../../src/engine/types';
import { ScoutApi } from '../../src/api/server';
import { entitiesByKeys, neighbours } from '../../src/queries/graph';
import { eventsCount, eventsPage } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';
import type { Statement } from '../../src/queries/sql';
import { TABLE_NAMES } from '../../src/core/tables';
import { LOOKUP_INDEX_DIR } from '../../src/core/lake-layout';
import { sqlString } from '../../src/core/sql';
import { LATER_DAY_WINDOW, lakeWithLaterDay } from './fixtures/later-day';

const WINDOW = LATER_DAY_WINDOW;

let dir: string;
let lake: string;
let laterObjects: string[];
let attackerIp: string;

beforeAll(async () => {
  ({ dir, lake, laterObjects, attackerIp } = await lakeWithLaterDay('statement-cache'));
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const canonical = (rows: SqlRow[]) => rows.map((r) => JSON.stringify(r)).sort();

/** One connection each, so every run of a text after the first is a run of the kept statement. */
async function pair(): Promise<{ kept: DuckDbEngine; fresh: DuckDbEngine; close: () => Promise<void> }> {
  const kept = await DuckDbEngine.open({ lake, connections: 1 });
  const fresh = await DuckDbEngine.open({ lake, connections: 1, statementCache: 0 });
  return { kept, fresh, close: async () => void (await Promise.all([kept.close(), fresh.close()])) };
}

async function expectSameRows(kept: DuckDbEngine, fresh: DuckDbEngine, statement: Statement, windowed: boolean): Promise<SqlRow[]> {
  const options = windowed ? { days: statement.days } : {};
  const expected = await fresh.query(statement.sql, statement.params, options);
  const got = await kept.query(statement.sql, statement.params, options);
  expect({ label: statement.label, rows: canonical(got.rows) }).toEqual({ label: statement.label, rows: canonical(expected.rows) });
  return got.rows;
}

describe('prepared statements kept per connection', () => {
  it('return the rows of statements prepared anew, when run again with other parameters', async () => {
    const { kept, fresh, close } = await pair();
    try {
      const [accounts] = (
        await fresh.query<{ ips: string[] }>(
          `SELECT list(DISTINCT src_ip ORDER BY src_ip) AS ips FROM api_activity WHERE src_ip IS NOT NULL`,
        )
      ).rows;
      const ips = [attackerIp, ...accounts.ips.filter((ip) => ip !== attackerIp).slice(0, 2)];
      expect(ips).toHaveLength(3);
      const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 20, descending: true } as const;
      const scope = AccountScope.ALL;
      const texts = new Set<string>();
      let found = 0;
      for (const ip of ips) {
        const statements = [
          entitiesByKeys(scope, 'IPAddress', [ip], WINDOW),
          neighbours(scope, 'ipIdentities', [ip], WINDOW, null, 0, 10),
          eventsPage(scope, { ...base, pivot: 'ip', keys: [ip], conditions: { ip: { exact: [ip], ranges: [] } } }),
          eventsCount(scope, { ...base, pivot: 'ip', keys: [ip], conditions: { ip: { exact: [ip], ranges: [] } } }),
        ];
        for (const statement of statements) {
          texts.add(statement.sql);
          for (const windowed of [true, false]) found += (await expectSameRows(kept, fresh, statement, windowed)).length;
        }
      }
      // The three indicators share four texts: the later ones ran on kept statements, with their own rows.
      expect(texts.size).toBe(4);
      expect(kept.statementsKept).toBe(8);
      expect(fresh.statementsKept).toBe(0);
      expect(found).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it("serve every key of a keyed read from one kept statement: the read's files are a parameter", async () => {
    const { kept, fresh, close } = await pair();
    try {
      const days: [string, string] = ['2026-11-02', '2026-11-03'];
      // Per address, the api_activity files (of those days) whose lookup index holds it.
      const { rows } = await fresh.query<{ ip: string; files: string }>(
        `SELECT key AS ip, string_agg(filename, ',' ORDER BY filename) AS files
           FROM read_parquet(${sqlString(join(lake, LOOKUP_INDEX_DIR, 'api_activity', '**', '*.parquet'))}, filename = true, hive_partitioning = false)
          WHERE kind = 'ip' AND (filename LIKE '%day=2026-11-02%' OR filename LIKE '%day=2026-11-03%')
          GROUP BY key ORDER BY key`,
      );
      const sets = new Set(rows.map((r) => r.files));
      expect(sets.size).toBeGreaterThan(1);
      const sql = `SELECT count(*) AS n, min(event_id) AS first FROM api_activity WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND src_ip = ?`;
      let counted = 0;
      for (const { ip } of rows) {
        const keyed = { kind: 'ip' as const, values: [ip], tables: ['api_activity' as const] };
        const viewed = await fresh.query(sql, [...days, ip]);
        expect(await kept.query(sql, [...days, ip], { days, keyed })).toMatchObject({ rows: viewed.rows });
        expect(await fresh.query(sql, [...days, ip], { days, keyed })).toMatchObject({ rows: viewed.rows });
        counted += Number(viewed.rows[0].n);
      }
      expect(counted).toBeGreaterThan(0);
      // Addresses held by different files ran on one statement (each bound its own files).
      expect(kept.statementsKept).toBe(1);
      expect(kept.statementCacheStats).toEqual({ hits: rows.length - 1, misses: 1 });
    } finally {
      await close();
    }
  });

  it("bind each caller's accounts: a shared text still sees only the caller's scope", async () => {
    const { kept, fresh, close } = await pair();
    try {
      const accounts = (await fresh.query<{ account: string }>(`SELECT DISTINCT account FROM api_activity ORDER BY account`)).rows.map(
        (r) => r.account,
      );
      expect(accounts.length).toBeGreaterThanOrEqual(2);
      const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 50, descending: true } as const;
      const counts: number[] = [];
      const texts = new Set<string>();
      for (const account of accounts.slice(0, 2)) {
        const scope = AccountScope.of([account]);
        const count = eventsCount(scope, { ...base, pivot: 'none', keys: [] });
        const page = eventsPage(scope, { ...base, pivot: 'none', keys: [], columns: ['account'] });
        texts.add(count.sql).add(page.sql);
        const [n] = await expectSameRows(kept, fresh, count, true);
        counts.push(Number(n.n));
        const rows = await expectSameRows(kept, fresh, page, true);
        expect(rows.length).toBeGreaterThan(0);
        expect(new Set(rows.map((r) => r.account))).toEqual(new Set([account]));
      }
      expect(texts.size).toBe(2);
      expect(counts.every((n) => n > 0)).toBe(true);
    } finally {
      await close();
    }
  });

  it('are dropped when a commit moves HEAD: the next answer is that of a freshly opened engine', async () => {
    const engine = await DuckDbEngine.open({ lake, connections: 2 });
    const api = new ScoutApi({ engine, latestDay: () => graphDays(lake).at(-1) ?? null });
    const document = `query($w: TimeWindow!, $ip: String!) {
      events(window: $w, first: 1) { totalCount }
      ip(address: $ip, window: $w) { eventCount lastSeen identities { totalCount } }
    }`;
    const variables = { w: { from: WINDOW.from.toISOString(), to: WINDOW.to.toISOString() }, ip: attackerIp };
    const viewCount = `SELECT count(*) AS n FROM api_activity`;
    try {
      const before = await api.execute(document, variables);
      expect(before.errors).toBeUndefined();
      const [viewedBefore] = (await engine.query<{ n: number }>(viewCount)).rows;
      expect(engine.statementsKept).toBeGreaterThan(0);

      const summary = await ingest({ inputs: laterObjects, lake });
      expect(summary.quarantined).toBe(0);
      expect(graphDays(lake)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04']);

      // The same text over the views: its kept statement is dropped, the new day's files are read.
      const [viewedAfter] = (await engine.query<{ n: number }>(viewCount)).rows;
      expect(viewedAfter.n).toBeGreaterThan(viewedBefore.n);
      expect(engine.statementsKept).toBe(1);
      const after = await api.execute(document, variables);
      expect(after.errors).toBeUndefined();
      const data = (r: typeof after) => r.data as { events: { totalCount: number } };
      expect(data(after).events.totalCount).toBeGreaterThan(data(before).events.totalCount);
      const fresh = await DuckDbEngine.open({ lake, statementCache: 0 });
      const freshApi = new ScoutApi({ engine: fresh, latestDay: () => graphDays(lake).at(-1) ?? null });
      try {
        const expected = await freshApi.execute(document, variables);
        expect(after.data).toEqual(expected.data);
        expect((await fresh.query<{ n: number }>(viewCount)).rows[0].n).toBe(viewedAfter.n);
      } finally {
        await freshApi.stop();
        await fresh.close();
      }
    } finally {
      await api.stop();
      await engine.close();
    }
  });

  it('keep no failed statement, and at most their capacity, least recently used going first', async () => {
    const engine = await DuckDbEngine.open({ lake, connections: 1, statementCache: 2 });
    try {
      const sql = (n: number) => `SELECT count(*) + ${n} AS n FROM api_activity WHERE account <> ?`;
      await expect(engine.query(sql(0), [])).rejects.toThrow('expected 1 parameters, got 0');
      expect(engine.statementsKept).toBe(0);
      const [first] = (await engine.query<{ n: number }>(sql(0), ['none'])).rows;
      await expect(engine.query(`SELECT * FROM no_such_table WHERE x = ?`, [1])).rejects.toThrow('query failed');
      expect(engine.statementsKept).toBe(1);
      for (const n of [1, 2, 0, 3]) {
        const [row] = (await engine.query<{ n: number }>(sql(n), ['none'])).rows;
        expect(row.n).toBe(first.n + n);
        expect(engine.statementsKept).toBeLessThanOrEqual(2);
      }
      expect(engine.statementsKept).toBe(2);
    } finally {
      await engine.close();
    }
  });
});
