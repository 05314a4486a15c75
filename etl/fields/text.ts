/**
 * Helpers shared by the line-oriented AWS log sources (VPC flow, S3 server access, ALB / ELB,
 * CloudFront): a tokenizer for space-separated lines with "quoted" and [bracketed] fields, and
 * small value parsers that never throw (times: src/core/time.ts). They run once or more per line over millions of lines,
 * so they scan characters instead of running regular expressions.
 */
const SPACE = 32;
const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_BRACKET = 91; // [

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

/** 'success' below 400, 'failure' from 400, 'unknown' without a status. */
export function httpOutcome(status: number | null): 'success' | 'failure' | 'unknown' {
  if (status === null || status <= 0) return 'unknown';
  return status < 400 ? 'success' : 'failure';
}
