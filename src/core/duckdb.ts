/**
 * DuckDB for the layers below the query engine (the ETL's graph step): an in-process instance
 * with the Trino-compatible macros installed, statements with `?` parameters, and the
 * `read_parquet` text of the lake's tables over the globs of src/core/lake-layout.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { findingsGlob, findingsTablePath, graphGlob, graphTablePath, isPartFileName, tableGlob, tablePath } from './lake-layout';
import { sqlString } from './sql';
import {
  FINDINGS_PARTITION_COLUMNS,
  FINDINGS_TABLE,
  GRAPH_TABLES,
  PARTITION_COLUMNS,
  TABLES,
  type Column,
  type GraphTableName,
  type TableName,
} from './tables';
import { TRINO_COMPAT_MACROS } from './trino-compat';

export type DuckParam = string | number | boolean | null;

export interface LocalDuckDbOptions {
  /** DuckDB's memory limit (e.g. '400MB'); past it, DuckDB spills to `tempDirectory`. */
  memoryLimit?: string;
  tempDirectory?: string;
  /** Hand freed memory back to the OS as it is freed (RETURN_FREED_MEMORY), not at close. */
  returnFreedMemory?: boolean;
}

/**
 * DuckDB's allocator (jemalloc, one per process, shared by every instance) keeps freed pages until
 * they are purged. These hand them back to the OS as soon as 16 MB are freed at once or a task
 * peaked past 16 MB, and in the background otherwise. Without them the ingest's resident memory
 * kept each instance's high-water mark: a 40k-row sort and ZSTD write in a loop held 460 MB
 * resident, 275 MB with them (bench/README.md, issue #14 item 2).
 */
export const RETURN_FREED_MEMORY = {
  allocator_background_threads: 'true',
  allocator_flush_threshold: '16MB',
  allocator_bulk_deallocation_flush_threshold: '16MB',
} as const;

/** One in-memory DuckDB instance and connection, with the Trino macros (so Athena's SQL text runs as is). */
export class LocalDuckDb {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(options: LocalDuckDbOptions = {}): Promise<LocalDuckDb> {
    const settings: Record<string, string> = {};
    if (options.memoryLimit) settings.memory_limit = options.memoryLimit;
    if (options.tempDirectory) settings.temp_directory = options.tempDirectory;
    if (options.returnFreedMemory) Object.assign(settings, RETURN_FREED_MEMORY);
    const instance = await DuckDBInstance.create(':memory:', settings);
    const db = new LocalDuckDb(instance, await instance.connect());
    for (const macro of TRINO_COMPAT_MACROS) await db.run(macro.sql);
    return db;
  }

  /** Runs a statement (DDL, COPY) with `?` parameters. The SQL text is the caller's own, never user text. */
  async run(sql: string, params: readonly DuckParam[] = []): Promise<void> {
    const prepared = await this.connection.prepare(sql);
    bind(prepared, params);
    await prepared.run();
  }

  /** Rows as plain JavaScript values (BIGINT as bigint). */
  async rows(sql: string, params: readonly DuckParam[] = []): Promise<Record<string, unknown>[]> {
    const prepared = await this.connection.prepare(sql);
    bind(prepared, params);
    return (await prepared.runAndReadAll()).getRowObjectsJS();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

function bind(prepared: DuckDBPreparedStatement, params: readonly DuckParam[]): void {
  if (prepared.parameterCount !== params.length) throw new Error(`expected ${prepared.parameterCount} parameters, got ${params.length}`);
  params.forEach((value, i) => {
    const index = i + 1;
    if (value === null) prepared.bindNull(index);
    else if (typeof value === 'string') prepared.bindVarchar(index, value);
    else if (typeof value === 'boolean') prepared.bindBoolean(index, value);
    else if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
    else prepared.bindDouble(index, value);
  });
}

/** Published part files below `dir` (temp files do not count), walked depth-first; unreadable folders are passed over. */
function* walkPartFiles(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) stack.push(join(current, entry.name));
      else if (isPartFileName(entry.name)) yield join(current, entry.name);
    }
  }
}

/** True when at least one published part file exists below `dir` (temp files do not count). */
export function hasPartFiles(dir: string): boolean {
  return !walkPartFiles(dir).next().done;
}

/** Partition columns typed explicitly: account ids like 123456789012 must stay VARCHAR. */
const EVENT_HIVE_TYPES = "{'source': 'VARCHAR', 'account': 'VARCHAR', 'region': 'VARCHAR', 'day': 'DATE'}";
const GRAPH_HIVE_TYPES = "{'day': 'DATE'}";
const FINDINGS_HIVE_TYPES = "{'product': 'VARCHAR', 'account': 'VARCHAR', 'day': 'DATE'}";
const FINDINGS_PARTITIONS = FINDINGS_PARTITION_COLUMNS.map((name) => ({ name, type: name === 'day' ? 'DATE' : 'VARCHAR' }));
const EVENT_PARTITIONS = PARTITION_COLUMNS.map((name) => ({ name, type: name === 'day' ? 'DATE' : 'VARCHAR' }));

/** A typed relation with no rows: what a table reads as before it has files (a glob matching nothing is an error). */
function emptySelect(columns: readonly Pick<Column, 'name' | 'type'>[], partitions: readonly { name: string; type: string }[]): string {
  const cols = [...columns, ...partitions].map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

/** Every published part file below `dir` (temp files do not count), sorted: a table's file list. */
export function listPartFiles(dir: string): string[] {
  return [...walkPartFiles(dir)].sort();
}

/**
 * Where a table's rows are: a glob (re-listed by DuckDB on every statement), or the files listed
 * once (the engine's cached listing, re-made when the lake's commit HEAD moves). With a list,
 * DuckDB still prunes files by the partition columns in the path (a `day` filter opens only
 * that day's files) but no statement lists folders.
 */
export type TableFiles = { glob: string } | { files: readonly string[] };

function parquetScan(where: TableFiles, hiveTypes: string): string {
  const source = 'glob' in where ? sqlString(where.glob) : `[${where.files.map(sqlString).join(', ')}]`;
  return `SELECT * FROM read_parquet(${source}, hive_partitioning = true, hive_types = ${hiveTypes}, union_by_name = true)`;
}

/**
 * SELECT text of an event table of a local lake: its files with the partition columns, or no rows
 * when it has none yet. `files`: the table's files as listed by the caller (else its glob).
 */
export function eventTableSelect(lakeRoot: string, table: TableName, files?: readonly string[]): string {
  if (files ? files.length === 0 : !hasPartFiles(join(lakeRoot, tablePath(table))))
    return emptySelect(TABLES[table].columns, EVENT_PARTITIONS);
  return parquetScan(files ? { files } : { glob: join(lakeRoot, tableGlob(table)) }, EVENT_HIVE_TYPES);
}

/** SELECT text of a graph table of a local lake (with its `day` partition column). */
export function graphTableSelect(lakeRoot: string, table: GraphTableName, files?: readonly string[]): string {
  if (files ? files.length === 0 : !hasPartFiles(join(lakeRoot, graphTablePath(table))))
    return emptySelect(GRAPH_TABLES[table].columns, [{ name: 'day', type: 'DATE' }]);
  return parquetScan(files ? { files } : { glob: join(lakeRoot, graphGlob(table)) }, GRAPH_HIVE_TYPES);
}

/** SELECT text of the findings table of a local lake (with its product, account and day partition columns). */
export function findingsTableSelect(lakeRoot: string, files?: readonly string[]): string {
  if (files ? files.length === 0 : !hasPartFiles(join(lakeRoot, findingsTablePath())))
    return emptySelect(FINDINGS_TABLE.columns, FINDINGS_PARTITIONS);
  return parquetScan(files ? { files } : { glob: join(lakeRoot, findingsGlob()) }, FINDINGS_HIVE_TYPES);
}
