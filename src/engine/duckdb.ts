/**
 * The embedded engine: one in-process DuckDB instance with a view per lake table.
 *
 * SQL arrives in the Trino dialect Athena runs; the few Trino functions DuckDB lacks are
 * installed as macros (TRINO_COMPAT_MACROS), so one SQL text serves both engines.
 */
import { statSync } from 'node:fs';
import {
  type DuckDBConnection,
  DuckDBInstance,
  LIST,
  TIMESTAMP,
  VARCHAR,
  jsToDuckDBValue,
  type DuckDBPreparedStatement,
} from '@duckdb/node-api';
import { TRINO_COMPAT_MACROS } from './athena-compat';
import {
  GRAPH_TABLE_NAMES,
  graphTableLoad,
  lakeHead,
  lakeViewStatements,
  hasPartFiles,
  type KeyedFiles,
  type LakeListing,
  type LakeTable,
} from './lake';
import { lookupEntry, type KeyedRead } from '../core/lookup-index';
import { sqlString } from '../core/sql';
import { EngineError, type QueryEngine, type QueryOptions, type QueryResult, type SqlParam, type SqlRow, type SqlValue } from './types';

/** A keyed read's file list, bound as one parameter (DuckDbEngine.windowed). */
const VARCHAR_LIST = LIST(VARCHAR);

export interface DuckDbEngineOptions {
  /** Lake folder; omit for an engine with no lake views (ETL steps that read files directly). */
  lake?: string;
  /** Connections run queries in parallel; DataLoader batches of one request go out together. */
  connections?: number;
  /** DuckDB's memory limit (e.g. '512MB'); past it, DuckDB spills to its temp directory. Default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /** Where DuckDB spills past its memory limit. */
  tempDirectory?: string;
  /** DuckDB's worker threads for the instance, shared by all connections. Default: DuckDB's (the cores). */
  threads?: number;
  /**
   * Prepared statements each connection keeps, by SQL text (default 64; 0: prepare every statement
   * anew). A kept statement is bound and planned once: DuckDB's binder opening every window file's
   * footer and its optimizer cost more CPU than running most pivot statements (bench/README.md).
   */
  statementCache?: number;
  /**
   * Hold the graph tables (entities, edges, coverage) in DuckDB memory, loaded again when a commit
   * changes their files (default false). Graph look-ups then scan decoded, sorted columns instead
   * of decompressing every day's Parquet file per statement; costs memory (about twice the graph's
   * Parquet bytes, compressed). Only for a lake with a commit chain (listed files).
   */
  graphInMemory?: boolean;
  /**
   * The largest graph, in MiB of its Parquet files, held in memory (default 256). A larger one is
   * read from its files: held, a graph takes about twice its Parquet bytes, and a lake's graph
   * grows with its days.
   */
  graphInMemoryMaxMiB?: number;
}

/**
 * A connection's prepared statements by SQL text, most recently used last, made at one lake
 * listing (`generation`): the engine moves on to a new generation whenever it re-lists the lake,
 * and a connection drops statements of an older one before its next statement (it is idle then, so
 * no statement of it is running).
 */
class StatementCache {
  private readonly statements = new Map<string, DuckDBPreparedStatement>();
  /** The listing the kept statements were made at. */
  generation = 0;
  /** Statements found kept, and prepared anew, since the connection opened. */
  hits = 0;
  misses = 0;

  constructor(private readonly capacity: number) {}

  /** The kept statement for this text, or a new one prepared (and kept, the least recently used one going). */
  async prepare(connection: DuckDBConnection, sql: string, generation: number): Promise<DuckDBPreparedStatement> {
    if (generation !== this.generation) {
      this.clear();
      this.generation = generation;
    }
    const kept = this.statements.get(sql);
    if (kept) {
      this.hits++;
      this.statements.delete(sql);
      this.statements.set(sql, kept);
      return kept;
    }
    this.misses++;
    const prepared = await connection.prepare(sql);
    if (this.capacity <= 0) return prepared;
    this.statements.set(sql, prepared);
    if (this.statements.size > this.capacity) this.forget(this.statements.keys().next().value!);
    return prepared;
  }

  /** Whether the statement for this text stays kept after its run (false: the caller destroys it). */
  keeps(sql: string, prepared: DuckDBPreparedStatement): boolean {
    return this.statements.get(sql) === prepared;
  }

  /** Drops a statement, e.g. after it failed: a failed or interrupted statement is prepared again. */
  forget(sql: string): void {
    const prepared = this.statements.get(sql);
    if (!prepared) return;
    this.statements.delete(sql);
    prepared.destroySync();
  }

  clear(): void {
    for (const prepared of this.statements.values()) prepared.destroySync();
    this.statements.clear();
  }

  get size(): number {
    return this.statements.size;
  }
}

/** The in-memory database holding the graph tables (`graphInMemory`). */
const HELD_DB = 'scoutql_held';

export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiters: { resolve: (c: DuckDBConnection) => void; reject: (e: Error) => void }[] = [];
  /** Connections lent out now; close() interrupts them and waits for their return. */
  private readonly busy = new Set<DuckDBConnection>();
  private drained: (() => void) | undefined;
  private emptyDirs: string[] = [];
  /** The commit HEAD the views' file lists were made at (undefined: views over globs, no chain). */
  private listedAt: string | undefined;
  /** The files of that listing per table and day, for statements bounded to a window (QueryOptions.days). */
  private listing: LakeListing | undefined;
  /**
   * Loaded lookup indexes (src/core/lookup-index.ts): per index file, its `kind\0key` entries. Index
   * files, like the part files they index, are never rewritten under the same name, so an entry
   * stays right until its file leaves the listing (dropped at refresh).
   */
  private readonly lookups = new Map<string, ReadonlySet<string>>();
  private refreshing: Promise<void> | null = null;
  private closed = false;
  /** Bumped by every refresh: each connection's kept statements are of one listing (StatementCache). */
  private generation = 0;
  private readonly caches = new Map<DuckDBConnection, StatementCache>();
  /** Graph tables held in memory now: per table, the DuckDB table and the files it was loaded from. */
  private readonly held = new Map<LakeTable, { name: string; files: string }>();
  private loads = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly all: DuckDBConnection[],
    private readonly lake: string | undefined,
    statementCache: number,
    private readonly graphInMemory: boolean,
    private readonly graphInMemoryMaxBytes: number,
  ) {
    this.idle.push(...all);
    for (const connection of all) this.caches.set(connection, new StatementCache(statementCache));
  }

  static async open(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const settings: Record<string, string> = {};
    if (options.memoryLimit) settings.memory_limit = options.memoryLimit;
    if (options.tempDirectory) settings.temp_directory = options.tempDirectory;
    if (options.threads !== undefined) settings.threads = String(options.threads);
    const instance = await DuckDBInstance.create(':memory:', settings);
    const connections: DuckDBConnection[] = [];
    for (let i = 0; i < Math.max(1, options.connections ?? 2); i++) connections.push(await instance.connect());
    const engine = new DuckDbEngine(
      instance,
      connections,
      options.lake,
      options.statementCache ?? 64,
      options.graphInMemory ?? false,
      (options.graphInMemoryMaxMiB ?? 256) * 1024 * 1024,
    );
    // Lake files are immutable (every commit writes new names), so their footers can be cached:
    // a pivot then stops re-reading Parquet metadata on every hop (bench/api: about half a
    // one-day event count's time).
    await engine.exec('SET parquet_metadata_cache = true');
    // Compressed (after a checkpoint): the graph held in memory then takes about twice its Parquet
    // bytes instead of twenty times (bench/README.md).
    if (engine.graphInMemory) await engine.exec(`ATTACH ':memory:' AS ${HELD_DB} (COMPRESS)`);
    for (const macro of TRINO_COMPAT_MACROS) await engine.exec(macro.sql);
    await engine.refresh();
    return engine;
  }

  /**
   * Re-creates the lake views. A lake with a commit chain gets views over its files listed now,
   * made again when HEAD moves; without one, views over globs that re-list files on every query.
   */
  async refresh(): Promise<void> {
    if (!this.lake) return;
    const head = lakeHead(this.lake);
    const { statements, emptyDirs, listing } = lakeViewStatements(this.lake, head !== null);
    for (const statement of statements) await this.exec(statement);
    if (listing && this.graphInMemory) await this.holdGraphTables(listing);
    else this.held.clear();
    this.generation++;
    this.emptyDirs = emptyDirs;
    this.listedAt = head ?? undefined;
    this.listing = listing;
    const current = new Set(listing?.lookupIndexFiles() ?? []);
    for (const file of this.lookups.keys()) if (!current.has(file)) this.lookups.delete(file);
  }

  /**
   * Points each graph table's view at a table in memory holding its listed files, loading the
   * tables whose files changed (a new name each time: statements running on another connection
   * keep reading the table they started on; the replaced one is dropped after).
   */
  private async holdGraphTables(listing: LakeListing): Promise<void> {
    const graphFiles = GRAPH_TABLE_NAMES.map((table) => listing.filesOn(table, '0000-00-00', '9999-99-99'));
    const graphBytes = graphFiles.flat().reduce((sum, file) => sum + (file ? statSync(file).size : 0), 0);
    if (graphBytes > this.graphInMemoryMaxBytes) {
      // Too large to hold: the views lakeViewStatements just made read the files.
      for (const { name } of this.held.values()) await this.exec(`DROP TABLE IF EXISTS ${name}`);
      this.held.clear();
      return;
    }
    let loaded = false;
    for (const [i, table] of GRAPH_TABLE_NAMES.entries()) {
      const files = graphFiles[i];
      const kept = this.held.get(table);
      if (files === undefined) {
        // A file outside any day folder: the view over the files stays (as lakeViewStatements made it).
        if (kept) await this.exec(`DROP TABLE IF EXISTS ${kept.name}`);
        this.held.delete(table);
        continue;
      }
      const signature = files.join('\n');
      let name = kept?.name;
      if (!kept || kept.files !== signature) {
        name = `${HELD_DB}.main.${table}_${++this.loads}`;
        await this.exec(graphTableLoad(this.lake!, table, files, name));
        loaded = true;
      }
      await this.exec(`CREATE OR REPLACE VIEW ${table} AS SELECT * FROM ${name}`);
      if (kept && kept.name !== name) await this.exec(`DROP TABLE IF EXISTS ${kept.name}`);
      this.held.set(table, { name: name!, files: signature });
    }
    // Compression happens at a checkpoint; FORCE waits for statements running on other connections.
    // Should it fail, the tables stay as loaded (uncompressed): right, only larger.
    if (loaded) await this.exec(`FORCE CHECKPOINT ${HELD_DB}`).catch(() => undefined);
  }

  /** The lake tables whose view reads a table in memory now (window reads leave them to the view). */
  get tablesInMemory(): ReadonlySet<LakeTable> {
    return new Set(this.held.keys());
  }

  /**
   * Cheap per-query check. Listed views: one read of HEAD, a new commit lists the files again.
   * Glob views: only tables still empty need a look, and a missing folder costs one stat.
   */
  private async refreshIfLakeChanged(): Promise<void> {
    if (!this.lake) return;
    const changed = this.listedAt !== undefined ? lakeHead(this.lake) !== this.listedAt : this.emptyDirs.some((dir) => hasPartFiles(dir));
    if (!changed) return;
    // Statements arriving together wait for one listing, not one each.
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    await this.refreshing;
  }

  /**
   * The statement reading only the files of its days: a `WITH` entry per lake table it names,
   * shadowing the table's view with a read of the window's files (LakeListing.windowReads). As
   * given when the statement is not bounded, the lake has no listing (glob views) or the statement
   * opens with `WITH RECURSIVE`.
   */
  private async windowed(
    sql: string,
    days: QueryOptions['days'],
    keyed: QueryOptions['keyed'],
  ): Promise<{ text: string; files: readonly string[][] }> {
    const listing = this.listing;
    const none = { text: sql, files: [] };
    if (!days || !listing) return none;
    const opening = /^\s*WITH\s+/i.exec(sql);
    if (opening && /^RECURSIVE\b/i.test(sql.slice(opening[0].length))) return none;
    const holding = keyed && keyed.values.length > 0 ? await this.keyedFiles(listing, sql, days, keyed) : undefined;
    // A keyed read's files differ per key: as parameters, one text (one kept statement) serves every key.
    const files: string[][] = [];
    const reads = listing.windowReads(sql, days[0], days[1], holding, this.held, holding ? files : undefined);
    if (reads.length === 0) return none;
    const text = opening ? `WITH ${reads.join(',\n  ')},\n  ${sql.slice(opening[0].length)}` : `WITH ${reads.join(',\n  ')}\n${sql}`;
    return { text, files };
  }

  /**
   * Prepared statements the connections keep for the current listing, all connections together
   * (statements of an older one are not counted: each connection drops them before its next run).
   */
  get statementsKept(): number {
    let kept = 0;
    for (const cache of this.caches.values()) if (cache.generation === this.generation) kept += cache.size;
    return kept;
  }

  /** Statements run on a kept prepared statement (`hits`) and prepared anew (`misses`), all connections together. */
  get statementCacheStats(): { hits: number; misses: number } {
    let hits = 0;
    let misses = 0;
    for (const cache of this.caches.values()) {
      hits += cache.hits;
      misses += cache.misses;
    }
    return { hits, misses };
  }

  /**
   * For a keyed statement: of a keyed table's window files, those whose lookup index holds one of
   * the keys, and every file without an index (an older lake, a restore: read as before). Loads the
   * window's indexes not loaded yet, all in one statement.
   */
  private async keyedFiles(listing: LakeListing, sql: string, days: readonly [string, string], keyed: KeyedRead): Promise<KeyedFiles> {
    const missing = listing.lookupIndexesFor(sql, days[0], days[1], keyed).filter((file) => !this.lookups.has(file));
    if (missing.length > 0) {
      const loaded = new Map<string, Set<string>>(missing.map((file) => [file, new Set<string>()]));
      const rows = await this.withConnection(async (connection) =>
        (
          await connection.runAndReadAll(
            `SELECT filename, kind, key FROM read_parquet([${missing.map(sqlString).join(', ')}], filename = true, hive_partitioning = false)`,
          )
        ).getRows(),
      );
      for (const [file, kind, key] of rows) loaded.get(String(file))?.add(lookupEntry(String(kind), String(key)));
      for (const [file, entries] of loaded) this.lookups.set(file, entries);
    }
    const wanted = keyed.values.map((value) => lookupEntry(keyed.kind, value));
    const tables: readonly string[] = keyed.tables;
    return (table, files) => {
      if (!tables.includes(table)) return files;
      return files.filter((file) => {
        const index = listing.lookupIndexOf(file);
        const entries = index === undefined ? undefined : this.lookups.get(index);
        return entries === undefined || wanted.some((entry) => entries.has(entry));
      });
    };
  }

  /** Runs a statement with no result (DDL, COPY). Not for caller input. */
  async exec(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.withConnection(async (connection) => {
      const prepared = await connection.prepare(sql);
      bindParams(prepared, params);
      await prepared.run();
    });
  }

  async query<R extends SqlRow = SqlRow>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<R>> {
    if (this.closed) throw new EngineError('engine is closed', 'QUERY_FAILED');
    await this.refreshIfLakeChanged();
    const { text, files } = await this.windowed(sql, options.days, options.keyed);
    const started = performance.now();
    return this.withConnection(async (connection) => {
      const onAbort = () => connection.interrupt();
      if (options.signal?.aborted) throw new EngineError('query cancelled', 'QUERY_CANCELLED');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const cache = this.caches.get(connection)!;
      let prepared: DuckDBPreparedStatement | undefined;
      let failed = false;
      try {
        prepared = await cache.prepare(connection, text, this.generation);
        bindParams(prepared, params, files);
        const reader = await prepared.runAndReadAll();
        const rows = reader.getRowObjectsJS().map((row) => toSqlRow(row) as R);
        return { rows, stats: { engine: 'duckdb', millis: performance.now() - started, bytesScanned: 0 } };
      } catch (err) {
        failed = true;
        if (err instanceof EngineError) throw err;
        if (options.signal?.aborted) throw new EngineError('query cancelled', 'QUERY_CANCELLED', err);
        // The DuckDB message can quote the SQL; keep it as the cause for logs, never in the message.
        throw new EngineError(`query failed${options.label ? ` (${options.label})` : ''}`, 'QUERY_FAILED', err);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        if (prepared && !cache.keeps(text, prepared)) prepared.destroySync();
        else if (failed) cache.forget(text);
      }
    });
  }

  /**
   * Cancels what is running and frees DuckDB once every connection is back: closing a connection or
   * the instance under a running statement is a use-after-free in the native library (SIGSEGV).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new EngineError('engine is closed', 'QUERY_FAILED'));
    if (this.busy.size > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      for (const connection of this.busy) connection.interrupt();
      await drained;
    }
    for (const cache of this.caches.values()) cache.clear();
    for (const connection of this.all) connection.closeSync();
    this.instance.closeSync();
  }

  private async withConnection<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new EngineError('engine is closed', 'QUERY_FAILED');
    const connection =
      this.idle.pop() ?? (await new Promise<DuckDBConnection>((resolve, reject) => this.waiters.push({ resolve, reject })));
    this.busy.add(connection);
    try {
      return await work(connection);
    } finally {
      this.busy.delete(connection);
      const next = this.closed ? undefined : this.waiters.shift();
      if (next) next.resolve(connection);
      else this.idle.push(connection);
      if (this.closed && this.busy.size === 0) this.drained?.();
    }
  }
}

/** Binds the window reads' file lists (their `?`s open the text: DuckDbEngine.windowed), then the statement's parameters. */
function bindParams(prepared: DuckDBPreparedStatement, params: readonly SqlParam[], files: readonly (readonly string[])[] = []): void {
  if (prepared.parameterCount !== files.length + params.length) {
    throw new EngineError(`expected ${prepared.parameterCount} parameters, got ${files.length + params.length}`, 'QUERY_FAILED');
  }
  files.forEach((list, i) => prepared.bindList(i + 1, list, VARCHAR_LIST));
  params.forEach((value, i) => {
    const index = files.length + i + 1;
    if (value === null || value === undefined) prepared.bindNull(index);
    else if (typeof value === 'string') prepared.bindVarchar(index, value);
    else if (typeof value === 'boolean') prepared.bindBoolean(index, value);
    else if (typeof value === 'bigint') prepared.bindBigInt(index, value);
    else if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) prepared.bindBigInt(index, BigInt(value));
      else prepared.bindDouble(index, value);
    } else if (value instanceof Date) prepared.bindValue(index, jsToDuckDBValue(value, TIMESTAMP));
    else throw new EngineError(`unsupported parameter type at position ${index}`, 'QUERY_FAILED');
  });
}

/** BIGINT/HUGEINT arrive as bigint; the seam promises number. Nested values convert the same way. */
function toSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(toSqlValue);
  if (typeof value === 'object') {
    const out: Record<string, SqlValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toSqlValue(v);
    return out;
  }
  // DuckDB hands out no other kind of value (a function, a symbol): say so rather than invent a text.
  throw new EngineError(`unsupported result value of type ${typeof value}`, 'QUERY_FAILED');
}

function toSqlRow(row: Record<string, unknown>): SqlRow {
  const out: SqlRow = {};
  for (const [k, v] of Object.entries(row)) out[k] = toSqlValue(v);
  return out;
}
