/**
 * Persisted queries: a registry of known documents (examples/hunts/*.graphql by default), each
 * addressable by name (the file stem, e.g. `02-brute-forcing-ip`) and by the SHA-256 of its text.
 *
 * Requests name one the way Apollo's persisted-query protocol does,
 * `"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}` (with or without the
 * text), or by `"documentId": "<name>"` / `"documentId": "sha256:<hex>"`. The `soar` role may run
 * only these (authorize.ts); the audit trail records which one ran.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PersistedQuery {
  name: string;
  sha256: string;
  document: string;
}

export class PersistedQueries {
  private readonly byHash = new Map<string, PersistedQuery>();
  private readonly byName = new Map<string, PersistedQuery>();

  constructor(queries: readonly PersistedQuery[]) {
    for (const query of queries) {
      this.byHash.set(query.sha256, query);
      this.byName.set(query.name, query);
    }
  }

  /** Every `<name>.graphql` of a folder (not recursive). */
  static fromDir(dir: string): PersistedQueries {
    const queries = readdirSync(dir)
      .filter((f) => f.endsWith('.graphql'))
      .sort()
      .map((file) => {
        const document = readFileSync(join(dir, file), 'utf8');
        return { name: file.slice(0, -'.graphql'.length), sha256: sha256(document), document };
      });
    return new PersistedQueries(queries);
  }

  get(nameOrHash: string): PersistedQuery | undefined {
    return this.byName.get(nameOrHash) ?? this.byHash.get(nameOrHash.toLowerCase());
  }

  hash(sha256Hex: string): PersistedQuery | undefined {
    return this.byHash.get(sha256Hex.toLowerCase());
  }

  list(): PersistedQuery[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The GraphQL request fields this server reads (from a POST body or the GET query string). */
export interface GraphQLRequestFields {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

export type ResolvedDocument =
  | { ok: true; query: string | undefined; persisted: PersistedQuery | null }
  | { ok: false; status: 200 | 400; code: 'PERSISTED_QUERY_NOT_FOUND' | 'BAD_REQUEST'; message: string };

/**
 * Which document a request runs: the registry's text when it names a persisted query, else its own
 * text (ad-hoc). A text sent with a hash must hash to it; a hash the registry lacks, sent without
 * text, is PERSISTED_QUERY_NOT_FOUND (Apollo clients then send the text).
 */
export function resolveDocument(request: GraphQLRequestFields, registry: PersistedQueries | null): ResolvedDocument {
  const text = typeof request.query === 'string' ? request.query : undefined;
  if (request.query !== undefined && request.query !== null && text === undefined)
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'query must be a string' };
  const apq = persistedQueryHash(request.extensions);
  if (apq === false)
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'extensions.persistedQuery needs version 1 and a sha256Hash' };
  if (request.documentId !== undefined && typeof request.documentId !== 'string')
    return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'documentId must be a string' };
  const documentId = request.documentId;

  if (apq !== null) {
    if (text !== undefined && sha256(text) !== apq)
      return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'provided sha does not match query' };
    const found = registry?.hash(apq);
    if (found) return { ok: true, query: found.document, persisted: found };
    if (text !== undefined) return { ok: true, query: text, persisted: null };
    return { ok: false, status: 200, code: 'PERSISTED_QUERY_NOT_FOUND', message: 'PersistedQueryNotFound' };
  }
  if (documentId !== undefined) {
    if (text !== undefined) return { ok: false, status: 400, code: 'BAD_REQUEST', message: 'send documentId or query, not both' };
    const key = documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId;
    const found = registry?.get(key);
    if (found) return { ok: true, query: found.document, persisted: found };
    return { ok: false, status: 400, code: 'PERSISTED_QUERY_NOT_FOUND', message: 'no persisted query by that documentId' };
  }
  return { ok: true, query: text, persisted: null };
}

/** The sha256 asked for, null when the request names none, false when its persistedQuery is malformed. */
function persistedQueryHash(extensions: unknown): string | null | false {
  if (extensions === undefined || extensions === null || typeof extensions !== 'object') return null;
  const pq = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (pq === undefined) return null;
  if (pq === null || typeof pq !== 'object') return false;
  const { version, sha256Hash } = pq as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1 || typeof sha256Hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256Hash)) return false;
  return sha256Hash.toLowerCase();
}
