/**
 * The audit trail's lines and where they live.
 *
 *   <location>/<stream>/<YYYY-MM-DD>/<first seq, 12 digits>.jsonl   chunks of JSON lines
 *   <location>/<stream>/HEAD.json                                     { seq, sha256, chunk } of the last line
 *   <location>/<stream>/writer.lock                                   local folders: the writing process
 *
 * Every line carries `seq` (1, 2, 3, … across the stream's chunks) and `prev`, the SHA-256 of the
 * previous line's exact bytes (the first line's prev is 64 zeros). Each chunk starts with a
 * `chunk` line naming the chunk before it and its last seq, so a missing or cut chunk is named
 * as such. HEAD records the end of the chain, so lines cut off the end are detectable too.
 */
import { createHash } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

/** What a request leaves in the trail. */
export interface AuditRequest {
  /** When the request finished (default: when it is appended). */
  time?: Date;
  caller: { subject: string; kind: string; role: string; name?: string };
  /** The GraphQL operation name, if the document gave one. */
  operation: string | null;
  /** The persisted query's registry name, when one was run. */
  persisted?: string | null;
  /** SHA-256 (hex) of the document text; null when none was sent. */
  documentSha256: string | null;
  variables: Record<string, unknown> | null;
  /** The accounts the request was scoped to. */
  accounts: readonly string[] | '*';
  bytesScanned: number;
  rows: number;
  durationMs: number;
  outcome: AuditOutcome;
  status: number;
  /** The reason code of a refusal (expired, forbidden_account, rate_limited, …). */
  reason?: string;
  /** The client's address (behind a trusted load balancer: the one it saw). */
  client?: string;
  /** What the request stored (a mutation): each change with the SHA-256 of its object. */
  changes?: AuditChange[];
}

/** A change a request stored: an investigation's pin, note or unpin (src/api/investigations/store.ts). */
export interface AuditChange {
  investigation: string;
  seq: number;
  action: string;
  eventId: string;
  sha256: string;
}

export type AuditOutcome = 'ok' | 'partial' | 'error' | 'unauthenticated' | 'forbidden' | 'limited' | 'timeout' | 'cancelled';

/** A request as the trail stores it: the request's fields, its time as ISO text, chained to the line before. */
export interface RequestLine extends Omit<AuditRequest, 'time' | 'persisted'> {
  seq: number;
  prev: string;
  kind: 'request';
  time: string;
  persisted: string | null;
}

export interface ChunkLine {
  seq: number;
  prev: string;
  kind: 'chunk';
  time: string;
  /** The chunk before this one and its last seq; null for the stream's first chunk. */
  previous: { name: string; lastSeq: number } | null;
  /** A partial line a crash left at the end of the previous chunk (kept as evidence, not part of the chain). */
  recovered?: { name: string; bytes: number };
  writer: { host: string; pid: number };
}

export type AuditLine = RequestLine | ChunkLine;

/** Variables larger than this are recorded by hash and size only. */
export const MAX_VARIABLES_BYTES = 8192;

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export function requestLine(seq: number, prev: string, request: AuditRequest, now: Date): RequestLine {
  let variables = request.variables;
  if (variables) {
    const json = JSON.stringify(variables);
    if (Buffer.byteLength(json) > MAX_VARIABLES_BYTES)
      variables = { _truncated: true, bytes: Buffer.byteLength(json), sha256: sha256Hex(json) };
  }
  return {
    seq,
    prev,
    kind: 'request',
    time: (request.time ?? now).toISOString(),
    caller: { ...request.caller },
    operation: request.operation,
    persisted: request.persisted ?? null,
    documentSha256: request.documentSha256,
    variables,
    accounts: request.accounts,
    bytesScanned: request.bytesScanned,
    rows: request.rows,
    durationMs: Math.round(request.durationMs * 10) / 10,
    outcome: request.outcome,
    status: request.status,
    ...(request.reason ? { reason: request.reason } : {}),
    ...(request.client ? { client: request.client } : {}),
    ...(request.changes?.length ? { changes: request.changes.map((c) => ({ ...c })) } : {}),
  };
}

const CHUNK_NAME = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/(\d{4}-\d{2}-\d{2})\/(\d{12})\.jsonl$/;

export function chunkName(stream: string, day: string, firstSeq: number): string {
  return `${stream}/${day}/${String(firstSeq).padStart(12, '0')}.jsonl`;
}

export function parseChunkName(name: string): { stream: string; day: string; firstSeq: number } | null {
  const m = CHUNK_NAME.exec(name);
  return m ? { stream: m[1], day: m[2], firstSeq: Number(m[3]) } : null;
}

export function headName(stream: string): string {
  return `${stream}/HEAD.json`;
}

export function lockName(stream: string): string {
  return `${stream}/writer.lock`;
}

export interface Head {
  seq: number;
  sha256: string;
  chunk: string;
}

export function parseHead(text: string): Head | null {
  try {
    const head = JSON.parse(text) as Partial<Head>;
    if (typeof head.seq === 'number' && typeof head.sha256 === 'string' && typeof head.chunk === 'string') return head as Head;
  } catch {
    // reported by the caller as a damaged HEAD
  }
  return null;
}

/** A chunk's text as lines: complete ones, and the unterminated rest (a cut or crashed write), if any. */
export function splitLines(text: string): { lines: string[]; partial: string | null } {
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts, partial: rest === '' ? null : rest };
}
