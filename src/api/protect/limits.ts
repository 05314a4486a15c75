/**
 * Per-caller admission: a token bucket for the request rate and a cap on requests in flight.
 * Both answer at once (no queueing): a refusal carries the Retry-After a 429 needs.
 * Keys are caller subjects (or client addresses before authentication).
 */

export type Admission =
  { ok: true } | { ok: false; status: 429; reason: 'rate_limited' | 'too_many_concurrent'; retryAfterSeconds: number };

export interface RateLimitOptions {
  /** Sustained requests per minute per key; 0 turns the limiter off. */
  perMinute: number;
  /** Requests a key may make at once from a full bucket. */
  burst: number;
  /** Most keys remembered; the least recently seen is forgotten beyond it (default 100 000). */
  maxKeys?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** Token bucket per key: `burst` tokens, refilled at perMinute / 60 per second. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.perMinute >= 0) || !(options.burst >= 1)) throw new Error('rate limit needs perMinute >= 0 and burst >= 1');
    this.perMs = options.perMinute / 60_000;
    this.now = options.now ?? Date.now;
  }

  take(key: string, cost = 1): Admission {
    if (this.options.perMinute === 0) return { ok: true };
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    // Re-inserting keeps the map in least-recently-seen order for eviction.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > (this.options.maxKeys ?? 100_000)) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    return {
      ok: false,
      status: 429,
      reason: 'rate_limited',
      retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / this.perMs / 1000)),
    };
  }

  /** What take() would answer, without taking: for buckets filled by failures (failed sign-ins per address). */
  peek(key: string, cost = 1): Admission {
    if (this.options.perMinute === 0) return { ok: true };
    const bucket = this.buckets.get(key);
    if (!bucket) return { ok: true };
    const tokens = Math.min(this.options.burst, bucket.tokens + (this.now() - bucket.at) * this.perMs);
    if (tokens >= cost) return { ok: true };
    return {
      ok: false,
      status: 429,
      reason: 'rate_limited',
      retryAfterSeconds: Math.max(1, Math.ceil((cost - tokens) / this.perMs / 1000)),
    };
  }

  /** Keys remembered (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}

export interface ConcurrencyLimitOptions {
  /** Requests of one key in flight at once; 0 turns the cap off. */
  perCaller: number;
  /** What a refusal advises (default 1 s: a light query's time). */
  retryAfterSeconds?: number;
}

/** A cap on one key's requests in flight; acquire before running, release when the response is sent. */
export class ConcurrencyLimiter {
  private readonly inFlight = new Map<string, number>();
  private running = 0;

  constructor(private readonly options: ConcurrencyLimitOptions) {}

  tryAcquire(key: string): { ok: true; release: () => void } | Extract<Admission, { ok: false }> {
    const current = this.inFlight.get(key) ?? 0;
    if (this.options.perCaller > 0 && current >= this.options.perCaller)
      return { ok: false, status: 429, reason: 'too_many_concurrent', retryAfterSeconds: this.options.retryAfterSeconds ?? 1 };
    this.inFlight.set(key, current + 1);
    this.running++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(key);
        else this.inFlight.set(key, left);
      },
    };
  }

  /** Requests of a key in flight now. */
  of(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  /** Requests in flight now, all keys (a gauge for metrics). */
  get total(): number {
    return this.running;
  }
}

/** The response parts of a refusal: status, Retry-After, and a GraphQL-shaped body. */
export function tooManyRequests(refusal: Extract<Admission, { ok: false }>): {
  status: 429;
  headers: Record<string, string>;
  body: { errors: { message: string; extensions: { code: string; reason: string; retryAfterSeconds: number } }[] };
} {
  return {
    status: 429,
    headers: { 'retry-after': String(refusal.retryAfterSeconds) },
    body: {
      errors: [
        {
          message:
            refusal.reason === 'rate_limited' ? 'too many requests; slow down' : 'too many requests in flight; wait for one to finish',
          extensions: { code: 'TOO_MANY_REQUESTS', reason: refusal.reason, retryAfterSeconds: refusal.retryAfterSeconds },
        },
      ],
    },
  };
}
