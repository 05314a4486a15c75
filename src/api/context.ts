/** Per-request state: who is asking, what they may see, the engine (counted), the loaders. */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../engine/types';
import { AccountScope } from '../queries/scope';
import { ANONYMOUS_CALLER, type Caller } from './auth/caller';
import type { ApiLimits } from './limits';
import type { Window } from './models';
import { createLoaders, type Loaders } from './loaders';

export { ANONYMOUS_CALLER, type Caller } from './auth/caller';

export interface RequestStats {
  engine: string;
  queries: number;
  millis: number;
  bytesScanned: number;
  /** Rows the engine returned (for the audit trail). */
  rows: number;
  labels: string[];
}

/** Wraps the engine so every query of a request is counted and timed. */
export class CountingEngine implements QueryEngine {
  readonly stats: RequestStats;
  constructor(private readonly inner: QueryEngine) {
    this.stats = { engine: inner.name, queries: 0, millis: 0, bytesScanned: 0, rows: 0, labels: [] };
  }
  get name() {
    return this.inner.name;
  }
  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    this.stats.queries += 1;
    if (options?.label) this.stats.labels.push(options.label);
    const result = await this.inner.query<R>(sql, params, options);
    this.stats.millis += result.stats.millis;
    this.stats.bytesScanned += result.stats.bytesScanned;
    this.stats.rows += result.rows.length;
    return result;
  }
  close(): Promise<void> {
    return Promise.resolve(); // the shared engine outlives requests
  }
}

export interface RequestContext {
  engine: CountingEngine;
  caller: Caller;
  /** The accounts this request reads: every statement is built for, and filtered by, this scope. */
  scope: AccountScope;
  limits: ApiLimits;
  /** Used by lookups that give no window. */
  defaultWindow: Window;
  loaders: Loaders;
  signal?: AbortSignal;
  /** What the server learns while running the request, for its audit line (shared: Apollo copies the context). */
  notes: { operationName?: string | null; refusal?: string };
}

export function createContext(options: {
  engine: QueryEngine;
  caller?: Caller;
  /** Default: the caller's whole grant. */
  accounts?: readonly string[] | '*';
  limits: ApiLimits;
  defaultWindow: Window;
  signal?: AbortSignal;
}): RequestContext {
  const engine = new CountingEngine(options.engine);
  const caller = options.caller ?? ANONYMOUS_CALLER;
  const scope = AccountScope.of(options.accounts ?? caller.accounts);
  const ctx = {
    engine,
    caller,
    scope,
    limits: options.limits,
    defaultWindow: options.defaultWindow,
    signal: options.signal,
    notes: {},
  } as RequestContext;
  ctx.loaders = createLoaders(ctx);
  return ctx;
}
