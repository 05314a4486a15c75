/**
 * The RowSpiller hands rows to DuckDB in data chunks of 2,048 rows (etl/lake/row-spiller.ts). Rows
 * of every column type, with nulls, lists and the conversions sources rely on (numbers as text,
 * Dates, out-of-range integers), across chunk and spill boundaries, must read back from the spills
 * exactly as given: each cell where it belongs, nothing lost or repeated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RowSpiller } from '../../etl/lake/row-spiller';
import type { SourceRow } from '../../etl/sources/types';
import type { RowOf } from '../../src/core/tables';

const ROWS = 5_000;
const BASE_MS = Date.parse('2026-11-03T12:00:00.123Z');

/** Row i of the test: each column null, present or converted on its own cycle, so neighbouring rows differ. */
function rowAt(i: number): RowOf<'http_activity'> {
  return {
    time: new Date(BASE_MS + i * 1000),
    event_id: `e${String(i).padStart(5, '0')}`,
    class_uid: 4002,
    activity: i % 3 === 0 ? null : `act-${i % 7}`,
    service: i % 5 === 0 ? '' : 's3.amazonaws.com',
    outcome: 'success',
    error_code: i % 11 === 0 ? 'AccessDenied' : null,
    error_message: i % 13 === 0 ? `é ✓ 𝄞 ${i}` : null,
    actor_id: null,
    actor_type: null,
    actor_name: null,
    actor_arn: null,
    actor_account: null,
    session_id: null,
    src_ip: `10.0.${i % 256}.${i % 7}`,
    user_agent: null,
    resources: i % 4 === 0 ? [] : i % 4 === 1 ? [`arn:aws:s3:::b${i}`] : [`a${i}`, '', `c${i}`],
    raw: i % 9 === 0 ? null : `{"n":${i},"pad":"${'x'.repeat(i % 300)}"}`,
    account: `1111222233${i % 3}${i % 3}`,
    region: 'us-east-1',
    http_method: 'GET',
    url: null,
    host: null,
    path: null,
    // As text, out of INTEGER's range, or absent: each converts as the appender did.
    status: (i % 6 === 0 ? String(200 + (i % 5)) : i % 6 === 1 ? 3_000_000_000 : i % 6 === 2 ? null : 404) as number | null,
    bytes_out: i % 4 === 0 ? null : i * 1_000_003,
    bytes_in: (i % 5 === 0 ? `${i}` : i % 5 === 1 ? 'not a number' : -i) as number | null,
    duration_ms: i % 7 === 0 ? null : i % 7 === 1 ? Number.NaN : i / 8,
    referrer: null,
    bucket: `b${i % 10}`,
    object_key: null,
    dst_ip: null,
    dst_port: i % 2 === 0 ? null : 443,
    tls_protocol: null,
  };
}

/** What DuckDB must hold for row i (the appender's conversions: integer text read, bad numbers and out-of-range INTEGERs null). */
function expectedAt(i: number): Record<string, unknown> {
  const row = rowAt(i);
  const status = i % 6 === 0 ? 200 + (i % 5) : i % 6 === 1 || i % 6 === 2 ? null : 404;
  return {
    source: 'alb',
    account: row.account,
    scoutql_object: i % 17,
    scoutql_primary: i % 2 === 0,
    event_id: row.event_id,
    time_ms: BASE_MS + i * 1000,
    activity: row.activity,
    service: row.service,
    error_code: row.error_code,
    error_message: row.error_message,
    resources: row.resources,
    raw: row.raw,
    status,
    bytes_out: row.bytes_out === null ? null : String(row.bytes_out),
    bytes_in: i % 5 === 0 ? String(i) : i % 5 === 1 ? null : String(-i),
    duration_ms: i % 7 === 0 || i % 7 === 1 ? null : i / 8,
    dst_port: row.dst_port,
    flags: i % 10 === 0 ? ['invalid_utf8'] : null,
    src_is_cloud: i % 3 === 0 ? true : i % 3 === 1 ? false : null,
  };
}

test('rows of every column type survive data chunks and spills cell for cell', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'scoutql-chunks-'));
  const instance = await DuckDBInstance.create(':memory:');
  try {
    // Spills every 1,500 rows: they fall inside chunks, and chunks end inside spills.
    const spiller = await RowSpiller.open({ tempDir: join(temp, 'spill'), spillRows: 1_500 });
    for (let i = 0; i < ROWS; i++) {
      const row: SourceRow = { table: 'http_activity', row: rowAt(i) };
      const enrichment = {
        src_country: null,
        src_asn: null,
        src_as_org: null,
        src_is_cloud: i % 3 === 0 ? true : i % 3 === 1 ? false : null,
      };
      spiller.append(row, 'alb', i % 17, i % 2 === 0, i % 10 === 0 ? ['invalid_utf8'] : null, enrichment);
      if (i % 700 === 0) await spiller.spillIfLarge();
    }
    const spills = await spiller.takeSpills();
    await spiller.close();
    const files = spills.get('http_activity') ?? [];
    expect(files.length).toBeGreaterThan(2);

    const connection = await instance.connect();
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT source, account, scoutql_object, scoutql_primary, event_id, epoch_ms("time") AS time_ms, activity, service,
              error_code, error_message, resources, raw, status, bytes_out::VARCHAR AS bytes_out, bytes_in::VARCHAR AS bytes_in,
              duration_ms, dst_port, flags, src_is_cloud
       FROM read_parquet([${list}]) ORDER BY event_id`,
    );
    const rows = reader.getRowObjectsJS().map((r) => ({
      ...r,
      time_ms: Number(r.time_ms),
    }));
    expect(rows).toHaveLength(ROWS);
    for (let i = 0; i < ROWS; i++) {
      if (JSON.stringify(rows[i]) !== JSON.stringify(expectedAt(i))) expect({ i, row: rows[i] }).toEqual({ i, row: expectedAt(i) });
    }
    connection.closeSync();
  } finally {
    instance.closeSync();
    rmSync(temp, { recursive: true, force: true });
  }
}, 60_000);

test('a row refused mid-way (a BIGINT past int64) is not staged, and the next row takes its slot whole', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'scoutql-chunks-'));
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const spiller = await RowSpiller.open({ tempDir: join(temp, 'spill') });
    spiller.append({ table: 'http_activity', row: rowAt(1) }, 'alb', 0, true);
    // Nulls before the refused cell (activity, error_code) must not stick to the row that takes its slot.
    const refused = { ...rowAt(3), event_id: 'refused', bytes_out: 2 ** 70 };
    expect(() => spiller.append({ table: 'http_activity', row: refused }, 'alb', 0, true)).toThrow(/int64/);
    spiller.append({ table: 'http_activity', row: rowAt(2) }, 'alb', 0, true);
    const files = (await spiller.takeSpills()).get('http_activity') ?? [];
    await spiller.close();
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT event_id, activity, error_code, bytes_out::VARCHAR AS bytes_out FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY event_id`,
    );
    expect(reader.getRowObjectsJS()).toEqual([
      { event_id: 'e00001', activity: 'act-1', error_code: null, bytes_out: '1000003' },
      { event_id: 'e00002', activity: 'act-2', error_code: null, bytes_out: '2000006' },
    ]);
    connection.closeSync();
  } finally {
    instance.closeSync();
    rmSync(temp, { recursive: true, force: true });
  }
});
