/**
 * What one request cost and what it could not find, for `extensions` of its response.
 *
 * Engine calls of one request run concurrently (a pivot level's loaders go out together), so their
 * times cannot be added up as the request's time: `millis` is the request's own wall time, from its
 * start to its answer, and `engineMillis` the sum over its engine calls (both honest, and different
 * on purpose). With `debug` (the request's `extensions: { "debug": true }`), each engine call is
 * listed with its label, start (ms after the request began), duration, bytes scanned and rows.
 */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../engine/types';

export interface EngineCall {
  label: string;
  /** Milliseconds after the request began that the call was made. */
  startMillis: number;
  millis: number;
  bytesScanned: number;
  rows: number;
}

/** Something a request looked up and did not find, said so instead of a bare null. */
export interface NotFound {
  /** The field or argument that named it (`ip`, `identity`, `filter.identity`…). */
  field: string;
  /** The text looked up. */
  value: string;
  /** What it was looked up as, in order (Identity by id, by name, by access key…). */
  lookedUpAs: string[];
  window: { from: string; to: string };
}

export interface RequestStats {
  engine: string;
  queries: number;
  /** Sum of the engine calls' own times (they overlap: not the request's time). */
  millis: number;
  bytesScanned: number;
  rows: number;
  labels: string[];
}

export class RequestReport {
  readonly calls: EngineCall[] = [];
  readonly notFound: NotFound[] = [];
  private readonly started = performance.now();

  constructor(readonly engine: string) {}

  /** Milliseconds since the request began. */
  elapsed(): number {
    return performance.now() - this.started;
  }

  noteNotFound(entry: NotFound): void {
    const same = (e: NotFound) => e.field === entry.field && e.value === entry.value && e.window.from === entry.window.from;
    if (!this.notFound.some(same)) this.notFound.push(entry);
  }

  get stats(): RequestStats {
    return {
      engine: this.engine,
      queries: this.calls.length,
      millis: this.calls.reduce((sum, c) => sum + c.millis, 0),
      bytesScanned: this.calls.reduce((sum, c) => sum + c.bytesScanned, 0),
      rows: this.calls.reduce((sum, c) => sum + c.rows, 0),
      labels: this.calls.map((c) => c.label),
    };
  }

  /** The response's `extensions` entries: `stats` always, `notFound` when something was not found. */
  extensions(options: { debug: boolean }): Record<string, unknown> {
    const round = (n: number) => Math.round(n * 10) / 10;
    const stats = this.stats;
    return {
      stats: {
        engine: this.engine,
        millis: round(this.elapsed()),
        queries: stats.queries,
        engineMillis: round(stats.millis),
        bytesScanned: stats.bytesScanned,
        rows: stats.rows,
        ...(options.debug ? { calls: this.calls.map((c) => ({ ...c, startMillis: round(c.startMillis), millis: round(c.millis) })) } : {}),
      },
      ...(this.notFound.length > 0 ? { notFound: this.notFound } : {}),
    };
  }
}

/**
 * Wraps the engine so every call of a request is recorded in its report, and runs at most
 * `maxInFlight` of the request's calls at once (ApiLimits.maxQueriesPerRequest): the others wait
 * for one of the request's own calls to end, so one wide request (many aliased pivots, a level of
 * many loaders) cannot take every connection of the pool while other callers' requests queue.
 */
export class CountingEngine implements QueryEngine {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly inner: QueryEngine,
    readonly report: RequestReport,
    private readonly maxInFlight = Infinity,
  ) {}

  get name() {
    return this.inner.name;
  }

  /** The request's totals so far (engine time summed over calls). */
  get stats(): RequestStats {
    return this.report.stats;
  }

  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    let result: QueryResult<R>;
    const startMillis = this.report.elapsed();
    try {
      result = await this.inner.query<R>(sql, params, options);
    } finally {
      // The slot passes straight to the request's next waiting call, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
    this.report.calls.push({
      label: options?.label ?? '?',
      startMillis,
      millis: result.stats.millis,
      bytesScanned: result.stats.bytesScanned,
      rows: result.rows.length,
    });
    return result;
  }

  close(): Promise<void> {
    return Promise.resolve(); // the shared engine outlives requests
  }
}
