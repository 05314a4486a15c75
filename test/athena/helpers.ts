/** Shared set-up for the Athena tests: the local server, an engine on the real SDK, a tiny lake written by DuckDB. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AthenaEngine, type AthenaEngineConfig } from '../../src/engine/athena';
import { TABLES, type TableName } from '../../src/core/tables';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export function localEngine(endpoint: string, overrides: Partial<AthenaEngineConfig> = {}): AthenaEngine {
  return new AthenaEngine({
    endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    database: 'default',
    outputLocation: 's3://scoutql-results/athena/',
    maxBytesScanned: 1e12,
    pollMinMs: 5,
    pollMaxMs: 20,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...overrides,
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scoutql-${prefix}-`));
}

export interface LakeRow {
  time: string; // 'YYYY-MM-DD HH:MM:SS'
  actor_id: string;
  activity: string;
  src_ip: string;
  resources: string[];
  source: string;
  account: string;
  region: string;
}

/**
 * Writes rows of one event table into <lake>/<table>/source=…/account=…/region=…/day=…/ as
 * Parquet with DuckDB, every column of etl/tables.ts present and typed (NULL where not given).
 */
export async function writeLakeTable(lake: string, table: TableName, rows: readonly LakeRow[]): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const given: Record<string, (r: LakeRow) => string> = {
      time: (r) => `TIMESTAMP '${r.time}'`,
      event_id: (r) => `'${r.actor_id}|${r.time}|${r.activity}'`,
      class_uid: () => String(TABLES[table].classUid),
      activity: (r) => `'${r.activity}'`,
      actor_id: (r) => `'${r.actor_id}'`,
      src_ip: (r) => `'${r.src_ip}'`,
      outcome: () => `'success'`,
      resources: (r) => `[${r.resources.map((x) => `'${x}'`).join(', ')}]::VARCHAR[]`,
    };
    const selects = rows.map((r) => {
      const columns = TABLES[table].columns.map((c) => `${given[c.name] ? given[c.name](r) : 'NULL'}::${c.type} AS "${c.name}"`);
      return `SELECT ${columns.join(', ')}, '${r.source}' AS source, '${r.account}' AS account, '${r.region}' AS region, CAST(TIMESTAMP '${r.time}' AS DATE) AS day`;
    });
    await conn.run(
      `COPY (${selects.join(' UNION ALL ')}) TO '${join(lake, table)}' (FORMAT parquet, PARTITION_BY (source, account, region, day), OVERWRITE_OR_IGNORE true)`,
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
