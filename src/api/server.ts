/**
 * The GraphQL API: Apollo Server 5 over any QueryEngine, served over node:http together with the
 * self-hosted explorer. Each request gets its own context (caller, loaders, counted engine), and
 * its stats come back in `extensions.stats`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, Kind, type FormattedExecutionResult } from 'graphql';
import type { QueryEngine } from '../engine/types';
import { createContext, LOCAL_CALLER, type Caller, type RequestContext } from './context';
import { checkDocumentCost } from './cost';
import { errorFormatter } from './errors';
import { DEFAULT_LIMITS, defaultWindow, type ApiLimits } from './limits';
import type { Window } from './models';
import { resolvers } from './resolvers/index';
import { loadTypeDefs } from './schema';
import { serveExplorer } from '../explorer/page';

export interface ApiOptions {
  engine: QueryEngine;
  limits?: Partial<ApiLimits>;
  /** Newest day with data (YYYY-MM-DD), for the default window of lookups without one. */
  latestDay?: () => string | null;
  /** Receives errors hidden from callers (engine failures, bugs), for the operator's log. */
  onError?: (error: unknown) => void;
}

export interface ExecuteResult extends FormattedExecutionResult {
  http?: { status: number };
}

const statsPlugin = (limits: ApiLimits): ApolloServerPlugin<RequestContext> => ({
  async requestDidStart() {
    return {
      async didResolveOperation({ schema, operation, document, request, source }) {
        // Errors thrown before this hook are not reported as GraphQL errors, so the size check lives here
        // (parsing itself is bounded by parseOptions.maxTokens).
        if (source.length > limits.maxDocumentChars) {
          throw new GraphQLError(`document is longer than ${limits.maxDocumentChars} characters`, {
            extensions: { code: 'DOCUMENT_TOO_LARGE', http: { status: 400 } },
          });
        }
        if (!operation) return;
        const fragments = Object.fromEntries(
          document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
        );
        checkDocumentCost(schema, operation, fragments, request.variables ?? {}, limits);
      },
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single' || !contextValue?.engine) return;
        const { engine, queries, millis, bytesScanned } = contextValue.engine.stats;
        response.body.singleResult.extensions = {
          ...response.body.singleResult.extensions,
          stats: { engine, queries, millis: Math.round(millis * 10) / 10, bytesScanned },
        };
      },
    };
  },
});

export class ScoutApi {
  readonly limits: ApiLimits;
  readonly apollo: ApolloServer<RequestContext>;
  private started: Promise<void> | null = null;

  constructor(private readonly options: ApiOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.apollo = new ApolloServer<RequestContext>({
      typeDefs: loadTypeDefs(),
      resolvers,
      formatError: errorFormatter(options.onError),
      includeStacktraceInErrorResponses: false,
      introspection: true,
      parseOptions: { maxTokens: 10_000 },
      plugins: [ApolloServerPluginLandingPageDisabled(), statsPlugin(this.limits)],
    });
  }

  private start(): Promise<void> {
    this.started ??= this.apollo.start();
    return this.started;
  }

  /** The window of lookups that give none: the latest days of data. */
  defaultWindow(): Window {
    return defaultWindow(this.options.latestDay?.() ?? null, this.limits);
  }

  context(caller: Caller = LOCAL_CALLER, signal?: AbortSignal): RequestContext {
    return createContext({ engine: this.options.engine, caller, limits: this.limits, defaultWindow: this.defaultWindow(), signal });
  }

  /** Runs one operation in-process (CLI `query`, tests). */
  async execute(document: string, variables?: Record<string, unknown>, caller?: Caller): Promise<ExecuteResult> {
    await this.start();
    const response = await this.apollo.executeOperation({ query: document, variables }, { contextValue: this.context(caller) });
    if (response.body.kind !== 'single') throw new Error('incremental delivery is not supported');
    return { ...response.body.singleResult, http: { status: response.http.status ?? 200 } };
  }

  /** Serves POST/GET /graphql and the explorer at / on node:http. */
  async listen(options: { port: number; host: string }): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
    await this.start();
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      server,
      url: `http://${host}:${address.port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/graphql') {
      if (req.method === 'GET' && serveExplorer(url.pathname, res, () => this.defaultWindow())) return;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const body = await readBody(req, this.limits.maxDocumentChars * 4 + 65_536);
    if (body === null) {
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'request body too large', extensions: { code: 'DOCUMENT_TOO_LARGE' } }] }));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers))
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    let parsed: unknown = body;
    if ((headers.get('content-type') ?? '').includes('application/json') && body.length > 0) {
      try {
        parsed = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'request body is not JSON', extensions: { code: 'BAD_REQUEST' } }] }));
        return;
      }
    }
    // The request ends at the deadline or when the client goes away; the engine stops its query then.
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const deadline = setTimeout(() => abort.abort(), this.limits.requestTimeoutMs);
    res.on('close', () => clearTimeout(deadline));
    const response = await this.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body: parsed },
      context: async () => this.context(LOCAL_CALLER, abort.signal),
    });
    const outHeaders: Record<string, string> = {};
    for (const [key, value] of response.headers) outHeaders[key] = value;
    res.writeHead(response.status ?? 200, outHeaders);
    if (response.body.kind === 'complete') res.end(response.body.string);
    else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  async stop(): Promise<void> {
    if (this.started) await this.apollo.stop();
  }
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
