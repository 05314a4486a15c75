/**
 * Keyed reads (issue #14 item 3): the ETL writes, beside each event part file and in the same
 * commit, its lookup index (the distinct identities, sessions and addresses it holds:
 * src/core/lookup-index.ts). A statement keyed on a session, address or identity (Statement.keyed →
 * QueryOptions.keyed) then reads, of its window's files, only those whose index holds a key. Checked:
 * - the mechanism: a keyed statement opens only the files holding the key (a count of every row of
 *   the table, told it is keyed, counts the rows of exactly those files); a lake without indexes reads every file;
 * - the rows: keyed event pages and counts return what the views return;
 * - the index stays right (one per part file, holding what the file holds, none left over) after a
 *   second ingest into the same days and after compaction, and the API answers as a fresh engine does.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compactLake } from '../../etl/compact';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import type { SqlRow } from '../../src/engine/types';
import { ScoutApi } from '../../src/api/server';
import { eventsCount, eventsPage, type EventsQuery } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';
import { LOOKUP_INDEX_DIR, lookupIndexFile } from '../../src/core/lake-layout';
import { lookupIndexSelect } from '../../src/core/lookup-index';
import { TABLE_NAMES, type TableName } from '../../src/core/tables';
import { sqlString } from '../../src/core/sql';
import { generateSample } from '../../testkit/sample';
import { logInputs } from './fixtures/cross';

const START = '2026-11-02';
const WINDOW = { from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-05T00:00:00Z') };
const DAYS: [string, string] = ['2026-11-02', '2026-11-04'];

let dir: string;
let lake: string;
let laterObjects: string[];

function filesBelow(path: string): string[] {
  if (!existsSync(path)) return [];
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => filesBelow(join(path, name))) : [path];
}

/** Lake-relative paths of the event tables' part files. */
function partFiles(root: string): string[] {
  return TABLE_NAMES.flatMap((table) => filesBelow(join(root, table)))
    .filter((f) => /\/part-[^/]*\.parquet$/.test(f))
    .map((f) => relative(root, f).split(sep).join('/'))
    .sort();
}

async function withDb<T>(work: (run: (sql: string) => Promise<SqlRow[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await work(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as SqlRow[]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every part file has its index, holding exactly the keys the file holds; no index outlives its file. */
async function expectIndexesRight(root: string): Promise<number> {
  const parts = partFiles(root);
  const indexes = filesBelow(join(root, LOOKUP_INDEX_DIR)).map((f) => relative(root, f).split(sep).join('/'));
  expect(indexes.sort()).toEqual(parts.map(lookupIndexFile).sort());
  await withDb(async (run) => {
    for (const part of parts) {
      const table = part.split('/')[0] as TableName;
      const expected = await run(`SELECT kind, key FROM (${lookupIndexSelect(table, join(root, part))}) ORDER BY ALL`);
      const stored = await run(`SELECT kind, key FROM read_parquet(${sqlString(join(root, lookupIndexFile(part)))}) ORDER BY ALL`);
      expect({ part, rows: stored }).toEqual({ part, rows: expected });
    }
  });
  return parts.length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-lookup-index-'));
  const logs = join(dir, 'logs');
  lake = join(dir, 'lake');
  generateSample({ out: logs, days: 3, seed: 'scoutql-lookup-index', scale: 0.02, start: START, sources: ['cloudtrail', 'vpcflow'] });
  // Every other object now, the rest later: the second ingest adds files to the same partitions.
  const objects = logInputs(logs).flatMap(filesBelow).sort();
  laterObjects = objects.filter((_, i) => i % 2 === 1);
  const summary = await ingest({ inputs: objects.filter((_, i) => i % 2 === 0), lake });
  expect(summary.quarantined).toBe(0);
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const canonical = (rows: SqlRow[]) => rows.map((r) => JSON.stringify(r)).sort();

/** A session, an address and an identity of the lake, each held by few of its api_activity files. */
async function someKeys(engine: DuckDbEngine): Promise<{ session: string; ip: string; identity: string }> {
  const pick = async (column: string) => {
    const [row] = (
      await engine.query<{ key: string }>(
        `SELECT key FROM (SELECT ${column} AS key, count(DISTINCT account || region || CAST(day AS VARCHAR)) AS files, count(*) AS n
           FROM api_activity WHERE ${column} IS NOT NULL GROUP BY 1) ORDER BY files, n DESC, key LIMIT 1`,
      )
    ).rows;
    return row.key;
  };
  return { session: await pick('session_id'), ip: await pick('src_ip'), identity: await pick('actor_id') };
}

/**
 * A record kept in two classes (a console sign-in: api_activity and authentication): its event id
 * and its session, address and identity, which both rows carry alike.
 */
async function pairedRecord(engine: DuckDbEngine): Promise<{ eventId: string; session: string | null; ip: string; identity: string }> {
  const { rows } = await engine.query<{ event_id: string; session_id: string; src_ip: string; actor_id: string }>(
    `SELECT a.event_id, a.session_id, a.src_ip, a.actor_id FROM api_activity a JOIN authentication b ON a.event_id = b.event_id AND a.time = b.time
      WHERE a.src_ip IS NOT NULL AND a.actor_id IS NOT NULL ORDER BY a.session_id NULLS LAST, a.event_id LIMIT 1`,
  );
  expect(rows).toHaveLength(1);
  return { eventId: rows[0].event_id, session: rows[0].session_id, ip: rows[0].src_ip, identity: rows[0].actor_id };
}

/** The statements a session / address / identity pivot sends for its events, keyed. */
function keyedStatements(keys: { session: string | null; ip: string; identity: string }) {
  const scope = AccountScope.ALL;
  const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 50, descending: true } as const;
  const queries: EventsQuery[] = [
    ...(keys.session === null
      ? []
      : [
          { ...base, pivot: 'session', keys: [keys.session] } as const,
          { ...base, pivot: 'none', keys: [], conditions: { session: keys.session } } as const,
        ]),
    { ...base, pivot: 'ip', keys: [keys.ip] },
    { ...base, pivot: 'identity', keys: [keys.identity], columns: ['activity'] },
    { ...base, pivot: 'none', keys: [], conditions: { ip: { exact: [keys.ip], ranges: [] } } },
    { ...base, pivot: 'ip', keys: [keys.ip], tables: ['api_activity'] },
  ];
  return queries.flatMap((q) => [eventsPage(scope, q), eventsCount(scope, q)]);
}

/** Keyed statements return what the views return (and are keyed), for a few keys and a record kept in two classes. */
async function expectKeyedRowsRight(engine: DuckDbEngine): Promise<void> {
  const paired = await pairedRecord(engine);
  for (const statement of [...keyedStatements(await someKeys(engine)), ...keyedStatements(paired)]) {
    expect(statement.keyed).toBeDefined();
    if (statement.keyed!.tables.includes('api_activity') && /\bauthentication\b/.test(statement.sql)) {
      // A console sign-in's api_activity row is left out when its authentication row exists. A pivot
      // hands its key to that look-up (both rows carry it), so authentication is narrowed too; a
      // condition's look-up is by event id alone, so it reads every authentication file.
      if (statement.label.endsWith(':none')) expect(statement.keyed!.tables).not.toContain('authentication');
      else expect(statement.keyed!.tables).toContain('authentication');
    }
    const viewed = await engine.query(statement.sql, statement.params);
    const keyed = await engine.query(statement.sql, statement.params, { days: statement.days, keyed: statement.keyed });
    expect(viewed.rows.length).toBeGreaterThan(0);
    expect({ label: statement.label, rows: canonical(keyed.rows) }).toEqual({ label: statement.label, rows: canonical(viewed.rows) });
  }
  // The record kept in two classes is listed once, as its sign-in, by every pivot on it.
  const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 10_000, descending: true } as const;
  for (const [pivot, key] of [
    ['ip', paired.ip],
    ['session', paired.session],
    ['identity', paired.identity],
  ] as const) {
    if (key === null) continue;
    const page = eventsPage(AccountScope.ALL, { ...base, pivot, keys: [key] });
    const { rows } = await engine.query(page.sql, page.params, { days: page.days, keyed: page.keyed });
    expect({ pivot, listed: rows.filter((r) => r.event_id === paired.eventId).map((r) => r.event_table) }).toEqual({
      pivot,
      listed: ['authentication'],
    });
  }
}

const COUNT_ALL = `SELECT count(*) AS n FROM api_activity WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)`;

/** Rows of the api_activity files (in the window) holding the session, read straight from the files. */
async function rowsOfFilesHolding(root: string, session: string): Promise<{ rows: number; files: number; all: number }> {
  const files = partFiles(root)
    .filter((f) => f.startsWith('api_activity/'))
    .map((f) => join(root, f));
  return withDb(async (run) => {
    const scan = `read_parquet([${files.map(sqlString).join(', ')}], filename = true, hive_partitioning = false)`;
    const [row] = await run(
      `SELECT count(*) FILTER (WHERE filename IN (SELECT filename FROM ${scan} WHERE session_id = ${sqlString(session)})) AS n,
              count(DISTINCT filename) FILTER (WHERE filename IN (SELECT filename FROM ${scan} WHERE session_id = ${sqlString(session)})) AS files,
              count(*) AS all_rows
         FROM ${scan}`,
    );
    return { rows: Number(row.n), files: Number(row.files), all: Number(row.all_rows) };
  });
}

describe('lookup index: keyed reads open only the files holding the key', () => {
  it('writes an index per part file, in the commit', async () => {
    expect(await expectIndexesRight(lake)).toBeGreaterThan(0);
  });

  it("gives both rows of a record kept in two classes the record's identity, session and address", async () => {
    // What lets a pivot narrow the look-up of a record's other row by its own key (listedElsewhereSql's sameKey).
    const engine = await DuckDbEngine.open({ lake });
    try {
      const [row] = (
        await engine.query<{ pairs: number; differing: number }>(
          `SELECT count(*) AS pairs, count(*) FILTER (WHERE a.actor_id IS DISTINCT FROM b.actor_id OR a.session_id IS DISTINCT FROM b.session_id
              OR a.src_ip IS DISTINCT FROM b.src_ip) AS differing
            FROM api_activity a JOIN authentication b ON a.event_id = b.event_id AND a.time = b.time`,
        )
      ).rows;
      expect(row.pairs).toBeGreaterThan(0);
      expect(row.differing).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it("opens only the files whose index holds the statement's key; without indexes, every file", async () => {
    const engine = await DuckDbEngine.open({ lake });
    const { session } = await someKeys(engine);
    const expected = await rowsOfFilesHolding(lake, session);
    try {
      // Told (wrongly, on purpose) that it keeps only rows of this session: the engine read the files holding it, no other.
      const keyed = { kind: 'session' as const, values: [session], tables: ['api_activity' as const] };
      const [all] = (await engine.query<{ n: number }>(COUNT_ALL, DAYS, { days: DAYS })).rows;
      const [told] = (await engine.query<{ n: number }>(COUNT_ALL, DAYS, { days: DAYS, keyed })).rows;
      expect(all.n).toBe(expected.all);
      expect(expected.files).toBeGreaterThan(0);
      expect(told.n).toBe(expected.rows);
      expect(told.n).toBeLessThan(all.n);
      // A key no file holds: no file read, an empty table of the same columns.
      const [none] = (await engine.query<{ n: number }>(COUNT_ALL, DAYS, { days: DAYS, keyed: { ...keyed, values: ['no-such-session'] } }))
        .rows;
      expect(none.n).toBe(0);
      // Not keyed, or keyed on another table: every file, as before.
      const [other] = (await engine.query<{ n: number }>(COUNT_ALL, DAYS, { days: DAYS, keyed: { ...keyed, tables: ['authentication'] } }))
        .rows;
      expect(other.n).toBe(all.n);
    } finally {
      await engine.close();
    }
    // A lake written before the index (no `_lookup/`): a keyed statement reads every file, as it did.
    const old = join(dir, 'old-lake');
    cpSync(lake, old, { recursive: true });
    rmSync(join(old, LOOKUP_INDEX_DIR), { recursive: true });
    const oldEngine = await DuckDbEngine.open({ lake: old });
    try {
      const keyed = { kind: 'session' as const, values: [session], tables: ['api_activity' as const] };
      const [told] = (await oldEngine.query<{ n: number }>(COUNT_ALL, DAYS, { days: DAYS, keyed })).rows;
      expect(told.n).toBe(expected.all);
      await expectKeyedRowsRight(oldEngine);
    } finally {
      await oldEngine.close();
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('returns the rows the views return, for keyed event pages and counts', async () => {
    const engine = await DuckDbEngine.open({ lake });
    try {
      await expectKeyedRowsRight(engine);
    } finally {
      await engine.close();
    }
  });

  it('stays right after a second ingest into the same days and after compaction, through the API', async () => {
    const engine = await DuckDbEngine.open({ lake });
    const api = new ScoutApi({ engine, latestDay: () => graphDays(lake).at(-1) ?? null });
    const ask = async (target: ScoutApi, session: string) => {
      const result = await target.execute(
        `query($w: TimeWindow!, $s: String!) { events(window: $w, filter: { session: $s }, first: 20) { totalCount edges { node { id } } } }`,
        { w: { from: WINDOW.from.toISOString(), to: WINDOW.to.toISOString() }, s: session },
      );
      expect(result.errors).toBeUndefined();
      return result.data;
    };
    const fresh = async (session: string) => {
      const other = await DuckDbEngine.open({ lake });
      const otherApi = new ScoutApi({ engine: other, latestDay: () => graphDays(lake).at(-1) ?? null });
      try {
        return await ask(otherApi, session);
      } finally {
        await otherApi.stop();
        await other.close();
      }
    };
    try {
      const { session } = await someKeys(engine);
      const before = await ask(api, session);
      const filesBefore = partFiles(lake).length;

      const summary = await ingest({ inputs: laterObjects, lake });
      expect(summary.quarantined).toBe(0);
      expect(partFiles(lake).length).toBeGreaterThan(filesBefore);
      await expectIndexesRight(lake);
      const afterIngest = await ask(api, session);
      expect(afterIngest).toEqual(await fresh(session));
      expect((afterIngest as { events: { totalCount: number } }).events.totalCount).toBeGreaterThanOrEqual(
        (before as { events: { totalCount: number } }).events.totalCount,
      );
      await expectKeyedRowsRight(engine);

      const compacted = await compactLake({ lake });
      expect(compacted.partitions_compacted).toBeGreaterThan(0);
      expect(compacted.files_after).toBeLessThan(compacted.files_before);
      await expectIndexesRight(lake);
      expect(await ask(api, session)).toEqual(afterIngest);
      await expectKeyedRowsRight(engine);
    } finally {
      await api.stop();
      await engine.close();
    }
  });
});
