import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DuckDBAppender,
  DuckDBConnection,
  DuckDBInstance,
  DuckDBListType,
  LIST,
  VARCHAR,
  listValue,
  timestampValue,
} from '@duckdb/node-api';
import { TABLES, TABLE_NAMES, type Column, type SourceId, type TableName } from '../tables';
import type { CellValue, Row } from '../sources/types';
import { safePartitionValue } from './layout';

/** Above this size the raw record moves out of the row (Athena refuses rows over 32 MB). */
export const RAW_INLINE_LIMIT = 8 * 1024 * 1024;

export interface OversizeRaw {
  table: TableName;
  eventId: string | null;
  raw: string;
}

const VARCHAR_LIST = LIST(VARCHAR) as DuckDBListType;

/** Appends one value of a column's type, converting what sources hand over (strings, numbers, Dates). */
type Append = (appender: DuckDBAppender, value: CellValue) => void;

function appenderFor(column: Column): Append {
  switch (column.type) {
    case 'VARCHAR':
      return (a, v) => (v == null ? a.appendNull() : a.appendVarchar(typeof v === 'string' ? v : String(v)));
    case 'BIGINT':
      return (a, v) => {
        const n = toInteger(v);
        return n === null ? a.appendNull() : a.appendBigInt(BigInt(n));
      };
    case 'INTEGER':
      return (a, v) => {
        const n = toInteger(v);
        return n === null || n > 2147483647 || n < -2147483648 ? a.appendNull() : a.appendInteger(n);
      };
    case 'DOUBLE':
      return (a, v) => {
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        return Number.isFinite(n) ? a.appendDouble(n) : a.appendNull();
      };
    case 'BOOLEAN':
      return (a, v) => (typeof v === 'boolean' ? a.appendBoolean(v) : a.appendNull());
    case 'TIMESTAMP':
      return (a, v) => {
        const ms = v instanceof Date ? v.getTime() : NaN;
        return Number.isFinite(ms) ? a.appendTimestamp(timestampValue(BigInt(ms) * 1000n)) : a.appendNull();
      };
    case 'VARCHAR[]':
      return (a, v) =>
        Array.isArray(v) ? a.appendList(listValue(v.map(String)), VARCHAR_LIST) : a.appendNull();
  }
}

function toInteger(v: CellValue): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : Math.trunc(v);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return null;
}

function duckType(column: Column): string {
  return column.type;
}

function stagingTable(table: TableName): string {
  return `staging_${table}`;
}

interface TableState {
  appender: DuckDBAppender;
  appenders: Append[];
  columns: readonly Column[];
  rows: number;
}

/**
 * Collects normalized rows in DuckDB staging tables (native memory, spilling to disk past the
 * memory limit) and writes them out as sorted, ZSTD-compressed Parquet, one folder per partition.
 */
export class ParquetWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly tables: Map<TableName, TableState>,
  ) {}

  static async open(options: { tempDir: string; memoryLimit?: string; threads?: number }): Promise<ParquetWriter> {
    await mkdir(options.tempDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? '512MB',
      temp_directory: options.tempDir,
      threads: String(options.threads ?? 2),
      preserve_insertion_order: 'false',
    });
    const connection = await instance.connect();
    const tables = new Map<TableName, TableState>();
    for (const name of TABLE_NAMES) {
      const columns = TABLES[name].columns;
      const ddl = [
        'source VARCHAR',
        'account VARCHAR',
        'region VARCHAR',
        ...columns.map((c) => `"${c.name}" ${duckType(c)}`),
      ].join(', ');
      await connection.run(`CREATE TABLE ${stagingTable(name)} (${ddl})`);
      const appender = await connection.createAppender(stagingTable(name));
      tables.set(name, { appender, appenders: columns.map(appenderFor), columns, rows: 0 });
    }
    return new ParquetWriter(instance, connection, tables);
  }

  /** Rows waiting to be written, over all tables. */
  get pendingRows(): number {
    let total = 0;
    for (const state of this.tables.values()) total += state.rows;
    return total;
  }

  /**
   * Appends one row. Returns the raw record when it is too large to stay inline; the caller
   * keeps it beside the lake and the row carries a pointer instead.
   */
  append(table: TableName, source: SourceId, row: Row): OversizeRaw | null {
    const state = this.tables.get(table);
    if (!state) throw new Error(`unknown table ${table}`);
    let oversize: OversizeRaw | null = null;
    const raw = row.raw;
    if (typeof raw === 'string' && raw.length > RAW_INLINE_LIMIT) {
      const eventId = typeof row.event_id === 'string' ? row.event_id : null;
      oversize = { table, eventId, raw };
      row = { ...row, raw: JSON.stringify({ scoutql_raw_moved_to: '_oversize', event_id: eventId, chars: raw.length }) };
    }
    const a = state.appender;
    a.appendVarchar(source);
    a.appendVarchar(safePartitionValue(row.account as string | undefined, 'unknown'));
    a.appendVarchar(safePartitionValue(row.region as string | undefined, 'unknown'));
    const { columns, appenders } = state;
    for (let i = 0; i < columns.length; i++) appenders[i]!(a, row[columns[i]!.name]);
    a.endRow();
    state.rows += 1;
    return oversize;
  }

  /**
   * Writes every pending row under `outDir/<table>/source=…/account=…/region=…/day=…/`, files named
   * `part-<tag>-<n>.parquet`, sorted by each table's pivot keys, then empties the staging tables.
   * Returns the partition folders written (relative to outDir).
   */
  async flush(outDir: string, tag: string): Promise<string[]> {
    const partitions: string[] = [];
    for (const [name, state] of this.tables) {
      state.appender.flushSync();
      if (state.rows === 0) continue;
      const table = stagingTable(name);
      const def = TABLES[name];
      const columns = def.columns.map((c) => `"${c.name}"`).join(', ');
      const order = ['source', 'account', 'region', 'day', ...def.sortBy].map((c) => `"${c}"`).join(', ');
      const target = join(outDir, name);
      await mkdir(target, { recursive: true });
      // Sorting by the partition keys first lets DuckDB stream one partition at a time, and the
      // pivot keys after them give each row group tight min/max statistics.
      await this.connection.run(
        `COPY (SELECT source, account, region, strftime("time", '%Y-%m-%d') AS day, ${columns}
               FROM ${table} ORDER BY ${order})
         TO '${sqlString(target)}'
         (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (source, account, region, day),
          FILENAME_PATTERN 'part-${tag}-{i}', ROW_GROUP_SIZE 100000, OVERWRITE_OR_IGNORE true)`,
      );
      const reader = await this.connection.runAndReadAll(
        `SELECT DISTINCT source, account, region, strftime("time", '%Y-%m-%d') AS day FROM ${table}`,
      );
      for (const [source, account, region, day] of reader.getRows()) {
        partitions.push(`${name}/source=${source}/account=${account}/region=${region}/day=${day}`);
      }
      await this.connection.run(`DELETE FROM ${table}`);
      state.rows = 0;
    }
    return partitions;
  }

  async close(): Promise<void> {
    for (const state of this.tables.values()) state.appender.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Only for paths this process chose itself (never user text): doubles single quotes. */
function sqlString(value: string): string {
  return value.replace(/'/g, "''");
}
