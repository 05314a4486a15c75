/**
 * Safe field access on untyped JSON records (CloudTrail and the JSON sources: Route 53 Resolver,
 * Entra ID, Azure Activity, NSG flow logs, GCP audit), and the errors that turn a record into a
 * quarantine item. Every accessor returns null for "not there", the lake's NULL.
 */
import { parseIsoTime } from '../../src/core/time';

export type JsonObject = Record<string, unknown>;

/** A record that parsed as JSON but cannot be normalized; its message becomes the quarantine reason. */
export class NormalizeError extends Error {}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): JsonObject | null {
  return isObject(value) ? value : null;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty string (numbers are accepted and printed: Azure writes some ids either way), else null. */
export function str(value: unknown): string | null {
  if (typeof value === 'string') return value.length ? value : null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A non-empty string, else null: numbers are not taken for text (CloudTrail logs `""` for withheld values such as accessKeyId). */
export function asString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return null;
}

/** An integer from a number or a decimal string ("56067"), else null. */
export function int(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number.parseInt(value, 10);
  return null;
}

/** Distinct, non-empty strings in first-seen order. */
export function distinct(values: readonly (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

/** The subscription GUID in an Azure resource id, lower-cased so ids join across logs. */
export function azureSubscription(resourceId: string | null): string | null {
  const match = resourceId ? /\/subscriptions\/([^/]+)/i.exec(resourceId) : null;
  return match ? match[1].toLowerCase() : null;
}

/** Requires a JSON object record. */
export function requireObject(value: unknown, what: string): JsonObject {
  if (!isObject(value))
    throw new NormalizeError(`not a ${what} record: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}

/** Requires a parseable timestamp field with its zone (Azure writes 7 fractional digits, GCP 9; both always a zone). */
export function requireTime(value: unknown, field: string): Date {
  if (value === undefined || value === null || value === '') throw new NormalizeError(`missing ${field}`);
  const time = typeof value === 'string' ? parseIsoTime(value.trim(), { missingZone: 'refuse' }) : null;
  if (!time) throw new NormalizeError(`unparseable ${field}: ${JSON.stringify(value).slice(0, 80)}`);
  return time;
}
