/**
 * Small shared pieces for the JSON log sources (Route 53 Resolver, Entra ID, Azure Activity,
 * NSG flow logs, GCP audit): safe field access on untyped JSON, required fields, and the
 * record loop that turns each JSON record into exactly one ParsedItem.
 */
import { readJsonRecords, type JsonRecordOptions } from '../../readers/json-records';
import { TABLES, type TableName } from '../../../src/core/tables';
import { parseIsoTime } from '../../../src/core/time';
import { quarantine, type ParsedItem, type Row, type TableRow } from '../types';

export type JsonObject = Record<string, unknown>;

/** A record that parsed as JSON but cannot be normalized; its message becomes the quarantine reason. */
export class NormalizeError extends Error {}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty string (numbers are accepted and printed), else undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return undefined;
}

/** An integer from a number or a decimal string ("56067"), else undefined. */
export function int(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number.parseInt(value, 10);
  return undefined;
}

/** A row for `table` with its class_uid filled in; undefined cells are left out. */
export function tableRow(table: TableName, row: Row): TableRow {
  const clean: Row = { class_uid: TABLES[table].classUid };
  for (const [key, value] of Object.entries(row)) if (value !== undefined) clean[key] = value;
  return { table, row: clean };
}

/** Distinct, non-empty strings in first-seen order. */
export function distinct(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

/** The subscription GUID in an Azure resource id, lower-cased so ids join across logs. */
export function azureSubscription(resourceId: string | undefined): string | undefined {
  const match = resourceId ? /\/subscriptions\/([^/]+)/i.exec(resourceId) : null;
  return match ? match[1].toLowerCase() : undefined;
}

/** The first non-space characters of an object: used to tell an Azure `{"records":` envelope from CloudTrail's `{"Records":`. */
export function startsWithEnvelope(head: string, key: string): boolean {
  return new RegExp(`^\\s*\\{\\s*"${key}"\\s*:\\s*\\[`).test(head.replace(/^\uFEFF/, ''));
}

export type Normalizer = (value: unknown, text: string, position: string) => TableRow[];

/**
 * Reads the JSON records of one object and normalizes each into one `rows` item. A record that
 * is not valid JSON, or that the normalizer rejects (NormalizeError), becomes a quarantine item
 * with its position and reason; the records around it are unaffected.
 */
export async function* parseJsonRecords(
  input: AsyncIterable<Buffer>,
  options: JsonRecordOptions,
  normalize: Normalizer,
): AsyncGenerator<ParsedItem> {
  for await (const record of readJsonRecords(input, options)) {
    if (!record.ok) {
      yield quarantine(record.position, record.reason, record.text);
      continue;
    }
    try {
      yield { kind: 'rows', rows: normalize(record.value, record.text, record.position) };
    } catch (err) {
      // A record shaped in a way the normalizer did not foresee must not cost its neighbours.
      const reason = err instanceof NormalizeError ? err.message : `cannot normalize: ${(err as Error).message}`;
      yield quarantine(record.position, reason, record.text);
    }
  }
}

/** Requires a JSON object record. */
export function requireObject(value: unknown, what: string): JsonObject {
  if (!isObject(value))
    throw new NormalizeError(`not a ${what} record: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}

/** Requires a parseable timestamp field. */
export function requireTime(value: unknown, field: string): Date {
  if (value === undefined || value === null || value === '') throw new NormalizeError(`missing ${field}`);
  // Azure and GCP always write a zone (Azure 7 fractional digits, GCP 9): a time without one is not theirs.
  const time = typeof value === 'string' ? parseIsoTime(value.trim(), { missingZone: 'refuse' }) : null;
  if (!time) throw new NormalizeError(`unparseable ${field}: ${JSON.stringify(value).slice(0, 80)}`);
  return time;
}
