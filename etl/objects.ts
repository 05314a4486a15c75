import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { sha256Hasher } from '../src/core/hash';
import { isS3Url, listS3Objects, parseS3Url, s3Object } from './s3';

/** One raw log object: a local file now, an S3 object through the same shape. */
export interface ObjectRef {
  /** Absolute path or s3:// URL: what the manifest and quarantine name. */
  key: string;
  size: number;
  /** A fresh stream of the object's stored (possibly compressed) bytes. */
  open(): Readable;
}

/**
 * Expands inputs into objects: files and folders (recursively, in name order) and s3:// URLs
 * (an object, or every object under a prefix, in key order).
 */
export async function* listObjects(inputs: readonly string[]): AsyncGenerator<ObjectRef> {
  for (const input of inputs) {
    if (isS3Url(input)) yield* listS3Objects(input);
    else yield* listLocalObjects([input]);
  }
}

/** Expands files and folders (recursively, in name order) into objects. */
export async function* listLocalObjects(inputs: readonly string[]): AsyncGenerator<ObjectRef> {
  for (const input of inputs) {
    const path = resolve(input);
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new Error(`input not found: ${input}`);
    }
    if (info.isDirectory()) yield* walk(path);
    else yield localObject(path, info.size);
  }
}

async function* walk(dir: string): AsyncGenerator<ObjectRef> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield localObject(full, (await stat(full)).size);
  }
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
  return { key: path, size, open: () => createReadStream(path, { highWaterMark: Math.min(1 << 20, Math.max(16 * 1024, size)) }) };
}

/** Objects up to this size are read once into memory: hashed, detected and parsed from one read. */
export const IN_MEMORY_LIMIT = 32 * 1024 * 1024;

/** The object's stored bytes, read once, behind the same ObjectRef shape. */
export async function loadIntoMemory(object: ObjectRef): Promise<ObjectRef> {
  const chunks: Buffer[] = [];
  for await (const chunk of object.open()) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return { key: object.key, size: bytes.length, open: () => Readable.from([bytes]) };
}

export async function sha256Of(object: ObjectRef): Promise<string> {
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

  constructor(private readonly object: ObjectRef) {}

  error(): Error | null {
    return this.failure;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
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
        yield* counted.call(this, first.value);
        return;
      }
      gunzip = createGunzip();
      // pipeline() destroys the gunzip stream with any read error, which ends the loop below.
      pipeline(Readable.from(counted.call(this, first.value)), gunzip, () => undefined);
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      const message = (err as Error).message;
      this.failure = new Error(gzip ? `corrupt gzip: ${message}` : `read failed: ${message}`);
    } finally {
      raw.destroy();
      gunzip?.destroy();
    }
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
