/**
 * From Athena's result text back to values. GetQueryResults returns every cell as a string
 * (VarCharValue; absent for NULL) and names each column's type in ResultSetMetadata.ColumnInfo.
 *
 * Exact: varchar/char, all integer types (as number: exact below 2^53), real/double/decimal
 * (as number: decimals beyond double precision round), boolean, date and timestamp (as Date, read
 * as UTC; timestamp with time zone honours a numeric offset or UTC), json (JSON.parse).
 *
 * Best effort: array, map and row. Athena prints them as `[a, b]`, `{k=v}` and `{f=v}` with no
 * quoting, and ColumnInfo says only "array" / "map" / "row", not the element types. Elements come
 * back as strings, the text `null` as null. Splitting respects balanced brackets and braces, so an
 * element holding JSON text (`[{"a": 1, "b": 2}, …]`) stays one string; a nested array or row stays
 * its text form. An element whose text has ", " (or "=" in a map key) outside brackets is split
 * wrongly. When a query needs exact structured values, select `CAST(x AS JSON)`: the json type
 * parses exactly, on both engines. When ColumnInfo does carry a full type such as `array(bigint)`,
 * elements are converted to it.
 */
import type { SqlValue } from './types';

export function parseAthenaValue(text: string | undefined, athenaType: string): SqlValue {
  if (text === undefined) return null;
  const type = athenaType.trim().toLowerCase();
  const base = type.split(/[\s(]/)[0]; // 'timestamp(3) with time zone' → 'timestamp', 'array(varchar)' → 'array'
  switch (base) {
    case 'varchar':
    case 'char':
    case 'string':
    case 'varbinary':
    case 'time':
    case 'uuid':
    case 'ipaddress':
      return text;
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint':
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'date':
      return parseDate(text) ?? text;
    case 'timestamp':
      return type.includes('with time zone') ? (parseTimestampWithZone(text) ?? text) : (parseTimestamp(text) ?? text);
    case 'json':
      try {
        return JSON.parse(text) as SqlValue;
      } catch {
        return text;
      }
    case 'array':
    case 'map':
    case 'row':
      return parseStructured(text, type);
    default:
      return text;
  }
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?/;

function parseTimestamp(text: string): Date | null {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return null;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, millis));
}

function parseTimestampWithZone(text: string): Date | null {
  const local = parseTimestamp(text);
  if (!local) return null;
  const zone = text.trim().replace(TIMESTAMP_RE, '').trim();
  if (zone === '' || zone === 'UTC' || zone === 'Z' || zone === 'GMT') return local;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!offset) return null; // a named zone such as America/New_York: left as text
  const minutes = (+offset[2] * 60 + +offset[3]) * (offset[1] === '-' ? -1 : 1);
  return new Date(local.getTime() - minutes * 60_000);
}

function parseDate(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
}

/** Element type of `array(T)` or value type of `map(K, V)`, when ColumnInfo gives one. */
function innerTypes(type: string): string[] {
  const open = type.indexOf('(');
  if (open === -1 || !type.endsWith(')')) return [];
  return splitTopLevel(type.slice(open + 1, -1), ',').map((t) => t.trim());
}

function parseStructured(text: string, type: string): SqlValue {
  const base = type.replace(/\(.*$/s, '').trim();
  const inner = innerTypes(type);
  const trimmed = text.trim();
  if (base === 'array' && trimmed.startsWith('[') && trimmed.endsWith(']')) {
    const body = trimmed.slice(1, -1);
    if (body.trim() === '') return [];
    return splitTopLevel(body, ', ').map((element) => parseElement(element, inner[0]));
  }
  if ((base === 'map' || base === 'row') && trimmed.startsWith('{') && trimmed.endsWith('}')) {
    const body = trimmed.slice(1, -1);
    const result: { [key: string]: SqlValue } = {};
    if (body.trim() === '') return result;
    // Row fields are `name type` pairs in a full type; map values share one type.
    const rowTypes =
      base === 'row' ? new Map(inner.map((f) => [f.split(/\s+/)[0].replace(/"/g, ''), f.split(/\s+/).slice(1).join(' ')])) : undefined;
    splitTopLevel(body, ', ').forEach((entry, index) => {
      const eq = indexOfTopLevel(entry, '=');
      const key = eq === -1 ? String(index + 1) : entry.slice(0, eq);
      const value = eq === -1 ? entry : entry.slice(eq + 1);
      result[key] = parseElement(value, base === 'map' ? inner[1] : rowTypes?.get(key));
    });
    return result;
  }
  return text;
}

function parseElement(text: string, type: string | undefined): SqlValue {
  if (text === 'null') return null;
  // Without an element type, `{…}` could be a row or JSON text: keep the text rather than guess.
  return type ? parseAthenaValue(text, type) : text;
}

/** Split on `separator` where no bracket, brace or parenthesis is open. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    else if (ch === ']' || ch === '}' || ch === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function indexOfTopLevel(text: string, ch: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && c === ch) return i;
  }
  return -1;
}
