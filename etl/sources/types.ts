import type { TableName } from '../../src/core/tables';
import type { SourceId } from '../../src/generated/sources';

/** A cell value as a source hands it to the writer; the writer converts it to the column's type. */
export type CellValue = string | number | bigint | boolean | Date | readonly string[] | null | undefined;

/**
 * One normalized row. Keys are column names from etl/tables.ts plus the partition values
 * `account` and `region` (the writer derives `source` and `day`). Missing columns are NULL.
 */
export type Row = Record<string, CellValue>;

export interface TableRow {
  table: TableName;
  row: Row;
}

/**
 * What a source yields for each record it reads. Every input record yields exactly one item,
 * so counts reconcile: records = written + quarantined + filtered.
 */
export type ParsedItem =
  /** A good record: one or more rows (a console login lands in api_activity and authentication). */
  | { kind: 'rows'; rows: TableRow[] }
  /** A record that cannot be parsed or normalized: kept verbatim with where it was and why. */
  | { kind: 'quarantine'; position: string; reason: string; text: string }
  /** A record deliberately not written (a comment or header line is not a record; use this only for declared filters). */
  | { kind: 'filtered'; position: string; reason: string };

/** A record set aside: kept verbatim (`text`) with where it was (`position`) and why (`reason`). */
export function quarantine(position: string, reason: string, text: string): ParsedItem {
  return { kind: 'quarantine', position, reason, text };
}

export interface ObjectContext {
  /** Absolute path or s3:// URL of the object being read. */
  key: string;
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

export interface LogSource {
  id: SourceId;
  /** Tables this source writes. */
  tables: readonly TableName[];
  /**
   * How sure this source is that the sample is its format: 0 (not mine) to 1 (certain).
   * Decide on content first and use the key only to break ties.
   */
  detect(sample: DetectSample): Detection;
  /**
   * Reads one object's decompressed bytes and yields one item per record, streaming:
   * never hold the whole object in memory.
   */
  parse(input: AsyncIterable<Buffer>, ctx: ObjectContext): AsyncIterable<ParsedItem>;
}
