/**
 * Read-only access to the evidence being verified: a local folder or an s3:// prefix, with keys
 * relative to that root ('/'-separated either way). Objects are streamed; only small ones
 * (digests, manifests) are read whole, up to a limit.
 *
 * S3 configuration comes from the environment, as for ingest (credentials from the SDK's default
 * chain): AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (a custom
 * endpoint, path-style unless SCOUTQL_S3_FORCE_PATH_STYLE=0).
 */
import { readFileSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/* eslint-disable @typescript-eslint/no-require-imports -- the S3 client is loaded on first use: a local folder never pays its half second of start-up */
let clientS3: typeof ClientS3 | null = null;
const sdk = (): typeof ClientS3 => (clientS3 ??= require('@aws-sdk/client-s3') as typeof ClientS3);
/* eslint-enable @typescript-eslint/no-require-imports */

export interface StoredObject {
  /** Relative to the root, '/'-separated. */
  key: string;
  size: number;
}

export interface SmallObject {
  bytes: Buffer;
  /** S3 user metadata (x-amz-meta-* without the prefix, lower case); empty for local files. */
  metadata: Record<string, string>;
}

export interface EvidenceStore {
  /** The root as given. */
  readonly root: string;
  readonly kind: 'local' | 's3';
  /** Every object under the root. */
  list(): AsyncIterable<StoredObject>;
  /** The stored bytes, streamed (`size`, when known, sizes the read buffer: most log files are small). */
  open(key: string, size?: number): Promise<Readable>;
  /** The whole object and its metadata; null when it does not exist. Throws ObjectTooLargeError above `limit` bytes. */
  read(key: string, limit: number): Promise<SmallObject | null>;
  /** A location a person can find the object at (absolute path or s3:// URL). */
  locate(key: string): string;
  /** Releases the S3 client the store made itself (never one it was given). */
  close(): void;
}

export class ObjectTooLargeError extends Error {}

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

export function evidenceStoreFor(root: string, options: { s3Client?: S3Client } = {}): EvidenceStore {
  if (!isS3Url(root)) return new LocalStore(root);
  return options.s3Client
    ? new S3Store(root, options.s3Client, false)
    : new S3Store(root, new (sdk().S3Client)(s3ConfigFromEnv(process.env)), true);
}

class LocalStore implements EvidenceStore {
  readonly kind = 'local';
  private readonly dir: string;

  constructor(readonly root: string) {
    this.dir = resolve(root);
  }

  async *list(): AsyncIterable<StoredObject> {
    let info;
    try {
      info = await stat(this.dir);
    } catch {
      throw new Error(`not found: ${this.root}`);
    }
    if (!info.isDirectory()) throw new Error(`not a folder: ${this.root} (give the folder or s3:// prefix that holds AWSLogs/)`);
    yield* this.walk(this.dir, '');
  }

  private async *walk(dir: string, prefix: string): AsyncIterable<StoredObject> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const key = prefix + entry.name;
      if (entry.isDirectory()) yield* this.walk(full, `${key}/`);
      else if (entry.isFile()) yield { key, size: (await stat(full)).size };
    }
  }

  async open(key: string, size?: number): Promise<Readable> {
    // Opened first so a missing file rejects here (ENOENT) instead of erroring the stream later.
    const handle = await open(this.path(key), 'r');
    return handle.createReadStream({ highWaterMark: readBuffer(size) });
  }

  async read(key: string, limit: number): Promise<SmallObject | null> {
    // Synchronous on purpose: small files read whole are most of a trail, and four thread-pool
    // round trips each (open, fstat, read, close) cost more than the read itself.
    const path = this.path(key);
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (size > limit) throw new ObjectTooLargeError(`${size} bytes, more than the ${limit} a file of this kind may have`);
    try {
      return { bytes: readFileSync(path), metadata: {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  locate(key: string): string {
    return this.path(key);
  }

  close(): void {}

  private path(key: string): string {
    if (key.split('/').some((part) => part === '..' || part === '')) throw new Error(`not a key below the root: ${key}`);
    return join(this.dir, key.split('/').join(sep));
  }
}

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

class S3Store implements EvidenceStore {
  readonly kind = 's3';
  private readonly bucket: string;
  /** '' or ends with '/'. */
  private readonly prefix: string;

  constructor(
    readonly root: string,
    private readonly client: S3Client,
    private readonly ownsClient: boolean,
  ) {
    const m = S3_URL.exec(root);
    if (!m) throw new Error(`'${root}' is not an s3:// URL (want s3://bucket/prefix)`);
    this.bucket = m[1];
    const prefix = m[2] ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  async *list(): AsyncIterable<StoredObject> {
    let token: string | undefined;
    let found = false;
    do {
      const page = await this.client.send(
        new (sdk().ListObjectsV2Command)({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (!key.startsWith(this.prefix) || key.endsWith('/')) continue;
        found = true;
        yield { key: key.slice(this.prefix.length), size: Number(object.Size ?? 0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!found) throw new Error(`nothing found under ${this.root}`);
  }

  async open(key: string): Promise<Readable> {
    const answer = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key: this.prefix + key }));
    const body = answer.Body;
    if (body instanceof Readable) return body;
    return Readable.from([]);
  }

  async read(key: string, limit: number): Promise<SmallObject | null> {
    let answer;
    try {
      answer = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return null;
      throw err;
    }
    const body = answer.Body instanceof Readable ? answer.Body : Readable.from([]);
    if (Number(answer.ContentLength ?? 0) > limit) {
      body.destroy();
      throw new ObjectTooLargeError(`${answer.ContentLength} bytes, more than the ${limit} a file of this kind may have`);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      length += bytes.length;
      if (length > limit) {
        body.destroy();
        throw new ObjectTooLargeError(`more than the ${limit} bytes a file of this kind may have`);
      }
      chunks.push(bytes);
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.Metadata ?? {})) metadata[name.toLowerCase()] = value;
    return { bytes: Buffer.concat(chunks), metadata };
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  close(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

/** One read for a small file, 1 MiB reads for a big one. */
function readBuffer(size: number | undefined): number {
  return size === undefined ? 1 << 20 : Math.min(1 << 20, Math.max(16 * 1024, size + 1));
}

export function s3ConfigFromEnv(env: NodeJS.ProcessEnv): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const pathStyle = env.SCOUTQL_S3_FORCE_PATH_STYLE;
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: pathStyle !== undefined ? pathStyle === '1' || pathStyle === 'true' : Boolean(endpoint),
    maxAttempts: 5,
  };
}
