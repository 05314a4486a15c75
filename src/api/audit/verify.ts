/**
 * `scoutql audit verify`: walks each stream's chain from its first line to HEAD and names the
 * first broken line and what happened to it:
 *
 * - edited: a line's bytes changed (the next line's `prev`, or HEAD, no longer matches its hash),
 *   or a line is not valid JSON;
 * - deleted: seq numbers jump inside the chain;
 * - inserted: a line that no chain link points to (a forgery, a copy);
 * - reordered: the missing seq turns up later, still linked to its neighbours;
 * - truncated: a file ends mid-line, or lines are missing from a chunk's end (the next chunk's
 *   header or HEAD says where it ended);
 * - missing_chunk: a chunk file a header or HEAD names is gone;
 * - missing_head: HEAD.json is gone, so lines cut off the end cannot be ruled out.
 *
 * A hash chain proves the trail was not changed by someone who did not also rewrite every later
 * line and HEAD; anchoring HEAD elsewhere (the server logs each line's hash through pino, and S3
 * Object Lock can keep chunks immutable) covers that.
 */
import type { ObjectStore } from '../store/object-store';
import { GENESIS, headName, lockName, parseChunkName, parseHead, sha256Hex, splitLines, type ChunkLine, type RequestLine } from './record';

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'missing_chunk' | 'missing_head';

export interface AuditProblem {
  kind: ProblemKind;
  /** The object (chunk or HEAD), relative to the trail's location. */
  file: string;
  /** 1-based line in that file. */
  line: number;
  seq: number | null;
  message: string;
}

export interface StreamVerdict {
  stream: string;
  ok: boolean;
  chunks: number;
  /** Complete lines read, chunk lines included. */
  lines: number;
  requests: number;
  lastSeq: number;
  head: 'matches' | 'behind' | 'missing' | 'damaged' | 'none';
  problem: AuditProblem | null;
  /** Things worth knowing that are not breaks (a crash's cut line, stray files). */
  notes: string[];
}

interface Entry {
  file: string;
  line: number;
  text: string;
  hash: string;
  partial: boolean;
  firstInFile: boolean;
  json: { seq: number; prev: string; kind: string } | null;
}

/** Every stream of the trail (a folder with chunks or a HEAD), in name order. */
export async function listStreams(store: ObjectStore): Promise<string[]> {
  const streams = new Set<string>();
  for (const name of await store.list('')) {
    const [stream, ...rest] = name.split('/');
    if (rest.length > 0 && (parseChunkName(name) || name === headName(stream))) streams.add(stream);
  }
  return [...streams].sort();
}

export async function verifyAuditTrail(store: ObjectStore, options: { stream?: string } = {}): Promise<StreamVerdict[]> {
  const streams = options.stream ? [options.stream] : await listStreams(store);
  const verdicts: StreamVerdict[] = [];
  for (const stream of streams) verdicts.push(await verifyStream(store, stream));
  return verdicts;
}

export async function verifyStream(store: ObjectStore, stream: string): Promise<StreamVerdict> {
  const names = await store.list(stream);
  const chunkNames = names
    .filter((n) => parseChunkName(n)?.stream === stream)
    .sort((a, b) => parseChunkName(a)!.firstSeq - parseChunkName(b)!.firstSeq);
  const verdict: StreamVerdict = {
    stream,
    ok: true,
    chunks: chunkNames.length,
    lines: 0,
    requests: 0,
    lastSeq: 0,
    head: 'none',
    problem: null,
    notes: [],
  };
  for (const stray of names.filter((n) => !chunkNames.includes(n) && n !== headName(stream) && n !== lockName(stream)))
    verdict.notes.push(`not part of the trail: ${stray}`);

  const entries: Entry[] = [];
  for (const name of chunkNames) {
    const text = (await store.read(name))?.toString('utf8') ?? '';
    const { lines, partial } = splitLines(text);
    lines.forEach((line, i) => entries.push(entry(name, i + 1, line, false)));
    if (partial !== null) entries.push(entry(name, lines.length + 1, partial, true));
    if (lines.length === 0 && partial === null)
      return fail(verdict, 'truncated', name, 1, null, 'the chunk is empty: its lines were removed');
  }

  let expectedSeq = 1;
  let expectedPrev = GENESIS;
  let last: Entry | null = null;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const next = entries[i + 1];
    if (e.partial) {
      const header = next?.firstInFile ? (next.json as (ChunkLine & Entry['json']) | null) : null;
      if (header?.kind === 'chunk' && header.recovered?.name === e.file && header.recovered.bytes === Buffer.byteLength(e.text)) {
        verdict.notes.push(
          `${e.file} line ${e.line}: ${header.recovered.bytes} bytes of a line cut by a crash, recorded by the next chunk`,
        );
        continue;
      }
      return fail(verdict, 'truncated', e.file, e.line, null, 'the line is cut short: the file was truncated');
    }
    if (!e.json) return fail(verdict, 'edited', e.file, e.line, null, 'not a valid audit line: edited or corrupted');
    const { seq, prev } = e.json;

    if (e.firstInFile) {
      const problem = checkChunkStart(e, last, entries, chunkNames);
      if (problem) return fail(verdict, ...problem);
    }

    if (seq !== expectedSeq || prev !== expectedPrev) {
      const later = entries.slice(i + 1);
      if (seq === expectedSeq) {
        if (next?.json && next.json.seq === expectedSeq && next.json.prev === expectedPrev)
          return fail(verdict, 'inserted', e.file, e.line, seq, `inserted: the next line continues the chain without it`);
        if (!last) return fail(verdict, 'edited', e.file, e.line, seq, 'edited: the first line does not start the chain');
        return fail(
          verdict,
          'edited',
          last.file,
          last.line,
          last.json!.seq,
          `edited: its hash no longer matches the one ${e.file} line ${e.line} recorded`,
        );
      }
      if (seq > expectedSeq) {
        if (prev === expectedPrev)
          return fail(verdict, 'edited', e.file, e.line, seq, `edited: it follows seq ${expectedSeq - 1} in the chain but says seq ${seq}`);
        const missing = later.find((x) => x.json?.seq === expectedSeq);
        if (missing) {
          const linked = later.some((x) => x.json?.prev === e.hash) || later.some((x) => x.hash === prev);
          if (linked)
            return fail(
              verdict,
              'reordered',
              e.file,
              e.line,
              seq,
              `reordered: seq ${expectedSeq} comes later (${missing.file} line ${missing.line})`,
            );
          return fail(verdict, 'inserted', e.file, e.line, seq, 'inserted: no line of the chain links to it');
        }
        const gap = seq - expectedSeq;
        const range = gap === 1 ? `seq ${expectedSeq}` : `seq ${expectedSeq}–${seq - 1}`;
        return fail(
          verdict,
          'deleted',
          e.file,
          e.line,
          seq,
          `deleted: ${range} (${gap} line${gap === 1 ? '' : 's'}) missing before this line`,
        );
      }
      const copy = entries.slice(0, i).find((x) => x.text === e.text);
      if (copy) return fail(verdict, 'inserted', e.file, e.line, seq, `inserted: a copy of ${copy.file} line ${copy.line}`);
      const anchor = entries.slice(0, i).findIndex((x) => x.hash === prev);
      if (anchor >= 0 && anchor < i - 1) {
        const forged = entries[anchor + 1];
        return fail(
          verdict,
          'inserted',
          forged.file,
          forged.line,
          forged.json?.seq ?? null,
          `inserted: ${e.file} line ${e.line} links past it`,
        );
      }
      return fail(verdict, 'edited', e.file, e.line, seq, `edited: says seq ${seq} where seq ${expectedSeq} belongs`);
    }
    verdict.lines++;
    if (e.json.kind === 'request') verdict.requests++;
    verdict.lastSeq = seq;
    expectedSeq = seq + 1;
    expectedPrev = e.hash;
    last = e;
  }

  const headBytes = await store.read(headName(stream));
  if (!headBytes) {
    verdict.head = 'missing';
    if (last)
      return fail(verdict, 'missing_head', headName(stream), 1, null, 'HEAD.json is missing: lines cut off the end cannot be ruled out');
    return verdict;
  }
  const head = parseHead(headBytes.toString('utf8'));
  if (!head) {
    verdict.head = 'damaged';
    return fail(verdict, 'edited', headName(stream), 1, null, 'HEAD.json is not valid');
  }
  if (!last)
    return fail(verdict, 'missing_chunk', head.chunk, 1, null, `every chunk is missing: HEAD says the chain ends at seq ${head.seq}`);
  const lastSeq = last.json!.seq;
  if (head.seq > lastSeq) {
    const count = head.seq - lastSeq;
    if (!chunkNames.includes(head.chunk))
      return fail(verdict, 'missing_chunk', head.chunk, 1, lastSeq + 1, `missing: the last chunk (seq ${lastSeq + 1}–${head.seq}) is gone`);
    return fail(
      verdict,
      'truncated',
      last.file,
      last.line + 1,
      lastSeq + 1,
      `truncated: ${count} line${count === 1 ? '' : 's'} cut off the end (HEAD says seq ${head.seq})`,
    );
  }
  if (head.seq === lastSeq) {
    if (head.sha256 !== last.hash) return fail(verdict, 'edited', last.file, last.line, lastSeq, 'edited: its hash does not match HEAD');
    verdict.head = 'matches';
    return verdict;
  }
  const atHead = entries.find((x) => !x.partial && x.json?.seq === head.seq);
  if (!atHead || atHead.hash !== head.sha256)
    return fail(verdict, 'edited', atHead?.file ?? head.chunk, atHead?.line ?? 1, head.seq, 'edited: its hash does not match HEAD');
  verdict.head = 'behind';
  verdict.notes.push(`HEAD is ${lastSeq - head.seq} line(s) behind the chain: the writer stopped between writing lines and HEAD`);
  return verdict;
}

/** Checks a chunk's first line against the chunk before it. */
function checkChunkStart(
  e: Entry,
  last: Entry | null,
  entries: Entry[],
  chunkNames: string[],
): [ProblemKind, string, number, number | null, string] | null {
  const seq = e.json!.seq;
  if (e.json!.kind !== 'chunk') {
    const named = parseChunkName(e.file)!.firstSeq;
    return seq > named
      ? ['deleted', e.file, e.line, seq, `deleted: the chunk's first line (seq ${named}) is missing`]
      : ['edited', e.file, e.line, seq, 'edited: a chunk must start with its chunk line'];
  }
  const previous = (e.json as unknown as ChunkLine).previous;
  if (!last) {
    if (previous)
      return [
        'missing_chunk',
        previous.name,
        1,
        null,
        `missing: the trail starts at ${e.file}, which follows this chunk (up to seq ${previous.lastSeq})`,
      ];
    return null;
  }
  if (!previous) return ['inserted', e.file, e.line, seq, 'inserted: this chunk claims to start the trail, but chunks come before it'];
  if (previous.name !== last.file) {
    if (chunkNames.includes(previous.name))
      return ['reordered', e.file, e.line, seq, `reordered: this chunk follows ${previous.name}, not ${last.file}`];
    return [
      'missing_chunk',
      previous.name,
      1,
      last.json!.seq + 1,
      `missing: ${e.file} follows this chunk (seq ${last.json!.seq + 1}–${previous.lastSeq})`,
    ];
  }
  const lastSeq = last.json!.seq;
  if (previous.lastSeq > lastSeq) {
    const count = previous.lastSeq - lastSeq;
    return [
      'truncated',
      last.file,
      last.line + 1,
      lastSeq + 1,
      `truncated: ${count} line${count === 1 ? '' : 's'} cut off the end (${e.file} says it ended at seq ${previous.lastSeq})`,
    ];
  }
  if (previous.lastSeq < lastSeq) {
    const extra = entries.find((x) => x.file === last.file && !x.partial && (x.json?.seq ?? 0) > previous.lastSeq)!;
    return ['inserted', extra.file, extra.line, extra.json!.seq, `inserted: ${e.file} says ${last.file} ended at seq ${previous.lastSeq}`];
  }
  return null;
}

function entry(file: string, line: number, text: string, partial: boolean): Entry {
  let json: Entry['json'] = null;
  if (!partial) {
    try {
      const value = JSON.parse(text) as { seq?: unknown; prev?: unknown; kind?: unknown };
      if (typeof value.seq === 'number' && typeof value.prev === 'string' && typeof value.kind === 'string') json = value as Entry['json'];
    } catch {
      json = null;
    }
  }
  return { file, line, text, hash: sha256Hex(text), partial, firstInFile: line === 1, json };
}

function fail(verdict: StreamVerdict, kind: ProblemKind, file: string, line: number, seq: number | null, message: string): StreamVerdict {
  verdict.ok = false;
  verdict.problem = { kind, file, line, seq, message };
  return verdict;
}

/** The last n request lines of a stream, oldest first (`scoutql audit tail`). */
export async function tailAudit(store: ObjectStore, options: { stream?: string; lines?: number } = {}): Promise<RequestLine[]> {
  const stream = options.stream ?? 'main';
  const want = options.lines ?? 20;
  const chunks = (await store.list(stream))
    .filter((n) => parseChunkName(n)?.stream === stream)
    .sort((a, b) => parseChunkName(b)!.firstSeq - parseChunkName(a)!.firstSeq);
  const out: RequestLine[] = [];
  for (const name of chunks) {
    if (out.length >= want) break;
    const { lines } = splitLines((await store.read(name))?.toString('utf8') ?? '');
    const requests: RequestLine[] = [];
    for (const line of lines) {
      try {
        const value = JSON.parse(line) as RequestLine;
        if (value.kind === 'request') requests.push(value);
      } catch {
        // verify reports damaged lines; tail shows what it can read
      }
    }
    out.unshift(...requests.slice(Math.max(0, requests.length - (want - out.length))));
  }
  return out;
}
