/** Cost bounds of the API: every one configurable, every one enforced with a clear error. */
import type { Window } from './models';
import { apiError } from './errors';

export interface ApiLimits {
  /** Longest window a query may read (days). */
  maxWindowDays: number;
  /** Default window when a lookup gives none: this many days up to the latest data. */
  defaultWindowDays: number;
  /** Largest `first`. */
  maxPageSize: number;
  defaultPageSize: number;
  /** Deepest selection nesting. */
  maxDepth: number;
  /** Estimated result size: each field costs 1, times the page sizes of the lists above it. */
  maxComplexity: number;
  /** Most aliased fields in one document (alias floods multiply cost). */
  maxAliases: number;
  /** Largest document, in characters. */
  maxDocumentChars: number;
  /** Hops `Session.chain` follows. */
  maxChainHops: number;
  /** An HTTP request's engine queries are cancelled after this long. */
  requestTimeoutMs: number;
  /**
   * Engine queries one request runs at once; its others wait for its own to end. Below the pool's
   * size, no single request holds every connection (issue #14: throughput must not follow one
   * request's width).
   */
  maxQueriesPerRequest: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxWindowDays: 31,
  defaultWindowDays: 7,
  maxPageSize: 500,
  defaultPageSize: 50,
  maxDepth: 25,
  maxComplexity: 500_000,
  maxAliases: 50,
  maxDocumentChars: 20_000,
  maxChainHops: 20,
  requestTimeoutMs: 60_000,
  maxQueriesPerRequest: 4,
};

const DAY_MS = 86_400_000;

export function checkWindow(input: { from: unknown; to: unknown }, limits: ApiLimits): Window {
  const from = input.from;
  const to = input.to;
  if (!(from instanceof Date) || !(to instanceof Date))
    throw apiError('window.from and window.to must be ISO 8601 date-times', 'BAD_USER_INPUT');
  if (from.getTime() >= to.getTime()) throw apiError('window.from must be before window.to', 'BAD_USER_INPUT');
  if (to.getTime() - from.getTime() > limits.maxWindowDays * DAY_MS) {
    throw apiError(`window is longer than the ${limits.maxWindowDays} days this server allows; narrow it`, 'WINDOW_TOO_LARGE');
  }
  return { from, to };
}

export function checkFirst(first: number | null | undefined, limits: ApiLimits): number {
  if (first === null || first === undefined) return limits.defaultPageSize;
  if (!Number.isInteger(first) || first < 0) throw apiError('first must be a non-negative integer', 'BAD_USER_INPUT');
  if (first > limits.maxPageSize) throw apiError(`first must be at most ${limits.maxPageSize}; page with after`, 'PAGE_TOO_LARGE');
  return first;
}

/** The window a lookup without one uses: the last defaultWindowDays days ending at the newest data (or now). */
export function defaultWindow(latestDay: string | null, limits: ApiLimits): Window {
  const end = latestDay ? new Date(Date.parse(`${latestDay}T00:00:00Z`) + DAY_MS) : new Date();
  return { from: new Date(end.getTime() - limits.defaultWindowDays * DAY_MS), to: end };
}

/** No identifier, address, action or indicator contains a control character (U+0000–U+001F, U+007F). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Argument strings reach SQL only as parameters; this rejects absurd sizes and control characters
 * early, so every engine sees the same clean values (a NUL ends a string in some SQL parsers).
 */
export function checkText(value: string, what: string): string {
  if (value.length === 0 || value.length > 2048) throw apiError(`${what} must be 1 to 2048 characters`, 'BAD_USER_INPUT');
  if (hasControlCharacter(value)) throw apiError(`${what} must not contain control characters`, 'BAD_USER_INPUT');
  return value;
}
