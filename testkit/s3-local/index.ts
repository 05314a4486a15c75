/**
 * TEST INFRASTRUCTURE: a local S3-compatible server (s3rver) on 127.0.0.1 over a temp directory,
 * for tests and demos of the S3 lake. Nothing here reaches AWS.
 */
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };

/** s3rver's fixed credentials; any SDK client of the local server must sign with them. */
export const S3_LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3Local {
  endpoint: string;
  /** The folder s3rver stores objects in. */
  directory: string;
  /** An S3 client configured for this server (path-style, local credentials). */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Uploads every file under a local folder to s3://bucket/prefix/…, keeping relative paths. */
  uploadDir(localDir: string, bucket: string, prefix: string): Promise<number>;
  close(): Promise<void>;
}

export function s3LocalClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3_LOCAL_CREDENTIALS,
    // s3rver predates the SDK's default CRC32 trailers and aws-chunked uploads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * s3rver 3.7 mis-lists with a delimiter: it prunes every folder more than one level below the
 * prefix before looking inside, so `a/` lists no common prefix `a/b/` when objects sit only at
 * `a/b/c/…` (real S3 does). The lake's partition walks (the graph step of an S3 lake, compaction)
 * depend on it, so every local server lists as S3 does: without the delimiter, then grouped.
 * (The marker keeps it applied once per process.)
 */
function correctS3rverDelimiterListing(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types; its store is patched in place
  const Store = require('s3rver/lib/stores/filesystem') as { prototype: Record<string, unknown> };
  type Listed = { objects: Array<{ key: string }>; commonPrefixes: string[]; isTruncated: boolean };
  type ListOptions = { delimiter?: string; prefix?: string; maxKeys?: number };
  const original = Store.prototype.listObjects as (bucket: string, options: ListOptions) => Promise<Listed>;
  if ((original as { corrected?: boolean }).corrected) return;
  const corrected = async function (this: unknown, bucket: string, options: ListOptions): Promise<Listed> {
    if (!options.delimiter) return original.call(this, bucket, options);
    const all = await original.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
    const prefix = options.prefix ?? '';
    const common = new Set<string>();
    const objects = all.objects.filter((o) => {
      const at = o.key.slice(prefix.length).indexOf(options.delimiter!);
      if (at === -1) return true;
      common.add(o.key.slice(0, prefix.length + at + 1));
      return false;
    });
    const max = options.maxKeys ?? Infinity;
    return { objects: objects.slice(0, max), commonPrefixes: [...common].sort(), isTruncated: objects.length > max };
  };
  Object.assign(corrected, { corrected: true });
  Store.prototype.listObjects = corrected;
}

export async function startS3Local(options: { directory?: string; buckets?: string[]; port?: number } = {}): Promise<S3Local> {
  correctS3rverDelimiterListing();
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'scoutql-s3-local-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    allowMismatchedSignatures: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = s3LocalClient(endpoint);
  return {
    endpoint,
    directory,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async uploadDir(localDir, bucket, prefix) {
      let count = 0;
      for (const file of walk(localDir)) {
        const key = [prefix.replace(/\/+$/, ''), relative(localDir, file).split(sep).join('/')].filter(Boolean).join('/');
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
        count++;
      }
      return count;
    },
    async close() {
      client.destroy();
      await server.close();
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
