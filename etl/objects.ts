import { createReadStream, readFileSync, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, gunzipSync, type Gunzip } from 'node:zlib';
import { sha256Hasher } from '../src/core/hash';
import { ObjectLimitError, ReadState, attachReadState } from './readers/read-state';
import { isS3Url, listS3Objects, parseS3Url, s3Object } from './s3';

/** One raw log object: a local file now, an S3 object through the same shape. */
export interface ObjectRef {
  /** Absolute path or s3:// URL: what the manifest and quarantine name. */
  key: string;
  size: number;
  /** A fresh stream of the object's stored (possibly compressed) bytes. */
  open(): Readable;
  /**
   * A local file's stored bytes in one synchronous read: for the small objects a worker thread
   * holds in memory, where a stream costs several thread-pool round trips (open, reads, close).
   */
  readWhole?(): Buffer;
  /**
   * Why the object cannot be read at all, found while listing (a FIFO, socket or device, a
   * dangling symbolic link, a file gone before it was looked at): it is counted as damaged, with
   * this reason in the manifest, and never opened.
   */
  unreadable?: string;
}

/** What listing noticed besides objects. */
export interface ListingNotes {
  /** Folders reached again through a symbolic link (a cycle, or a second way to the same folder): walked once only. */
  linkCycles: string[];
}

/**
 * Expands inputs into objects: files and folders (recursively, in name order, following
 * symbolic links) and s3:// URLs (an object, or every object under a prefix, in key order).
 */
export async function* listObjects(inputs: readonly string[], notes?: ListingNotes): AsyncGenerator<ObjectRef> {
  for (const input of inputs) {
    if (isS3Url(input)) yield* listS3Objects(input);
    else yield* listLocalObjects([input], notes);
  }
}

/**
 * Expands files and folders (recursively, in name order) into objects. Symbolic links are
 * followed, to files and to folders; a folder is walked once however many links lead to it, so a
 * link cycle ends (and is noted). Anything that is not a regular file is listed as unreadable
 * instead of being opened: reading a FIFO would wait forever.
 */
export async function* listLocalObjects(inputs: readonly string[], notes?: ListingNotes): AsyncGenerator<ObjectRef> {
  const walked = new Set<string>();
  for (const input of inputs) {
    const path = resolve(input);
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new Error(`input not found: ${input}`);
    }
    if (info.isDirectory()) yield* walk(path, info, walked, notes);
    else yield fileObject(path, info);
  }
}

async function* walk(dir: string, info: Stats, walked: Set<string>, notes?: ListingNotes): AsyncGenerator<ObjectRef> {
  const identity = `${info.dev}:${info.ino}`;
  if (walked.has(identity)) {
    notes?.linkCycles.push(dir);
    return;
  }
  walked.add(identity);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    let target: Stats;
    try {
      target = await stat(full); // follows a symbolic link
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = entry.isSymbolicLink() ? 'a symbolic link to nothing' : 'gone before it could be read';
      yield unreadableObject(full, `${why} (${code ?? (err as Error).message})`);
      continue;
    }
    if (target.isDirectory()) yield* walk(full, target, walked, notes);
    else yield fileObject(full, target);
  }
}

/** A regular file as an object; anything else as an unreadable one. */
function fileObject(path: string, info: Stats): ObjectRef {
  if (info.isFile()) return localObject(path, info.size);
  const kind = info.isFIFO()
    ? 'a FIFO (named pipe)'
    : info.isSocket()
      ? 'a socket'
      : info.isCharacterDevice() || info.isBlockDevice()
        ? 'a device'
        : 'not a regular file';
  return unreadableObject(path, `${kind}, not a log file: not read`);
}

function unreadableObject(path: string, reason: string): ObjectRef {
  return {
    key: path,
    size: 0,
    unreadable: reason,
    open: () => {
      throw new Error(`${path}: ${reason}`);
    },
  };
}

/** Re-creates an object from its key, e.g. in a worker thread that was handed only the key. */
export function objectFromKey(key: string, size: number): ObjectRef {
  if (isS3Url(key)) {
    const { bucket, key: objectKey } = parseS3Url(key);
    return s3Object(bucket, objectKey, size);
  }
  return localObject(key, size);
}

function localObject(path: string, size: number): ObjectRef {
  return {
    key: path,
    size,
    open: () => createReadStream(path, { highWaterMark: Math.min(1 << 20, Math.max(16 * 1024, size)) }),
    readWhole: () => readFileSync(path),
  };
}

/** Objects up to this size are read once into memory: hashed, detected and parsed from one read. */
export const IN_MEMORY_LIMIT = 32 * 1024 * 1024;

/** The object's stored bytes, read once, behind the same ObjectRef shape. */
export async function loadIntoMemory(object: ObjectRef): Promise<ObjectRef> {
  let bytes: Buffer;
  if (object.readWhole) bytes = object.readWhole();
  else {
    const chunks: Buffer[] = [];
    for await (const chunk of object.open()) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  }
  const loaded: InMemoryObject = { key: object.key, size: bytes.length, open: () => Readable.from([bytes]), bytes };
  return loaded;
}

/** An object read into memory: its stored bytes, and (once asked) its content inflated in one call, shared by detection and parsing. */
interface InMemoryObject extends ObjectRef {
  bytes: Buffer;
  /** The inflated content; null when it is not gzip, or must be streamed (damaged, cut short, too large). */
  inflated?: Buffer | null;
}

/** In-memory gzip objects up to this size (stored) are inflated in one call instead of through a stream. */
const INFLATE_AT_ONCE_STORED = 4 * 1024 * 1024;
/** …and only while their content stays below this; a larger one is streamed, as is everything else. */
const INFLATE_AT_ONCE_CONTENT = 64 * 1024 * 1024;

/**
 * The whole content of a small, intact gzip object held in memory, inflated once per object: its
 * detection and its parse both read it (they inflated it twice, through a stream each time: a
 * pipeline, an abort controller and 16 KiB chunks per object, most of a flow log's cost). Null
 * when the object must be streamed: not in memory, not gzip, damaged or truncated (the stream
 * keeps what precedes the damage), or larger than `max` (the stream says where the limit broke).
 */
function inflatedAtOnce(object: ObjectRef, max: number): Buffer | null {
  const held = object as Partial<InMemoryObject>;
  const bytes = held.bytes;
  if (!bytes || bytes.length > INFLATE_AT_ONCE_STORED) return null;
  if (held.inflated === undefined) {
    const gzip = bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
    try {
      held.inflated = gzip ? gunzipSync(bytes, { maxOutputLength: INFLATE_AT_ONCE_CONTENT }) : null;
    } catch {
      held.inflated = null;
    }
  }
  const inflated = held.inflated;
  return inflated && inflated.length <= max ? inflated : null;
}

/**
 * The whole decompressed content of an object held in memory (a plain one as stored, a small
 * intact gzip one inflated once), or null when it must be streamed: not in memory, damaged,
 * truncated, or above `max` bytes. The SQL ingest path reads such content in batches.
 */
export function contentInMemory(object: ObjectRef, max: number): Buffer | null {
  const bytes = (object as Partial<InMemoryObject>).bytes;
  if (!bytes) return null;
  const gzip = bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
  if (!gzip) return bytes.length <= max ? bytes : null;
  return inflatedAtOnce(object, max);
}

export async function sha256Of(object: ObjectRef): Promise<string> {
  const held = (object as Partial<InMemoryObject>).bytes;
  if (held) return sha256Hasher().update(held).digest('hex');
  const hash = sha256Hasher();
  for await (const chunk of object.open()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * The object's content, decompressed when it is gzip (by its magic bytes, not its name), as an
 * iterable that never throws: a read or decompression error ends the iteration and is reported
 * through `error()`, so everything decoded before the damage is still read.
 */
export class ObjectContent implements AsyncIterable<Buffer> {
  private failure: Error | null = null;
  bytesRead = 0;
  /** Decompressed bytes handed out so far. */
  bytesDecoded = 0;

  /** @param state the readers' limits and notes for this object (read-state.ts); rides on this iterable. */
  constructor(
    private readonly object: ObjectRef,
    readonly state: ReadState = new ReadState(),
  ) {
    attachReadState(this, state);
  }

  /** Counts what is handed out; past the object limit the object is quarantined whole. */
  private decoded(chunk: Buffer): Buffer {
    this.bytesDecoded += chunk.length;
    const max = this.state.limits.maxObjectBytes;
    if (this.bytesDecoded > max) {
      throw new ObjectLimitError(
        `more than ${max} bytes once decompressed (${this.bytesRead} stored bytes read): the object is quarantined whole (limit: maxObjectBytes)`,
      );
    }
    return chunk;
  }

  error(): Error | null {
    return this.failure;
  }

  /**
   * The whole content in one buffer when iterating would hand it out as one chunk anyway (an
   * object held in memory: plain, or small intact gzip inflated at once), counted as read; null:
   * iterate instead. Throws ObjectLimitError where iterating would.
   */
  whole(): Buffer | null {
    const bytes = (this.object as Partial<InMemoryObject>).bytes;
    if (!bytes) return null;
    const gzip = bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
    const whole = gzip ? inflatedAtOnce(this.object, this.state.limits.maxObjectBytes) : bytes;
    if (!whole) return null;
    this.bytesRead = this.object.size;
    return this.decoded(whole);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const whole = inflatedAtOnce(this.object, this.state.limits.maxObjectBytes);
    if (whole) {
      this.bytesRead = this.object.size;
      if (whole.length > 0) yield this.decoded(whole);
      return;
    }
    const raw = this.object.open();
    const stored = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const counted = async function* (this: ObjectContent, first: Buffer) {
      yield first;
      for (let next = await stored.next(); !next.done; next = await stored.next()) {
        this.bytesRead += next.value.length;
        yield next.value;
      }
    };
    let gzip = false;
    let gunzip: Gunzip | null = null;
    try {
      const first = await stored.next();
      if (first.done) return;
      this.bytesRead += first.value.length;
      gzip = first.value.length >= 2 && first.value[0] === GZIP_MAGIC_0 && first.value[1] === GZIP_MAGIC_1;
      if (!gzip) {
        for await (const chunk of counted.call(this, first.value)) yield this.decoded(chunk);
        return;
      }
      gunzip = createGunzip();
      // pipeline() destroys the gunzip stream with any read error, which ends the loop below.
      pipeline(Readable.from(counted.call(this, first.value)), gunzip, () => undefined);
      let handedOut = 0;
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          handedOut += chunk.length;
          yield this.decoded(chunk);
        }
      } catch (err) {
        if (!isInflateDataError(err)) throw err;
        // zlib's stream drops what the failing inflate call had decoded (up to a 16 KiB chunk), good
        // records included: decode the object again up to the damage, handing out what was missed.
        for await (const chunk of decodedBeforeDamage(this.object, gunzip.bytesWritten, handedOut)) yield this.decoded(chunk);
        throw err;
      }
    } catch (err) {
      if (err instanceof ObjectLimitError) throw err;
      const message = (err as Error).message;
      this.failure = new Error(gzip ? `corrupt gzip: ${message}` : `read failed: ${message}`);
    } finally {
      raw.destroy();
      gunzip?.destroy();
    }
  }
}

/** zlib found the compressed data itself damaged (not cut short: a truncated stream loses nothing). */
function isInflateDataError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code.startsWith('Z_') && code !== 'Z_BUF_ERROR';
}

/**
 * Everything a fresh inflate of the object decodes before it meets the damage, past the first
 * `alreadyOut` bytes. The stored bytes zlib had consumed without error (`cleanInput`) go in at once;
 * from there on a byte per write, so the write that fails holds at most the byte that is damaged
 * and every byte decoded before it comes out. Runs only for a damaged object.
 */
async function* decodedBeforeDamage(object: ObjectRef, cleanInput: number, alreadyOut: number): AsyncGenerator<Buffer> {
  const inflate = createGunzip();
  const decoded: Buffer[] = [];
  let failed = false;
  // The write in flight ends with its callback, or with the error when zlib destroys the stream.
  let written: (() => void) | null = null;
  inflate.on('data', (chunk: Buffer) => decoded.push(chunk));
  inflate.on('error', () => {
    failed = true;
    written?.();
  });
  const write = (piece: Buffer) =>
    new Promise<void>((done) => {
      if (failed) return done();
      written = done;
      inflate.write(piece, () => done());
    });
  let skip = alreadyOut;
  const fresh = function* (): Generator<Buffer> {
    for (const chunk of decoded.splice(0)) {
      if (skip >= chunk.length) skip -= chunk.length;
      else {
        yield skip > 0 ? chunk.subarray(skip) : chunk;
        skip = 0;
      }
    }
  };
  const stored = object.open();
  let offset = 0;
  try {
    for await (const chunk of stored as AsyncIterable<Buffer>) {
      const clean = Math.max(0, Math.min(chunk.length, cleanInput - offset));
      if (clean > 0) await write(chunk.subarray(0, clean));
      for (let i = clean; i < chunk.length && !failed; i++) await write(chunk.subarray(i, i + 1));
      offset += chunk.length;
      yield* fresh();
      if (failed) return;
    }
  } finally {
    stored.destroy();
    inflate.destroy();
  }
}

/** The first `limit` bytes of the decompressed content, for format detection. */
export async function readHead(object: ObjectRef, limit = 64 * 1024): Promise<{ head: string; error: Error | null }> {
  const content = new ObjectContent(object);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of content) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  return { head: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), error: content.error() };
}
