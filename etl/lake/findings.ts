/**
 * Writing findings into the lake (src/core/tables.ts FINDINGS_TABLE), for every product: ScoutQL's
 * detect runs and the ETL's GuardDuty / Security Hub sources.
 *
 * A findings partition (`findings/product=…/account=…/day=…`) is rewritten whole, in one
 * transaction: its rows as they were, minus what the write replaces, plus the new rows. So writing
 * is idempotent:
 *  - a row whose (finding_id, time) the partition already holds replaces it (the same version of a
 *    finding, written again); a row with a newer time is a newer version, kept beside the older one
 *    (readers take the latest per finding_id);
 *  - `replace` says a write is authoritative for a product, a time range and a set of rules (a
 *    detect run over a window): that product's rows of those rules with `time` in the range go, and
 *    the write's rows take their place. Re-running a window writes exactly what it wrote before,
 *    and a finding a tuned rule or a new suppression no longer produces disappears;
 *  - `created_at` of a finding id the partition held is kept (when it was first reported);
 *  - a partition whose rows come out the same is not rewritten (no new file, no commit).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue, timestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import {
  findingsPartitionPath,
  findingsTablePath,
  dayOfPartition,
  isPartFileName,
  partFileName,
  safePartitionValue,
} from '../../src/core/lake-layout';
import { sqlString } from '../../src/core/sql';
import {
  FINDINGS_TABLE,
  FINDING_LEVELS,
  FINDING_PRODUCTS,
  FINDING_SEVERITY_ID,
  type Column,
  type FindingProduct,
  type FindingRow,
} from '../../src/core/tables';
import { acquireLakeLock } from './lock';
import { lakeStoreFor, type LakeStore } from './store';
import { Transaction, recoverLake } from './transaction';

export interface FindingsReplace {
  product: FindingProduct;
  /** The range [from, to) the write is authoritative for (rows' `time`). */
  from: Date;
  to: Date;
  /** The rules (rule_id) the write is authoritative for. */
  ruleIds: readonly string[];
}

export interface WriteFindingsOptions {
  replace?: FindingsReplace;
  /** Where scratch files go (default: the OS temp folder). */
  tempRoot?: string;
  /** How long to wait for another writer's lake lock (default 0). */
  lockWaitMs?: number;
}

export interface WriteFindingsSummary {
  /** Rows handed in (after dropping exact repeats). */
  rows: number;
  /** Partition folders rewritten (or emptied). */
  partitions: number;
  /** Partitions looked at whose rows came out the same (left alone). */
  unchanged: number;
  /** Rows the partitions held before and no longer hold (replaced or superseded). */
  removed: number;
  /** Rows the partitions hold now that they did not before. */
  added: number;
}

const COLUMNS: readonly Column[] = FINDINGS_TABLE.columns;
const COLUMN_LIST = COLUMNS.map((c) => `"${c.name}"`).join(', ');
const VARCHAR_LIST = LIST(VARCHAR);

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/** The findings partition a row belongs in. */
export function findingPartition(row: FindingRow): string {
  return findingsPartitionPath({ product: row.product, account: safePartitionValue(row.account, 'unknown'), day: dayOf(row.time) });
}

/** Why a row cannot be written, or null. */
export function findingRowProblem(row: FindingRow): string | null {
  for (const c of COLUMNS) {
    const value = row[c.name as keyof FindingRow];
    if (c.required && (value === null || value === undefined || value === '')) return `${c.name} is required`;
    if (c.type === 'TIMESTAMP' && value !== null && !(value instanceof Date && Number.isFinite(value.getTime())))
      return `${c.name} is not a valid time`;
  }
  if (!(FINDING_PRODUCTS as readonly string[]).includes(row.product))
    return `product '${row.product}' is not one of ${FINDING_PRODUCTS.join(', ')}`;
  if (!(FINDING_LEVELS as readonly string[]).includes(row.level)) return `level '${row.level}' is not one of ${FINDING_LEVELS.join(', ')}`;
  if (row.severity !== FINDING_SEVERITY_ID[row.level as keyof typeof FINDING_SEVERITY_ID])
    return `severity ${row.severity} does not match level ${row.level}`;
  if (row.first_seen.getTime() > row.last_seen.getTime()) return 'first_seen is after last_seen';
  return null;
}

/** Writes findings rows (see the file comment for what replaces what). Takes the lake lock. */
export async function writeFindings(
  lake: string | LakeStore,
  rows: readonly FindingRow[],
  options: WriteFindingsOptions = {},
): Promise<WriteFindingsSummary> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const replace = options.replace;
  const unique = new Map<string, FindingRow>();
  for (const row of rows) {
    const problem = findingRowProblem(row);
    if (problem) throw new Error(`finding ${row.finding_id} (${row.rule_id}): ${problem}`);
    if (replace) {
      const t = row.time.getTime();
      if (
        row.product !== replace.product ||
        t < replace.from.getTime() ||
        t >= replace.to.getTime() ||
        !replace.ruleIds.includes(row.rule_id)
      )
        throw new Error(`finding ${row.finding_id} (${row.rule_id}) lies outside the product, range or rules its write replaces`);
    }
    unique.set(`${row.product}|${row.finding_id}|${row.time.toISOString()}`, row);
  }
  const byPartition = new Map<string, FindingRow[]>();
  for (const row of unique.values()) {
    const partition = findingPartition(row);
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), row]);
  }
  const summary: WriteFindingsSummary = { rows: unique.size, partitions: 0, unchanged: 0, removed: 0, added: 0 };

  const lock = await acquireLakeLock(store, { waitMs: options.lockWaitMs });
  const scratchRoot = options.tempRoot ?? tmpdir();
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, 'scoutql-findings-'));
  let txn: Transaction | null = null;
  let db: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;
  try {
    await recoverLake(store);
    if (replace)
      for (const partition of await partitionsOfRange(store, replace)) if (!byPartition.has(partition)) byPartition.set(partition, []);
    if (byPartition.size === 0) return summary;
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: '256MB',
      temp_directory: join(scratch, 'duckdb'),
      threads: '1',
    });
    db = { instance, connection: await instance.connect() };
    txn = await Transaction.begin(store, scratch, () => lock.check());
    for (const [partition, incoming] of [...byPartition].sort(([a], [b]) => a.localeCompare(b))) {
      const outcome = await rewritePartition(db.connection, store, txn, partition, incoming, replace ?? null, scratch);
      if (outcome.changed) summary.partitions += 1;
      else summary.unchanged += 1;
      summary.removed += outcome.removed;
      summary.added += outcome.added;
    }
    if (summary.partitions > 0) await txn.commit();
    else await txn.abort();
    txn = null;
    return summary;
  } finally {
    await txn?.abort();
    db?.connection.closeSync();
    db?.instance.closeSync();
    await rm(scratch, { recursive: true, force: true });
    await lock.release();
  }
}

/** The existing findings partitions of a product whose day lies in the range (every account). */
async function partitionsOfRange(store: LakeStore, range: FindingsReplace): Promise<string[]> {
  const first = dayOf(range.from);
  const last = dayOf(new Date(range.to.getTime() - 1));
  const productDir = `${findingsTablePath()}/product=${range.product}`;
  const out: string[] = [];
  for (const account of await store.listDirs(productDir)) {
    for (const day of await store.listDirs(`${productDir}/${account}`)) {
      const d = dayOfPartition(day);
      if (d !== null && d >= first && d <= last) out.push(`${productDir}/${account}/${day}`);
    }
  }
  return out;
}

async function rewritePartition(
  connection: DuckDBConnection,
  store: LakeStore,
  txn: Transaction,
  partition: string,
  incoming: readonly FindingRow[],
  replace: FindingsReplace | null,
  scratch: string,
): Promise<{ changed: boolean; removed: number; added: number }> {
  const existing = (await store.listFiles(partition)).filter((path) => {
    const name = path.slice(partition.length + 1);
    return !name.includes('/') && isPartFileName(name);
  });
  const local: string[] = [];
  for (const path of existing) local.push(await store.localCopy(path, join(scratch, 'copies')));

  const ddl = COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ');
  for (const table of ['old', 'incoming', 'result']) await connection.run(`DROP TABLE IF EXISTS ${table}`);
  await connection.run(`CREATE TABLE old (${ddl})`);
  if (local.length > 0) {
    // Files written before a column was appended to the contract lack it: it reads as NULL.
    const present = new Set(
      (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${local.map(sqlString).join(', ')}], union_by_name = true)`))
        .getRowObjectsJS()
        .map((r) => (typeof r.column_name === 'string' ? r.column_name : '')),
    );
    const select = COLUMNS.map((c) => (present.has(c.name) ? `"${c.name}"` : `CAST(NULL AS ${c.type}) AS "${c.name}"`)).join(', ');
    await connection.run(
      `INSERT INTO old SELECT ${select} FROM read_parquet([${local.map(sqlString).join(', ')}], union_by_name = true, hive_partitioning = false)`,
    );
  }
  await connection.run(`CREATE TABLE incoming (${ddl})`);
  const appender = await connection.createAppender('incoming');
  for (const row of incoming) appendRow(appender, row);
  appender.flushSync();
  appender.closeSync();

  const replaced = replace
    ? `rule_id IN (${replace.ruleIds.map(sqlString).join(', ') || 'NULL'}) AND "time" >= epoch_ms(${replace.from.getTime()}) AND "time" < epoch_ms(${replace.to.getTime()})`
    : 'false';
  // Old rows stay unless replaced or written again; new rows keep the created_at their id first had.
  await connection.run(`CREATE TABLE result AS
    SELECT ${COLUMN_LIST} FROM old o
      WHERE NOT (${replaced}) AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.finding_id = o.finding_id AND i."time" = o."time")
    UNION ALL
    SELECT ${COLUMNS.map((c) =>
      c.name === 'created_at'
        ? `least(i.created_at, coalesce((SELECT min(o.created_at) FROM old o WHERE o.finding_id = i.finding_id), i.created_at)) AS created_at`
        : `i."${c.name}"`,
    ).join(', ')} FROM incoming i`);
  const count = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRowObjectsJS()[0].n);
  const removed = await count(`SELECT count(*) AS n FROM (SELECT ${COLUMN_LIST} FROM old EXCEPT ALL SELECT ${COLUMN_LIST} FROM result)`);
  const added = await count(`SELECT count(*) AS n FROM (SELECT ${COLUMN_LIST} FROM result EXCEPT ALL SELECT ${COLUMN_LIST} FROM old)`);
  if (removed === 0 && added === 0) return { changed: false, removed, added };

  txn.remove(existing);
  if ((await count('SELECT count(*) AS n FROM result')) > 0) {
    const target = txn.staged(`${partition}/${partFileName(txn.id)}`);
    await mkdir(dirname(target), { recursive: true });
    await connection.run(
      `COPY (SELECT ${COLUMN_LIST} FROM result ORDER BY ${FINDINGS_TABLE.sortBy.map((c) => `"${c}"`).join(', ')}, finding_id, "time")
       TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  }
  return { changed: true, removed, added };
}

function appendRow(appender: DuckDBAppender, row: FindingRow): void {
  for (const column of COLUMNS) {
    const value: unknown = row[column.name as keyof FindingRow];
    if (value === null || value === undefined) {
      appender.appendNull();
      continue;
    }
    switch (column.type) {
      case 'VARCHAR':
        appender.appendVarchar(typeof value === 'string' ? value : JSON.stringify(value));
        break;
      case 'BIGINT':
        appender.appendBigInt(BigInt(Math.trunc(Number(value))));
        break;
      case 'INTEGER':
        appender.appendInteger(Math.trunc(Number(value)));
        break;
      case 'DOUBLE':
        appender.appendDouble(Number(value));
        break;
      case 'BOOLEAN':
        appender.appendBoolean(value === true);
        break;
      case 'TIMESTAMP':
        appender.appendTimestamp(timestampValue(BigInt((value as Date).getTime()) * 1000n));
        break;
      case 'VARCHAR[]':
        appender.appendList(listValue((value as readonly string[]).map(String)), VARCHAR_LIST);
        break;
    }
  }
  appender.endRow();
}
