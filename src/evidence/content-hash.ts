/**
 * SHA-256 of an object's content as its producer hashed it: CloudTrail hashes the uncompressed
 * content of log and digest files, so gzip (recognised by its magic bytes, not the name) is
 * inflated on the way, streaming, in bounded memory.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip, gunzipSync } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

export interface ContentHash {
  /** Hex SHA-256 of the uncompressed content; null when it could not be read whole. */
  sha256: string | null;
  storedBytes: number;
  contentBytes: number;
  gzip: boolean;
  /** Why the content could not be read whole (corrupt or truncated gzip, read error). */
  error: string | null;
}

export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Hashes a stream of stored bytes; consumes and closes it. Never throws for bad content. */
export async function hashContent(stored: Readable): Promise<ContentHash> {
  const hash = createHash('sha256');
  let storedBytes = 0;
  let contentBytes = 0;
  let gzip: boolean | null = null;
  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      storedBytes += chunk.length;
      yield chunk;
    }
  };
  const consume = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      contentBytes += chunk.length;
      hash.update(chunk);
    }
  };
  try {
    const iterator = (stored as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) {
      return { sha256: hash.digest('hex'), storedBytes: 0, contentBytes: 0, gzip: false, error: null };
    }
    gzip = isGzip(first.value);
    const rest = (async function* () {
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })();
    if (gzip) await pipeline(counted(rest), createGunzip({ chunkSize: 64 * 1024 }), consume);
    else await consume(counted(rest));
    return { sha256: hash.digest('hex'), storedBytes, contentBytes, gzip, error: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      sha256: null,
      storedBytes,
      contentBytes,
      gzip: gzip ?? false,
      error: gzip ? `corrupt gzip: ${message}` : `read failed: ${message}`,
    };
  } finally {
    stored.destroy();
  }
}

/** Content inflated whole from a small object stays under this; past it, stream instead. */
export const WHOLE_CONTENT_LIMIT = 32 * 1024 * 1024;

/**
 * Hashes a small object read whole: one inflate on the thread pool instead of a stream per file
 * (most log files are kilobytes). Null when its content would exceed WHOLE_CONTENT_LIMIT: the
 * caller then streams it, so memory stays bounded.
 */
export async function hashSmall(stored: Buffer): Promise<ContentHash | null> {
  const gzip = isGzip(stored);
  if (!gzip)
    return {
      sha256: createHash('sha256').update(stored).digest('hex'),
      storedBytes: stored.length,
      contentBytes: stored.length,
      gzip,
      error: null,
    };
  let content: Buffer;
  try {
    // Output chunks sized to the likely content (JSON logs inflate 10–20×): fewer callbacks and copies.
    const chunkSize = Math.min(4 * 1024 * 1024, Math.max(64 * 1024, stored.length * 16));
    content = await gunzipAsync(stored, { maxOutputLength: WHOLE_CONTENT_LIMIT, chunkSize });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
    const message = err instanceof Error ? err.message : String(err);
    return { sha256: null, storedBytes: stored.length, contentBytes: 0, gzip, error: `corrupt gzip: ${message}` };
  }
  return {
    sha256: createHash('sha256').update(content).digest('hex'),
    storedBytes: stored.length,
    contentBytes: content.length,
    gzip,
    error: null,
  };
}

/** The uncompressed content of a small object read whole (gunzipped when it is gzip); throws past `limit` bytes. */
export function contentOf(bytes: Buffer, limit = WHOLE_CONTENT_LIMIT): { content: Buffer; gzip: boolean } {
  if (!isGzip(bytes)) return { content: bytes, gzip: false };
  try {
    return { content: gunzipSync(bytes, { maxOutputLength: limit }), gzip: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`inflates to more than ${limit} bytes`);
    throw new Error(`corrupt gzip (truncated?): ${(err as Error).message}`);
  }
}
