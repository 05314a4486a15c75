/**
 * The audit trail writer: one hash-chained JSON line per API request (see record.ts for the layout).
 *
 * Appends are serialized: requests finishing together queue up and one drain assigns their seq and
 * prev in order, so the chain never forks. A drain writes what queued meanwhile in one go (group
 * commit), then HEAD.
 *
 * - Local folder: lines are appended to the open chunk; a new chunk starts at each start of the
 *   writer, at each UTC day and past maxChunkBytes. append() resolves once its line is written.
 *   A lock file keeps a second process off the same stream.
 * - S3 (objects cannot be appended to): lines gather for flushMs, then go out as one new chunk
 *   object, created only if absent (a second writer on the stream fails instead of overwriting).
 *   append() resolves once its chunk is stored; close() flushes.
 *
 * On start the writer checks that the chain's end matches HEAD and refuses to continue a trail that
 * lost lines (continuing would overwrite HEAD, the evidence): use a new stream name, and verify.
 */
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ObjectStore } from '../store/object-store';
import {
  chunkName,
  GENESIS,
  headName,
  lockName,
  parseChunkName,
  parseHead,
  requestLine,
  sha256Hex,
  splitLines,
  type AuditRequest,
  type ChunkLine,
  type Head,
} from './record';

export interface AuditTrailOptions {
  store: ObjectStore;
  /** Chain name (default 'main'); each process writing at once needs its own. */
  stream?: string;
  /** Local: start a new chunk past this size (default 64 MiB). */
  maxChunkBytes?: number;
  /** S3: gather lines this long before writing a chunk object (default 5000 ms). */
  flushMs?: number;
  logger?: Logger;
  now?: () => Date;
}

export class AuditTrailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditTrailError';
  }
}

interface Pending {
  request: AuditRequest;
  resolve: (value: { seq: number; sha256: string }) => void;
  reject: (err: unknown) => void;
}

interface OpenChunk {
  name: string;
  day: string;
  bytes: number;
}

export class AuditTrail {
  private seq = 0;
  private last = GENESIS;
  private chunk: OpenChunk | null = null;
  /** The last chunk written (its name and last seq), for the next chunk's header. */
  private previous: { name: string; lastSeq: number } | null = null;
  private recovered: { name: string; bytes: number } | null = null;
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private closed = false;
  private releaseLock: (() => Promise<void>) | null = null;

  private constructor(
    private readonly store: ObjectStore,
    readonly stream: string,
    private readonly maxChunkBytes: number,
    private readonly flushMs: number,
    private readonly logger: Logger | undefined,
    private readonly now: () => Date,
  ) {}

  static async open(options: AuditTrailOptions): Promise<AuditTrail> {
    const stream = options.stream ?? 'main';
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(stream))
      throw new AuditTrailError(`audit stream name '${stream}' is not letters, digits, . _ -`);
    const trail = new AuditTrail(
      options.store,
      stream,
      options.maxChunkBytes ?? 64 * 1024 * 1024,
      options.flushMs ?? 5000,
      options.logger,
      options.now ?? (() => new Date()),
    );
    if (options.store.localPath) trail.releaseLock = await lockStream(options.store.localPath(lockName(stream)), stream);
    try {
      await trail.resume();
    } catch (err) {
      await trail.releaseLock?.();
      throw err;
    }
    return trail;
  }

  /** Set once a write failed: the trail takes no more lines (a restart resumes from what was stored). */
  get failed(): Error | null {
    return this.failure;
  }

  /** True when append() resolves only once its line is stored (local folders); S3 gathers lines for flushMs. */
  get durableOnAppend(): boolean {
    return this.store.append !== undefined;
  }

  /** Where the chain ends now. */
  get head(): { seq: number; sha256: string } {
    return { seq: this.seq, sha256: this.last };
  }

  /** Appends one request's line; resolves with its seq and hash once it is stored. */
  append(request: AuditRequest): Promise<{ seq: number; sha256: string }> {
    if (this.closed) return Promise.reject(new AuditTrailError('audit trail is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Local: write now. S3: gather for flushMs (or until 1000 lines wait), then write one object. */
  private schedule(): void {
    if (this.store.append || this.closed || this.queue.length >= 1000) this.drain();
    else this.timer ??= setTimeout(() => this.drain(), this.flushMs);
  }

  /** Writes what is queued and releases the stream. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.drain();
    while (this.draining) await this.draining;
    await this.releaseLock?.();
  }

  private drain(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.draining) return; // the running drain takes the new lines when it is done
    this.draining = this.drainLoop().finally(() => {
      this.draining = null;
      // Lines queued while the last batch was being resolved still need a drain.
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      try {
        if (this.failure) throw this.failure;
        const results = await this.write(batch.map((p) => p.request));
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch (err) {
        // A failed or partial write leaves the chain in an unknown state: stop here; a restart
        // resumes from what was stored (and records a cut line as recovered).
        this.failure ??= new AuditTrailError(
          `audit trail ${this.stream} cannot be written: ${err instanceof Error ? err.message : String(err)}`,
        );
        this.logger?.error({ err, stream: this.stream }, 'audit trail write failed');
        for (const p of batch) p.reject(this.failure);
      }
    }
  }

  /** Turns requests into chained lines, writes them (chunk by chunk), then HEAD. */
  private async write(requests: AuditRequest[]): Promise<{ seq: number; sha256: string }[]> {
    const now = this.now();
    const day = now.toISOString().slice(0, 10);
    const segments: { chunk: OpenChunk; fresh: boolean; text: string[] }[] = [];
    const results: { seq: number; sha256: string }[] = [];
    let seq = this.seq;
    let last = this.last;
    let chunk = this.chunk;
    let previous = this.previous;
    const add = (line: object) => {
      const text = JSON.stringify(line);
      seq += 1;
      last = sha256Hex(text);
      segments[segments.length - 1].text.push(text);
      segments[segments.length - 1].chunk.bytes += Buffer.byteLength(text) + 1;
      return { seq, sha256: last };
    };
    const startChunk = () => {
      if (chunk) previous = { name: chunk.name, lastSeq: seq };
      chunk = { name: chunkName(this.stream, day, seq + 1), day, bytes: 0 };
      segments.push({ chunk, fresh: true, text: [] });
      const header: ChunkLine = {
        seq: seq + 1,
        prev: last,
        kind: 'chunk',
        time: now.toISOString(),
        previous,
        ...(this.recovered ? { recovered: this.recovered } : {}),
        writer: { host: hostname(), pid: process.pid },
      };
      add(header);
    };
    // Local: a new chunk at each start of the writer, each UTC day and past the size. S3 objects are
    // immutable: each write is a chunk of its own.
    const append = this.store.append?.bind(this.store);
    const appendable = append !== undefined;
    for (const request of requests) {
      const rotate = !chunk || (appendable ? chunk.day !== day || chunk.bytes >= this.maxChunkBytes : segments.length === 0);
      if (rotate) startChunk();
      else if (segments.length === 0 && chunk) segments.push({ chunk, fresh: false, text: [] });
      results.push(add(requestLine(seq + 1, last, request, now)));
    }
    for (const segment of segments) {
      const data = segment.text.map((t) => `${t}\n`).join('');
      if (append && !segment.fresh) await append(segment.chunk.name, data);
      else if (!(await this.store.write(segment.chunk.name, data, { ifAbsent: true })))
        throw new AuditTrailError(`chunk ${segment.chunk.name} already exists: another process writes stream ${this.stream}`);
    }
    const finalChunk = segments[segments.length - 1].chunk;
    const head: Head = { seq, sha256: last, chunk: finalChunk.name };
    await this.store.write(headName(this.stream), JSON.stringify(head) + '\n');
    this.seq = seq;
    this.last = last;
    this.chunk = finalChunk;
    this.previous = previous;
    this.recovered = null;
    for (const r of results) this.logger?.info({ audit: { stream: this.stream, seq: r.seq, sha256: r.sha256 } }, 'audit line');
    return results;
  }

  /** Finds where the stored chain ends and checks it against HEAD. */
  private async resume(): Promise<void> {
    const chunks = (await this.store.list(this.stream))
      .map((name) => ({ name, parsed: parseChunkName(name) }))
      .filter((c) => c.parsed?.stream === this.stream)
      .sort((a, b) => a.parsed!.firstSeq - b.parsed!.firstSeq);
    const headBytes = await this.store.read(headName(this.stream));
    const head = headBytes ? parseHead(headBytes.toString('utf8')) : null;
    const where = `${this.store.location}/${this.stream}`;
    const advice = `run \`scoutql audit verify\`; to keep this evidence and go on, set audit.stream to a new name`;
    if (chunks.length === 0) {
      if (headBytes) throw new AuditTrailError(`audit trail ${where}: HEAD exists but every chunk is gone; ${advice}`);
      return;
    }
    if (!head) throw new AuditTrailError(`audit trail ${where}: HEAD.json is ${headBytes ? 'damaged' : 'missing'}; ${advice}`);
    // The last chunk with a complete line holds the end of the chain.
    for (let i = chunks.length - 1; i >= 0; i--) {
      const text = (await this.store.read(chunks[i].name))?.toString('utf8') ?? '';
      const { lines, partial } = splitLines(text);
      if (partial !== null && i === chunks.length - 1) this.recovered = { name: chunks[i].name, bytes: Buffer.byteLength(partial) };
      if (lines.length === 0) continue;
      const lastLine = lines[lines.length - 1];
      let seq: unknown;
      try {
        seq = (JSON.parse(lastLine) as { seq?: unknown }).seq;
      } catch {
        seq = undefined;
      }
      if (typeof seq !== 'number')
        throw new AuditTrailError(`audit trail ${where}: the last line of ${chunks[i].name} is damaged; ${advice}`);
      this.seq = seq;
      this.last = sha256Hex(lastLine);
      this.previous = { name: chunks[i].name, lastSeq: seq };
      // HEAD may lag the chain by the lines of one interrupted write, never lead it.
      const headLine = head.seq === seq ? lastLine : lines.find((l) => l.startsWith(`{"seq":${head.seq},`));
      if (head.seq > seq || !headLine || sha256Hex(headLine) !== head.sha256)
        throw new AuditTrailError(`audit trail ${where}: the chain ends at seq ${seq} but HEAD says seq ${head.seq}; ${advice}`);
      if (this.recovered)
        this.logger?.warn({ stream: this.stream, recovered: this.recovered }, 'audit trail: a cut line after a crash is kept as evidence');
      return;
    }
    throw new AuditTrailError(`audit trail ${where}: chunks hold no complete line; ${advice}`);
  }
}

/** An exclusive lock on a local stream: the file names the holding process; a dead holder's lock is taken over. */
async function lockStream(path: string, stream: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid} ${hostname()}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pid, host] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
      const holder = Number(pid);
      if (holder && (host !== hostname() || (holder !== process.pid && isAlive(holder))))
        throw new AuditTrailError(
          `audit stream '${stream}' is being written by process ${holder} on ${host}; give this one its own audit.stream`,
        );
      await rm(path, { force: true });
    }
  }
  throw new AuditTrailError(`could not lock audit stream '${stream}'`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
