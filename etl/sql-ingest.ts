/**
 * The SQL ingest path (issue #14, item 1): objects of a source that declares a SQL mapping
 * (etl/sources/types.ts SqlMapping) are held in a batch and, per batch, split into lines,
 * parsed and normalized by DuckDB in one statement, straight into the staged rows that
 * publishing consumes: the same table, columns, object index and partition values the per-record
 * JavaScript path appends, so identity, dedupe, manifest and counts are unchanged downstream.
 *
 * An object with any line the mapping does not call valid is read whole by the source's own
 * parser instead (the reference), so its rows, quarantine records and counts are exactly the
 * parser's. GeoIP enrichment joins a small table of the batch's distinct source addresses,
 * enriched in JavaScript as the per-record path does.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { GeoIp } from '../src/core/geoip';
import type { SourceId } from '../src/generated/sources';
import type { LogSource, SqlMapping, SqlPlan } from './sources/types';
import type { RowSpiller } from './lake/row-spiller';
import { RAW_INLINE_LIMIT } from './lake/row-spiller';

/** One object waiting in the batch. */
export interface PendingObject<T> {
  /** The object's index in the run (its rows' scoutql_object). */
  index: number;
  source: LogSource;
  plan: SqlPlan;
  /** Longest line the object may hold (the read limits'). */
  maxRecordChars: number;
  /** Event times outside [sinceMs, notAfterMs] are the parser's to quarantine (null: no bounds). */
  bounds: { sinceMs: number; notAfterMs: number } | null;
  /** What the caller needs to read it with the parser instead. */
  context: T;
}

/**
 * Per object of a flushed batch: read in SQL (its record count; for a plan of records, the numbers
 * of those the mapping did not call valid, which the parser reads alone) or handed back to the parser whole.
 */
export type FlushOutcome<T> =
  | { kind: 'sql'; pending: PendingObject<T>; records: number; rejected: readonly number[] }
  | { kind: 'fallback'; pending: PendingObject<T> };

/** A batch is flushed past this many characters of content, or this many objects (tests set fewer to flush mid-transaction). */
const BATCH_CHARS = 8 * 1024 * 1024;
/**
 * Records mapped from JSON (SqlPlan.records) cost several times their text in DuckDB while mapped
 * (each path's values, the rows with `raw`), inside the worker's 96 MB: smaller batches.
 */
const RECORD_BATCH_CHARS = 1024 * 1024;
/** An object with more record text than a batch holds is read by the parser (streaming). */
export const SQL_MAX_RECORD_CHARS = RECORD_BATCH_CHARS;
const BATCH_OBJECTS = Number(process.env.SCOUTQL_SQL_BATCH_OBJECTS) || 4096;

/**
 * Larger objects are read by the parser, streaming: a batch's lines and rows live in the worker's
 * DuckDB (96 MB before it spills to disk), so one object must not make a batch several times that.
 */
export const SQL_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

const GENERIC_SETUP = [
  // safePartitionValue() (src/core/lake-layout.ts) in SQL.
  `CREATE OR REPLACE TEMP MACRO scoutql_safe_partition(v) AS
     CASE WHEN v IS NULL OR v = '' THEN 'unknown'
          WHEN regexp_replace(v, '[^A-Za-z0-9._-]', '_', 'g') IN ('.', '..') THEN 'unknown'
          ELSE regexp_replace(v, '[^A-Za-z0-9._-]', '_', 'g') END`,
];

export class SqlBatch<T> {
  private pending: PendingObject<T>[] = [];
  private chars = 0;
  private readonly ready = new Set<SqlMapping>();
  private genericReady = false;

  constructor(
    private readonly spiller: RowSpiller,
    private readonly geoip: GeoIp | null,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /** Adds an object; true when the batch is full and should be flushed. */
  add(object: PendingObject<T>): boolean {
    this.pending.push(object);
    this.chars += object.plan.body.length;
    for (const record of object.plan.records ?? []) this.chars += record.text.length;
    return this.chars >= (object.plan.records ? RECORD_BATCH_CHARS : BATCH_CHARS) || this.pending.length >= BATCH_OBJECTS;
  }

  /** Runs the batch's SQL, one statement set per source; returns what became of each object. */
  async flush(): Promise<FlushOutcome<T>[]> {
    const pending = this.pending;
    this.pending = [];
    this.chars = 0;
    const outcomes: FlushOutcome<T>[] = [];
    const bySource = new Map<SourceId, PendingObject<T>[]>();
    for (const object of pending) bySource.set(object.source.id, [...(bySource.get(object.source.id) ?? []), object]);
    for (const [sourceId, objects] of bySource) {
      try {
        outcomes.push(...(await this.flushSource(sourceId, objects)));
      } catch (err) {
        // DuckDB ran out of its memory on this batch: nothing of it was staged (a failed INSERT rolls back), the parser reads it all.
        if (!/^Out of Memory Error/.test((err as Error).message)) throw err;
        await this.spiller
          .sqlConnection()
          .run(['sql_rows', 'sql_lines', 'sql_objects', 'sql_records', 'sql_geo'].map((t) => `DROP TABLE IF EXISTS ${t}`).join('; '));
        outcomes.push(...objects.map((pending): FlushOutcome<T> => ({ kind: 'fallback', pending })));
      }
    }
    return outcomes;
  }

  private async flushSource(sourceId: SourceId, objects: PendingObject<T>[]): Promise<FlushOutcome<T>[]> {
    const mapping = objects[0].source.sql!;
    const connection = this.spiller.sqlConnection();
    if (!this.genericReady) {
      for (const statement of GENERIC_SETUP) await connection.run(statement);
      this.genericReady = true;
    }
    if (!this.ready.has(mapping)) {
      for (const statement of mapping.setup) await connection.run(statement);
      this.ready.add(mapping);
    }
    const objectColumns = Object.entries(mapping.objectColumns);
    // Records split by the plan (SqlPlan.records): one row each, and a rejected record is read alone.
    const byRecord = mapping.recordItems !== undefined;
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_objects (obj INTEGER, body VARCHAR, first_line INTEGER, max_record BIGINT,
         since_ms BIGINT, not_after_ms BIGINT${objectColumns.map(([name, type]) => `, "${name}" ${type}`).join('')})`,
    );
    const appender = await connection.createAppender('sql_objects');
    for (const object of objects) {
      appender.appendInteger(object.index);
      appender.appendVarchar(object.plan.body);
      appender.appendInteger(object.plan.firstLine);
      appender.appendBigInt(BigInt(Math.min(object.maxRecordChars, RAW_INLINE_LIMIT)));
      if (object.bounds) {
        appender.appendBigInt(BigInt(object.bounds.sinceMs));
        appender.appendBigInt(BigInt(object.bounds.notAfterMs));
      } else {
        appender.appendNull();
        appender.appendNull();
      }
      for (const [name, type] of objectColumns) {
        const value = object.plan.values[name];
        if (value === null || value === undefined) appender.appendNull();
        else if (type === 'VARCHAR') appender.appendVarchar(String(value));
        else if (type === 'BIGINT') appender.appendBigInt(BigInt(value));
        else appender.appendInteger(Number(value));
      }
      appender.endRow();
    }
    appender.closeSync();
    if (byRecord) await this.recordsTable(connection, objects);
    // Lines as readLines() hands them out: split on \n, one trailing \r removed; empty lines hold no record.
    // line_ok counts UTF-8 bytes, never fewer than the UTF-16 units the parser's limits count: no line
    // the parser calls too long is called ok here.
    await connection.run(
      byRecord
        ? `CREATE OR REPLACE TEMP TABLE sql_lines AS
           SELECT o.* EXCLUDE (body, first_line, max_record, since_ms, not_after_ms), r.n, r.line, length(r.line) <= o.max_record AS line_ok
           FROM sql_records r JOIN sql_objects o USING (obj)`
        : `CREATE OR REPLACE TEMP TABLE sql_lines AS
       SELECT * EXCLUDE (body, first_line, max_record, since_ms, not_after_ms, i, piece),
              CAST(first_line + i - 1 AS INTEGER) AS n,
              CASE WHEN suffix(piece, chr(13)) THEN piece[:-2] ELSE piece END AS line,
              strlen(piece) <= max_record AS line_ok
       FROM (SELECT *, generate_subscripts(string_split(body, chr(10)), 1) AS i, unnest(string_split(body, chr(10))) AS piece FROM sql_objects)
       WHERE piece <> '' AND piece <> chr(13)`,
    );
    // The mapping's rows, and whether each is one the parser would write as is (valid, in the time bounds).
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_rows AS
       SELECT m.* EXCLUDE (valid, line_ok),
              coalesce(m.valid AND m.line_ok AND m.time IS NOT NULL
                AND (o.not_after_ms IS NULL OR epoch_ms(m.time) BETWEEN o.since_ms AND o.not_after_ms), false) AS scoutql_ok
       FROM (${mapping.select}) m JOIN (SELECT obj, since_ms, not_after_ms FROM sql_objects) o USING (obj)`,
    );
    const rejected = new Map<number, number[]>();
    if (byRecord)
      for (const [obj, n] of (await connection.runAndReadAll(`SELECT obj, n FROM sql_rows WHERE NOT scoutql_ok ORDER BY obj, n`)).getRows())
        rejected.set(Number(obj), [...(rejected.get(Number(obj)) ?? []), Number(n)]);
    const fallback = byRecord
      ? new Set<number>()
      : new Set(
          (await connection.runAndReadAll(`SELECT DISTINCT obj FROM sql_rows WHERE NOT scoutql_ok`)).getRows().map((r) => Number(r[0])),
        );
    const geo = this.geoip ? await this.enrichmentTable(connection) : false;
    const table = mapping.table;
    const enrichment = geo ? ', g.src_country, g.src_asn, g.src_as_org, g.src_is_cloud' : '';
    const inserted = await this.spiller.stageBySql(
      table,
      `SELECT '${sourceId}' AS source, scoutql_safe_partition(r.account) AS account, scoutql_safe_partition(r.region) AS region,
              r.obj AS scoutql_object, true AS scoutql_primary, r.* EXCLUDE (obj, ${byRecord ? 'n, ' : ''}scoutql_ok, account, region)${enrichment}
       FROM sql_rows r ${geo ? 'LEFT JOIN sql_geo g ON g.ip = r.src_ip' : ''}
       WHERE ${byRecord ? 'r.scoutql_ok' : 'r.obj NOT IN (SELECT obj FROM sql_rows WHERE NOT scoutql_ok)'}`,
    );
    const counts = new Map<number, number>();
    for (const [obj, n] of (
      await connection.runAndReadAll(`SELECT obj, count(*) FROM sql_rows ${byRecord ? 'WHERE scoutql_ok ' : ''}GROUP BY obj`)
    ).getRows())
      counts.set(Number(obj), Number(n));
    let expected = 0;
    const outcomes = objects.map((pending): FlushOutcome<T> => {
      if (fallback.has(pending.index)) return { kind: 'fallback', pending };
      const records = counts.get(pending.index) ?? 0;
      expected += records;
      return { kind: 'sql', pending, records, rejected: rejected.get(pending.index) ?? [] };
    });
    if (inserted !== expected) throw new Error(`SQL ingest staged ${inserted} rows for ${expected} records`);
    await connection.run(`DROP TABLE sql_rows; DROP TABLE sql_lines; DROP TABLE sql_objects${byRecord ? '; DROP TABLE sql_records' : ''}`);
    return outcomes;
  }

  /** The plans' records, one row each (obj, n: 1-based, line: the record's text). */
  private async recordsTable(connection: DuckDBConnection, objects: PendingObject<T>[]): Promise<void> {
    await connection.run(`CREATE OR REPLACE TEMP TABLE sql_records (obj INTEGER, n INTEGER, line VARCHAR)`);
    const appender = await connection.createAppender('sql_records');
    for (const object of objects) {
      const records = object.plan.records ?? [];
      for (let i = 0; i < records.length; i++) {
        appender.appendInteger(object.index);
        appender.appendInteger(i + 1);
        appender.appendVarchar(records[i].text);
        appender.endRow();
      }
    }
    appender.closeSync();
  }

  /** The batch's distinct source addresses, enriched in JavaScript (GeoIp.enrichment) into `sql_geo`; false when none. */
  private async enrichmentTable(connection: DuckDBConnection): Promise<boolean> {
    const addresses = (await connection.runAndReadAll(`SELECT DISTINCT src_ip FROM sql_rows WHERE scoutql_ok AND src_ip IS NOT NULL`))
      .getRows()
      .map((r) => String(r[0]));
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_geo (ip VARCHAR, src_country VARCHAR, src_asn BIGINT, src_as_org VARCHAR, src_is_cloud BOOLEAN)`,
    );
    const appender = await connection.createAppender('sql_geo');
    for (const ip of addresses) {
      const e = this.geoip!.enrichment(ip);
      appender.appendVarchar(ip);
      if (e.src_country == null) appender.appendNull();
      else appender.appendVarchar(e.src_country);
      if (e.src_asn == null) appender.appendNull();
      else appender.appendBigInt(BigInt(e.src_asn));
      if (e.src_as_org == null) appender.appendNull();
      else appender.appendVarchar(e.src_as_org);
      if (typeof e.src_is_cloud !== 'boolean') appender.appendNull();
      else appender.appendBoolean(e.src_is_cloud);
      appender.endRow();
    }
    appender.closeSync();
    return true;
  }
}
