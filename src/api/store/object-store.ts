/**
 * A small store of named objects under a local folder or an S3 prefix: what the API keeps beside
 * the lake (the audit trail, API key records). Names are '/'-separated and relative to the root.
 *
 * Writes are whole: a reader never sees half an object (local: temp file + rename; S3: PutObject).
 * Only a local folder can append (S3 objects are immutable), which is why the audit trail writes
 * one new object per batch there.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** The root as a person would write it (a folder or s3://bucket/prefix). */
  readonly location: string;
  /** Every object name at or below a folder-like prefix ('' for all), sorted. */
  list(prefix: string): Promise<string[]>;
  /** The object's bytes, or null when there is none. */
  read(name: string): Promise<Buffer | null>;
  /** Writes the object whole. With ifAbsent, an existing object is left alone and false comes back. */
  write(name: string, data: string | Buffer, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Local folders only: appends (O_APPEND) to the object, creating it. */
  append?(name: string, data: string | Buffer): Promise<void>;
  /** Local folders only: the file behind a name (locks, tests). */
  localPath?(name: string): string;
}

const NAME = /^(?:[A-Za-z0-9_=-][A-Za-z0-9._=-]*)(?:\/[A-Za-z0-9_=-][A-Za-z0-9._=-]*)*$/;

function checkName(name: string): string {
  if (!NAME.test(name) || name.split('/').some((part) => part === '..' || part === '.'))
    throw new Error(`not a safe object name: '${name}'`);
  return name;
}

/** The store behind a location: a local folder, or s3://bucket/prefix with the client given. */
export function objectStoreFor(location: string, options: { s3Client?: () => Pick<S3Client, 'send'> } = {}): ObjectStore {
  if (location.startsWith('s3://')) {
    if (!options.s3Client) throw new Error(`an S3 client is needed for ${location}`);
    return new S3ObjectStore(location, options.s3Client());
  }
  return new LocalObjectStore(location);
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  constructor(readonly location: string) {}

  localPath(name: string): string {
    return join(this.location, ...checkName(name).split('/'));
  }

  async list(prefix: string): Promise<string[]> {
    const start = prefix === '' ? this.location : this.localPath(prefix.replace(/\/+$/, ''));
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.startsWith('.tmp-')) out.push(relative(this.location, path).split(sep).join('/'));
      }
    };
    await walk(start);
    return out.sort();
  }

  async read(name: string): Promise<Buffer | null> {
    try {
      return await readFile(this.localPath(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(name: string, data: string | Buffer, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const path = this.localPath(name);
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(temp, data, { mode: 0o640 });
    try {
      if (!options.ifAbsent) {
        await rename(temp, path);
        return true;
      }
      // link() fails when the name exists: an atomic create-if-absent.
      try {
        await link(temp, path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async append(name: string, data: string | Buffer): Promise<void> {
    const path = this.localPath(name);
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, data, { mode: 0o640 });
  }
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    readonly location: string,
    private readonly client: Pick<S3Client, 'send'>,
  ) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
    if (!m) throw new Error(`'${location}' is not an s3:// URL (want s3://bucket/prefix)`);
    this.bucket = m[1];
    this.prefix = (m[2] ?? '').replace(/\/+$/, '');
  }

  private key(name: string): string {
    return this.prefix ? `${this.prefix}/${checkName(name)}` : checkName(name);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const want = prefix === '' ? base : `${base}${prefix.replace(/\/+$/, '')}/`;
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: want, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith('/')) out.push(object.Key.slice(base.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async read(name: string): Promise<Buffer | null> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      if (!response.Body) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async write(name: string, data: string | Buffer, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const key = this.key(name);
    if (options.ifAbsent) {
      // S3 honours If-None-Match on PUT; the HEAD first also covers stores that ignore the condition
      // (leaving only the window between the two calls).
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return false;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}) }),
      );
      return true;
    } catch (err) {
      if (options.ifAbsent && httpStatus(err) === 412) return false;
      throw err;
    }
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(err) === 404;
}
