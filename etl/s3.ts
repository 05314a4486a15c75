/**
 * S3 access for the ETL: one client configured from the environment (so worker threads, which
 * share the process environment, build the same one), s3:// URL parsing, listing and streaming.
 *
 * Configuration (all optional; credentials always come from the SDK's default provider chain):
 *   AWS_REGION / AWS_DEFAULT_REGION     region (default us-east-1)
 *   AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL   a custom endpoint (a local S3 server in tests)
 *   SCOUTQL_S3_FORCE_PATH_STYLE=1       path-style addressing (implied by a custom endpoint unless =0)
 *   AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION   read by the SDK itself
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type { ObjectRef } from './objects';

/*
 * The SDK is loaded on first use: every ingest imports this module (through etl/objects.ts and
 * the lake store) in its main thread and each worker, and loading the S3 client costs each of
 * them about half a second of CPU, for nothing when the inputs and the lake are local paths.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
let clientS3: typeof ClientS3 | null = null;
const sdk = (): typeof ClientS3 => (clientS3 ??= require('@aws-sdk/client-s3') as typeof ClientS3);
const storage = (): typeof LibStorage => require('@aws-sdk/lib-storage') as typeof LibStorage;
/* eslint-enable @typescript-eslint/no-require-imports */

export interface S3Location {
  bucket: string;
  /** Key or key prefix, without a leading slash; '' for the whole bucket. */
  key: string;
}

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const m = S3_URL.exec(url);
  if (!m) throw new Error(`'${url}' is not an s3:// URL (want s3://bucket/prefix, bucket name rules)`);
  return { bucket: m[1], key: m[2] ?? '' };
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

let sharedClient: S3Client | null = null;

/** The process-wide client, built from the environment on first use. */
export function s3Client(): S3Client {
  sharedClient ??= new (sdk().S3Client)(s3ConfigFromEnv(process.env));
  return sharedClient;
}

/** Drops the shared client (tests that change the environment between servers). */
export function resetS3Client(): void {
  sharedClient?.destroy();
  sharedClient = null;
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

/** Every object at or below an s3:// URL, in key order; folder markers (keys ending in /) are skipped. */
export async function* listS3(
  url: string,
  options: { pageSize?: number; client?: Pick<S3Client, 'send'> } = {},
): AsyncGenerator<{ key: string; size: number }> {
  const client = options.client ?? s3Client();
  const { bucket, key: prefix } = parseS3Url(url);
  // `s3://b/logs` means the object `logs` or anything under `logs/`, never `logs2/…`.
  const under = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  let token: string | undefined;
  do {
    const page = await client.send(
      new (sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: options.pageSize }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key!;
      if (key.endsWith('/')) continue;
      if (key === prefix || key.startsWith(under)) yield { key, size: Number(object.Size ?? 0) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Objects under s3:// inputs as ObjectRefs; an input with nothing under it is an error, as a missing path is. */
export async function* listS3Objects(url: string): AsyncGenerator<ObjectRef> {
  const { bucket } = parseS3Url(url);
  let found = false;
  for await (const object of listS3(url)) {
    found = true;
    yield s3Object(bucket, object.key, object.size);
  }
  if (!found) throw new Error(`input not found: ${url}`);
}

/** An S3 object as an ObjectRef: each open() is a new GetObject, streamed (never whole in memory). */
export function s3Object(bucket: string, key: string, size: number): ObjectRef {
  return { key: s3Url(bucket, key), size, open: () => Readable.from(streamObject(bucket, key), { objectMode: false }) };
}

async function* streamObject(bucket: string, key: string): AsyncGenerator<Buffer> {
  const answer = await s3Client().send(new (sdk().GetObjectCommand)({ Bucket: bucket, Key: key }));
  const body = answer.Body as Readable | undefined;
  if (!body) return;
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } finally {
    // A reader that stops early (format detection reads the head only) ends the download here.
    body.destroy();
  }
}

/** Uploads a local file; multipart (parallel parts) above the part size, so big Parquet files work. */
export async function uploadFile(bucket: string, key: string, file: string): Promise<void> {
  const upload = new (storage().Upload)({
    client: s3Client(),
    params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
    partSize: 16 * 1024 * 1024,
    queueSize: 4,
  });
  await upload.done();
}

export async function putText(bucket: string, key: string, text: string): Promise<void> {
  await s3Client().send(new (sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: text }));
}

/**
 * Creates an object only if the key is free (If-None-Match: *): true when this PUT created it,
 * false when an object was there or another conditional write to the key won (412, 409).
 */
export async function createText(bucket: string, key: string, text: string): Promise<boolean> {
  try {
    await s3Client().send(new (sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: text, IfNoneMatch: '*' }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || status === 409) return false;
    throw err;
  }
}

/** The object's text, or null when it does not exist. */
export async function getText(bucket: string, key: string): Promise<string | null> {
  try {
    const answer = await s3Client().send(new (sdk().GetObjectCommand)({ Bucket: bucket, Key: key }));
    return (await answer.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function downloadFile(bucket: string, key: string, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const answer = await s3Client().send(new (sdk().GetObjectCommand)({ Bucket: bucket, Key: key }));
  await pipeline(answer.Body as Readable, createWriteStream(file));
}

/** Server-side copy (single request: objects up to 5 GB, far above any file the lake writes). */
export async function copyObject(bucket: string, from: string, to: string): Promise<void> {
  await s3Client().send(new (sdk().CopyObjectCommand)({ Bucket: bucket, CopySource: `${bucket}/${encodeKey(from)}`, Key: to }));
}

/**
 * Deletes keys (a missing key is not an error, as in S3 itself). One DeleteObject per key, 16 at a
 * time: the lake deletes few keys per commit, and this avoids DeleteObjects' checksum header,
 * which some S3-compatible servers reject.
 */
export async function deleteKeys(bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(keys.slice(i, i + 16).map((Key) => s3Client().send(new (sdk().DeleteObjectCommand)({ Bucket: bucket, Key }))));
  }
}

/**
 * CopySource is a URL path: each key segment encoded, slashes kept. '=' (every hive partition
 * folder) stays literal: S3 accepts it either way and some S3-compatible servers decode the
 * header with decodeURI, which leaves %3D undecoded.
 */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%3D/g, '='))
    .join('/');
}

/** True when an object exists (HEAD). */
export async function objectExists(bucket: string, key: string): Promise<boolean> {
  return (await objectSize(bucket, key)) !== null;
}

/** The object's size in bytes (a HEAD), or null when it does not exist. */
export async function objectSize(bucket: string, key: string): Promise<number | null> {
  try {
    const head = await s3Client().send(new (sdk().HeadObjectCommand)({ Bucket: bucket, Key: key }));
    return head.ContentLength ?? 0;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
