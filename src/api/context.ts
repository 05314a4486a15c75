/** Per-request state: who is asking, what they may see, the engine (counted), the loaders. */
import type { QueryEngine } from '../engine/types';
import type { AuditChange } from './audit/record';
import { AccountScope } from '../queries/scope';
import { ANONYMOUS_CALLER, type Caller } from './auth/caller';
import type { ApiLimits } from './limits';
import type { Window } from './models';
import { createLoaders, type Loaders } from './loaders';
import { CountingEngine, RequestReport } from './stats';
import type { InvestigationStore } from './investigations/store';

export { CountingEngine, type RequestStats } from './stats';

export { ANONYMOUS_CALLER, type Caller } from './auth/caller';

export interface RequestContext {
  engine: CountingEngine;
  caller: Caller;
  /** The accounts this request reads: every statement is built for, and filtered by, this scope. */
  scope: AccountScope;
  limits: ApiLimits;
  /** Used by lookups that give no window. */
  defaultWindow: Window;
  /** Where people reach the server (config server.publicUrl, no trailing slash); null: links are relative. */
  publicUrl: string | null;
  loaders: Loaders;
  signal?: AbortSignal;
  /** Where investigations keep their pins and notes (null: this server keeps none). */
  investigations: InvestigationStore | null;
  /** What the server learns while running the request, for its audit line (shared: Apollo copies the context). */
  notes: { operationName?: string | null; refusal?: string; changes?: AuditChange[] };
  /** What the request cost (engine calls) and what it looked up in vain: its response's extensions. */
  report: RequestReport;
}

export function createContext(options: {
  engine: QueryEngine;
  caller?: Caller;
  /** Default: the caller's whole grant. */
  accounts?: readonly string[] | '*';
  limits: ApiLimits;
  defaultWindow: Window;
  publicUrl?: string | null;
  signal?: AbortSignal;
  investigations?: InvestigationStore | null;
}): RequestContext {
  const report = new RequestReport(options.engine.name);
  const engine = new CountingEngine(options.engine, report, options.limits.maxQueriesPerRequest);
  const caller = options.caller ?? ANONYMOUS_CALLER;
  const scope = AccountScope.of(options.accounts ?? caller.accounts);
  const ctx = {
    engine,
    caller,
    scope,
    limits: options.limits,
    defaultWindow: options.defaultWindow,
    publicUrl: options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : null,
    signal: options.signal,
    investigations: options.investigations ?? null,
    notes: {},
    report,
  } as RequestContext;
  ctx.loaders = createLoaders(ctx);
  return ctx;
}
