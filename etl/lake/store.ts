/**
 * Where a lake's files live: a local folder or an S3 prefix. Transactions, the manifest, the
 * lock, recovery and compaction speak only this interface; paths are lake-relative, '/'-separated.
 *
 * The two differ in one way that matters to a transaction: a local lake stages files inside
 * itself (`_staging/<txn>/`, the same file system, so publishing is a rename), while an S3 lake's
 * files are produced in a local folder and uploaded to `_staging/<txn>/` at commit, then copied
 * into place (S3 has no rename).
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type * as ClientS3 from '@aws-sdk/client-s3';
import {
  copyObject,
  createText,
  deleteKeys,
  downloadFile,
  getText,
  isNotFound,
  isS3Url,
  listS3,
  objectSize,
  parseS3Url,
  putText,
  s3Client,
  s3Url,
  uploadFile,
} from '../s3';

/* eslint-disable @typescript-eslint/no-require-imports -- the S3 client is loaded on first use: a local lake never pays its half second of start-up */
let clientS3: typeof ClientS3 | null = null;
const sdk = (): typeof ClientS3 => (clientS3 ??= require('@aws-sdk/client-s3') as typeof ClientS3);
/* eslint-enable @typescript-eslint/no-require-imports */

export interface LakeStore {
  /** The lake as named by the user: a folder path or s3://bucket/prefix. */
  readonly location: string;
  readonly kind: 'local' | 's3';
  /** Lake-relative paths of every file below a lake-relative folder ('' for the whole lake), sorted. */
  listFiles(dir: string): Promise<string[]>;
  /** Names of the folders directly below a lake-relative folder, sorted. */
  listDirs(dir: string): Promise<string[]>;
  /** A file's size in bytes, or null when it does not exist (S3: a HEAD, no download). */
  fileSize(path: string): Promise<number | null>;
  /** A file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Writes a small file so that it appears whole or not at all. */
  writeText(path: string, text: string): Promise<void>;
  /**
   * Creates a small file only if none exists at the path, atomically: of writers racing to create
   * it exactly one gets true, and the file appears whole. Locally a hard link of a finished file
   * (link(2) fails when the name exists); on S3 a conditional PUT (If-None-Match: *).
   */
  createText(path: string, text: string): Promise<boolean>;
  /** Stores a local file at a lake path (S3: multipart upload for big files). */
  putFile(localFile: string, path: string): Promise<void>;
  /** Moves a file within the lake; false when `from` is gone (an earlier, interrupted move finished). */
  move(from: string, to: string): Promise<boolean>;
  /** Deletes files; missing ones are not an error. */
  remove(paths: readonly string[]): Promise<void>;
  /** Deletes a folder and everything in it. */
  removeDir(dir: string): Promise<void>;
  /** A local path holding the file's bytes: the file itself for a local lake, a download into `scratch` for S3. */
  localCopy(path: string, scratch: string): Promise<string>;
  /** The absolute path or s3:// URL of a lake path, for messages and manifests. */
  url(path: string): string;
}

export function lakeStoreFor(lake: string): LakeStore {
  return isS3Url(lake) ? new S3LakeStore(lake) : new LocalLakeStore(lake);
}

export class LocalLakeStore implements LakeStore {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(readonly location: string) {
    this.root = resolve(location);
  }

  private abs(path: string): string {
    return join(this.root, ...path.split('/').filter(Boolean));
  }

  async listFiles(dir: string): Promise<string[]> {
    const start = this.abs(dir);
    if (!existsSync(start)) return [];
    const out: string[] = [];
    const walk = async (folder: string) => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const full = join(folder, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) out.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(start);
    return out.sort();
  }

  async listDirs(dir: string): Promise<string[]> {
    const folder = this.abs(dir);
    if (!existsSync(folder)) return [];
    return (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  }

  async fileSize(path: string): Promise<number | null> {
    try {
      return (await stat(this.abs(path))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async readText(path: string): Promise<string | null> {
    try {
      return await readFile(this.abs(path), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async writeText(path: string, text: string): Promise<void> {
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.tmp`, text);
    await rename(`${target}.tmp`, target);
  }

  async createText(path: string, text: string): Promise<boolean> {
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    const draft = `${target}.${randomBytes(6).toString('hex')}.draft`;
    await writeFile(draft, text);
    try {
      await link(draft, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(draft, { force: true });
    }
  }

  async putFile(localFile: string, path: string): Promise<void> {
    const target = this.abs(path);
    if (resolve(localFile) === target) return;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(localFile, `${target}.tmp`);
    await rename(`${target}.tmp`, target);
  }

  async move(from: string, to: string): Promise<boolean> {
    const source = this.abs(from);
    if (!existsSync(source)) return false;
    const target = this.abs(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(source, target);
    return true;
  }

  async remove(paths: readonly string[]): Promise<void> {
    for (const p of paths) await rm(this.abs(p), { force: true });
  }

  async removeDir(dir: string): Promise<void> {
    await rm(this.abs(dir), { recursive: true, force: true });
  }

  async localCopy(path: string): Promise<string> {
    return this.abs(path);
  }

  url(path: string): string {
    return this.abs(path);
  }

  /** Size of a lake file in bytes. */
  async size(path: string): Promise<number> {
    return (await stat(this.abs(path))).size;
  }
}

export class S3LakeStore implements LakeStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  /** Key prefix of the lake, '' or ending in '/'. */
  readonly prefix: string;

  constructor(readonly location: string) {
    const { bucket, key } = parseS3Url(location.replace(/\/+$/, ''));
    this.bucket = bucket;
    this.prefix = key ? `${key}/` : '';
  }

  private key(path: string): string {
    return this.prefix + path.split('/').filter(Boolean).join('/');
  }

  private folderKey(dir: string): string {
    const key = this.key(dir);
    return key === '' || key.endsWith('/') ? key : `${key}/`;
  }

  async listFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    const folder = this.folderKey(dir);
    for await (const object of listS3(s3Url(this.bucket, folder))) {
      if (object.key.startsWith(folder)) out.push(object.key.slice(this.prefix.length));
    }
    return out.sort();
  }

  async listDirs(dir: string): Promise<string[]> {
    const folder = this.folderKey(dir);
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3Client().send(
        new (sdk().ListObjectsV2Command)({ Bucket: this.bucket, Prefix: folder, Delimiter: '/', ContinuationToken: token }),
      );
      for (const common of page.CommonPrefixes ?? []) names.push(common.Prefix!.slice(folder.length).replace(/\/$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names.sort();
  }

  fileSize(path: string): Promise<number | null> {
    return objectSize(this.bucket, this.key(path));
  }

  readText(path: string): Promise<string | null> {
    return getText(this.bucket, this.key(path));
  }

  writeText(path: string, text: string): Promise<void> {
    // A PUT is atomic in S3: readers see the old object, or none, or the whole new one.
    return putText(this.bucket, this.key(path), text);
  }

  createText(path: string, text: string): Promise<boolean> {
    return createText(this.bucket, this.key(path), text);
  }

  putFile(localFile: string, path: string): Promise<void> {
    return uploadFile(this.bucket, this.key(path), localFile);
  }

  async move(from: string, to: string): Promise<boolean> {
    try {
      await copyObject(this.bucket, this.key(from), this.key(to));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Gone from staging: fine only if an earlier roll-forward already put it in place.
      if ((await objectSize(this.bucket, this.key(to))) !== null) return false;
      throw new Error(`cannot publish ${this.url(to)}: neither the staged copy ${this.url(from)} nor the target exists`);
    }
    await deleteKeys(this.bucket, [this.key(from)]);
    return true;
  }

  remove(paths: readonly string[]): Promise<void> {
    return deleteKeys(
      this.bucket,
      paths.map((p) => this.key(p)),
    );
  }

  async removeDir(dir: string): Promise<void> {
    const files = await this.listFiles(dir);
    await this.remove(files);
  }

  async localCopy(path: string, scratch: string): Promise<string> {
    const file = join(scratch, ...path.split('/'));
    await downloadFile(this.bucket, this.key(path), file);
    return file;
  }

  url(path: string): string {
    return s3Url(this.bucket, this.key(path));
  }
}
