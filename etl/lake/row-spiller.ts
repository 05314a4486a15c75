import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { type DuckDBAppender, type DuckDBConnection, DuckDBDataChunk, DuckDBInstance, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import {
  OVERSIZE_DIR,
  findingsPartitionPath,
  findingsPartitionValuesOf,
  lookupIndexFile,
  partFileName,
  partitionPath,
  partitionValuesOf,
  safePartitionValue,
} from '../../src/core/lake-layout';
import { RETURN_FREED_MEMORY } from '../../src/core/duckdb';
import { lookupIndexCopy } from '../../src/core/lookup-index';
import { sqlString } from '../../src/core/sql';
import {
  FINDINGS_TABLE,
  TABLES,
  TABLE_NAMES,
  type CellTypes,
  type Column,
  type ColumnType,
  type EnrichmentColumnName,
  type EnrichmentRow,
  type TableName,
  ENRICHMENT_COLUMNS,
} from '../../src/core/tables';
import { type SourceId } from '../../src/generated/sources';
import type { SourceRow, SourceTable } from '../sources/types';

/** Every table the ETL stages rows for: the event tables, then findings (GuardDuty, Security Hub). */
const STAGED_TABLES: readonly SourceTable[] = [...TABLE_NAMES, FINDINGS_TABLE.name];

function isFindings(table: SourceTable): table is typeof FINDINGS_TABLE.name {
  return table === FINDINGS_TABLE.name;
}

/** A table's stored columns and the partition columns staged before them. */
function layoutOf(table: SourceTable): { columns: readonly Column[]; partitions: readonly string[]; sortBy: readonly string[] } {
  if (isFindings(table)) return { columns: FINDINGS_TABLE.columns, partitions: ['product', 'account'], sortBy: FINDINGS_TABLE.sortBy };
  return { columns: TABLES[table].columns, partitions: ['source', 'account', 'region'], sortBy: TABLES[table].sortBy };
}

/** A cell as a source hands it over (its column's type, see src/core/tables.ts), or null. */
type CellValue = CellTypes[ColumnType] | null | undefined;

/** Above this size the raw record moves out of the row (Athena refuses rows over 32 MB). */
export const RAW_INLINE_LIMIT = 8 * 1024 * 1024;

/** With the raw record moved out, other text columns above this size are left empty: the record beside the lake has them. */
const FIELD_INLINE_LIMIT = 1024 * 1024;

export interface OversizeRaw {
  table: SourceTable;
  eventId: string | null;
  raw: string;
}

/** Small row groups: finer min/max statistics to skip by, and a bounded write buffer for wide rows. */
export const ROW_GROUP_ROWS = 20_000;

/** Level 9 over the default 3: 10% (real CloudTrail sample) to 33% (repetitive records) smaller files for about twice the encode time. */
export const ZSTD_LEVEL = 9;

/** Rows per data chunk: DuckDB's vector size, the most one chunk holds. */
const CHUNK_ROWS = 2048;

/**
 * One column of a data chunk being filled: takes a cell as a source hands it over (strings, numbers,
 * Dates; converted as the per-value appender did) and writes the column's values into the chunk's
 * vector at once. Fixed-width values go into a typed array copied in one call; strings are assigned
 * one call each (the C API has no bulk form); nulls only clear a bit of the validity mask.
 */
abstract class ColumnWriter {
  /** Validity bits (1: valid), in DuckDB's layout: 64-bit words, little-endian, so bit i is bit i & 31 of word i >>> 5 here. */
  private readonly validity = new Uint32Array(CHUNK_ROWS / 32);
  private hasNull = false;

  constructor() {
    this.validity.fill(0xffffffff);
  }

  abstract set(row: number, value: CellValue): void;

  /** Forgets a row's nulls: the row was not finished, and its slot is the next row's. */
  discard(row: number): void {
    this.validity[row >>> 5] |= 1 << (row & 31);
  }

  protected setNull(row: number): void {
    this.validity[row >>> 5] &= ~(1 << (row & 31));
    this.hasNull = true;
  }

  /** Writes rows 0..rows-1 into `vector` (of a freshly reset chunk: every row valid) and readies for the next chunk. */
  write(vector: duckdb.Vector, rows: number): void {
    this.writeValues(vector, rows);
    if (this.hasNull) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, this.validity.buffer, 0, Math.ceil(rows / 64) * 8);
      this.validity.fill(0xffffffff);
      this.hasNull = false;
    }
  }

  protected abstract writeValues(vector: duckdb.Vector, rows: number): void;
}

/** Strings held until the chunk is written (a null row's slot is skipped). */
class VarcharWriter extends ColumnWriter {
  private readonly values: (string | null)[] = new Array<string | null>(CHUNK_ROWS).fill(null);

  set(row: number, v: CellValue): void {
    if (v == null) {
      this.values[row] = null;
      this.setNull(row);
    } else this.values[row] = typeof v === 'string' ? v : String(v);
  }

  protected writeValues(vector: duckdb.Vector, rows: number): void {
    const values = this.values;
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value !== null) {
        duckdb.vector_assign_string_element(vector, i, value);
        // Not kept past the write: the chunk's copy is DuckDB's.
        values[i] = null;
      }
    }
  }
}

/** Lists of strings: the list entries (offset, length) as 64-bit pairs, their strings in the child vector. */
class VarcharListWriter extends ColumnWriter {
  private readonly values: (string[] | null)[] = new Array<string[] | null>(CHUNK_ROWS).fill(null);
  private readonly entries = new BigUint64Array(CHUNK_ROWS * 2);

  set(row: number, v: CellValue): void {
    if (Array.isArray(v)) this.values[row] = v.map(String);
    else {
      this.values[row] = null;
      this.setNull(row);
    }
  }

  protected writeValues(vector: duckdb.Vector, rows: number): void {
    const { values, entries } = this;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const length = values[i]?.length ?? 0;
      entries[2 * i] = BigInt(total);
      entries[2 * i + 1] = BigInt(length);
      total += length;
    }
    duckdb.list_vector_reserve(vector, total);
    duckdb.list_vector_set_size(vector, total);
    const child = duckdb.list_vector_get_child(vector);
    let at = 0;
    for (let i = 0; i < rows; i++) {
      const list = values[i];
      if (list === null) continue;
      for (const item of list) duckdb.vector_assign_string_element(child, at++, item);
      values[i] = null;
    }
    duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, rows * 16);
  }
}

/** Fixed-width values in a typed array, copied into the vector in one call. */
abstract class FixedWriter<
  A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | BigInt64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>,
> extends ColumnWriter {
  constructor(protected readonly values: A) {
    super();
  }

  protected writeValues(vector: duckdb.Vector, rows: number): void {
    duckdb.copy_data_to_vector(vector, 0, this.values.buffer, 0, rows * this.values.BYTES_PER_ELEMENT);
  }
}

class IntegerWriter extends FixedWriter<Int32Array<ArrayBuffer>> {
  constructor() {
    super(new Int32Array(CHUNK_ROWS));
  }

  set(row: number, v: CellValue): void {
    const n = toInteger(v);
    if (n === null || n > 2147483647 || n < -2147483648) this.setNull(row);
    else this.values[row] = n;
  }
}

class BigIntWriter extends FixedWriter<BigInt64Array<ArrayBuffer>> {
  constructor() {
    super(new BigInt64Array(CHUNK_ROWS));
  }

  set(row: number, v: CellValue): void {
    const n = toInteger(v);
    if (n === null) return this.setNull(row);
    const big = BigInt(n);
    // Refused at the row, as the appender refused it (a typed array would wrap it silently).
    if (BigInt.asIntN(64, big) !== big) throw new Error('bigint out of int64 range');
    this.values[row] = big;
  }
}

class DoubleWriter extends FixedWriter<Float64Array<ArrayBuffer>> {
  constructor() {
    super(new Float64Array(CHUNK_ROWS));
  }

  set(row: number, v: CellValue): void {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n)) this.values[row] = n;
    else this.setNull(row);
  }
}

class BooleanWriter extends FixedWriter<Uint8Array<ArrayBuffer>> {
  constructor() {
    super(new Uint8Array(CHUNK_ROWS));
    if (duckdb.sizeof_bool !== 1) throw new Error(`a DuckDB BOOLEAN of ${duckdb.sizeof_bool} bytes: expected 1`);
  }

  set(row: number, v: CellValue): void {
    if (typeof v === 'boolean') this.values[row] = v ? 1 : 0;
    else this.setNull(row);
  }
}

/** Microseconds since the epoch, as the appender's timestampValue(BigInt(ms) * 1000n) had them. */
class TimestampWriter extends FixedWriter<BigInt64Array<ArrayBuffer>> {
  constructor() {
    super(new BigInt64Array(CHUNK_ROWS));
  }

  set(row: number, v: CellValue): void {
    const ms = v instanceof Date ? v.getTime() : NaN;
    if (Number.isFinite(ms)) this.values[row] = BigInt(ms) * 1000n;
    else this.setNull(row);
  }
}

function writerFor(type: ColumnType): ColumnWriter {
  switch (type) {
    case 'VARCHAR':
      return new VarcharWriter();
    case 'BIGINT':
      return new BigIntWriter();
    case 'INTEGER':
      return new IntegerWriter();
    case 'DOUBLE':
      return new DoubleWriter();
    case 'BOOLEAN':
      return new BooleanWriter();
    case 'TIMESTAMP':
      return new TimestampWriter();
    case 'VARCHAR[]':
      return new VarcharListWriter();
  }
}

/** The types of the staging-only columns before a table's own: its partition values, the object index, whether the row is its record's first. */
function stagedColumnTypes(table: SourceTable): ColumnType[] {
  return [...layoutOf(table).partitions.map((): ColumnType => 'VARCHAR'), 'INTEGER', 'BOOLEAN'];
}

/** The appender's column types, in order: what its data chunks must hold. */
function appenderTypes(appender: DuckDBAppender): DuckDBType[] {
  return Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
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

function stagingTable(table: SourceTable): string {
  return `staging_${table}`;
}

function createStagingTable(table: SourceTable): string {
  const { columns, partitions } = layoutOf(table);
  const ddl = [
    ...partitions.map((p) => `${p} VARCHAR`),
    // Which object of the transaction the row came from, and whether it is its record's first row: publishing drops
    // the rows of objects quarantined whole, and counts the records it drops as duplicates.
    `${OBJECT_COLUMN} INTEGER`,
    `${PRIMARY_COLUMN} BOOLEAN`,
    ...columns.map((c) => `"${c.name}" ${duckType(c)}`),
  ].join(', ');
  return `CREATE TABLE ${stagingTable(table)} (${ddl})`;
}

/**
 * A table's staged rows held column by column until a data chunk is full, then handed to the
 * appender in one call: per-value appender calls (one native call per cell, nulls included)
 * cost more than filling the chunk's vectors (see bench/README.md, "Rows handed over in data chunks").
 */
class ChunkBuffer {
  private readonly chunk: DuckDBDataChunk;
  size = 0;

  /** `types`: the staging table's column types, in order; `writers`: one per column, of the same types. */
  constructor(
    types: readonly DuckDBType[],
    private readonly writers: readonly ColumnWriter[],
  ) {
    // One chunk per table, reset between writes: its vectors' memory is reused rather than left to the GC.
    this.chunk = DuckDBDataChunk.create(types);
  }

  /** Column `index`'s cell for the row being built (the row is counted by endRow()). */
  set(index: number, value: CellValue): void {
    this.writers[index].set(this.size, value);
  }

  /** Drops the row being built (a cell was refused): its slot is the next row's. */
  discardRow(): void {
    for (const writer of this.writers) writer.discard(this.size);
  }

  /** Ends the row being built; true when the buffer is full and must be written. */
  endRow(): boolean {
    return ++this.size >= CHUNK_ROWS;
  }

  /** Appends the rows held as one data chunk (none: nothing) and empties the buffer. */
  writeTo(appender: DuckDBAppender): void {
    if (this.size === 0) return;
    const raw = this.chunk.chunk;
    duckdb.data_chunk_reset(raw);
    for (let i = 0; i < this.writers.length; i++) this.writers[i].write(duckdb.data_chunk_get_vector(raw, i), this.size);
    duckdb.data_chunk_set_size(raw, this.size);
    appender.appendDataChunk(this.chunk);
    this.size = 0;
  }
}

interface TableState {
  appender: DuckDBAppender;
  buffer: ChunkBuffer;
  columns: readonly Column[];
  /** Per column: whether append() takes it from the row, the record's flags or the enrichment columns. */
  cellFrom: Uint8Array;
  /** Rows staged since the last spill (written to the appender or held in the buffer). */
  rows: number;
}

const CELL_ROW = 0;
const CELL_FLAGS = 1;
const CELL_ENRICHMENT = 2;
const ENRICHMENT_NAMES: ReadonlySet<string> = new Set(ENRICHMENT_COLUMNS.map((c) => c.name));

function cellSources(columns: readonly Column[]): Uint8Array {
  return Uint8Array.from(columns, (c) => (ENRICHMENT_NAMES.has(c.name) ? CELL_ENRICHMENT : c.name === 'flags' ? CELL_FLAGS : CELL_ROW));
}

/** Unsorted Parquet files holding staged rows, per table. */
export type Spills = Map<SourceTable, string[]>;

/** Staging-only columns (never published): the row's object index in the run, and whether it is its record's first row. */
const OBJECT_COLUMN = 'scoutql_object';
const PRIMARY_COLUMN = 'scoutql_primary';

/**
 * Stages normalized rows in a DuckDB table through its appender and moves them out of memory
 * into unsorted, lightly compressed Parquet "spill" files every few thousand rows. One per
 * thread: each ingest worker has its own. Sorting and partitioning wait for publishPartitions().
 */
export class RowSpiller {
  /** Unsorted Parquet files each table has spilled since the last flush. */
  private readonly spills = new Map<SourceTable, string[]>();
  private spillCount = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly tables: Map<SourceTable, TableState>,
    private readonly tempDir: string,
    private readonly spillRows: number,
  ) {}

  static async open(options: { tempDir: string; memoryLimit?: string; spillRows?: number }): Promise<RowSpiller> {
    await mkdir(options.tempDir, { recursive: true });
    // DuckDB instances must not share a temp directory: their swap files would collide.
    const duckTemp = join(options.tempDir, `duckdb-thread-${threadId}`);
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? '96MB',
      temp_directory: duckTemp,
      threads: '1',
      preserve_insertion_order: 'false',
      ...RETURN_FREED_MEMORY,
    });
    const connection = await instance.connect();
    const tables = new Map<SourceTable, TableState>();
    for (const name of STAGED_TABLES) {
      const { columns } = layoutOf(name);
      await connection.run(createStagingTable(name));
      const appender = await connection.createAppender(stagingTable(name));
      tables.set(name, {
        appender,
        buffer: new ChunkBuffer(appenderTypes(appender), [...stagedColumnTypes(name), ...columns.map((c) => c.type)].map(writerFor)),
        columns,
        cellFrom: cellSources(columns),
        rows: 0,
      });
    }
    return new RowSpiller(instance, connection, tables, options.tempDir, options.spillRows ?? 10_000);
  }

  /**
   * Appends one row of a source's record, with the ingest's own cells: the object it came from
   * (its index in the run), whether it is the record's first row, the record's flags (null when
   * none) and the enrichment columns the pipeline computed for it (null: none). Returns the raw
   * record when it is too large to stay inline; the caller keeps it beside the lake and the row
   * carries a pointer instead.
   */
  append(
    { table, row }: SourceRow,
    source: SourceId,
    object: number,
    primary: boolean,
    flags: readonly string[] | null = null,
    enrichment: EnrichmentRow | null = null,
  ): OversizeRaw | null {
    const state = this.tables.get(table);
    if (!state) throw new Error(`unknown table ${table}`);
    const { columns, cellFrom } = state;
    let cells: Readonly<Record<string, CellValue>> = row;
    let oversize: OversizeRaw | null = null;
    const raw = row.raw;
    if (typeof raw === 'string' && raw.length > RAW_INLINE_LIMIT) {
      // Rare: the row is copied only here, with its flags and enrichment, to be slimmed.
      cells = { ...row, ...(flags ? { flags } : {}), ...enrichment };
      flags = enrichment = null;
      const eventId = 'event_id' in row ? row.event_id : row.finding_id;
      oversize = { table, eventId, raw };
      const emptied = columns
        .map((c) => c.name)
        .filter((name) => {
          const cell = cells[name];
          return name !== 'raw' && typeof cell === 'string' && cell.length > FIELD_INLINE_LIMIT;
        });
      const slimmed: Record<string, CellValue> = {
        ...cells,
        raw: JSON.stringify({ scoutql_raw_moved_to: OVERSIZE_DIR, event_id: eventId, chars: raw.length, emptied }),
      };
      for (const name of emptied) slimmed[name] = null;
      cells = slimmed;
    }
    const b = state.buffer;
    let at = 0;
    try {
      if ('product' in row) {
        // A finding: partitioned by the product that reported it and its account.
        b.set(at++, row.product);
        b.set(at++, safePartitionValue(row.account, 'unknown'));
      } else {
        b.set(at++, source);
        b.set(at++, safePartitionValue(row.account, 'unknown'));
        b.set(at++, safePartitionValue(row.region, 'unknown'));
      }
      b.set(at++, object);
      b.set(at++, primary);
      // The row's own cells, with the record's flags and the enrichment columns in their place when
      // given: read where they are, never copied into a new row (a spread per row cost more than the rest of append).
      for (let i = 0; i < columns.length; i++) {
        const from = cellFrom[i];
        const name = columns[i].name;
        const value =
          from === CELL_ENRICHMENT && enrichment
            ? enrichment[name as EnrichmentColumnName]
            : from === CELL_FLAGS && flags
              ? flags
              : cells[name];
        b.set(at++, value);
      }
    } catch (err) {
      b.discardRow();
      throw err;
    }
    if (b.endRow()) b.writeTo(state.appender);
    state.rows += 1;
    return oversize;
  }

  /** The spiller's own connection, for the SQL ingest path's temp tables (etl/sql-ingest.ts). */
  sqlConnection(): DuckDBConnection {
    return this.connection;
  }

  /**
   * Stages the rows a SELECT gives (columns by name: the partition values, the object index,
   * whether the row is its record's first, then the table's columns; absent ones are null) beside
   * the appended ones. Returns how many rows it staged.
   */
  async stageBySql(table: SourceTable, select: string): Promise<number> {
    const state = this.tables.get(table);
    if (!state) throw new Error(`unknown table ${table}`);
    state.buffer.writeTo(state.appender);
    state.appender.flushSync();
    const result = await this.connection.run(`INSERT INTO ${stagingTable(table)} BY NAME ${select}`);
    const rows = result.rowsChanged;
    state.rows += rows;
    await this.spillIfLarge();
    return rows;
  }

  /**
   * Moves staged rows out of memory into an unsorted, lightly compressed Parquet file. Sorting
   * waits for publishPartitions(), where DuckDB's external sort can spill to disk: memory stays
   * bounded however many rows a commit holds.
   */
  async spillIfLarge(): Promise<void> {
    for (const [name, state] of this.tables) {
      if (state.rows >= this.spillRows) await this.spill(name, state);
    }
  }

  private async spill(name: SourceTable, state: TableState): Promise<void> {
    state.buffer.writeTo(state.appender);
    state.appender.flushSync();
    const file = join(this.tempDir, `spill-${name}-${threadId}-${this.spillCount++}.parquet`);
    await this.connection.run(
      `COPY ${stagingTable(name)} TO ${sqlString(file)} (FORMAT parquet, COMPRESSION lz4_raw, ROW_GROUP_SIZE 100000)`,
    );
    // A new table, not DELETE: deleted rows keep their blocks, which DuckDB writes to its temp folder
    // once the memory limit is reached (a loop of 30 such 10k-row spills left 380 MB of temp storage
    // and a full buffer pool; with DROP, none).
    state.appender.closeSync();
    await this.connection.run(`DROP TABLE ${stagingTable(name)}`);
    await this.connection.run(createStagingTable(name));
    state.appender = await this.connection.createAppender(stagingTable(name));
    state.rows = 0;
    this.spills.set(name, [...(this.spills.get(name) ?? []), file]);
  }

  /** Spills every staged row and hands over the spill files (the caller publishes and deletes them). */
  async takeSpills(): Promise<Spills> {
    for (const [name, state] of this.tables) if (state.rows > 0) await this.spill(name, state);
    const taken = new Map(this.spills);
    this.spills.clear();
    return taken;
  }

  async close(): Promise<void> {
    for (const state of this.tables.values()) state.appender.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export interface PublishOptions {
  /** Objects (by index) quarantined whole: none of their rows is published. */
  rejectedObjects?: ReadonlySet<number>;
  /** The identity columns of a source's rows (its manifest's): rows with the same values in a partition are one event. */
  identityOf(source: string): readonly string[];
  /**
   * Local Parquet files holding (at least the identity columns of) every row the lake already holds
   * in a partition (lake-relative path): its part files, or an S3 lake's identity index (etl/lake/identity-index.ts).
   */
  lakeFiles(partition: string): Promise<string[]>;
  /** DuckDB threads for the sorts and writes (default 1: beside parsing workers; more when nothing else runs). */
  threads?: number;
}

export interface Published {
  /** Partition folders written to (relative to the output folder). */
  partitions: string[];
  /** Per object index: the rows dropped because the lake or the batch already held their event, and how many of them were records' first rows. */
  duplicates: Map<number, { records: number; rows: number }>;
}

/**
 * Writes spilled rows into the lake layout under `outDir`:
 * `<table>/source=…/account=…/region=…/day=…/part-<tag>.parquet`, ZSTD, sorted by each table's
 * pivot keys. Returns the partition folders written (relative to outDir) and deletes the spills.
 *
 * One write per row: a first pass reads only the partition columns of the spills, to list each
 * partition and the spill files holding its rows; then each partition is sorted on its own,
 * straight from those files. DuckDB's sort holds its payload, so sorting a whole batch of wide raw
 * records at once needs far more memory than one partition does. (This used to write the batch
 * once more, split into partitions, before sorting: bench/README.md, "One write per row".)
 *
 * Never doubled: in each partition a row whose identity (its source's identity columns) the lake
 * already holds, or an earlier row of the batch holds, is dropped and counted. The first copy in
 * object order is the one kept, so the lake is the same whichever way the copies arrived.
 */
export async function publishPartitions(
  spills: Spills,
  outDir: string,
  tag: string,
  tempDir: string,
  options: PublishOptions,
): Promise<Published> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: '300MB',
    temp_directory: join(tempDir, 'duckdb-publish'),
    threads: String(options.threads ?? 1),
    preserve_insertion_order: 'false',
    ...RETURN_FREED_MEMORY,
  });
  const connection = await instance.connect();
  const partitions: string[] = [];
  const duplicates = new Map<number, { records: number; rows: number }>();
  const rejected = [...(options.rejectedObjects ?? [])].filter(Number.isInteger);
  try {
    for (const [name, files] of spills) {
      if (files.length === 0) continue;
      const def = layoutOf(name);
      const columns = def.columns.map((c) => `"${c.name}"`).join(', ');
      const keep = rejected.length ? `${OBJECT_COLUMN} NOT IN (${rejected.join(', ')})` : 'true';
      const day = `strftime("time", '%Y-%m-%d')`;
      for (const found of await spilledPartitions(connection, files, def.partitions, day, keep)) {
        const { partition, identity: identityColumns } = lakePartition(name, found.folder, options);
        // The partition's rows, read from the spills that hold some (first pass), each row named by its file and
        // position there: the file's place in the spill list orders copies of one object as they were staged.
        const where = [...found.values, [day, found.day] as const].map(([column, value]) =>
          value === null ? `${column} IS NULL` : `${column} = ${sqlString(value)}`,
        );
        where.push(keep);
        const rows = `(SELECT *, list_position([${found.files.map(sqlString).join(', ')}], filename) AS ${FILE_ORDER_COLUMN}
          FROM read_parquet([${found.files.map(sqlString).join(', ')}], filename = true, file_row_number = true)
          WHERE ${where.join(' AND ')})`;
        const identity = identityColumns.map((c) => `"${c}"`);
        const dropped = await dropDuplicates(connection, rows, identity, await options.lakeFiles(partition));
        for (const [object, counts] of dropped.perObject) {
          const total = duplicates.get(object) ?? { records: 0, rows: 0 };
          duplicates.set(object, { records: total.records + counts.records, rows: total.rows + counts.rows });
        }
        if (dropped.all) continue;
        const target = join(outDir, ...partition.split('/'));
        await mkdir(target, { recursive: true });
        // After the sort keys, the identity (unique in the partition once duplicates are dropped): a total order, so
        // the file is the same whatever order its rows were staged in (appended per record or inserted by the SQL path).
        const unique = dropped.rows
          ? `WHERE NOT EXISTS (SELECT 1 FROM dropped d WHERE d.filename = n.filename AND d.file_row_number = n.file_row_number)`
          : '';
        await connection.run(
          `COPY (SELECT ${columns} FROM ${rows} n ${unique}
                 ORDER BY ${[...def.sortBy.map((c) => `"${c}"`), ...identity].join(', ')})
           TO ${sqlString(join(target, partFileName(tag)))}
           (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
        );
        // The file's lookup index, in the same commit: keyed reads then open only the files holding their key.
        if (!isFindings(name))
          await writeLookupIndex(connection, name, join(target, partFileName(tag)), outDir, `${partition}/${partFileName(tag)}`);
        partitions.push(partition);
      }
      await Promise.all(files.map((f) => rm(f, { force: true })));
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { partitions, duplicates };
}

/** A partition of a table's spilled rows: its values, its folder (hive-style, as the lake names it), the spill files holding its rows. */
interface SpilledPartition {
  /** The staged partition columns and their values (the day apart; null: no value). */
  values: Array<[string, string | null]>;
  day: string | null;
  folder: string;
  files: string[];
}

/** DuckDB's hive folder name for a null partition value. */
const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Names a row's spill file by its place in the spill list (staging-only, never published). */
const FILE_ORDER_COLUMN = 'scoutql_file_order';

/**
 * The partitions the kept rows of `files` fall in, with the files holding each, sorted by folder.
 * Reads only the partition columns and the time. A null value is named as DuckDB's partitioned
 * COPY, which this pass replaced, named it (only a row without a time has one).
 */
async function spilledPartitions(
  connection: DuckDBConnection,
  files: readonly string[],
  partitionColumns: readonly string[],
  day: string,
  keep: string,
): Promise<SpilledPartition[]> {
  const result = await connection.runAndReadAll(
    `SELECT list_position([${files.map(sqlString).join(', ')}], filename) AS file, ${partitionColumns.join(', ')}, ${day} AS day
     FROM read_parquet([${files.map(sqlString).join(', ')}], filename = true) WHERE ${keep} GROUP BY ALL`,
  );
  const found = new Map<string, SpilledPartition>();
  for (const row of result.getRowsJS()) {
    const [file, ...values] = row;
    const named = partitionColumns.map((column, i): [string, string | null] => [column, (values[i] as string | null) ?? null]);
    const dayValue = (values[partitionColumns.length] as string | null) ?? null;
    const folder = [...named, ['day', dayValue]].map(([column, value]) => `${column}=${value ?? HIVE_NULL}`).join('/');
    let partition = found.get(folder);
    if (!partition) found.set(folder, (partition = { values: named, day: dayValue, folder, files: [] }));
    partition.files.push(files[Number(file) - 1]);
  }
  const sorted = [...found.values()].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  // In spill-list order, as they were staged.
  for (const partition of sorted) partition.files.sort((a, b) => files.indexOf(a) - files.indexOf(b));
  return sorted;
}

/** Writes the lookup index of a part file (lake path `partFile`, local `local`) under `outDir`, laid out as in the lake. */
export async function writeLookupIndex(
  connection: DuckDBConnection,
  table: TableName,
  local: string,
  outDir: string,
  partFile: string,
): Promise<void> {
  const target = join(outDir, ...lookupIndexFile(partFile).split('/'));
  await mkdir(dirname(target), { recursive: true });
  await connection.run(lookupIndexCopy(table, local, target));
}

interface Dropped {
  /** Rows dropped in this partition (they are listed in the temp table `dropped`). */
  rows: number;
  /** Every row of the partition was dropped. */
  all: boolean;
  perObject: Map<number, { records: number; rows: number }>;
}

/**
 * Finds the rows of one partition whose identity an earlier row of the batch, or the lake's own
 * files, already hold, into the temp table `dropped` (filename, file_row_number). Cheap when there
 * is nothing to find: one aggregate over the identity columns, and no lake files to look in.
 */
async function dropDuplicates(
  connection: DuckDBConnection,
  rows: string,
  identity: readonly string[],
  lakeFiles: string[],
): Promise<Dropped> {
  const none: Dropped = { rows: 0, all: false, perObject: new Map() };
  const key = identity.join(', ');
  if (lakeFiles.length === 0) {
    const repeated = await connection.runAndReadAll(
      `SELECT count(*) AS n FROM (SELECT 1 FROM ${rows} GROUP BY ${key} HAVING count(*) > 1)`,
    );
    if (Number(repeated.getRowObjects()[0].n) === 0) return none;
  }
  const same = (left: string, right: string) => identity.map((c) => `${left}.${c} IS NOT DISTINCT FROM ${right}.${c}`).join(' AND ');
  const inLake = lakeFiles.length
    ? ` OR EXISTS (SELECT 1 FROM read_parquet([${lakeFiles.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true) o WHERE ${same('o', 'r')})`
    : '';
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE dropped AS
     SELECT filename, file_row_number, ${OBJECT_COLUMN} AS object, ${PRIMARY_COLUMN} AS is_primary FROM (
       SELECT filename, ${FILE_ORDER_COLUMN}, file_row_number, ${OBJECT_COLUMN}, ${PRIMARY_COLUMN}, ${key},
              row_number() OVER (PARTITION BY ${key} ORDER BY ${OBJECT_COLUMN}, ${FILE_ORDER_COLUMN}, file_row_number) AS copy
       FROM ${rows}) r
     WHERE r.copy > 1${inLake}`,
  );
  const counts = await connection.runAndReadAll(
    `SELECT object, count(*) FILTER (WHERE is_primary) AS records, count(*) AS n FROM dropped GROUP BY object`,
  );
  const perObject = new Map<number, { records: number; rows: number }>();
  let dropped = 0;
  for (const row of counts.getRowObjects()) {
    perObject.set(Number(row.object), { records: Number(row.records), rows: Number(row.n) });
    dropped += Number(row.n);
  }
  if (dropped === 0) return none;
  const total = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${rows}`);
  return { rows: dropped, all: dropped >= Number(total.getRowObjects()[0].n), perObject };
}

/**
 * The identity of a finding row: the product's finding id and this version's time (updatedAt). The
 * same version read twice (an S3 export and its EventBridge event, a re-delivery) is one row; a
 * later update of the finding is a new row.
 */
export const FINDING_IDENTITY: readonly [string, ...string[]] = ['finding_id', 'time'];

/**
 * The lake folder of a partition folder (hive-style: `source=…/account=…/region=…/day=…`) of `table`, and the columns
 * that make two of its rows the same (an event's: its source's identity; a finding's: FINDING_IDENTITY).
 */
function lakePartition(
  table: SourceTable,
  folder: string,
  options: Pick<PublishOptions, 'identityOf'>,
): { partition: string; identity: readonly string[] } {
  if (isFindings(table)) {
    const values = findingsPartitionValuesOf(folder);
    if (!values) throw new Error(`unexpected findings partition folder '${folder}' in the staged rows`);
    return { partition: findingsPartitionPath(values), identity: FINDING_IDENTITY };
  }
  const values = partitionValuesOf(folder);
  if (!values) throw new Error(`unexpected partition folder '${folder}' in the staged rows`);
  return { partition: partitionPath(table, values), identity: options.identityOf(values.source) };
}
