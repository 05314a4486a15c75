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
import type { DuckDBAppender, DuckDBConnection, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';
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
 * Records mapped from JSON (SqlPlan.records) cost tens of times their text in DuckDB while mapped
 * (each JSON function's parsed documents and each expression's strings, for a whole vector), inside
 * the worker's 96 MB: smaller batches (1 MiB ran out of memory on the generated sample once the
 * Secrets Manager and IAM fields were mapped too; the batch then falls back to the parser).
 */
const RECORD_BATCH_CHARS = 512 * 1024;
/** An object with more record text than a batch holds is read by the parser (streaming). */
export const SQL_MAX_RECORD_CHARS = RECORD_BATCH_CHARS;
/**
 * Record batches are appended to tables that live for several batches (a generation), so the
 * mapping's statement is bound once per generation, not per batch (binding it costs ≈ 45 ms, as much
 * as mapping 700 records). Past this much record text the tables are dropped and made anew: rows
 * deleted from a DuckDB table keep their blocks, so they are never deleted, only dropped.
 */
const GENERATION_CHARS = Number(process.env.SCOUTQL_SQL_GENERATION_CHARS) || 8 * RECORD_BATCH_CHARS;
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

/** The record path's statements for one mapping (SqlBatch.flushRecords), over its generation tables. */
interface RecordPath {
  /** Names of its generation tables: `${tables}_records`, `${tables}_rows`. */
  tables: string;
  /** The rows table's columns (name type, …), to make it anew per generation without binding the mapping. */
  rowColumns: string;
  map: DuckDBPreparedStatement;
  rejected: DuckDBPreparedStatement;
  newAddresses: DuckDBPreparedStatement | null;
  stage: (parameters: readonly DuckDBValue[]) => Promise<number>;
}

function appendObjectValue(
  appender: DuckDBAppender,
  type: 'INTEGER' | 'BIGINT' | 'VARCHAR',
  value: string | number | null | undefined,
): void {
  if (value === null || value === undefined) appender.appendNull();
  else if (type === 'VARCHAR') appender.appendVarchar(String(value));
  else if (type === 'BIGINT') appender.appendBigInt(BigInt(value));
  else appender.appendInteger(Number(value));
}

export class SqlBatch<T> {
  private pending: PendingObject<T>[] = [];
  private chars = 0;
  private readonly ready = new Set<SqlMapping>();
  private genericReady = false;
  /** The record path's tables and statements (flushRecords), per mapping; null until its first batch and after a reset. */
  private readonly recordPaths = new Map<SqlMapping, RecordPath>();
  /** The record paths' tables that exist (RecordPath.tables). */
  private readonly generationReady = new Set<string>();
  private batchNumber = 0;
  private generationChars = 0;
  private geoSeenReady = false;

  constructor(
    private readonly spiller: RowSpiller,
    private readonly geoip: GeoIp | null,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /**
   * Whether the batch must be flushed before this plan is added: records are mapped several times
   * their size in DuckDB's memory, so a batch of records never grows past RECORD_BATCH_CHARS (one
   * object alone may reach it: SQL_MAX_RECORD_CHARS).
   */
  flushBefore(plan: SqlPlan): boolean {
    if (!plan.records || this.pending.length === 0) return false;
    let chars = 0;
    for (const record of plan.records) chars += record.text.length;
    return this.chars + chars > RECORD_BATCH_CHARS;
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
          .run(['sql_rows', 'sql_lines', 'sql_objects', 'sql_geo'].map((t) => `DROP TABLE IF EXISTS ${t}`).join('; '));
        await this.newGeneration();
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
    if (mapping.recordItems !== undefined) return this.flushRecords(sourceId, mapping, objects);
    const objectColumns = Object.entries(mapping.objectColumns);
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
      for (const [name, type] of objectColumns) appendObjectValue(appender, type, object.plan.values[name]);
      appender.endRow();
    }
    appender.closeSync();
    // Lines as readLines() hands them out: split on \n, one trailing \r removed; empty lines hold no record.
    // line_ok counts UTF-8 bytes, never fewer than the UTF-16 units the parser's limits count: no line
    // the parser calls too long is called ok here.
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_lines AS
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
    const fallback = new Set(
      (await connection.runAndReadAll(`SELECT DISTINCT obj FROM sql_rows WHERE NOT scoutql_ok`)).getRows().map((r) => Number(r[0])),
    );
    const geo = this.geoip ? await this.enrichmentTable(connection) : false;
    const table = mapping.table;
    const enrichment = geo ? ', g.src_country, g.src_asn, g.src_as_org, g.src_is_cloud' : '';
    const inserted = await this.spiller.stageBySql(
      table,
      `SELECT '${sourceId}' AS source, scoutql_safe_partition(r.account) AS account, scoutql_safe_partition(r.region) AS region,
              r.obj AS scoutql_object, true AS scoutql_primary, r.* EXCLUDE (obj, scoutql_ok, account, region)${enrichment}
       FROM sql_rows r ${geo ? 'LEFT JOIN sql_geo g ON g.ip = r.src_ip' : ''}
       WHERE r.obj NOT IN (SELECT obj FROM sql_rows WHERE NOT scoutql_ok)`,
    );
    const counts = new Map<number, number>();
    for (const [obj, n] of (await connection.runAndReadAll(`SELECT obj, count(*) FROM sql_rows GROUP BY obj`)).getRows())
      counts.set(Number(obj), Number(n));
    let expected = 0;
    const outcomes = objects.map((pending): FlushOutcome<T> => {
      if (fallback.has(pending.index)) return { kind: 'fallback', pending };
      const records = counts.get(pending.index) ?? 0;
      expected += records;
      return { kind: 'sql', pending, records, rejected: [] };
    });
    if (inserted !== expected) throw new Error(`SQL ingest staged ${inserted} rows for ${expected} records`);
    await connection.run(`DROP TABLE sql_rows; DROP TABLE sql_lines; DROP TABLE sql_objects`);
    return outcomes;
  }

  /**
   * A batch of records split by their plans (SqlPlan.records): appended to the generation's
   * `sql_gen_records`, mapped by a statement prepared once into `sql_gen_rows` (without `raw`: the
   * record's text, joined back by record number when staged), then staged. A record the mapping
   * does not call valid is read alone by the parser (FlushOutcome.rejected).
   */
  private async flushRecords(sourceId: SourceId, mapping: SqlMapping, objects: PendingObject<T>[]): Promise<FlushOutcome<T>[]> {
    const connection = this.spiller.sqlConnection();
    let chars = 0;
    for (const object of objects) for (const record of object.plan.records ?? []) chars += record.text.length;
    if (this.generationChars + chars > GENERATION_CHARS && this.generationChars > 0) await this.newGeneration();
    this.generationChars += chars;
    const path = await this.recordPath(sourceId, mapping);
    const batch = ++this.batchNumber;
    const objectColumns = Object.entries(mapping.objectColumns);
    const appender = await connection.createAppender(`${path.tables}_records`);
    let expected = 0;
    for (const object of objects) {
      const records = object.plan.records ?? [];
      // The parser's limit counts UTF-16 units, never fewer than the characters DuckDB would count.
      const maxRecord = Math.min(object.maxRecordChars, RAW_INLINE_LIMIT);
      for (let i = 0; i < records.length; i++) {
        appender.appendInteger(batch);
        appender.appendInteger(object.index);
        appender.appendInteger(i + 1);
        appender.appendVarchar(records[i].text);
        appender.appendBoolean(records[i].text.length <= maxRecord);
        if (object.bounds) {
          appender.appendBigInt(BigInt(object.bounds.sinceMs));
          appender.appendBigInt(BigInt(object.bounds.notAfterMs));
        } else {
          appender.appendNull();
          appender.appendNull();
        }
        for (const [name, type] of objectColumns) appendObjectValue(appender, type, object.plan.values[name]);
        appender.endRow();
      }
      expected += records.length;
    }
    appender.closeSync();
    path.map.bind([batch]);
    await path.map.run();
    const rejected = new Map<number, number[]>();
    path.rejected.bind([batch]);
    for (const [obj, n] of (await path.rejected.runAndReadAll()).getRows())
      rejected.set(Number(obj), [...(rejected.get(Number(obj)) ?? []), Number(n)]);
    if (this.geoip) await this.enrichNewAddresses(path, batch);
    const inserted = await path.stage([batch]);
    const outcomes = objects.map((pending): FlushOutcome<T> => {
      const rejects = rejected.get(pending.index) ?? [];
      return { kind: 'sql', pending, records: (pending.plan.records?.length ?? 0) - rejects.length, rejected: rejects };
    });
    let rejectedCount = 0;
    for (const numbers of rejected.values()) rejectedCount += numbers.length;
    if (inserted !== expected - rejectedCount)
      throw new Error(`SQL ingest staged ${inserted} rows for ${expected - rejectedCount} records`);
    return outcomes;
  }

  /**
   * The mapping's generation tables (made when missing: first use, after newGeneration()) and its
   * statements over them, prepared once: DuckDB re-binds them itself after the tables are re-made.
   */
  private async recordPath(sourceId: SourceId, mapping: SqlMapping): Promise<RecordPath> {
    const connection = this.spiller.sqlConnection();
    const known = this.recordPaths.get(mapping);
    const tables = known?.tables ?? `sql_gen${this.recordPaths.size}`;
    if (known && this.generationReady.has(tables)) return known;
    const objectColumns = Object.entries(mapping.objectColumns);
    await connection.run(
      `CREATE TEMP TABLE ${tables}_records (batch INTEGER, obj INTEGER, n INTEGER, line VARCHAR, line_ok BOOLEAN,
         since_ms BIGINT, not_after_ms BIGINT${objectColumns.map(([name, type]) => `, "${name}" ${type}`).join('')})`,
    );
    // The mapping's rows, without `raw`, and whether each is one the parser would write as is (valid, in the time bounds).
    const rows = `SELECT CAST($1 AS INTEGER) AS batch, m.* EXCLUDE (valid, line_ok, raw),
         coalesce(m.valid AND m.line_ok AND m.time IS NOT NULL
           AND (b.not_after_ms IS NULL OR epoch_ms(m.time) BETWEEN b.since_ms AND b.not_after_ms), false) AS scoutql_ok
       FROM (WITH sql_lines AS (SELECT * EXCLUDE (batch, since_ms, not_after_ms) FROM ${tables}_records WHERE batch = $1)
             SELECT * FROM (${mapping.select})) m
       JOIN (SELECT obj, n, since_ms, not_after_ms FROM ${tables}_records WHERE batch = $1) b USING (obj, n)`;
    if (known) await connection.run(`CREATE TEMP TABLE ${tables}_rows (${known.rowColumns})`);
    else await connection.run(`CREATE TEMP TABLE ${tables}_rows AS ${rows} LIMIT 0`, [0]);
    this.generationReady.add(tables);
    if (known) return known;
    if (this.geoip && !this.geoSeenReady) {
      await connection.run(
        `CREATE TEMP TABLE sql_geo_seen (ip VARCHAR, src_country VARCHAR, src_asn BIGINT, src_as_org VARCHAR, src_is_cloud BOOLEAN)`,
      );
      this.geoSeenReady = true;
    }
    const rowColumns = (await connection.runAndReadAll(`DESCRIBE ${tables}_rows`))
      .getRows()
      .map(([name, type]) => `"${String(name)}" ${String(type)}`)
      .join(', ');
    const enrichment = this.geoip ? ', g.src_country, g.src_asn, g.src_as_org, g.src_is_cloud' : '';
    const path: RecordPath = {
      tables,
      rowColumns,
      map: await connection.prepare(`INSERT INTO ${tables}_rows BY NAME ${rows}`),
      rejected: await connection.prepare(`SELECT obj, n FROM ${tables}_rows WHERE batch = $1 AND NOT scoutql_ok ORDER BY obj, n`),
      newAddresses: this.geoip
        ? await connection.prepare(
            `SELECT DISTINCT r.src_ip FROM ${tables}_rows r ANTI JOIN sql_geo_seen g ON g.ip = r.src_ip
             WHERE r.batch = $1 AND r.scoutql_ok AND r.src_ip IS NOT NULL`,
          )
        : null,
      stage: await this.spiller.prepareStage(
        mapping.table,
        `SELECT '${sourceId}' AS source, scoutql_safe_partition(r.account) AS account, scoutql_safe_partition(r.region) AS region,
                r.obj AS scoutql_object, true AS scoutql_primary, r.* EXCLUDE (batch, obj, n, scoutql_ok, account, region),
                l.line AS raw${enrichment}
         FROM ${tables}_rows r JOIN ${tables}_records l ON l.batch = r.batch AND l.obj = r.obj AND l.n = r.n
         ${this.geoip ? 'LEFT JOIN sql_geo_seen g ON g.ip = r.src_ip' : ''}
         WHERE r.batch = $1 AND l.batch = $1 AND r.scoutql_ok`,
      ),
    };
    this.recordPaths.set(mapping, path);
    return path;
  }

  /** Drops the generation tables (their rows are staged or handed back): the next batch makes them anew. */
  private async newGeneration(): Promise<void> {
    for (const tables of this.generationReady)
      await this.spiller.sqlConnection().run(`DROP TABLE IF EXISTS ${tables}_rows; DROP TABLE IF EXISTS ${tables}_records`);
    this.generationReady.clear();
    this.generationChars = 0;
  }

  /**
   * The batch's source addresses not yet in `sql_geo_seen`, enriched in JavaScript (GeoIp.enrichment):
   * the table only grows (by the addresses the worker sees), so it is never re-made per batch.
   */
  private async enrichNewAddresses(path: RecordPath, batch: number): Promise<void> {
    path.newAddresses!.bind([batch]);
    const addresses = (await path.newAddresses!.runAndReadAll()).getRows().map((r) => String(r[0]));
    if (addresses.length === 0) return;
    const appender = await this.spiller.sqlConnection().createAppender('sql_geo_seen');
    for (const ip of addresses) this.appendEnrichment(appender, ip);
    appender.closeSync();
  }

  private appendEnrichment(appender: DuckDBAppender, ip: string): void {
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

  /** The batch's distinct source addresses, enriched in JavaScript (GeoIp.enrichment) into `sql_geo`; false when none. */
  private async enrichmentTable(connection: DuckDBConnection): Promise<boolean> {
    const addresses = (await connection.runAndReadAll(`SELECT DISTINCT src_ip FROM sql_rows WHERE scoutql_ok AND src_ip IS NOT NULL`))
      .getRows()
      .map((r) => String(r[0]));
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_geo (ip VARCHAR, src_country VARCHAR, src_asn BIGINT, src_as_org VARCHAR, src_is_cloud BOOLEAN)`,
    );
    const appender = await connection.createAppender('sql_geo');
    for (const ip of addresses) this.appendEnrichment(appender, ip);
    appender.closeSync();
    return true;
  }
}
