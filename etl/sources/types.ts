/**
 * What a log source is: a folder `etl/sources/<id>/` with a manifest (what the source is and
 * writes), a parser (detect + parse), a sample writer and golden files. This file holds the
 * contract every folder fills in; etl/sources/index.ts finds the folders.
 */
import type { CoreColumnName, EntityType, FINDINGS_TABLE, FindingRow, Relation, RowOf, TableName } from '../../src/core/tables';
import type { SourceId } from '../../src/generated/sources';
import type { ReadState } from '../readers/read-state';

export type Provider = 'aws' | 'azure' | 'gcp';

/**
 * The first day each provider could have logged anything: the launch of its first public service
 * (Amazon S3, 14 March 2006; Windows Azure's announcement, 27 October 2008; Google App Engine,
 * 7 April 2008). An event dated earlier is a damaged or forged time, not history.
 */
export const PROVIDER_LOGS_SINCE: Readonly<Record<Provider, string>> = {
  aws: '2006-03-14',
  azure: '2008-10-27',
  gcp: '2008-04-07',
};

/** The findings table's name: sources that read other products' findings (GuardDuty, Security Hub) write it. */
export type FindingsTableName = (typeof FINDINGS_TABLE)['name'];

/** Tables a source may write: the event tables, and the findings table. */
export type SourceTable = TableName | FindingsTableName;

/** The row type of a table a source writes. */
export type SourceRowOf<K extends SourceTable> = K extends TableName ? RowOf<K> : FindingRow;

/** A row of one of the tables `T`, together with its table: narrowing on `table` types the row. */
export type RowIn<T extends SourceTable> = { [K in T]: { table: K; row: SourceRowOf<K> } }[T];

/** Any row a source yields, with its table. */
export type SourceRow = RowIn<SourceTable>;

/**
 * What a source yields for each record it reads. Every input record yields exactly one item,
 * so counts reconcile: records = written + quarantined + filtered.
 */
export type ParsedItem<T extends SourceTable = SourceTable> =
  /** A good record: one or more rows (a console login lands in api_activity and authentication). */
  | { kind: 'rows'; rows: RowIn<T>[] }
  /** A record that cannot be parsed or normalized: kept verbatim with where it was and why. */
  | { kind: 'quarantine'; position: string; reason: string; text: string }
  /** A record deliberately not written (a comment or header line is not a record; use this only for declared filters). */
  | { kind: 'filtered'; position: string; reason: string };

/** A record set aside: kept verbatim (`text`) with where it was (`position`) and why (`reason`). */
export function quarantine(position: string, reason: string, text: string): ParsedItem<never> {
  return { kind: 'quarantine', position, reason, text };
}

export interface ObjectContext {
  /** Absolute path or s3:// URL of the object being read. */
  key: string;
  /** The values given for the options the source's manifest declares (e.g. vpcflow's `format`); absent ones are missing. */
  options?: Readonly<Record<string, string>>;
}

export interface DetectSample {
  /** Object key (path or s3:// URL): a hint, never the only evidence. */
  key: string;
  /** The first bytes of the object, decompressed and decoded as UTF-8 (up to 64 KiB; may cut a line). */
  head: string;
}

/**
 * What detection says of an object: a source confidence, or that the object is a known
 * non-log companion (a CloudTrail digest) that is skipped on purpose.
 */
export type Detection = { confidence: number } | { skip: string };

/**
 * DuckDB's own readers the ETL bench runs over a source's files, as the baseline its figures are
 * ratios against (bench/lib/duckdb-baselines.ts holds their SQL). Pick the one that reads the
 * source's format; a format none of them reads gets no baseline (the bench then reports ScoutQL alone).
 */
export type DuckDbBaseline =
  /** CloudTrail's `{"Records":[…]}` files, every record unnested with a schema DuckDB infers. */
  | 'cloudtrail-records-auto'
  /** CloudTrail's records mapped by JSON path onto the lake's api_activity columns, partitioned and sorted as the lake is. */
  | 'cloudtrail-records-same-shape'
  /** Space-separated lines with a header line, `-` as NULL (VPC flow logs). */
  | 'csv-space-header'
  /** Space-separated lines with "quoted" fields and no header (S3 access, ELB). */
  | 'csv-space-quoted'
  /** Tab-separated lines after `#` comment lines (W3C: CloudFront). */
  | 'csv-tab-comments'
  /** One JSON object per line. */
  | 'json-lines'
  /** `{"records":[…]}` files, every record unnested. */
  | 'json-records-envelope';

/**
 * Core columns that may name an event (with the row's partition: source, account, region, day).
 * `raw`, `resources` and the ingest's own columns cannot.
 */
export type IdentityColumn = Exclude<CoreColumnName, 'raw' | 'resources' | 'class_uid'>;

/** An option of a source a user may give at ingest (`--<source>-<name>` on the command line). */
export interface SourceOption {
  /** The value's placeholder in help, e.g. `'<format>'`. */
  value: string;
  description: string;
  /** Why a value is wrong (checked before anything is read), or null when it is fine. */
  check?(value: string): string | null;
}

/** What a log source is and writes: the facts the rest of the project derives from (registry, graph, sample, bench). */
export interface SourceManifest<T extends SourceTable = SourceTable> {
  /** The folder name, and the `source=` partition of the rows. */
  id: SourceId;
  provider: Provider;
  /** The vendor's product, as its documentation names it. */
  product: string;
  /**
   * Where the source is listed (detection tie-break: on equal confidence the earlier source reads
   * the object; sample.json and CLI help): ascending. A new source takes the next free number.
   */
  order: number;
  /** Tables its rows go to; its parser can yield no other (a compile error). */
  tables: readonly T[];
  /** How its objects are recognized. The parser's `detect` decides on content; keys only break ties. */
  objects: {
    /** What the content looks like, for people (the parser's detect() is the authority). */
    content: string;
    /** Object keys as the provider delivers them (AWS's `AWSLogs/<account>/<service>/…`, Azure's `insights-logs-…/`). */
    keyPatterns: readonly RegExp[];
  };
  /**
   * What makes two rows the same event: these columns, within the row's partition (source,
   * account, region, day). Publishing drops a row whose identity the lake (or the same batch)
   * already holds, so the same records read twice (recompressed, renamed, exported another way,
   * or after the manifest was lost) are never doubled. Left out, it is the row's `event_id` alone
   * (DEFAULT_IDENTITY): right for a source whose event id is the provider's own unique id or the
   * hash of the raw record.
   */
  identity?: {
    columns: readonly [IdentityColumn, ...IdentityColumn[]];
    /** What the identity is, for people (e.g. "eventID, with the account and time"). */
    doc: string;
  };
  /** Options a user may give for this source's objects (keyed by name; values reach the parser as ObjectContext.options). */
  options?: Readonly<Record<string, SourceOption>>;
  /**
   * Operations this source logs under another name than the provider's API action, by the name it
   * logs (S3 server access `REST.GET.OBJECT` is the API's `GetObject`): the graph files resource
   * access under the API action, so the same request seen by two logs is one link, not two.
   */
  actions?: Readonly<Record<string, string>>;
  /** What its rows contribute to the graph (see src/core/tables.ts RELATIONS). */
  graph: {
    /** Entity types its rows alone give rise to. */
    entities: readonly EntityType[];
    /** Named relations its rows alone give rise to (resource access, the open relation, aside). */
    relations: readonly Relation[];
    /** Named relations that need another source's rows beside its own. */
    joins?: readonly { source: SourceId; relations: readonly Relation[] }[];
  };
  bench: {
    /** DuckDB readers to compare against (empty: none fits the format). */
    duckdb: readonly DuckDbBaseline[];
    /** A golden file (in `golden/`) the bench repeats into a few megabytes when a sample has no files of this source. */
    golden: { file: string; repeat: 'lines' | 'envelope' };
    /**
     * When the source's sample folder holds several layouts (ELB: ALB access, connection and NLB
     * logs), the sample files (path relative to the sample) in the one layout its DuckDB baseline
     * reads, so both sides read the same files; all the source's files otherwise.
     */
    sampleFiles?: RegExp;
  };
}

/** The identity of a source whose manifest declares none: its rows' event ids. */
export const DEFAULT_IDENTITY: readonly [IdentityColumn, ...IdentityColumn[]] = ['event_id'];

/** The columns that make two of a source's rows the same event (see SourceManifest.identity). */
export function identityColumns(manifest: Pick<SourceManifest, 'identity'>): readonly [IdentityColumn, ...IdentityColumn[]] {
  return manifest.identity?.columns ?? DEFAULT_IDENTITY;
}

/** A manifest, checked against the contract with its table list kept literal (so the parser is held to it). */
export function defineManifest<const T extends SourceTable>(manifest: SourceManifest<T>): SourceManifest<T> {
  return manifest;
}

export interface LogSource<T extends SourceTable = SourceTable> {
  id: SourceId;
  manifest: SourceManifest<T>;
  /** Tables this source writes (its manifest's). */
  tables: readonly T[];
  /**
   * How sure this source is that the sample is its format: 0 (not mine) to 1 (certain).
   * Decide on content first and use the key only to break ties.
   */
  detect(sample: DetectSample): Detection;
  /**
   * Reads one object's decompressed bytes and yields one item per record, streaming:
   * never hold the whole object in memory.
   */
  parse(input: AsyncIterable<Buffer>, ctx: ObjectContext): AsyncIterable<ParsedItem<T>>;
  /**
   * Optional: reads an object whose whole decompressed content is already in memory without an
   * async step per record. Must yield exactly what `parse` yields for `content` given as one chunk
   * with `state` riding on it; null when this content is for `parse` after all.
   */
  parseWhole?(content: Buffer, state: ReadState, ctx: ObjectContext): Iterable<ParsedItem<T>> | null;
  /**
   * The source's SQL mapping, when it has one (etl/sql-ingest.ts): objects it plans are parsed and
   * normalized by DuckDB in batches, straight into the staged rows; the rest, and every object
   * with a line the SQL rejects, are read by `parse`. Both must give the same rows.
   */
  sql?: SqlMapping;
}

/** What a source's SQL mapping says about one object: null (read it with `parse`) or how to read it in SQL. */
export interface SqlPlan {
  /** The lines to read (the content after the lines the plan consumed, e.g. a header line); '' when `records` are given. */
  body: string;
  /** The line number of the body's first line. */
  firstLine: number;
  /**
   * Instead of lines: the object's records, already split by the plan (SqlMapping.recordItems
   * must be given). Each reaches the mapping as one `sql_lines` row (`n`: its 1-based number); a
   * record the mapping does not call valid is read alone by `recordItems`, not the whole object.
   */
  records?: readonly SqlRecord[];
  /** The object's columns (SqlMapping.objectColumns) for the mapping's SQL. */
  values: Readonly<Record<string, string | number | null>>;
}

/** One record of a planned object: its text (the row's `raw`) and its position as the parser names it. */
export interface SqlRecord {
  text: string;
  position: string;
}

/**
 * A source's parse + normalize written once in SQL (DuckDB's dialect). Lines are split by the
 * ingest; the mapping reads the temp table `sql_lines` (obj INTEGER, n INTEGER: line number,
 * line VARCHAR: without its terminator, never empty, line_ok BOOLEAN: within the record limits,
 * and the object columns) and selects, per line: `obj`, `line_ok`, `valid` (false: the object is
 * read by `parse` instead, whole), `time` and every other column of the table it writes by name,
 * `account` and `region` as the row's own values (the ingest makes them partition-safe).
 */
export interface SqlMapping {
  table: TableName;
  /** Columns of the per-object table, by name: their DuckDB types. */
  objectColumns: Readonly<Record<string, 'INTEGER' | 'BIGINT' | 'VARCHAR'>>;
  /** Statements run once per connection before the mapping (CREATE TEMP MACRO …). */
  setup: readonly string[];
  /** The SELECT described above. */
  select: string;
  /** Whether the object (its whole decoded text, UTF-8) is for the SQL path, and how; null: read it with `parse`. */
  plan(text: string, ctx: ObjectContext): SqlPlan | null;
  /**
   * For plans with `records`: the items the parser makes of those records the mapping did not
   * call valid, exactly as `parse` would for them (so their rows, quarantine and counts are its).
   * The mapping's SELECT then also selects `n`.
   */
  recordItems?(records: readonly SqlRecord[], ctx: ObjectContext): Iterable<ParsedItem<SourceTable>>;
  /** Used only when the run asks for every mapping (IngestOptions.sqlIngest 'all'): byte-identical, but not yet faster than the parser. */
  optIn?: true;
}

/** A parser (detect + parse) bound to its manifest: what a folder's parser.ts exports as `source`. */
export function defineSource<T extends SourceTable>(
  manifest: SourceManifest<T>,
  parser: Pick<LogSource<T>, 'detect' | 'parse' | 'parseWhole' | 'sql'>,
): LogSource<T> {
  return {
    id: manifest.id,
    manifest,
    tables: manifest.tables,
    detect: parser.detect,
    parse: parser.parse,
    ...(parser.parseWhole ? { parseWhole: parser.parseWhole } : {}),
    ...(parser.sql ? { sql: parser.sql } : {}),
  };
}
