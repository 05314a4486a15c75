/**
 * The engine pool of the server: at most `slots` engine queries at once (DuckDB connections, or
 * Athena queries in flight), of which heavy ones (event scans) may take at most
 * `slots - lightReserved`. Light ones (graph lookups, pivots) then always find a slot within a
 * light query's time, however many heavy scans are queued: without the reservation one client's
 * timeline requests fill every connection and a pivot of another client waits behind all of them.
 *
 * Waiters are served first come, first served within their class; a freed slot goes to a light
 * waiter first. A query whose request is aborted while waiting leaves the queue.
 */
import { EngineError, type QueryEngine, type QueryOptions, type QueryResult, type SqlParam, type SqlRow } from '../engine/types';

export interface PoolOptions {
  /** Engine queries running at once. */
  slots: number;
  /** Slots heavy queries may not take. Less than slots. */
  lightReserved: number;
}

interface Waiter {
  heavy: boolean;
  start: () => void;
}

export class EnginePool implements QueryEngine {
  private running = 0;
  private heavyRunning = 0;
  private readonly light: Waiter[] = [];
  private readonly heavy: Waiter[] = [];

  constructor(
    private readonly inner: QueryEngine,
    readonly options: PoolOptions,
  ) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new Error('pool: slots must be a whole number >= 1');
    if (!Number.isInteger(options.lightReserved) || options.lightReserved < 0 || options.lightReserved >= options.slots)
      throw new Error('pool: lightReserved must be >= 0 and less than slots');
  }

  get name() {
    return this.inner.name;
  }

  /** Queries waiting for a slot (the queue depth metric). */
  get waiting(): number {
    return this.light.length + this.heavy.length;
  }

  /** Queries running on the engine now. */
  get active(): number {
    return this.running;
  }

  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options: QueryOptions = {}): Promise<QueryResult<R>> {
    const heavy = options.weight === 'heavy';
    await this.acquire(heavy, options.signal);
    try {
      return await this.inner.query<R>(sql, params, options);
    } finally {
      this.release(heavy);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private canStart(heavy: boolean): boolean {
    if (this.running >= this.options.slots) return false;
    return !heavy || this.heavyRunning < this.options.slots - this.options.lightReserved;
  }

  private take(heavy: boolean): void {
    this.running++;
    if (heavy) this.heavyRunning++;
  }

  private acquire(heavy: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new EngineError('query cancelled', 'QUERY_CANCELLED'));
    const queue = heavy ? this.heavy : this.light;
    // Nobody of this class waits ahead: start now if a slot is free.
    if (queue.length === 0 && this.canStart(heavy)) {
      this.take(heavy);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        heavy,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(new EngineError('query cancelled', 'QUERY_CANCELLED'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  private release(heavy: boolean): void {
    this.running--;
    if (heavy) this.heavyRunning--;
    // Light waiters first: they are what the reservation is for.
    while (this.light.length > 0 && this.canStart(false)) {
      this.take(false);
      this.light.shift()!.start();
    }
    while (this.heavy.length > 0 && this.canStart(true)) {
      this.take(true);
      this.heavy.shift()!.start();
    }
  }
}
