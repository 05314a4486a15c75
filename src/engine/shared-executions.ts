/**
 * One execution for identical statements in flight at once ("single flight").
 *
 * When many callers ask the same thing at the same moment (a SOAR storm on one indicator, a
 * workbench page opened by a whole team), every request builds the very same statement: same SQL,
 * same parameters (the caller's account scope is in both: src/queries/scope.ts), same window and
 * keys. Running it once and handing each caller its own copy of the rows saves the engine's
 * planning and scanning for all but the first.
 *
 * Only statements in flight are shared, never kept after they end, and only at one lake version
 * (`version()`: the commit HEAD; every file the engine reads is published by a commit that moves
 * it): a caller arriving after a commit starts its own execution. Without a version (a lake with
 * no commit chain) nothing is shared.
 */
import { EngineError, type QueryEngine, type QueryOptions, type QueryResult, type SqlParam, type SqlRow } from './types';

interface Flight {
  result: Promise<QueryResult>;
  /** Callers still waiting for it; when every one has given up, the execution is cancelled. */
  waiting: number;
  /** Callers that joined it, ever: one alone takes the rows as they are, several get a copy each. */
  joined: number;
  abort: AbortController;
}

export interface SharedExecutionStats {
  /** Statements sent to the engine. */
  executed: number;
  /** Calls answered by another call's execution. */
  shared: number;
}

export class SharedExecutions implements QueryEngine {
  private readonly flights = new Map<string, Flight>();
  readonly stats: SharedExecutionStats = { executed: 0, shared: 0 };

  constructor(
    private readonly inner: QueryEngine,
    /** The lake version statements read now (the commit HEAD), or null when there is none: then nothing is shared. */
    private readonly version: () => string | null,
  ) {}

  get name() {
    return this.inner.name;
  }

  async query<R extends SqlRow = SqlRow>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<R>> {
    const version = this.version();
    if (version === null) {
      this.stats.executed++;
      return this.inner.query<R>(sql, params, options);
    }
    const { signal } = options;
    if (signal?.aborted) throw new EngineError('query cancelled', 'QUERY_CANCELLED');
    const key = flightKey(version, sql, params, options);
    let flight = this.flights.get(key);
    if (flight) this.stats.shared++;
    else {
      this.stats.executed++;
      const abort = new AbortController();
      const started: Flight = {
        // The execution answers to its own signal, not its first caller's: one caller's deadline
        // must not cancel the statement under the others.
        result: this.inner.query(sql, params, { ...options, signal: abort.signal }).finally(() => {
          if (this.flights.get(key) === started) this.flights.delete(key);
        }),
        waiting: 0,
        joined: 0,
        abort,
      };
      // Its callers see its failure; this only keeps a failure nobody waits for any more (all
      // cancelled) from counting as unhandled.
      started.result.catch(() => undefined);
      flight = started;
      this.flights.set(key, flight);
    }
    const joined = flight;
    joined.waiting++;
    joined.joined++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--joined.waiting === 0) {
        // Nobody wants it any more: cancel it, and let no later caller join a cancelled execution.
        if (this.flights.get(key) === joined) this.flights.delete(key);
        joined.abort.abort();
      }
    };
    try {
      const result = await (signal ? untilAborted(joined.result, signal) : joined.result);
      // The flight has left the map once its result is in (its `finally` ran first), so `joined` is final here.
      return { rows: (joined.joined > 1 ? copyRows(result.rows) : result.rows) as R[], stats: { ...result.stats } };
    } finally {
      leave();
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Everything that decides a statement's rows: the lake version, the SQL text, each parameter with
 * its type (the string '1' and the number 1 bind differently), the window and the keyed read.
 * Labels and weights do not change rows.
 */
function flightKey(version: string, sql: string, params: readonly SqlParam[], options: QueryOptions): string {
  const typed = params.map((p) => {
    if (p === null || p === undefined) return ['null'];
    if (p instanceof Date) return ['date', p.getTime()];
    if (typeof p === 'bigint') return ['bigint', p.toString()];
    return [typeof p, p];
  });
  return JSON.stringify([version, sql, typed, options.days ?? null, options.keyed ?? null]);
}

/** The result's promise, or a cancellation as soon as this caller's signal fires (the execution goes on for the others). */
function untilAborted<T>(result: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new EngineError('query cancelled', 'QUERY_CANCELLED'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new EngineError('query cancelled', 'QUERY_CANCELLED'));
    signal.addEventListener('abort', onAbort, { once: true });
    result.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Each caller gets rows of its own: a resolver changing a row or a Date must not change another caller's. */
function copyRows(rows: readonly SqlRow[]): SqlRow[] {
  return structuredClone(rows as SqlRow[]);
}
