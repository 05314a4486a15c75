/**
 * Helpers shared by the line-oriented AWS log sources (VPC flow, S3 server access, ALB / ELB,
 * CloudFront): a tokenizer for space-separated lines with "quoted" and [bracketed] fields, and
 * small value parsers that never throw. They run once or more per line over millions of lines,
 * so they scan characters instead of running regular expressions.
 */
import { createHash } from 'node:crypto';

const SPACE = 32;
const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_BRACKET = 91; // [
const CLOSE_BRACKET = 93; // ]

/** Why a line could not be tokenized, or null when it could. */
export type TokenizeError = string | null;

/**
 * Splits a space-separated log line into `out` (reused between lines to spare allocations).
 * A field is a bare word, a `"quoted string"` (quotes removed; it may hold spaces) or a
 * `[bracketed value]` (brackets removed). Runs of spaces separate fields.
 *
 * A quoted field ends at a quote that is followed by a space or the end of the line and is
 * not escaped with a backslash: S3 and ALB log user agents and URLs that may contain quotes.
 * Returns an error message for an unterminated quote or bracket, else null.
 */
export function tokenize(line: string, out: string[]): TokenizeError {
  out.length = 0;
  const n = line.length;
  let pos = 0;
  while (pos < n) {
    const c = line.charCodeAt(pos);
    if (c === SPACE) {
      pos++;
      continue;
    }
    if (c === QUOTE) {
      let close = line.indexOf('"', pos + 1);
      while (close !== -1) {
        const next = close + 1 < n ? line.charCodeAt(close + 1) : SPACE;
        if (next === SPACE && line.charCodeAt(close - 1) !== BACKSLASH) break;
        close = line.indexOf('"', close + 1);
      }
      if (close === -1) return `unterminated quoted field starting at column ${pos + 1}`;
      out.push(line.slice(pos + 1, close));
      pos = close + 1;
      continue;
    }
    if (c === OPEN_BRACKET) {
      const close = line.indexOf(']', pos + 1);
      if (close === -1) return `unterminated [bracketed] field starting at column ${pos + 1}`;
      out.push(line.slice(pos + 1, close));
      pos = close + 1;
      continue;
    }
    let end = line.indexOf(' ', pos);
    if (end === -1) end = n;
    out.push(line.slice(pos, end));
    pos = end;
  }
  return null;
}

/** `-` (and the empty string) mean "no value" in every AWS access log. */
export function text(value: string | undefined): string | null {
  return value === undefined || value === '-' || value === '' ? null : value;
}

/**
 * A non-negative or negative decimal integer, or: null for `-` / missing, NaN for anything else
 * (callers turn NaN into a quarantine reason). Hand-rolled because Number('') is 0 and
 * parseInt('12abc') is 12.
 */
export function integer(value: string | undefined): number | null {
  if (value === undefined || value === '-' || value === '') return null;
  let i = 0;
  let sign = 1;
  if (value.charCodeAt(0) === 45 /* - */) {
    sign = -1;
    i = 1;
    if (value.length === 1) return NaN;
  }
  let result = 0;
  for (; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    result = result * 10 + d;
  }
  return sign * result;
}

/** A decimal number (`0.001`, `-1`), null for `-` / missing, NaN for anything else. */
export function decimal(value: string | undefined): number | null {
  if (value === undefined || value === '-' || value === '') return null;
  const c = value.charCodeAt(0);
  // Number() accepts hex, 'Infinity' and whitespace; insist on a digit, sign or dot up front.
  if (!((c >= 48 && c <= 57) || c === 45 || c === 46)) return NaN;
  return Number(value);
}

function digits(s: string, from: number, count: number): number {
  let result = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    result = result * 10 + d;
  }
  return result;
}

/**
 * `2018-07-02T22:23:00.186641Z` (any number of fraction digits, `Z` or `±hh:mm`, or no zone for
 * UTC) → Date; null when it is not such a timestamp. Date.parse is avoided: it accepts too much
 * and reads zone-less times as local time.
 */
export function isoTime(value: string | undefined): Date | null {
  if (!value || value.length < 19) return null;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return null;
  const sep = value.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 32) return null;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  let pos = 19;
  let millis = 0;
  if (value.charCodeAt(pos) === 46 /* . */) {
    pos++;
    let scale = 100;
    while (pos < value.length) {
      const d = value.charCodeAt(pos) - 48;
      if (d < 0 || d > 9) break;
      millis += d * scale;
      scale /= 10;
      pos++;
    }
    millis = Math.floor(millis);
  }
  let offsetMinutes = 0;
  if (pos < value.length) {
    const z = value.charCodeAt(pos);
    if (z === 90 /* Z */ && pos === value.length - 1) {
      // UTC
    } else if ((z === 43 || z === 45) && value.length - pos === 6 && value.charCodeAt(pos + 3) === 58) {
      offsetMinutes = (z === 45 ? -1 : 1) * (digits(value, pos + 1, 2) * 60 + digits(value, pos + 4, 2));
    } else return null;
  }
  return utcDate(year, month, day, hour, minute, second, millis, offsetMinutes);
}

function utcDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): Date | null {
  if (![year, month, day, hour, minute, second, offsetMinutes].every(Number.isFinite)) return null;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  // Date.UTC would roll 31 Feb over into March; such a day is not a valid timestamp.
  if (day > daysInMonth(year, month)) return null;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1];
}

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};

/** Common-log-format time without brackets: `06/Feb/2019:00:00:38 +0000` → Date, else null. */
export function clfTime(value: string | undefined): Date | null {
  if (!value || value.length !== 26) return null;
  if (value.charCodeAt(2) !== 47 || value.charCodeAt(6) !== 47 || value.charCodeAt(11) !== 58 || value.charCodeAt(20) !== 32) return null;
  const month = MONTHS[value.slice(3, 6)];
  if (month === undefined) return null;
  const sign = value.charCodeAt(21);
  if (sign !== 43 && sign !== 45) return null;
  const offset = (sign === 45 ? -1 : 1) * (digits(value, 22, 2) * 60 + digits(value, 24, 2));
  return utcDate(
    digits(value, 7, 4),
    month,
    digits(value, 0, 2),
    digits(value, 12, 2),
    digits(value, 15, 2),
    digits(value, 18, 2),
    0,
    offset,
  );
}

/** Epoch seconds (`1418530010`) → Date, null for `-`, undefined when not a number. */
export function epochSeconds(value: string | undefined): Date | null | undefined {
  const seconds = integer(value);
  if (seconds === null) return null;
  return Number.isNaN(seconds) ? undefined : new Date(seconds * 1000);
}

/**
 * Percent-decodes a URL component without throwing: a malformed escape (`%E0%A4%A`) leaves the
 * value as logged. With `plusIsSpace`, `+` is a space first (S3 logs keys form-encoded).
 */
export function urlDecode(value: string, plusIsSpace = false): string {
  const spaced = plusIsSpace && value.includes('+') ? value.replace(/\+/g, ' ') : value;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** The path of a request target (`http://host:80/a%20b?x=1` or `/a%20b?x=1`), decoded; null if none. */
export function urlPath(target: string | null): string | null {
  if (!target) return null;
  let start = 0;
  const scheme = target.indexOf('://');
  if (scheme !== -1 && scheme < 10) {
    start = target.indexOf('/', scheme + 3);
    if (start === -1) return '/';
  }
  let end = target.indexOf('?', start);
  if (end === -1) end = target.length;
  const path = target.slice(start, end);
  return path ? urlDecode(path) : null;
}

/** The host of an absolute URL without its port (`http://www.example.com:80/` → `www.example.com`). */
export function urlHost(target: string | null): string | null {
  if (!target) return null;
  const scheme = target.indexOf('://');
  if (scheme === -1 || scheme > 10) return null;
  const from = scheme + 3;
  let end = target.length;
  for (let i = from; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) {
      end = i;
      break;
    }
  }
  const authority = target.slice(from, end);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(0, close + 1);
  }
  const colon = authority.lastIndexOf(':');
  const host = colon === -1 ? authority : authority.slice(0, colon);
  return host || null;
}

/** A request line `METHOD target VERSION`; the target may itself hold spaces (bad clients send them). */
export interface RequestLine {
  method: string | null;
  target: string | null;
  version: string | null;
}

export function requestLine(value: string | null): RequestLine {
  if (!value) return { method: null, target: null, version: null };
  const first = value.indexOf(' ');
  if (first === -1) return { method: text(value), target: null, version: null };
  const last = value.lastIndexOf(' ');
  const method = text(value.slice(0, first));
  if (last === first) return { method, target: text(value.slice(first + 1)), version: null };
  return { method, target: text(value.slice(first + 1, last).trim()), version: text(value.slice(last + 1)) };
}

/** `192.0.2.1:443`, `[2001:db8::1]:443` or `2001:db8::1:443` → address and port; `-` → nulls. */
export function hostPort(value: string | undefined): { ip: string | null; port: number | null } {
  if (value === undefined || value === '-' || value === '') return { ip: null, port: null };
  const colon = value.lastIndexOf(':');
  if (colon === -1) return { ip: value, port: null };
  const port = integer(value.slice(colon + 1));
  let ip = value.slice(0, colon);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  return { ip: ip || null, port: port === null || Number.isNaN(port) ? null : port };
}

/** A stable id for records whose provider gives none: the sha1 of the raw record text. */
export function sha1(value: string): string {
  return createHash('sha1').update(value).digest('hex');
}

/** 'success' below 400, 'failure' from 400, 'unknown' without a status. */
export function httpOutcome(status: number | null): 'success' | 'failure' | 'unknown' {
  if (status === null || status <= 0) return 'unknown';
  return status < 400 ? 'success' : 'failure';
}
