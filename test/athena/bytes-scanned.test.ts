/**
 * DataScannedInBytes from the local Athena server, read through the REAL @aws-sdk/client-athena:
 * what Athena bills, the compressed bytes of the Parquet column chunks a query reads. Only the
 * columns it names, only the partitions its filter keeps, only the row groups min/max statistics
 * cannot rule out. Expected figures are computed here, independently, from parquet_metadata.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import type { AthenaEngine } from '../../src/engine/athena';
import type { SqlParam } from '../../src/engine/types';
import { localEngine, tempDir } from './helpers';

const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];
const ROWS_PER_DAY = 8_192;
/** DuckDB rounds row groups to multiples of 2,048 rows: four per day. */
const ROW_GROUP_ROWS = 2_048;

let lake: string;
let server: AthenaLocalServer;
let engine: AthenaEngine;
let db: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  lake = tempDir('athena-bytes');
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  // Events as the ETL writes them: one file per day, sorted by time, several row groups each, a
  // bulky `raw` column beside narrow ones. Each day's rows differ so no two days compress alike.
  for (const [d, day] of DAYS.entries()) {
    mkdirSync(join(lake, 'events', `day=${day}`), { recursive: true });
    await conn.run(
      `COPY (
         SELECT TIMESTAMP '${day} 00:00:00' + to_seconds(i * 10) AS time,
                'arn:aws:iam::111122223333:user/user-' || ((i * 7 + ${d}) % 50) AS actor_id,
                '198.51.100.' || (i % 200) AS src_ip,
                '{"eventVersion":"1.08","eventName":"GetObject","requestParameters":{"key":"' || md5(i::VARCHAR || '${day}') || repeat('x', 150) || '"}}' AS raw
         FROM range(${ROWS_PER_DAY}) t(i) ORDER BY time
       ) TO '${join(lake, 'events', `day=${day}`, 'part-0.parquet')}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
    );
  }
  server = await startAthenaLocal({ localBuckets: { 'test-lake': lake } });
  engine = localEngine(server.endpoint);
  await engine.query(
    `CREATE EXTERNAL TABLE events (time timestamp, actor_id string, src_ip string, raw string)
     PARTITIONED BY (day string) STORED AS PARQUET LOCATION 's3://test-lake/events/'
     TBLPROPERTIES ('projection.enabled' = 'true', 'projection.day.type' = 'date', 'projection.day.range' = '2024-01-01,NOW', 'projection.day.format' = 'yyyy-MM-dd')`,
  );
});

afterAll(async () => {
  await engine?.close();
  await server?.close();
  conn.closeSync();
  db.closeSync();
  rmSync(lake, { recursive: true, force: true });
});

const scanned = async (sql: string, params: SqlParam[] = []) => (await engine.query(sql, params)).stats.bytesScanned;

const dayFiles = (days: readonly string[]) =>
  days.flatMap((day) => readdirSync(join(lake, 'events', `day=${day}`)).map((f) => join(lake, 'events', `day=${day}`, f)));

/** Sum of total_compressed_size of the named columns' chunks in the files, optionally only row groups passing `rowGroupWhere`. */
async function chunkBytes(files: readonly string[], columns: readonly string[], rowGroupWhere = 'true'): Promise<number> {
  const list = files.map((f) => `'${f}'`).join(', ');
  const names = columns.map((c) => `'${c}'`).join(', ');
  const reader = await conn.runAndReadAll(
    `SELECT coalesce(sum(total_compressed_size), 0)::BIGINT FROM parquet_metadata([${list}])
     WHERE path_in_schema IN (${names}) AND (file_name, row_group_id) IN (
       SELECT (file_name, row_group_id) FROM parquet_metadata([${list}]) WHERE path_in_schema = 'time' AND (${rowGroupWhere}))`,
  );
  return Number(reader.getRowsJS()[0][0]);
}

test('the figure is the compressed size of the column chunks read, computed independently from parquet_metadata', async () => {
  const expected = await chunkBytes(dayFiles(DAYS), ['actor_id', 'src_ip']);
  expect(expected).toBeGreaterThan(0);
  expect(await scanned('SELECT actor_id, src_ip FROM events')).toBe(expected);
});

test('selecting one narrow column scans fewer bytes than selecting raw', async () => {
  const narrow = await scanned('SELECT actor_id FROM events WHERE day = ?', [DAYS[0]]);
  const withRaw = await scanned('SELECT actor_id, raw FROM events WHERE day = ?', [DAYS[0]]);
  expect(narrow).toBe(await chunkBytes(dayFiles([DAYS[0]]), ['actor_id']));
  expect(withRaw).toBe(await chunkBytes(dayFiles([DAYS[0]]), ['actor_id', 'raw']));
  // raw is the bulk of an event row: a narrow select costs a small part of it.
  expect(narrow * 5).toBeLessThan(withRaw);
});

test("a partition filter on one day scans only that day's files", async () => {
  const oneDay = await scanned('SELECT raw FROM events WHERE day = ?', [DAYS[1]]);
  const allDays = await scanned('SELECT raw FROM events');
  expect(oneDay).toBe(await chunkBytes(dayFiles([DAYS[1]]), ['raw']));
  expect(allDays).toBe(await chunkBytes(dayFiles(DAYS), ['raw']));
  // The days differ in content, so the figure names the day that was read, not just "a third".
  const otherDays = await Promise.all([DAYS[0], DAYS[2]].map((day) => chunkBytes(dayFiles([day]), ['raw'])));
  expect(otherDays).not.toContain(oneDay);
  expect(oneDay).toBeLessThan(allDays);
});

test('row groups that min/max statistics rule out are not scanned', async () => {
  // The last hour of a day: rows are sorted by time, so only the last row group can hold it.
  const from = `${DAYS[2]} 21:00:00`;
  const lastHour = await scanned('SELECT raw FROM events WHERE day = ? AND time >= ?', [DAYS[2], new Date(`${from.replace(' ', 'T')}Z`)]);
  const expected = await chunkBytes(dayFiles([DAYS[2]]), ['raw', 'time'], `stats_max >= '${from}'`);
  expect(lastHour).toBe(expected);
  expect(lastHour).toBeLessThan(await chunkBytes(dayFiles([DAYS[2]]), ['raw']));
});

test('a query reading no table scans nothing', async () => {
  expect(await scanned('SELECT 1 AS one')).toBe(0);
});
