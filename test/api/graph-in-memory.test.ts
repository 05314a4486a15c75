/**
 * Graph tables held in DuckDB memory (DuckDbEngine `graphInMemory`, issue #14 item 4): the graph
 * look-ups read tables loaded from the listed graph files instead of the Parquet files. Checked
 * against an engine reading the files, over a lake with a commit chain:
 * - the tables: same columns, types and rows as the views over the files;
 * - the pivots (contextFor, an address's identities and peers, a session's chain, events with
 *   their resources) answer the same, for every account and for one account's caller;
 * - after a commit adds a day, the engine (not reopened) loads the graph again and answers as a
 *   freshly opened engine; tables whose files did not change are not loaded again.
 */
import { rmSync } from 'node:fs';
import { ingest } from '../../etl/ingest';
import type { Caller } from '../../src/api/auth/caller';
import { ScoutApi } from '../../src/api/server';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import type { SqlRow } from '../../src/engine/types';
import { identityCandidates, neighbours, PIVOTS, type PivotName } from '../../src/queries/graph';
import { AccountScope } from '../../src/queries/scope';
import type { Statement } from '../../src/queries/sql';
import { LATER_DAY_WINDOW, lakeWithLaterDay } from './fixtures/later-day';

const W = { from: LATER_DAY_WINDOW.from.toISOString(), to: LATER_DAY_WINDOW.to.toISOString() };
const GRAPH = ['graph_entities', 'graph_edges', 'graph_coverage'];

let dir: string;
let lake: string;
let laterObjects: string[];
let attackerIp: string;

beforeAll(async () => {
  ({ dir, lake, laterObjects, attackerIp } = await lakeWithLaterDay('graph-in-memory'));
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const canonical = (rows: SqlRow[]) => rows.map((r) => JSON.stringify(r)).sort();

const DOCUMENT = `query($ip: String!, $w: TimeWindow!, $session: String!) {
  contextFor(indicator: $ip, window: $w) {
    kind found eventCount
    identities(first: 5) { edges { node { identityId } } }
    ips(first: 5) { edges { node { address } } }
    sessions(first: 5) { edges { node { accessKeyId } } }
    resources(first: 5) { edges { relation node { resourceId } } }
    recentEvents(first: 5) { eventId activity } }
  ip(address: $ip, window: $w) {
    address eventCount
    identities { totalCount edges { eventCount node { identityId } } }
    peers { edges { relation node { address } } } }
  session(id: $session, window: $w) {
    chain { accessKeyId identity { identityId } issuedBy { eventId identity { identityId } } }
    resources { edges { relation node { resourceId } } } }
  events(window: $w, first: 20) { edges { node { eventId resources { resourceId kind } } } }
}`;

const callerOf = (accounts: readonly string[] | '*'): Caller => ({
  subject: 'apikey:graph-test',
  kind: 'apikey',
  role: 'analyst',
  accounts,
});

async function answers(engine: DuckDbEngine, session: string, accounts: string[]) {
  const api = new ScoutApi({ engine, latestDay: () => graphDays(lake).at(-1) ?? null });
  try {
    const out = [];
    for (const caller of [callerOf('*'), ...accounts.map((a) => callerOf([a]))]) {
      const result = await api.execute(DOCUMENT, { ip: attackerIp, w: W, session }, caller);
      expect(result.errors).toBeUndefined();
      out.push(result.data);
    }
    return out;
  } finally {
    await api.stop();
  }
}

/** Pivots with a destination-end leg (an edge read by its `dst_id`). */
const IN_PIVOTS = (Object.keys(PIVOTS) as PivotName[]).filter((p) => PIVOTS[p].legs.some((leg) => leg.direction === 'in'));

/**
 * Every destination-end look-up, per scope (all, each account, no grant): each in-pivot keyed on the
 * destinations of its type with the most edges (and a key no edge has), and the identity candidates an
 * access key and a role session name find (their legs read edges by destination too).
 */
async function destinationLookups(engine: DuckDbEngine, accounts: readonly string[]): Promise<Record<string, string[]>> {
  const window = LATER_DAY_WINDOW;
  const out: Record<string, string[]> = {};
  const run = async (s: Statement) => (await engine.query(s.sql, s.params, { label: s.label, days: s.days })).rows;
  for (const scope of [AccountScope.ALL, ...accounts.map((a) => AccountScope.of([a])), AccountScope.of([])]) {
    for (const pivot of IN_PIVOTS) {
      const keys = (
        await engine.query<{ dst_id: string }>(
          `SELECT dst_id FROM graph_edges WHERE dst_type = ? GROUP BY dst_id ORDER BY count(*) DESC, dst_id LIMIT 5`,
          [PIVOTS[pivot].from],
        )
      ).rows.map((r) => r.dst_id);
      out[`${String(scope)}|${pivot}`] = canonical(await run(neighbours(scope, pivot, [...keys, 'no-such-key'], window, null, 0, 50)));
    }
    const [key] = (
      await engine.query<{ id: string; name: string }>(
        `SELECT e.dst_id AS id, max(s.name) AS name FROM graph_edges e JOIN graph_entities s ON s.type = 'Session' AND s.id = e.dst_id
         WHERE e.rel = 'uses' AND e.src_type = 'Identity' AND e.dst_type = 'Session' AND s.name IS NOT NULL
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      )
    ).rows;
    out[`${String(scope)}|candidates by access key`] = canonical(await run(identityCandidates(scope, key.id, null, window)));
    out[`${String(scope)}|candidates by session name`] = canonical(await run(identityCandidates(scope, 'x', null, window, key.name)));
  }
  return out;
}

describe('graph tables held in memory', () => {
  it('hold the views’ columns, types and rows, and answer the pivots as the files do, per caller, also after a commit', async () => {
    const files = await DuckDbEngine.open({ lake, connections: 2 });
    const held = await DuckDbEngine.open({ lake, connections: 2, graphInMemory: true });
    try {
      expect([...held.tablesInMemory].sort()).toEqual([...GRAPH].sort());
      expect(files.tablesInMemory.size).toBe(0);
      for (const table of GRAPH) {
        const describe = `SELECT column_name, column_type FROM (DESCRIBE ${table})`;
        expect((await held.query(describe)).rows).toEqual((await files.query(describe)).rows);
        const all = `SELECT * FROM ${table}`;
        const rows = (await held.query(all)).rows;
        expect(rows.length).toBeGreaterThan(0);
        expect(canonical(rows)).toEqual(canonical((await files.query(all)).rows));
      }
      const [{ session }] = (
        await files.query<{ session: string }>(
          `SELECT src_id AS session FROM graph_edges WHERE src_type = 'Session' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
        )
      ).rows;
      const accounts = (await files.query<{ account: string }>(`SELECT DISTINCT account FROM api_activity ORDER BY 1`)).rows.map(
        (r) => r.account,
      );
      expect(accounts.length).toBeGreaterThanOrEqual(2);
      const expected = await answers(files, session, accounts);
      expect((expected[0] as any).contextFor.found).toBe(true);
      expect((expected[0] as any).ip.identities.totalCount).toBeGreaterThan(0);
      expect(await answers(held, session, accounts)).toEqual(expected);

      // A commit adds a day: the held engine, not reopened, loads the graph again.
      const countDays = `SELECT count(DISTINCT day) AS days, count(*) AS n FROM graph_edges`;
      const [before] = (await held.query<{ days: number; n: number }>(countDays)).rows;
      const summary = await ingest({ inputs: laterObjects, lake });
      expect(summary.quarantined).toBe(0);
      const [after] = (await held.query<{ days: number; n: number }>(countDays)).rows;
      expect(after.days).toBe(before.days + 1);
      expect(after.n).toBeGreaterThan(before.n);
      const fresh = await DuckDbEngine.open({ lake, connections: 2 });
      try {
        for (const table of GRAPH) {
          const all = `SELECT * FROM ${table}`;
          expect(canonical((await held.query(all)).rows)).toEqual(canonical((await fresh.query(all)).rows));
        }
        expect(await answers(held, session, accounts)).toEqual(await answers(fresh, session, accounts));
      } finally {
        await fresh.close();
      }
    } finally {
      await Promise.all([files.close(), held.close()]);
    }
  });

  it('answer every destination-end look-up as the files do, per scope', async () => {
    const files = await DuckDbEngine.open({ lake, connections: 2 });
    const held = await DuckDbEngine.open({ lake, connections: 2, graphInMemory: true });
    try {
      const accounts = (await files.query<{ account: string }>(`SELECT DISTINCT account FROM api_activity ORDER BY 1`)).rows.map(
        (r) => r.account,
      );
      // Destination-end look-ups (edges read by dst_id, the held table being ordered by source) find the files' rows.
      const byDestination = await destinationLookups(files, accounts);
      expect(byDestination['*|resourceIps'].length).toBeGreaterThan(0);
      expect(byDestination['*|ipIdentities'].length).toBeGreaterThan(0);
      expect(byDestination['*|candidates by access key'].length).toBeGreaterThan(0);
      expect(byDestination['*|candidates by session name'].length).toBeGreaterThan(0);
      // Scopes matter: an account sees some of it, less than all; no grant sees nothing.
      const total = (scope: string) =>
        Object.entries(byDestination)
          .filter(([k]) => k.startsWith(`${scope}|`))
          .reduce((sum, [, rows]) => sum + rows.length, 0);
      expect(accounts.some((a) => total(a) > 0 && total(a) < total('*'))).toBe(true);
      expect(total('')).toBe(0);
      expect(await destinationLookups(held, accounts)).toEqual(byDestination);
    } finally {
      await Promise.all([files.close(), held.close()]);
    }
  }, 300_000);

  it('read a graph larger than graphInMemoryMaxMiB from its files, with the same answers', async () => {
    const capped = await DuckDbEngine.open({ lake, connections: 1, graphInMemory: true, graphInMemoryMaxMiB: 0 });
    const held = await DuckDbEngine.open({ lake, connections: 1, graphInMemory: true });
    try {
      expect(capped.tablesInMemory.size).toBe(0);
      expect(held.tablesInMemory.size).toBe(3);
      const tables = `SELECT count(*) AS n FROM duckdb_tables()`;
      expect((await capped.query<{ n: number }>(tables)).rows[0].n).toBe(0);
      for (const table of GRAPH) {
        const all = `SELECT * FROM ${table}`;
        expect(canonical((await capped.query(all)).rows)).toEqual(canonical((await held.query(all)).rows));
      }
    } finally {
      await Promise.all([capped.close(), held.close()]);
    }
  });

  it('load a table again only when its files change', async () => {
    const held = await DuckDbEngine.open({ lake, connections: 1, graphInMemory: true });
    try {
      const names = async () =>
        (await held.query<{ table_name: string }>(`SELECT table_name FROM duckdb_tables() ORDER BY 1`)).rows.map((r) => r.table_name);
      const first = await names();
      expect(first).toHaveLength(3);
      await held.refresh();
      expect(await names()).toEqual(first);
    } finally {
      await held.close();
    }
  });
});
