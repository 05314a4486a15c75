/**
 * Compaction: a stream of small objects (one Lambda invocation per CloudTrail delivery) leaves
 * many small Parquet files per partition, and every file costs a reader a request and a footer.
 * This merges each partition's files into one, sorted by the table's pivot keys with the writer's
 * ZSTD level and row-group size, and swaps it in through the lake's transaction: the new file is
 * staged, COMMIT lists it and the files it replaces, the roll-forward moves it into place and
 * then deletes the old ones. Every row is kept: the new file's row count is checked against the
 * old files' before anything is committed.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { JsonlFile } from './lake/jsonl-file';
import { acquireLakeLock } from './lake/lock';
import { parseManifestLine } from './lake/manifest';
import { partFiles, partitionFolders } from './lake/partitions';
import { ROW_GROUP_ROWS, ZSTD_LEVEL, writeLookupIndex } from './lake/row-spiller';
import { lakeStoreFor, type LakeStore } from './lake/store';
import { Transaction, crashForTests, recoverLake } from './lake/transaction';
import { LOOKUP_INDEX_DIR, MANIFEST_DIR, lookupIndexFile, manifestFile, partFileName } from '../src/core/lake-layout';
import { sqlString } from '../src/core/sql';
import { TABLES, TABLE_NAMES, type TableName } from '../src/core/tables';

export interface CompactOptions {
  /** Lake folder or s3://bucket/prefix. */
  lake: string;
  /** Only this table (default: every event table). */
  table?: TableName;
  /** Only this day (YYYY-MM-DD). */
  day?: string;
  /** Compact partitions holding at least this many files (default 2). */
  minFiles?: number;
  /** Local scratch space (S3 lakes download a partition's files there). */
  tempRoot?: string;
  onPartition?: (done: CompactedPartition) => void;
}

export interface CompactedPartition {
  partition: string;
  files_before: number;
  rows: number;
  bytes_before: number;
  bytes_after: number;
}

export interface CompactSummary {
  /** Partitions looked at (matching table and day). */
  partitions_seen: number;
  /** Partitions merged into one file. */
  partitions_compacted: number;
  files_before: number;
  files_after: number;
  rows: number;
  bytes_before: number;
  bytes_after: number;
  /** Manifest files before and after (merged when the whole lake is compacted). */
  manifest_files_before: number;
  manifest_files_after: number;
  seconds: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function compactLake(options: CompactOptions): Promise<CompactSummary> {
  const started = process.hrtime.bigint();
  if (options.table && !(TABLE_NAMES as readonly string[]).includes(options.table)) {
    throw new Error(`unknown table '${options.table}' (one of ${TABLE_NAMES.join(', ')})`);
  }
  if (options.day && !DAY.test(options.day)) throw new Error(`day '${options.day}' is not YYYY-MM-DD`);
  const minFiles = options.minFiles ?? 2;
  if (!Number.isInteger(minFiles) || minFiles < 2) throw new Error('min-files must be a whole number of at least 2');

  const store = lakeStoreFor(options.lake);
  const summary: CompactSummary = {
    partitions_seen: 0,
    partitions_compacted: 0,
    files_before: 0,
    files_after: 0,
    rows: 0,
    bytes_before: 0,
    bytes_after: 0,
    manifest_files_before: 0,
    manifest_files_after: 0,
    seconds: 0,
  };
  const lock = await acquireLakeLock(store);
  const fence = () => lock.check();
  const scratch = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'scoutql-compact-'));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: '512MB',
    temp_directory: join(scratch, 'duckdb'),
    threads: '2',
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    await recoverLake(store);
    for (const table of options.table ? [options.table] : TABLE_NAMES) {
      for (const partition of await partitionFolders(store, table, options.day ? [options.day] : undefined)) {
        summary.partitions_seen += 1;
        const files = await partFiles(store, partition);
        if (files.length < minFiles) {
          summary.files_before += files.length;
          summary.files_after += files.length;
          continue;
        }
        const done = await compactPartition(store, connection, table, partition, files, scratch, fence);
        summary.partitions_compacted += 1;
        summary.files_before += files.length;
        summary.files_after += 1;
        summary.rows += done.rows;
        summary.bytes_before += done.bytes_before;
        summary.bytes_after += done.bytes_after;
        options.onPartition?.(done);
      }
    }
    // Every writer reads the whole manifest first (a Lambda invocation, each time): one file per
    // transaction would make that slower with every delivery. A whole-lake compaction merges them.
    const manifests = (await store.listFiles(MANIFEST_DIR)).filter((f) => f.endsWith('.jsonl'));
    summary.manifest_files_before = summary.manifest_files_after = manifests.length;
    if (!options.table && !options.day && manifests.length >= minFiles) {
      await mergeManifest(store, manifests, scratch, fence);
      summary.manifest_files_after = 1;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(scratch, { recursive: true, force: true });
    await lock.release();
  }
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

async function compactPartition(
  store: LakeStore,
  connection: DuckDBConnection,
  table: TableName,
  partition: string,
  files: string[],
  scratch: string,
  fence: () => Promise<void>,
): Promise<CompactedPartition> {
  const txn = await Transaction.begin(store, scratch, fence);
  txn.notes.kind = 'compact';
  const downloads = join(scratch, 'inputs');
  try {
    const local = [];
    for (const file of files) local.push(await store.localCopy(file, downloads));
    const inputs = `read_parquet([${local.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
    const rowsBefore = await count(connection, `SELECT count(*) AS n FROM ${inputs}`);
    const bytesBefore = await fileBytes(local);

    const merged = `${partition}/${partFileName(txn.id)}`;
    const target = txn.staged(merged);
    // The commit manifest records that the new file holds the old files' rows (graphs built from them stay provable).
    txn.notes.derivedFrom.set(merged, files);
    await mkdir(dirname(target), { recursive: true });
    const sortBy = TABLES[table].sortBy.map((c) => `"${c}"`).join(', ');
    await connection.run(
      `COPY (SELECT * FROM ${inputs} ORDER BY ${sortBy})
       TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
    );
    const rowsAfter = await count(connection, `SELECT count(*) AS n FROM read_parquet(${sqlString(target)})`);
    if (rowsAfter !== rowsBefore) throw new Error(`compacting ${partition}: wrote ${rowsAfter} rows of ${rowsBefore}; nothing was changed`);
    const bytesAfter = await fileBytes([target]);
    // The merged file gets its lookup index in the same commit; the old files' indexes go with them.
    await writeLookupIndex(connection, table, target, txn.dir, merged);
    const indexes = new Set(await store.listFiles(`${LOOKUP_INDEX_DIR}/${partition}`));
    txn.remove([...files, ...files.map(lookupIndexFile).filter((index) => indexes.has(index))]);
    crashForTests('mid-compact');
    await txn.commit();
    return { partition, files_before: files.length, rows: rowsBefore, bytes_before: bytesBefore, bytes_after: bytesAfter };
  } catch (err) {
    await txn.abort();
    throw err;
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
}

async function mergeManifest(store: LakeStore, files: string[], scratch: string, fence: () => Promise<void>): Promise<void> {
  const txn = await Transaction.begin(store, scratch, fence);
  txn.notes.kind = 'manifest-merge';
  try {
    const merged = new JsonlFile(txn.staged(manifestFile(txn.id)));
    let entries = 0;
    for (const file of files) {
      for (const line of ((await store.readText(file)) ?? '').split('\n')) {
        // A line that is not a manifest entry (a torn write, a hand edit) is left out: it names nothing.
        if (!parseManifestLine(line)) continue;
        await merged.writeLine(line.trim());
        entries += 1;
      }
    }
    await merged.close();
    if (merged.lines !== entries) throw new Error(`merging the manifest: wrote ${merged.lines} entries of ${entries}; nothing was changed`);
    // Until the old files are gone an entry may be listed twice: harmless, entries are keyed by sha256.
    txn.remove(files);
    await txn.commit();
  } catch (err) {
    await txn.abort();
    throw err;
  }
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRowObjects()[0].n);
}

async function fileBytes(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += (await stat(p)).size;
  return total;
}
