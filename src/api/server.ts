/**
 * The GraphQL API: Apollo Server 5 over any QueryEngine, served over node:http together with the
 * self-hosted explorer, health and metrics endpoints. Each request gets its own context (caller,
 * account scope, loaders, counted engine), and its stats come back in `extensions.stats`.
 *
 * GET /api/context/{indicator} (rest/context.ts) runs one fixed document the same way and answers
 * plain JSON; its OpenAPI document is at /api/openapi.json.
 *
 * A GraphQL request passes, in order: the Host allow-list (421), CORS, authentication (401 / 403 /
 * 503, failures counted per client address), the caller's rate limit and in-flight cap (429), the
 * body and the persisted-query registry, authorization by role (403), the account scope (403 for an
 * account outside the grant), execution under the request deadline, and one audit line; a request
 * whose audit line cannot be written is answered 503, never served unrecorded.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, Kind, OperationTypeNode, type FormattedExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { QueryEngine } from '../engine/types';
import { serveExplorer, wantsExplorer, SECURITY_HEADERS } from '../explorer/page';
import { serveWorkbench } from '../workbench/serve';
import type { AuditOutcome, AuditRequest } from './audit/record';
import { ANONYMOUS_CALLER, type Caller } from './auth/caller';
import { Authenticator } from './auth/authenticate';
import { authorize, mayWrite, scopeAccounts, type AuthorizationPolicy } from './auth/authorize';
import type { InvestigationStore } from './investigations/store';
import { failureBody, wwwAuthenticate, type AuthFailure } from './auth/result';
import { createContext, type RequestContext } from './context';
import { checkDocumentCost } from './cost';
import { errorFormatter } from './errors';
import { DefaultWindowAnchor } from './lake-anchor';
import { DEFAULT_LIMITS, type ApiLimits } from './limits';
import type { ApiMetrics } from './metrics';
import type { Window } from './models';
import { resolveDocument, sha256, type GraphQLRequestFields, type PersistedQueries, type PersistedQuery } from './persisted';
import { accountsNamed } from './protect/accounts';
import { checkHost, clientAddress, corsHeaders, type HostPolicy } from './protect/host';
import { tooManyRequests, type ConcurrencyLimiter, type RateLimiter } from './protect/limits';
import { resolvers } from './resolvers/index';
import { CONTEXT_OPERATION, CONTEXT_PATH, readContextRequest, soarContextOf, statusOfCode } from './rest/context';
import { openApiDocument } from './rest/openapi';
import { loadTypeDefs } from './schema';

/** Where request lines go: the audit trail (src/api/audit), or anything with its append. */
export interface AuditSink {
  append(request: AuditRequest): Promise<unknown>;
  /** Set once the sink can no longer write: requests are then refused with 503. */
  readonly failed?: Error | null;
  /** True when append() resolves only once the line is stored (local files); false when lines are batched (S3). */
  readonly durableOnAppend?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** The service around the API: who may ask, how often, what is recorded. Absent parts are off. */
export interface ServiceOptions {
  /** Default: `auth: none` (every request is the anonymous local caller). */
  authenticator?: Authenticator;
  policy?: AuthorizationPolicy;
  /** Persisted queries (by name and sha256). */
  registry?: PersistedQueries | null;
  audit?: AuditSink | null;
  /** Per caller subject. */
  rateLimiter?: RateLimiter | null;
  /** Per caller subject. */
  concurrency?: ConcurrencyLimiter | null;
  /** Per client address, taken on each failed sign-in; an empty bucket refuses sign-ins with 429. */
  failedSignIns?: RateLimiter | null;
  /** Host header allow-list (DNS rebinding); default: any host. */
  hosts?: HostPolicy | null;
  corsOrigins?: readonly string[];
  /** Client address from X-Forwarded-For (behind a load balancer). */
  trustProxy?: boolean;
  metrics?: ApiMetrics | null;
  logger?: Logger | null;
  /** /readyz: engine reachable, lake readable, audit writable. Default: ready while not shutting down. */
  readiness?: () => Promise<ReadinessReport>;
  /** On close(), in-flight requests get this long to finish before they are cancelled (default 30 s). */
  shutdownGraceMs?: number;
}

export interface ApiOptions {
  engine: QueryEngine;
  limits?: Partial<ApiLimits>;
  /** Newest day with data (YYYY-MM-DD), for the default window of lookups without one. */
  latestDay?: () => string | null;
  /** Where people reach the server (config server.publicUrl): the base of workbench links. */
  publicUrl?: string | null;
  /** Receives errors hidden from callers (engine failures, bugs), for the operator's log. */
  onError?: (error: unknown) => void;
  service?: ServiceOptions;
  /** Where investigations keep their pins and notes (the lake's `_investigations/`); absent: none are kept. */
  investigations?: InvestigationStore | null;
  /** More Apollo plugins (the lake integrity check: src/api/lake-integrity.ts). */
  plugins?: ApolloServerPlugin<RequestContext>[];
}

export interface ExecuteResult extends FormattedExecutionResult {
  http?: { status: number };
}

export interface Listening {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the grace time), then closes. */
  close: () => Promise<void>;
}

const statsPlugin = (limits: ApiLimits): ApolloServerPlugin<RequestContext> => ({
  async requestDidStart() {
    return {
      async didResolveOperation({ schema, operation, document, request, source, contextValue }) {
        // Errors thrown before this hook are not reported as GraphQL errors, so the size check lives here
        // (parsing itself is bounded by parseOptions.maxTokens).
        if (source.length > limits.maxDocumentChars) {
          throw new GraphQLError(`document is longer than ${limits.maxDocumentChars} characters`, {
            extensions: { code: 'DOCUMENT_TOO_LARGE', http: { status: 400 } },
          });
        }
        if (!operation) return;
        contextValue.notes.operationName = operation.name?.value ?? null;
        // Writes are for roles that may write, checked before any resolver runs.
        if (operation.operation === OperationTypeNode.MUTATION && !mayWrite(contextValue.caller)) {
          contextValue.notes.refusal = 'read_only_role';
          throw new GraphQLError(`the ${contextValue.caller.role} role may not write`, {
            extensions: { code: 'FORBIDDEN', reason: 'read_only_role', http: { status: 403 } },
          });
        }
        const variables = request.variables ?? {};
        // An account named outright must be one the caller may read.
        const outside = accountsNamed(schema, document, operation, variables).filter((a) => !contextValue.scope.permits(a));
        if (outside.length > 0) {
          contextValue.notes.refusal = 'forbidden_account';
          throw new GraphQLError(`account ${outside.join(', ')} is outside the accounts this caller may read`, {
            extensions: { code: 'FORBIDDEN', reason: 'forbidden_account', http: { status: 403 } },
          });
        }
        const fragments = Object.fromEntries(
          document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
        );
        checkDocumentCost(schema, operation, fragments, variables, limits);
      },
      async willSendResponse({ request, response, contextValue }) {
        if (response.body.kind !== 'single' || !contextValue?.report) return;
        // Request stats (wall time, engine calls, bytes, rows; each call with `debug`) and what was not found.
        const debug = request.extensions?.debug === true;
        response.body.singleResult.extensions = { ...response.body.singleResult.extensions, ...contextValue.report.extensions({ debug }) };
      },
    };
  },
});

const JSON_TYPE = 'application/json; charset=utf-8';

/** An answer to send: status, body text, headers. */
interface Answer {
  status: number;
  text: string;
  headers: Record<string, string>;
}

/** What a request runs once its caller is known (its document, which persisted operation, how to run it), or why it cannot. */
type Prepared =
  | { ok: false; status: number; code: string; message: string }
  | {
      ok: true;
      variables: Record<string, unknown> | null;
      operationName: string | null;
      /** The document's text (undefined: the request sent none; Apollo answers that). */
      query: string | undefined;
      persisted: PersistedQuery | null;
      run: (ctx: RequestContext) => Promise<Answer>;
    };

const methodNotAllowed = (allowed: string) => ({
  errors: [{ message: `this route answers ${allowed}`, extensions: { code: 'METHOD_NOT_ALLOWED' } }],
});

export class ScoutApi {
  readonly limits: ApiLimits;
  readonly apollo: ApolloServer<RequestContext>;
  private started: Promise<void> | null = null;
  private readonly service: ServiceOptions;
  private readonly authenticator: Authenticator;
  private readonly inFlight = new Set<AbortController>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly anchor: DefaultWindowAnchor;

  constructor(private readonly options: ApiOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.anchor = new DefaultWindowAnchor(options.engine, this.limits, () => options.latestDay?.() ?? null);
    this.service = options.service ?? {};
    this.authenticator = this.service.authenticator ?? new Authenticator({ mode: 'none' });
    this.apollo = new ApolloServer<RequestContext>({
      typeDefs: loadTypeDefs(),
      resolvers,
      formatError: errorFormatter(options.onError),
      includeStacktraceInErrorResponses: false,
      introspection: true,
      // The registry (persisted.ts) answers persisted queries; Apollo's own cache would let any
      // caller register documents under a hash.
      persistedQueries: false,
      parseOptions: { maxTokens: 10_000 },
      plugins: [ApolloServerPluginLandingPageDisabled(), statsPlugin(this.limits), ...(options.plugins ?? [])],
    });
  }

  private start(): Promise<void> {
    this.started ??= this.apollo.start();
    return this.started;
  }

  /** The window of lookups that give none: the latest days of the lake's real data (src/api/lake-anchor.ts). */
  defaultWindow(): Window {
    return this.anchor.window();
  }

  context(caller: Caller = ANONYMOUS_CALLER, signal?: AbortSignal, accounts?: readonly string[] | '*'): RequestContext {
    return createContext({
      engine: this.options.engine,
      caller,
      accounts,
      limits: this.limits,
      defaultWindow: this.defaultWindow(),
      publicUrl: this.options.publicUrl ?? null,
      signal,
      investigations: this.options.investigations ?? null,
    });
  }

  /** Runs one operation in-process (CLI `query`, tests) as the caller given (default: the anonymous local one); `debug` lists each engine call in `extensions.stats`. */
  async execute(
    document: string,
    variables?: Record<string, unknown>,
    caller?: Caller,
    options: { debug?: boolean } = {},
  ): Promise<ExecuteResult> {
    await this.start();
    await this.anchor.refresh();
    const extensions = options.debug ? { debug: true } : undefined;
    const response = await this.apollo.executeOperation({ query: document, variables, extensions }, { contextValue: this.context(caller) });
    if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported');
    return { ...response.body.singleResult, http: { status: response.http.status ?? 200 } };
  }

  /** Requests being handled now. */
  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** Serves POST/GET /graphql, the explorer at /, the workbench at /ui/, /healthz, /readyz and /metrics on node:http. */
  async listen(options: { port: number; host: string }): Promise<Listening> {
    await this.start();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.service.logger?.error({ err }, 'request failed');
        this.options.onError?.(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE });
        res.end(JSON.stringify({ errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, options)));
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { server, url: `http://${host}:${address.port}`, close: () => this.shutdown(server) };
  }

  /** Graceful: stop accepting, answer /readyz 503, let in-flight requests finish, cancel what is left at the grace time. */
  private async shutdown(server: Server): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = this.service.shutdownGraceMs ?? 30_000;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), grace)));
      if ((await Promise.race([idle, late])) === 'late') {
        this.service.logger?.warn({ requests: this.inFlight.size }, 'shutdown grace time over: cancelling requests in flight');
        for (const abort of this.inFlight) abort.abort();
        await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 5000))]);
      }
      clearTimeout(timer);
    }
    server.closeAllConnections();
    await closed;
  }

  private track(abort: AbortController): () => void {
    this.inFlight.add(abort);
    return () => {
      this.inFlight.delete(abort);
      if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    await this.anchor.refresh();
    const path = url.pathname;
    // Probes first: a load balancer's health check names the target by address, not by the public name.
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') return this.readyz(res);

    if (this.service.hosts) {
      const host = checkHost(req.headers.host, this.service.hosts);
      if (!host.ok)
        return sendJson(res, 421, {
          errors: [
            { message: 'this server does not answer for that host name', extensions: { code: 'MISDIRECTED_REQUEST', reason: host.reason } },
          ],
        });
    }
    if (path === '/metrics') return this.metrics(req, res);
    if (path === '/api/openapi.json') {
      if (req.method !== 'GET') return sendJson(res, 405, methodNotAllowed('GET'), { allow: 'GET' });
      return sendJson(res, 200, openApiDocument({ publicUrl: this.options.publicUrl }));
    }
    if (path.startsWith(CONTEXT_PATH)) {
      const cors = corsHeaders(single(req.headers.origin), this.service.corsOrigins ?? [], req.method === 'OPTIONS');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors.headers);
        res.end();
        return;
      }
      if (req.method !== 'GET') return sendJson(res, 405, methodNotAllowed('GET'), { allow: 'GET', ...cors.headers });
      return this.serve(req, res, url, cors.headers, (r, u) => this.prepareContext(r, u));
    }
    if (path !== '/graphql') {
      if (req.method === 'GET' && serveExplorer(path, res, () => this.explorerWindow())) return;
      if (req.method === 'GET' && (await serveWorkbench(path, res))) return;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end('not found\n');
      return;
    }
    // A browser opening /graphql gets the explorer, not a refusal meant for scripts.
    if (req.method === 'GET' && wantsExplorer(req.headers.accept, url.searchParams)) {
      serveExplorer('/', res, () => this.explorerWindow());
      return;
    }
    const cors = corsHeaders(single(req.headers.origin), this.service.corsOrigins ?? [], req.method === 'OPTIONS');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors.headers);
      res.end();
      return;
    }
    await this.serve(req, res, url, cors.headers, (r, u) => this.prepareGraphql(r, u));
  }

  private explorerWindow(): Window {
    return this.defaultWindow();
  }

  private async readyz(res: ServerResponse): Promise<void> {
    if (this.draining) return sendJson(res, 503, { status: 'shutting down' });
    const checked = this.service.readiness ? await this.service.readiness() : { ready: true, checks: {} };
    const report = { ready: checked.ready, checks: { ...checked.checks } };
    const auditFailure = this.service.audit?.failed;
    if (auditFailure) {
      report.ready = false;
      report.checks.audit = { ok: false, detail: 'the audit trail cannot be written' };
    }
    sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  }

  /** Prometheus text; with auth on, for admin callers only (a scraper sends an admin API key). */
  private async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const metrics = this.service.metrics;
    if (!metrics) return sendJson(res, 404, { errors: [{ message: 'metrics are off', extensions: { code: 'NOT_FOUND' } }] });
    if (this.authenticator.mode === 'on') {
      const auth = await this.authenticator.authenticate(req.headers);
      if (!auth.ok) return this.refuse(res, auth, {});
      const decision = authorize(auth.caller, { kind: 'admin', action: 'metrics' }, this.policy());
      if (!decision.ok) return this.refuse(res, decision, {});
    }
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(await metrics.text());
  }

  private policy(): AuthorizationPolicy {
    return this.service.policy ?? { soarOperations: '*' };
  }

  private refuse(res: ServerResponse, failure: AuthFailure, headers: Record<string, string>): void {
    const challenge = wwwAuthenticate(failure);
    sendJson(res, failure.status, failureBody(failure), { ...headers, ...(challenge ? { 'www-authenticate': challenge } : {}) });
  }

  /** A GraphQL request (POST, or GET with a query or a persisted query's id): its document, then Apollo's answer. */
  private async prepareGraphql(req: IncomingMessage, url: URL): Promise<Prepared> {
    const request = await readRequest(req, url, this.limits.maxDocumentChars * 4 + 65_536);
    if (!request.ok) return request;
    const fields = request.fields;
    const resolved = resolveDocument(fields, this.service.registry ?? null);
    if (!resolved.ok) return resolved;
    return {
      ok: true,
      variables: isObject(fields.variables) ? fields.variables : null,
      operationName: typeof fields.operationName === 'string' ? fields.operationName : null,
      query: resolved.query,
      persisted: resolved.persisted,
      run: async (ctx) => {
        const response = await this.apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: request.method,
            headers: request.headers,
            search: request.method === 'GET' ? graphqlSearch(fields, resolved.query) : '',
            body: request.method === 'GET' ? undefined : { ...pick(fields), query: resolved.query },
          },
          context: async () => ctx,
        });
        const headers: Record<string, string> = {};
        for (const [key, value] of response.headers) headers[key] = value;
        let text = '';
        if (response.body.kind === 'complete') text = response.body.string;
        else for await (const chunk of response.body.asyncIterator) text += chunk;
        return { status: response.status ?? 200, text, headers };
      },
    };
  }

  /** GET /api/context/{indicator}: the fixed context document (rest/context.ts), answered in the SOAR shape. */
  private prepareContext(_req: IncomingMessage, url: URL): Promise<Prepared> {
    const asked = readContextRequest(url.pathname, url.searchParams);
    if (!asked.ok) return Promise.resolve({ ok: false, status: 400, code: 'BAD_REQUEST', message: asked.message });
    const defaults = this.defaultWindow();
    const variables = {
      indicator: asked.indicator,
      window: asked.window ?? { from: defaults.from.toISOString(), to: defaults.to.toISOString() },
      limit: asked.limit,
    };
    return Promise.resolve({
      ok: true,
      variables,
      operationName: 'SoarContext',
      query: CONTEXT_OPERATION.document,
      persisted: CONTEXT_OPERATION,
      run: async (ctx) => {
        const response = await this.apollo.executeOperation(
          { query: CONTEXT_OPERATION.document, variables, operationName: 'SoarContext' },
          { contextValue: ctx },
        );
        if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported');
        const result = response.body.singleResult;
        const headers = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
        if (result.errors?.length || !result.data) {
          const errors = (result.errors ?? [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]).map((e) => ({
            message: e.message,
            extensions: {
              code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR',
              ...(typeof e.extensions?.reason === 'string' ? { reason: e.extensions.reason } : {}),
            },
          }));
          return { status: statusOfCode(errors[0].extensions.code), text: JSON.stringify({ errors }), headers };
        }
        const shaped = soarContextOf(result.data as unknown as Parameters<typeof soarContextOf>[0]);
        return { status: 200, text: JSON.stringify(shaped), headers };
      },
    });
  }

  /**
   * One API request, GraphQL or REST: the checks every request passes (audit writable, failed sign-ins,
   * authentication, rate, concurrency), then what `prepare` reads from it, authorization of that,
   * the account scope, the run under the deadline, and its audit line and metrics.
   */
  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    corsOut: Record<string, string>,
    prepare: (req: IncomingMessage, url: URL) => Promise<Prepared>,
  ): Promise<void> {
    const started = performance.now();
    const service = this.service;
    const abort = new AbortController();
    // Every engine query of the request (a DataLoader batch sends many at once) listens for its end.
    setMaxListeners(0, abort.signal);
    const untrack = this.track(abort);
    let release: (() => void) | null = null;
    // What the audit line and the metrics say about this request, filled in as it goes.
    const record: Omit<AuditRequest, 'durationMs' | 'caller'> & { caller: Caller | null } = {
      caller: null,
      operation: null,
      persisted: null,
      documentSha256: null,
      variables: null,
      accounts: [],
      bytesScanned: 0,
      rows: 0,
      outcome: 'error',
      status: 500,
    };
    let queries = 0;
    let persisted: PersistedQuery | null = null;
    let body: { status: number; text: string; headers: Record<string, string> } | null = null;
    const answer = (status: number, payload: unknown, outcome: AuditOutcome, headers: Record<string, string> = {}, reason?: string) => {
      body = { status, text: JSON.stringify(payload), headers: { 'content-type': JSON_TYPE, ...headers } };
      record.status = status;
      record.outcome = outcome;
      if (reason) record.reason = reason;
    };
    try {
      if (this.draining) {
        answer(503, { errors: [{ message: 'the server is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, 'error', {
          connection: 'close',
        });
        return;
      }
      if (service.audit?.failed) {
        answer(
          503,
          {
            errors: [
              {
                message: 'the audit trail cannot be written; requests are refused',
                extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'audit_unavailable' },
              },
            ],
          },
          'error',
          {},
          'audit_unavailable',
        );
        return;
      }
      const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], service.trustProxy ?? false);
      record.client = address;
      // Too many failed sign-ins from this address: refused before any credential is checked.
      const blocked = service.failedSignIns?.peek(address);
      if (blocked && !blocked.ok) {
        const refusal = tooManyRequests(blocked);
        answer(refusal.status, refusal.body, 'limited', refusal.headers, 'too_many_failed_sign_ins');
        return;
      }
      const auth = await this.authenticator.authenticate(req.headers);
      if (!auth.ok) {
        if (auth.status === 401) service.failedSignIns?.take(address);
        service.logger?.info({ reason: auth.reason, detail: auth.detail, address }, 'sign-in refused');
        const challenge = wwwAuthenticate(auth);
        answer(
          auth.status,
          failureBody(auth),
          auth.status === 403 ? 'forbidden' : auth.status === 401 ? 'unauthenticated' : 'error',
          challenge ? { 'www-authenticate': challenge } : {},
          auth.reason,
        );
        return;
      }
      const caller = auth.caller;
      record.caller = caller;
      record.accounts = caller.accounts;
      const rate = service.rateLimiter?.take(caller.subject);
      if (rate && !rate.ok) {
        const refusal = tooManyRequests(rate);
        answer(refusal.status, refusal.body, 'limited', refusal.headers, rate.reason);
        return;
      }
      const slot = service.concurrency?.tryAcquire(caller.subject);
      if (slot && !slot.ok) {
        const refusal = tooManyRequests(slot);
        answer(refusal.status, refusal.body, 'limited', refusal.headers, slot.reason);
        return;
      }
      release = slot?.ok ? slot.release : null;

      const prepared = await prepare(req, url);
      if (!prepared.ok) {
        answer(prepared.status, { errors: [{ message: prepared.message, extensions: { code: prepared.code } }] }, 'error');
        return;
      }
      record.variables = prepared.variables;
      record.operation = prepared.operationName;
      persisted = prepared.persisted;
      record.persisted = persisted?.name ?? null;
      record.documentSha256 = prepared.query === undefined ? null : sha256(prepared.query);
      const decision = authorize(
        caller,
        { kind: 'graphql', persisted: persisted ? { name: persisted.name, sha256: persisted.sha256 } : null },
        this.policy(),
      );
      if (!decision.ok) {
        service.logger?.info({ subject: caller.subject, reason: decision.reason, detail: decision.detail }, 'request refused');
        answer(decision.status, failureBody(decision), 'forbidden', {}, decision.reason);
        return;
      }
      // A caller may narrow its scope to some of its accounts (X-ScoutQL-Accounts: 111111111111,222222222222).
      const scope = scopeAccounts(caller, parseAccountsHeader(req.headers['x-scoutql-accounts']));
      if (!scope.ok) {
        answer(scope.status, failureBody(scope), 'forbidden', {}, scope.reason);
        return;
      }
      record.accounts = scope.accounts;

      // The request ends at the deadline or when the client goes away; the engine stops its query then.
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.limits.requestTimeoutMs);
      const onClose = () => {
        if (!res.writableFinished) abort.abort();
      };
      res.once('close', onClose);
      const ctx = this.context(caller, abort.signal, scope.accounts);
      let response: Answer;
      try {
        response = await prepared.run(ctx);
      } finally {
        clearTimeout(deadline);
      }
      const stats = ctx.engine.stats;
      record.bytesScanned = stats.bytesScanned;
      record.rows = stats.rows;
      record.operation = ctx.notes.operationName ?? record.operation;
      queries = stats.queries;
      body = response;
      record.status = response.status;
      if (ctx.notes.refusal) record.reason = ctx.notes.refusal;
      if (ctx.notes.changes?.length) record.changes = ctx.notes.changes;
      record.outcome = outcomeOf(response.status, response.text, timedOut, abort.signal.aborted);
    } finally {
      release?.();
      untrack();
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const final = await this.recordRequest({
        ...record,
        caller: record.caller ?? { subject: 'unauthenticated', kind: 'none', role: 'none' },
        durationMs,
      });
      if (final) body = final;
      service.metrics?.observe({
        operation: persisted?.name ?? (record.caller ? 'adhoc' : 'none'),
        outcome: record.outcome,
        seconds: durationMs / 1000,
        bytesScanned: record.bytesScanned,
        queries,
      });
      const out = body ?? { status: 500, text: '{"errors":[{"message":"internal error"}]}', headers: { 'content-type': JSON_TYPE } };
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(out.status, { ...out.headers, ...corsOut, ...SECURITY_HEADERS, ...(this.draining ? { connection: 'close' } : {}) });
        res.end(out.text);
      }
    }
  }

  /**
   * Appends the request's line. Local trails resolve once the line is stored: a failure turns the
   * answer into 503. Trails on S3 batch lines, so a failure there shows on the next request.
   */
  private async recordRequest(
    line: Omit<AuditRequest, 'caller'> & { caller: { subject: string; kind: string; role: string; name?: string } },
  ): Promise<{ status: number; text: string; headers: Record<string, string> } | null> {
    const audit = this.service.audit;
    if (!audit) return null;
    const caller = {
      subject: line.caller.subject,
      kind: line.caller.kind,
      role: line.caller.role,
      ...(line.caller.name ? { name: line.caller.name } : {}),
    };
    const appended = audit.append({ ...line, caller });
    if (audit.durableOnAppend === false) {
      appended.catch((err: unknown) => this.service.logger?.error({ err }, 'audit line not written'));
      return null;
    }
    try {
      await appended;
      return null;
    } catch (err) {
      this.service.logger?.error({ err }, 'audit line not written: request refused');
      return {
        status: 503,
        text: JSON.stringify({
          errors: [
            {
              message: 'the audit trail cannot be written; requests are refused',
              extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'audit_unavailable' },
            },
          ],
        }),
        headers: { 'content-type': JSON_TYPE },
      };
    }
  }

  async stop(): Promise<void> {
    if (this.started) await this.apollo.stop();
  }
}

function outcomeOf(status: number, text: string, timedOut: boolean, aborted: boolean): AuditOutcome {
  if (timedOut) return 'timeout';
  if (aborted) return 'cancelled';
  if (status === 403) return 'forbidden';
  if (status >= 400) return 'error';
  let parsed: { errors?: unknown[]; data?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return 'error';
  }
  if (!parsed.errors || parsed.errors.length === 0) return 'ok';
  return parsed.data ? 'partial' : 'error';
}

function listenError(err: NodeJS.ErrnoException, options: { port: number; host: string }): Error {
  if (err.code === 'EADDRINUSE')
    return new Error(
      `port ${options.port} on ${options.host} is already in use (another scoutql serve or demo?); pick another with --port <n>, or --port 0 for any free port`,
    );
  if (err.code === 'EACCES')
    return new Error(`not allowed to listen on port ${options.port} (ports below 1024 need privileges); pick another with --port <n>`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`cannot bind ${options.host}: no such address on this machine (check --host)`);
  return err;
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(JSON.stringify(payload));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseAccountsHeader(value: string | string[] | undefined): string[] | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  const list = text
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return list.length > 0 ? list : null;
}

/** The standard request fields Apollo reads (the persisted-query ones are answered here). */
function pick(fields: GraphQLRequestFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields.variables !== undefined) out.variables = fields.variables;
  if (fields.operationName !== undefined) out.operationName = fields.operationName;
  return out;
}

function graphqlSearch(fields: GraphQLRequestFields, query: string | undefined): string {
  const params = new URLSearchParams();
  if (query !== undefined) params.set('query', query);
  if (fields.variables !== undefined) params.set('variables', JSON.stringify(fields.variables));
  if (typeof fields.operationName === 'string') params.set('operationName', fields.operationName);
  return `?${params.toString()}`;
}

type ReadRequest =
  | { ok: true; method: string; headers: HeaderMap; fields: GraphQLRequestFields }
  | { ok: false; status: number; code: string; message: string };

/** The request's GraphQL fields, from the query string (GET) or the JSON body (POST). */
async function readRequest(req: IncomingMessage, url: URL, maxBytes: number): Promise<ReadRequest> {
  const method = (req.method ?? 'GET').toUpperCase();
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers))
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  if (method === 'GET') {
    const fields: GraphQLRequestFields = {};
    const json = (name: string): unknown => {
      const text = url.searchParams.get(name);
      if (text === null) return undefined;
      return JSON.parse(text) as unknown;
    };
    try {
      const query = url.searchParams.get('query');
      if (query !== null) fields.query = query;
      fields.variables = json('variables');
      fields.extensions = json('extensions');
    } catch {
      return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'variables and extensions must be JSON' };
    }
    const operationName = url.searchParams.get('operationName');
    if (operationName !== null) fields.operationName = operationName;
    const documentId = url.searchParams.get('documentId');
    if (documentId !== null) fields.documentId = documentId;
    return { ok: true, method, headers, fields };
  }
  if (method !== 'POST') return { ok: false, status: 405, code: 'METHOD_NOT_ALLOWED', message: 'GraphQL requests are GET or POST' };
  const body = await readBody(req, maxBytes);
  if (body === null) return { ok: false, status: 413, code: 'DOCUMENT_TOO_LARGE', message: 'request body too large' };
  const contentType = headers.get('content-type') ?? '';
  if (!contentType.includes('application/json'))
    // Apollo's CSRF prevention answers these (no preflight was forced); hand it an empty request.
    return { ok: true, method, headers, fields: {} };
  let parsed: unknown;
  try {
    parsed = body.length > 0 ? JSON.parse(body) : {};
  } catch {
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'request body is not JSON' };
  }
  if (!isObject(parsed)) return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'request body must be a JSON object' };
  return { ok: true, method, headers, fields: parsed };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
