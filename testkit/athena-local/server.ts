/**
 * TEST INFRASTRUCTURE: a local server that speaks Amazon Athena's JSON 1.1 protocol
 * (`X-Amz-Target: AmazonAthena.<Operation>`) on 127.0.0.1, executing on DuckDB, so the real
 * @aws-sdk/client-athena pointed at it (via `endpoint`) behaves as against AWS. Nothing reaches AWS.
 *
 * Operations: StartQueryExecution, GetQueryExecution (QUEUED → RUNNING → final over successive
 * polls, with Statistics), GetQueryResults (header row first, MaxResults ≤ 1000, NextToken),
 * StopQueryExecution, ListQueryExecutions. Hive DDL (CREATE DATABASE, CREATE EXTERNAL TABLE with
 * partition projection, DROP TABLE) becomes DuckDB views over the location's Parquet files, read
 * from a local folder (`localBuckets`) or mirrored from an S3 server (`s3Client`, e.g. s3rver).
 * DML must pass the Trino dialect guard (./dialect.ts) before DuckDB runs it.
 *
 * Statistics.DataScannedInBytes is what Athena would report: the compressed bytes of the Parquet
 * column chunks the query read (./scan-bytes.ts explains how and where it differs from Athena).
 *
 * Test controls: failNext(), throttle(), holdQueries(); `calls` and `stoppedQueryIds` record traffic.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { significant, tokenize, unquoteIdentifier } from '../../src/engine/athena-sql';
import { TRINO_COMPAT_MACROS } from '../../src/engine/athena-compat';
import { findDialectViolation } from './dialect';
import { DdlError, isDdl, parseDdl, hiveToDuckType } from './ddl';
import { bindParameters, ParameterError } from './params';
import { athenaText, columnInfo, type AthenaColumnInfo } from './format';
import { ColumnChunkIndex, SCAN_LOGGING_SETUP } from './scan-bytes';
import {
  injectedColumns,
  makeLocationResolver,
  quoteIdent,
  rawScan,
  viewSelect,
  visibleFiles,
  type ExternalTable,
  type LocationResolver,
} from './tables';

export interface AthenaLocalOptions {
  port?: number;
  /** s3://<bucket>/… locations read straight from these local folders (bucket name → folder). */
  localBuckets?: Record<string, string>;
  /** Other s3:// locations are fetched through this client (the local S3 server) into a cache folder. */
  s3Client?: S3Client;
  /** GetQueryExecution polls answered QUEUED, then RUNNING, before the final state is shown. */
  queuedPolls?: number;
  runningPolls?: number;
  /** Write each SELECT's result as CSV to <OutputLocation>/<query id>.csv through s3Client, as Athena does. */
  writeResultsToS3?: boolean;
  /**
   * Bytes scanned reported for a query; default: what Athena would report, the compressed bytes of
   * the Parquet column chunks the query read (./scan-bytes.ts).
   */
  bytesScanned?: (sql: string) => number;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Execution {
  id: string;
  query: string;
  parameters?: string[];
  database: string;
  catalog: string;
  workgroup: string;
  outputLocation?: string;
  statementType: 'DML' | 'DDL' | 'UTILITY';
  submitted: number;
  completed?: number;
  polls: number;
  /** Set when DuckDB is done: the outcome, shown once the state walk reaches it. */
  outcome?:
    | { state: 'SUCCEEDED'; columns: AthenaColumnInfo[]; rows: (string | undefined)[][] }
    | { state: 'FAILED'; reason: string; errorType: number };
  cancelled: boolean;
  held: boolean;
  bytesScanned: number;
  engineMillis: number;
  reused: boolean;
  reuse?: { maxAgeMinutes: number };
}

/** An error the server answers as AWS does: HTTP status, `__type` and `Message`. */
class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const awsError = (type: string, message: string, status = 400): AwsError => new AwsError(type, message, status);

/** A request field as text (the SDK sends tokens as strings; anything else is garbage and reads as such). */
const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

export class AthenaLocalServer {
  /** Every API call received, in order (operation name and time), for assertions. */
  readonly calls: { operation: string; at: number }[] = [];
  readonly stoppedQueryIds: string[] = [];
  private readonly executions = new Map<string, Execution>();
  private readonly tables = new Map<string, ExternalTable>();
  private readonly pendingFailures: string[] = [];
  private readonly throttles: { operation?: string; remaining: number; errorType: string }[] = [];
  private holdNext = 0;
  private readonly resolver: LocationResolver;
  private readonly cacheDir: string;
  private httpServer?: Server;
  private db?: DuckDBInstance;
  private setup?: DuckDBConnection;
  private port = 0;
  /** DDL and view refreshes share one DuckDB connection: one at a time. */
  private catalogLock: Promise<unknown> = Promise.resolve();
  private readonly columnChunks = new ColumnChunkIndex();
  /** Per table definition (a DDL makes a new one): the file listing its DuckDB view was made from. */
  private readonly viewListings = new WeakMap<ExternalTable, string>();
  /** Queries whose file-read log is still needed; the log is emptied only when none is. */
  private queriesReadingLog = 0;
  private logTruncation?: Promise<void>;
  /**
   * DuckDB work still running (query executions, log truncations) and the connections it holds.
   * close() interrupts and awaits them before freeing the instance: closing a DuckDB instance under
   * a running statement is a use-after-free (a jest worker died of SIGSEGV that way in CI).
   */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly openConnections = new Set<DuckDBConnection>();
  private closing = false;

  constructor(private readonly options: AthenaLocalOptions = {}) {
    this.cacheDir = mkdtempSync(join(tmpdir(), 'scoutql-athena-local-'));
    this.resolver = makeLocationResolver({ localBuckets: options.localBuckets, s3Client: options.s3Client, cacheDir: this.cacheDir });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.db = await DuckDBInstance.create(':memory:');
    this.setup = await this.db.connect();
    // Athena's default catalog and database, so `awsdatacatalog.db.table` names resolve too.
    await this.setup.run(`ATTACH ':memory:' AS awsdatacatalog`);
    await this.setup.run(`CREATE SCHEMA IF NOT EXISTS awsdatacatalog."default"`);
    for (const statement of SCAN_LOGGING_SETUP) await this.setup.run(statement);

    this.httpServer = createServer((req, res) => void this.handle(req, res));
    // AWS endpoints keep an idle connection open far longer than Node's default of 5 s. With 5 s, the
    // SDK could send a request on a pooled socket just as the server closed it: ECONNRESET, seen in
    // test/api/athena.test.ts when a slow DuckDB comparison left the Athena client idle for ~5 s.
    this.httpServer.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.httpServer!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.port = (this.httpServer.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => (this.httpServer ? this.httpServer.close(() => resolve()) : resolve()));
    this.httpServer?.closeAllConnections?.();
    await stopped;
    this.closing = true;
    for (const connection of this.openConnections) connection.interrupt();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.catalogLock;
    this.setup?.closeSync();
    this.db?.closeSync();
    rmSync(this.cacheDir, { recursive: true, force: true });
  }

  /** The next query started fails with this reason (e.g. 'HIVE_BAD_DATA: …'). */
  failNext(reason: string): void {
    this.pendingFailures.push(reason);
  }

  /** The next `count` calls (of one operation, or any) answer a throttling error. */
  throttle(
    count: number,
    operation?: string,
    errorType: 'TooManyRequestsException' | 'ThrottlingException' = 'TooManyRequestsException',
  ): void {
    this.throttles.push({ operation, remaining: count, errorType });
  }

  /** The next `count` queries stay RUNNING until stopped (for deadline tests). */
  holdQueries(count = 1): void {
    this.holdNext += count;
  }

  // ---- HTTP / JSON 1.1 -------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonAthena.') ? target.slice('AmazonAthena.'.length) : '';
    const requestId = randomUUID();
    const send = (status: number, body: unknown, errorType?: string) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': requestId,
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(text);
    };
    this.calls.push({ operation: operation || target, at: Date.now() });
    try {
      if (req.method !== 'POST' || !operation) throw awsError('UnknownOperationException', `unknown operation '${target}'`);
      const throttle = this.throttles.find((t) => t.remaining > 0 && (!t.operation || t.operation === operation));
      if (throttle) {
        throttle.remaining--;
        throw awsError(throttle.errorType, 'Rate exceeded');
      }
      let input: Record<string, unknown>;
      try {
        input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        throw awsError('SerializationException', 'request body is not JSON');
      }
      send(200, await this.dispatch(operation, input));
    } catch (err) {
      const e = isAwsError(err) ? err : awsError('InternalServerException', (err as Error).message, 500);
      send(e.status, { __type: e.type, Message: e.message }, e.type);
    }
  }

  private async dispatch(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartQueryExecution':
        return this.startQueryExecution(input);
      case 'GetQueryExecution':
        return { QueryExecution: this.describe(this.execution(input.QueryExecutionId), true) };
      case 'GetQueryResults':
        return this.getQueryResults(input);
      case 'StopQueryExecution': {
        const execution = this.execution(input.QueryExecutionId);
        // Stopping a query the caller still sees as queued or running cancels it; a finished one stays as it is.
        const visible = this.visibleState(execution);
        if (visible === 'QUEUED' || visible === 'RUNNING') {
          execution.cancelled = true;
          execution.completed = Date.now();
        }
        this.stoppedQueryIds.push(execution.id);
        return {};
      }
      case 'ListQueryExecutions': {
        const ids = [...this.executions.values()]
          .filter((e) => !input.WorkGroup || e.workgroup === input.WorkGroup)
          .map((e) => e.id)
          .reverse();
        const max = Math.min(Number(input.MaxResults ?? 50), 50);
        const offset = input.NextToken ? decodeToken(asText(input.NextToken)) : 0;
        const page = ids.slice(offset, offset + max);
        return { QueryExecutionIds: page, NextToken: offset + max < ids.length ? encodeToken(offset + max) : undefined };
      }
      default:
        throw awsError('UnknownOperationException', `operation ${operation} is not implemented by the local Athena server`);
    }
  }

  private execution(id: unknown): Execution {
    const execution = typeof id === 'string' ? this.executions.get(id) : undefined;
    if (!execution) throw awsError('InvalidRequestException', `QueryExecution ${String(id)} was not found`);
    return execution;
  }

  // ---- StartQueryExecution ----------------------------------------------------------------

  private startQueryExecution(input: Record<string, unknown>): { QueryExecutionId: string } {
    const query = input.QueryString;
    if (typeof query !== 'string' || query.trim() === '') throw awsError('InvalidRequestException', 'QueryString is required');
    if (query.length > 262_144) throw awsError('InvalidRequestException', 'QueryString is longer than 262144 characters');
    const parameters = input.ExecutionParameters as string[] | undefined;
    if (
      parameters !== undefined &&
      (!Array.isArray(parameters) || parameters.length === 0 || parameters.some((p) => typeof p !== 'string'))
    ) {
      throw awsError('InvalidRequestException', 'ExecutionParameters must be a non-empty list of strings');
    }
    // Same ClientRequestToken, same query: Athena starts it once.
    const token = input.ClientRequestToken;
    if (typeof token === 'string') {
      const existing = [...this.executions.values()].find((e) => (e as Execution & { token?: string }).token === token);
      if (existing) return { QueryExecutionId: existing.id };
    }
    const context = (input.QueryExecutionContext ?? {}) as { Database?: string; Catalog?: string };
    const reuse = (
      input.ResultReuseConfiguration as { ResultReuseByAgeConfiguration?: { Enabled?: boolean; MaxAgeInMinutes?: number } } | undefined
    )?.ResultReuseByAgeConfiguration;
    const ddl = isDdl(query);
    const execution: Execution & { token?: string } = {
      id: randomUUID(),
      token: typeof token === 'string' ? token : undefined,
      query,
      parameters,
      database: (context.Database ?? 'default').toLowerCase(),
      catalog: context.Catalog ?? 'AwsDataCatalog',
      workgroup: typeof input.WorkGroup === 'string' ? input.WorkGroup : 'primary',
      outputLocation: (input.ResultConfiguration as { OutputLocation?: string } | undefined)?.OutputLocation,
      statementType: ddl ? 'DDL' : /^\s*(show|describe|explain)\b/i.test(query) ? 'UTILITY' : 'DML',
      submitted: Date.now(),
      polls: 0,
      cancelled: false,
      held: this.holdNext > 0,
      bytesScanned: 0,
      engineMillis: 0,
      reused: false,
      reuse: reuse?.Enabled ? { maxAgeMinutes: reuse.MaxAgeInMinutes ?? 60 } : undefined,
    };
    // A fixed figure (test control) is known at submission and shows from the first RUNNING poll, as
    // Athena's scan so far; set later (after the view refresh) a busy machine let the query finish unseen.
    const fixedBytes = ddl ? undefined : this.options.bytesScanned?.(query);
    if (fixedBytes !== undefined) execution.bytesScanned = fixedBytes;
    if (execution.held) this.holdNext--;
    if (parameters && ddl) throw awsError('InvalidRequestException', 'ExecutionParameters are only supported for DML queries');
    this.executions.set(execution.id, execution);
    const failure = this.pendingFailures.shift();
    this.track(this.run(execution, failure));
    return { QueryExecutionId: execution.id };
  }

  private async run(execution: Execution, injectedFailure: string | undefined): Promise<void> {
    const started = Date.now();
    const fail = (reason: string, errorType = 1006) => {
      execution.outcome = { state: 'FAILED', reason, errorType };
    };
    try {
      if (injectedFailure) return fail(injectedFailure, 1000);
      if (execution.statementType === 'DDL') {
        await this.exclusive(() => this.runDdl(execution));
        execution.outcome = { state: 'SUCCEEDED', columns: [], rows: [] };
        return;
      }
      let sql: string;
      try {
        sql = bindParameters(execution.query, execution.parameters ?? []);
      } catch (err) {
        if (err instanceof ParameterError) return fail(`INVALID_PARAMETER_USAGE: ${err.message}`, 1004);
        throw err;
      }
      const violation = findDialectViolation(sql);
      if (violation) return fail(violation.message, 1004);

      const previous = execution.reuse && this.findReusable(execution);
      if (previous?.outcome?.state === 'SUCCEEDED') {
        execution.outcome = previous.outcome;
        execution.reused = true;
        return;
      }

      const referenced = this.referencedTables(sql, execution.database);
      for (const table of referenced) {
        const missing = injectedColumns(table).filter((column) => !pinsColumn(sql, column));
        if (missing.length > 0) {
          return fail(
            `CONSTRAINT_VIOLATION: For the injected projected partition column ${missing[0]}, the WHERE clause must contain only static equality conditions, and at least one such condition must be present.`,
            1004,
          );
        }
      }
      for (const table of referenced) await this.exclusive(() => this.refreshView(table));

      while (this.logTruncation) await this.logTruncation;
      this.queriesReadingLog++;
      const connection = await this.connect();
      try {
        // Trino functions DuckDB lacks, as temporary (per-connection) macros, whatever the database.
        for (const macro of TRINO_COMPAT_MACROS) await connection.run(macro.sql.replace('MACRO ', 'TEMP MACRO '));
        await connection.run(`USE awsdatacatalog.${quoteIdent(execution.database)}`);
        const reader = await connection.runAndReadAll(sql);
        if (this.options.bytesScanned === undefined) execution.bytesScanned = await this.columnChunks.scannedBytes(connection);
        const columns = reader.columnNames().map((name, i) => columnInfo(name, reader.columnTypes()[i]));
        const rows = reader.getRowsJS().map((row) => row.map((value, i) => athenaText(value, columns[i].Type)));
        if (this.options.writeResultsToS3 && execution.outputLocation) {
          const failure = await this.writeResults(execution, columns, rows);
          if (failure) return fail(failure, 1000);
        }
        execution.outcome = { state: 'SUCCEEDED', columns, rows };
      } finally {
        this.disconnect(connection);
        this.queriesReadingLog--;
        this.truncateLogWhenIdle();
      }
    } catch (err) {
      fail(athenaReason(err));
    } finally {
      execution.engineMillis = Date.now() - started;
      execution.completed = Date.now();
    }
  }

  /** Athena's result file: every value double-quoted, NULL as an empty field. Returns a failure reason, if any. */
  private async writeResults(
    execution: Execution,
    columns: AthenaColumnInfo[],
    rows: (string | undefined)[][],
  ): Promise<string | undefined> {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(execution.outputLocation!);
    if (!m || !this.options.s3Client) return `Unable to verify/create output bucket for ${execution.outputLocation}`;
    const quote = (v: string | undefined) => (v === undefined ? '' : `"${v.replace(/"/g, '""')}"`);
    const csv = [columns.map((c) => quote(c.Label)), ...rows.map((r) => r.map(quote))].map((r) => r.join(',')).join('\n') + '\n';
    const key = `${m[2].replace(/\/?$/, '/').replace(/^\/$/, '')}${execution.id}.csv`;
    try {
      await this.options.s3Client.send(new PutObjectCommand({ Bucket: m[1], Key: key, Body: csv, ContentType: 'text/csv' }));
      return undefined;
    } catch {
      return `Unable to verify/create output bucket ${m[1]}`;
    }
  }

  /** Empties DuckDB's file-read log while no query needs it; queries starting meanwhile wait for it. */
  private truncateLogWhenIdle(): void {
    if (this.queriesReadingLog > 0 || this.logTruncation || !this.db || this.closing) return;
    this.logTruncation = (async () => {
      const connection = await this.connect();
      try {
        await connection.run('CALL truncate_duckdb_logs()');
      } finally {
        this.disconnect(connection);
      }
    })()
      .catch(() => undefined) // a log left in place costs memory only
      .finally(() => (this.logTruncation = undefined));
    this.track(this.logTruncation);
  }

  /** A connection for one piece of work; refused once close() has begun. */
  private async connect(): Promise<DuckDBConnection> {
    if (this.closing || !this.db) throw new Error('server is closing');
    const connection = await this.db.connect();
    this.openConnections.add(connection);
    return connection;
  }

  private disconnect(connection: DuckDBConnection): void {
    this.openConnections.delete(connection);
    connection.closeSync();
  }

  private track(work: Promise<void>): void {
    const settled = work.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.catalogLock.then(work);
    this.catalogLock = result.catch(() => undefined);
    return result;
  }

  private findReusable(execution: Execution): Execution | undefined {
    const maxAge = execution.reuse!.maxAgeMinutes * 60_000;
    return [...this.executions.values()].find(
      (e) =>
        e !== execution &&
        e.outcome?.state === 'SUCCEEDED' &&
        !e.cancelled &&
        e.query === execution.query &&
        JSON.stringify(e.parameters ?? []) === JSON.stringify(execution.parameters ?? []) &&
        e.database === execution.database &&
        Date.now() - e.submitted <= maxAge,
    );
  }

  private async runDdl(execution: Execution): Promise<void> {
    let statement;
    try {
      statement = parseDdl(execution.query);
    } catch (err) {
      if (err instanceof DdlError) throw new Error(`FAILED: ParseException ${err.message}`);
      throw err;
    }
    const conn = this.setup!;
    switch (statement.kind) {
      case 'create_database':
        await conn.run(`CREATE SCHEMA ${statement.ifNotExists ? 'IF NOT EXISTS ' : ''}awsdatacatalog.${quoteIdent(statement.database)}`);
        return;
      case 'drop_database':
        await conn.run(`DROP SCHEMA ${statement.ifExists ? 'IF EXISTS ' : ''}awsdatacatalog.${quoteIdent(statement.database)} CASCADE`);
        for (const key of [...this.tables.keys()]) if (key.startsWith(`${statement.database}.`)) this.tables.delete(key);
        return;
      case 'drop_table': {
        const database = statement.database ?? execution.database;
        if (!this.tables.delete(`${database}.${statement.table}`) && !statement.ifExists)
          throw new Error(`FAILED: SemanticException [Error 10001]: Table not found ${database}.${statement.table}`);
        await conn.run(`DROP VIEW IF EXISTS awsdatacatalog.${quoteIdent(database)}.${quoteIdent(statement.table)}`);
        return;
      }
      case 'create_table': {
        const database = statement.database ?? execution.database;
        const key = `${database}.${statement.table}`;
        if (this.tables.has(key)) {
          if (statement.ifNotExists) return;
          throw new Error(`FAILED: AlreadyExistsException Table ${key} already exists`);
        }
        for (const column of [...statement.columns, ...statement.partitions]) hiveToDuckType(column.hiveType); // types are valid
        const table: ExternalTable = {
          database,
          table: statement.table,
          columns: statement.columns,
          partitions: statement.partitions,
          location: statement.location,
          properties: statement.properties,
        };
        validateProjection(table);
        this.tables.set(key, table);
        await this.refreshView(table);
        return;
      }
    }
  }

  /** Re-reads a table's files (new partitions appear as in Athena) and recreates its view. */
  private async refreshView(table: ExternalTable): Promise<void> {
    const dir = await this.resolver.localDir(table.location);
    const files = visibleFiles(table, dir);
    // Athena reads a table's files as they are at each query; so does this view, but it is made
    // again (footers DESCRIBEd, view replaced) only when a file came, went or changed since the last
    // query: that remake was most of a small query's time on this server.
    const listing = files.map((f) => `${f.path}\0${f.size}\0${f.mtimeMs}`).join('\n');
    if (this.viewListings.get(table) === listing) return;
    this.viewListings.delete(table);
    let fileColumns: Set<string> | null = null;
    if (files.length > 0) {
      const described = await this.setup!.runAndReadAll(`DESCRIBE ${rawScan(files)}`);
      // DESCRIBE's first two columns: column_name and column_type, both text.
      const fileTypes = new Map((described.getRowsJS() as [string, string][]).map((r) => [r[0], r[1]]));
      for (const column of table.columns) {
        const fileType = fileTypes.get(column.name);
        if (fileType && !compatible(fileType, hiveToDuckType(column.hiveType))) {
          throw new Error(
            `HIVE_BAD_DATA: Field ${column.name}'s type ${fileType} in parquet is incompatible with type ${column.hiveType} defined in table schema`,
          );
        }
      }
      fileColumns = new Set(fileTypes.keys());
    }
    await this.setup!.run(
      `CREATE OR REPLACE VIEW awsdatacatalog.${quoteIdent(table.database)}.${quoteIdent(table.table)} AS ${viewSelect(table, files, fileColumns)}`,
    );
    this.viewListings.set(table, listing);
  }

  /** External tables the statement names (bare, db.table or catalog.db.table). */
  private referencedTables(sql: string, database: string): ExternalTable[] {
    const tokens = significant(tokenize(sql));
    const names = tokens.map((t) =>
      t.kind === 'word' ? t.text.toLowerCase() : t.kind === 'quoted' ? unquoteIdentifier(t.text).toLowerCase() : undefined,
    );
    const found = new Set<ExternalTable>();
    names.forEach((name, i) => {
      if (!name) return;
      const qualifier = tokens[i - 1]?.text === '.' ? names[i - 2] : undefined;
      const table = this.tables.get(`${qualifier ?? database}.${name}`);
      if (table) found.add(table);
    });
    return [...found];
  }

  // ---- GetQueryExecution / GetQueryResults ------------------------------------------------

  private visibleState(execution: Execution): State {
    if (execution.cancelled) return 'CANCELLED';
    const queued = this.options.queuedPolls ?? 1;
    const running = this.options.runningPolls ?? 1;
    if (execution.polls <= queued) return 'QUEUED';
    if (execution.polls <= queued + running || !execution.outcome || execution.held) return 'RUNNING';
    return execution.outcome.state;
  }

  private describe(execution: Execution, countPoll: boolean): unknown {
    if (countPoll) execution.polls++;
    const state = this.visibleState(execution);
    const final = state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
    const failed = state === 'FAILED' && execution.outcome?.state === 'FAILED' ? execution.outcome : undefined;
    const queueMillis = 5;
    return {
      QueryExecutionId: execution.id,
      Query: execution.query,
      StatementType: execution.statementType,
      ResultConfiguration: execution.outputLocation
        ? { OutputLocation: `${execution.outputLocation.replace(/\/?$/, '/')}${execution.id}.csv` }
        : {},
      ResultReuseConfiguration: execution.reuse
        ? { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: execution.reuse.maxAgeMinutes } }
        : undefined,
      QueryExecutionContext: { Database: execution.database, Catalog: execution.catalog },
      ExecutionParameters: execution.parameters,
      Status: {
        State: state,
        SubmissionDateTime: execution.submitted / 1000,
        ...(final ? { CompletionDateTime: (execution.completed ?? Date.now()) / 1000 } : {}),
        ...(failed
          ? {
              StateChangeReason: failed.reason,
              AthenaError: { ErrorCategory: 2, ErrorType: failed.errorType, Retryable: false, ErrorMessage: failed.reason },
            }
          : {}),
        ...(state === 'CANCELLED' ? { StateChangeReason: 'Query cancelled by user' } : {}),
      },
      Statistics: {
        EngineExecutionTimeInMillis: final ? execution.engineMillis : 0,
        DataScannedInBytes: state === 'QUEUED' || execution.reused ? 0 : execution.bytesScanned,
        TotalExecutionTimeInMillis: final ? execution.engineMillis + queueMillis : 0,
        QueryQueueTimeInMillis: state === 'QUEUED' ? 0 : queueMillis,
        ServicePreProcessingTimeInMillis: 1,
        QueryPlanningTimeInMillis: 1,
        ServiceProcessingTimeInMillis: 1,
        ResultReuseInformation: { ReusedPreviousResult: execution.reused },
      },
      WorkGroup: execution.workgroup,
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    };
  }

  private getQueryResults(input: Record<string, unknown>): unknown {
    const execution = this.execution(input.QueryExecutionId);
    const state = this.visibleState(execution);
    if (state !== 'SUCCEEDED' || execution.outcome?.state !== 'SUCCEEDED') {
      throw awsError('InvalidRequestException', `Query has not yet finished. Current state: ${state}`);
    }
    const max = input.MaxResults === undefined ? 1000 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw awsError('InvalidRequestException', 'MaxResults must be between 1 and 1000');
    const { columns, rows } = execution.outcome;
    // A DML result's first row is the header (column labels), counted in the first page.
    const all: (string | undefined)[][] = execution.statementType === 'DDL' ? rows : [columns.map((c) => c.Label), ...rows];
    let offset = 0;
    if (input.NextToken !== undefined) {
      offset = decodeToken(asText(input.NextToken));
      if (!(offset > 0 && offset < all.length)) throw awsError('InvalidRequestException', 'NextToken is not valid');
    }
    const page = all.slice(offset, offset + max);
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((cell) => (cell === undefined ? {} : { VarCharValue: cell })) })),
        ResultSetMetadata: { ColumnInfo: columns },
      },
      NextToken: offset + max < all.length ? encodeToken(offset + max) : undefined,
    };
  }
}

export async function startAthenaLocal(options: AthenaLocalOptions = {}): Promise<AthenaLocalServer> {
  return new AthenaLocalServer(options).start();
}

function isAwsError(err: unknown): err is AwsError {
  return err instanceof AwsError;
}

const encodeToken = (offset: number) => Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
function decodeToken(token: string): number {
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
    return typeof offset === 'number' ? offset : -1;
  } catch {
    return -1;
  }
}

/** True when the statement compares the column to a constant with = or IN (…). */
function pinsColumn(sql: string, column: string): boolean {
  const tokens = significant(tokenize(sql));
  return tokens.some((t, i) => {
    const name = t.kind === 'word' ? t.text.toLowerCase() : t.kind === 'quoted' ? unquoteIdentifier(t.text).toLowerCase() : '';
    if (name !== column) return false;
    const next = tokens[i + 1];
    if (next?.text === '=') return tokens[i + 2]?.kind === 'string';
    return next?.kind === 'word' && next.text.toLowerCase() === 'in' && tokens[i + 2]?.text === '(' && tokens[i + 3]?.kind === 'string';
  });
}

function validateProjection(table: ExternalTable): void {
  if (table.properties['projection.enabled']?.toLowerCase() !== 'true') return;
  for (const p of table.partitions) {
    const type = table.properties[`projection.${p.name}.type`]?.trim().toLowerCase();
    if (!type) throw new Error(`FAILED: partition projection is enabled but projection.${p.name}.type is missing`);
    if (!['enum', 'integer', 'date', 'injected'].includes(type))
      throw new Error(`FAILED: projection.${p.name}.type '${type}' is not enum, integer, date or injected`);
    if (type === 'enum' && !table.properties[`projection.${p.name}.values`])
      throw new Error(`FAILED: projection.${p.name}.values is required for an enum projection`);
    if (type === 'date' && (!table.properties[`projection.${p.name}.range`] || !table.properties[`projection.${p.name}.format`])) {
      throw new Error(`FAILED: projection.${p.name}.range and .format are required for a date projection`);
    }
  }
  const template = table.properties['storage.location.template'];
  if (template) {
    const expected = `${table.location.replace(/\/?$/, '/')}${table.partitions.map((p) => `${p.name}=\${${p.name}}`).join('/')}`;
    if (template.replace(/\/?$/, '') !== expected.replace(/\/?$/, '')) {
      throw new Error(`FAILED: the local Athena server reads hive layouts only; storage.location.template must be '${expected}/'`);
    }
  }
}

/** DuckDB types that Athena reads under the declared type (integers and floats widen). */
function compatible(fileType: string, declared: string): boolean {
  const family = (t: string): string => {
    const u = t.toUpperCase();
    if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(u)) return 'int';
    if (/^(FLOAT|DOUBLE|REAL)$/.test(u) || u.startsWith('DECIMAL')) return 'float';
    if (u.startsWith('TIMESTAMP')) return 'timestamp';
    if (u.endsWith('[]')) return `list<${family(u.slice(0, -2))}>`;
    return u.replace(/\(.*$/, '');
  };
  return family(fileType) === family(declared);
}

/** Athena-style failure reason from a DuckDB error: an error name Athena uses, then the first line. */
function athenaReason(err: unknown): string {
  // Not `instanceof Error`: errors from the native DuckDB binding may come from another realm (jest).
  const raw = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
  const message = raw.split('\n')[0];
  if (/^(FAILED|HIVE_|SYNTAX_ERROR|CONSTRAINT_VIOLATION)/.test(message)) return message;
  if (message.startsWith('Parser Error')) return `SYNTAX_ERROR: ${message}`;
  if (message.startsWith('Catalog Error') && /Table|View|Schema/.test(message)) return `TABLE_NOT_FOUND: ${message}`;
  if (message.startsWith('Catalog Error')) return `FUNCTION_NOT_FOUND: ${message}`;
  if (message.startsWith('Binder Error')) return `COLUMN_NOT_FOUND: ${message}`;
  if (message.startsWith('Conversion Error')) return `INVALID_CAST_ARGUMENT: ${message}`;
  return `GENERIC_INTERNAL_ERROR: ${message}`;
}
