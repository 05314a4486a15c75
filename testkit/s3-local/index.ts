/**
 * TEST INFRASTRUCTURE: a local S3-compatible server (s3rver) on 127.0.0.1 over a temp directory,
 * for tests and demos of the S3 lake. Nothing here reaches AWS.
 */
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AsyncLocalStorage } from 'node:async_hooks';
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
  /**
   * Every request the server answered, in order (a test clears it with `requests.length = 0`): what
   * a client read and wrote, e.g. the GETs an ingest made of the lake's objects and their bytes.
   */
  readonly requests: S3Request[];
  close(): Promise<void>;
}

export interface S3Request {
  method: string;
  bucket: string;
  /** The object key (URL-decoded), '' for a bucket-level request (a listing). */
  key: string;
  /** The query string (e.g. `list-type=2&prefix=…`), '' when none. */
  query: string;
  status: number;
  /** Bytes of the response body as sent (Content-Length), 0 when none. */
  bytes: number;
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

/** The part of a Koa context the request log reads. */
type KoaMiddleware = (
  ctx: { method: string; path: string; querystring: string; status: number; response: { length?: number } },
  next: () => Promise<void>,
) => Promise<void>;

interface PutContext {
  req: AsyncIterable<unknown>;
  headers: Record<string, string | string[] | undefined>;
  params: { bucket: string; key: string };
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}

/**
 * What this server does to one object (a PUT, a GET's opening, a conditional PUT's look and write)
 * runs one at a time per key, as S3 orders requests to a key. A turn's work that calls into another
 * patched step for the same key (a conditional PUT's write) runs inside the turn it holds.
 */
const objectTurns = new Map<string, Promise<void>>();
const heldTurn = new AsyncLocalStorage<string>();
async function oneAtATime<T>(id: string, work: () => Promise<T>): Promise<T> {
  if (heldTurn.getStore() === id) return work();
  const before = objectTurns.get(id) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const turn = before.then(() => mine);
  objectTurns.set(id, turn);
  await before;
  try {
    return await heldTurn.run(id, work);
  } finally {
    done();
    if (objectTurns.get(id) === turn) objectTurns.delete(id);
  }
}

/**
 * s3rver 3.7 ignores If-None-Match on PUT; S3 honours `If-None-Match: *` (conditional writes,
 * 2024): the PUT fails with 412 PreconditionFailed when the key exists, and of PUTs racing for a
 * free key exactly one succeeds. The lake lock is built on that, so every local server does it
 * too: the look for the key and the write happen in the key's one turn, so no other PUT of the key
 * (conditional or not) lands between them. (The marker keeps it applied once per process.)
 */
function honourConditionalPut(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types; its controller is wrapped in place
  const controllers = require('s3rver/lib/controllers/object') as { putObject: (ctx: PutContext) => Promise<void> };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string, detail?: Record<string, string>) => Error;
  const original = controllers.putObject;
  if ((original as { conditional?: boolean }).conditional) return;
  const conditional = async function (ctx: PutContext): Promise<void> {
    if (ctx.headers['if-none-match'] !== '*') return original(ctx);
    await oneAtATime(`${ctx.params.bucket}/${ctx.params.key}`, async () => {
      if (await ctx.store.existsObject(ctx.params.bucket, ctx.params.key)) {
        // The body is read first, as S3 does: answering before it would cut the client's upload short ("aborted").
        for await (const _ of ctx.req);
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
          Condition: 'If-None-Match',
        });
      }
      await original(ctx);
    });
  };
  Object.assign(conditional, { conditional: true });
  controllers.putObject = conditional;
}

/**
 * s3rver 3.7 rewrites an object in place: a GET racing a PUT of the same key (the lake lock's
 * renewal and a writer reading the lock) streams a file cut short under it and the client sees
 * "aborted". S3 replaces an object atomically: a reader gets the old object or the new one, whole,
 * and the key exists throughout, for a listing and for a conditional PUT's look. So every local
 * server does: a PUT writes the new version beside the object (names no listing matches) and
 * renames it over the old one (a reader holding the old file open reads it to its end), and a GET
 * takes an object's metadata and file together, never halfway through a PUT. (The marker keeps it
 * applied once per process.)
 */
function replaceObjectsAtomically(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types; its store is patched in place
  const Store = require('s3rver/lib/stores/filesystem') as { prototype: Record<string, unknown> };
  type Resource = 'object' | 'object.md5' | 'metadata.json';
  type ObjectStore = { getResourcePath(bucket: string, key: string, kind: Resource): string };
  type Put = (this: ObjectStore, object: { bucket: string; key: string }) => Promise<unknown>;
  type Get = (this: ObjectStore, bucket: string, key: string, options?: unknown) => Promise<unknown>;
  const put = Store.prototype.putObject as Put;
  const get = Store.prototype.getObject as Get;
  if ((put as { atomic?: boolean }).atomic) return;
  const atomicPut: Put = function (object) {
    return oneAtATime(`${object.bucket}/${object.key}`, async () => {
      const suffix = `.${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.writing`;
      const staged = (kind: Resource) => `${this.getResourcePath(object.bucket, object.key, kind)}${suffix}`;
      // s3rver's own PUT, writing the object, its MD5 and its metadata under the staged names.
      const beside = Object.create(this, {
        getResourcePath: { value: (_b: string, _k: string, kind: Resource) => staged(kind) },
      }) as ObjectStore;
      // Metadata first, the object last: until its rename the old object is there, whole.
      const kinds: Resource[] = ['object.md5', 'metadata.json', 'object'];
      try {
        const stored = (await put.call(beside, object)) as { size: number };
        // s3rver answers once the body has passed its MD5, not once its file write is done: wait for the bytes.
        for (let waited = 0; (await stat(staged('object'))).size < stored.size; waited++) {
          if (waited > 10_000) throw new Error(`s3-local: ${object.bucket}/${object.key} was not written whole`);
          await sleep(1);
        }
        for (const kind of kinds)
          await rename(staged(kind), this.getResourcePath(object.bucket, object.key, kind)).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT' || kind === 'object') throw err;
          });
        return stored;
      } finally {
        await Promise.all(kinds.map((kind) => rm(staged(kind), { force: true })));
      }
    });
  };
  Object.assign(atomicPut, { atomic: true });
  Store.prototype.putObject = atomicPut;
  Store.prototype.getObject = function (this: ObjectStore, bucket: string, key: string, options?: unknown) {
    return oneAtATime(`${bucket}/${key}`, () => get.call(this, bucket, key, options));
  } satisfies Get;
}

export async function startS3Local(options: { directory?: string; buckets?: string[]; port?: number } = {}): Promise<S3Local> {
  correctS3rverDelimiterListing();
  honourConditionalPut();
  replaceObjectsAtomically();
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
  const requests: S3Request[] = [];
  // First in s3rver's Koa chain (composed when it starts listening): sees every request and its answer.
  (server as unknown as { middleware: KoaMiddleware[] }).middleware.unshift(async (ctx, next) => {
    try {
      await next();
    } finally {
      const [bucket = '', ...key] = ctx.path.replace(/^\//, '').split('/');
      requests.push({
        method: ctx.method,
        bucket: decodeURIComponent(bucket),
        key: decodeURIComponent(key.join('/')),
        query: ctx.querystring,
        status: ctx.status,
        bytes: Number(ctx.response.length ?? 0) || 0,
      });
    }
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = s3LocalClient(endpoint);
  return {
    endpoint,
    directory,
    client,
    requests,
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
