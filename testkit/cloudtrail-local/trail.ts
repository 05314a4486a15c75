/**
 * TEST INFRASTRUCTURE: writes a CloudTrail trail as AWS delivers it, signed as AWS signs it, with
 * an RSA key made here (nothing reaches AWS). The signing (testkit/sample/cloudtrail-signing.ts,
 * shared with the sample generator) is written independently of src/evidence so the verifier is
 * checked against it, not against itself.
 *
 * Layout (user guide, "Finding your CloudTrail log files", "CloudTrail digest file structure"):
 *   [prefix/]AWSLogs/[o-…/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz
 *   [prefix/]AWSLogs/[o-…/]<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHmmssZ>.json.gz
 * Each digest has the fields of the user guide's example, lists the log files delivered in its
 * hour with the SHA-256 of their uncompressed content, and chains to the previous digest by key,
 * SHA-256 of its uncompressed content and signature. Its signature, SHA256withRSA over
 *   digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256(uncompressed digest) \n previousDigestSignature|null
 * (user guide, "Custom implementations of … validation", section D), is written hex-encoded to a
 * sidecar `<digest>.sig` (S3 object metadata `signature` when uploaded with uploadTrail()).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { signDigest, type TrailKey } from '../sample/cloudtrail-signing';

export { listPublicKeysJson, makeTrailKey, type TrailKey } from '../sample/cloudtrail-signing';

export interface TrailOptions {
  /** The folder standing for the bucket. */
  dir: string;
  bucket: string;
  /** The trail's S3 key prefix, if any (no trailing slash). */
  prefix?: string;
  /** Organization trails add o-<id>/ after AWSLogs/. */
  organization?: string;
  account: string;
  region: string;
  trail: string;
  homeRegion?: string;
  key: TrailKey;
}

export interface WrittenLog {
  key: string;
  sha256: string;
  records: number;
}

export interface WrittenDigest {
  key: string;
  /** Hex SHA-256 of the uncompressed digest JSON. */
  sha256: string;
  signature: string;
  start: string;
  end: string;
  logFiles: string[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Writes one trail stream (account, region) hour by hour: log files, then the digest that lists them. */
export class TrailWriter {
  readonly logs: WrittenLog[] = [];
  readonly digests: WrittenDigest[] = [];
  private pending: WrittenLog[] = [];
  private previous: WrittenDigest | null = null;
  private counter = 0;

  constructor(readonly options: TrailOptions) {}

  private get base(): string {
    const { prefix, organization, account } = this.options;
    return `${prefix ? `${prefix}/` : ''}AWSLogs/${organization ? `${organization}/` : ''}${account}`;
  }

  /** A log file delivered at `deliveredMs` holding `records` (CloudTrail's {"Records":[…]} envelope). */
  logFile(deliveredMs: number, records: readonly Record<string, unknown>[]): WrittenLog {
    const { account, region } = this.options;
    const seed = createHash('sha256').update(`${this.base}/${region}/${this.counter++}`).digest();
    const unique = Array.from({ length: 16 }, (_, i) => ALNUM[seed[i] % ALNUM.length]).join('');
    const name = `${account}_CloudTrail_${region}_${stamp(deliveredMs, false)}_${unique}.json.gz`;
    const key = `${this.base}/CloudTrail/${region}/${slashDate(deliveredMs)}/${name}`;
    const text = JSON.stringify({ Records: records });
    this.put(key, gzipSync(text));
    const log = { key, sha256: sha256(text), records: records.length };
    this.logs.push(log);
    this.pending.push(log);
    return log;
  }

  /**
   * The digest for [startMs, endMs]: lists the log files written since the last one and chains to
   * it. `signWith` signs with another key (a forgery); `fingerprint` names another key than the signer;
   * `backfill` writes a backfill digest (`…_backfill.json.gz`) for files that missed their hour.
   */
  digest(startMs: number, endMs: number, forge: { signWith?: TrailKey; fingerprint?: string; backfill?: boolean } = {}): WrittenDigest {
    const { bucket, account, region, trail, homeRegion } = this.options;
    const name = `${account}_CloudTrail-Digest_${region}_${trail}_${homeRegion ?? region}_${stamp(endMs, true)}${forge.backfill ? '_backfill' : ''}.json.gz`;
    const key = `${this.base}/CloudTrail-Digest/${region}/${slashDate(endMs)}/${name}`;
    const files = this.pending;
    const times = files.map((f) => f.key).sort();
    // A backfill digest lists files delivered late, outside the hourly chain.
    const previous = forge.backfill ? null : this.previous;
    const start = iso(startMs);
    const end = iso(endMs);
    const digest = {
      awsAccountId: account,
      digestStartTime: start,
      digestEndTime: end,
      digestS3Bucket: bucket,
      digestS3Object: key,
      digestPublicKeyFingerprint: forge.fingerprint ?? this.options.key.fingerprint,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: times.length ? end : null,
      oldestEventTime: times.length ? start : null,
      previousDigestS3Bucket: previous ? bucket : null,
      previousDigestS3Object: previous?.key ?? null,
      previousDigestHashValue: previous?.sha256 ?? null,
      previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
      previousDigestSignature: previous?.signature ?? null,
      logFiles: files.map((f) => ({
        s3Bucket: bucket,
        s3Object: f.key,
        hashValue: f.sha256,
        hashAlgorithm: 'SHA-256',
        newestEventTime: end,
        oldestEventTime: start,
      })),
    };
    const text = JSON.stringify(digest);
    const contentHash = sha256(text);
    const signature = signDigest(
      {
        digestEndTime: end,
        digestS3Bucket: bucket,
        digestS3Object: key,
        contentSha256: contentHash,
        previousSignature: previous?.signature ?? null,
      },
      (forge.signWith ?? this.options.key).privateKey,
    );
    this.put(key, gzipSync(text));
    this.put(`${key}.sig`, Buffer.from(signature));
    const written = { key, sha256: contentHash, signature, start, end, logFiles: files.map((f) => f.key) };
    this.digests.push(written);
    if (!forge.backfill) this.previous = written;
    this.pending = [];
    return written;
  }

  /** Logging stopped and started again: the next digest is a starting digest (null previous fields). */
  restart(): void {
    this.previous = null;
  }

  private put(key: string, body: Buffer): void {
    const path = join(this.options.dir, ...key.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
}

/**
 * Records shaped like the user guide's "CloudTrail log file examples" (an IAM user starting an EC2
 * instance), varied by `i` and timed inside the window.
 */
export function exampleRecords(
  count: number,
  fromMs: number,
  toMs: number,
  account: string,
  region: string,
  seed = 0,
): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, n) => {
    const i = seed * 1000 + n;
    return {
      eventVersion: '1.08',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAJ45Q7YFFAREXAMPLE',
        arn: `arn:aws:iam::${account}:user/Alice`,
        accountId: account,
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        userName: 'Alice',
      },
      eventTime: iso(fromMs + Math.floor(((toMs - fromMs) * n) / Math.max(1, count))),
      eventSource: 'ec2.amazonaws.com',
      eventName: 'StartInstances',
      awsRegion: region,
      sourceIPAddress: `205.251.233.${i % 250}`,
      userAgent: 'ec2-api-tools 1.6.12.2',
      requestParameters: { instancesSet: { items: [{ instanceId: `i-ebeaf9e${(i % 9) + 1}` }] } },
      responseElements: {
        instancesSet: {
          items: [
            {
              instanceId: `i-ebeaf9e${(i % 9) + 1}`,
              currentState: { code: 0, name: 'pending' },
              previousState: { code: 80, name: 'stopped' },
            },
          ],
        },
      },
      requestID: `a1b2c3d4-${String(i).padStart(4, '0')}-4000-8000-000000000000`,
      eventID: `e0000000-${String(i).padStart(4, '0')}-4000-8000-000000000000`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
    };
  });
}

/**
 * Uploads a folder written by TrailWriter to S3 as CloudTrail delivers it: each digest carries
 * its signature in the object metadata (x-amz-meta-signature, x-amz-meta-signature-algorithm);
 * the .sig sidecars stay behind.
 */
export async function uploadTrail(client: S3Client, bucket: string, dir: string, prefix = ''): Promise<number> {
  let count = 0;
  for (const file of walk(dir)) {
    const rel = relative(dir, file).split(sep).join('/');
    if (rel.endsWith('.sig')) continue;
    const key = prefix ? `${prefix.replace(/\/+$/, '')}/${rel}` : rel;
    const sig = `${file}.sig`;
    const metadata =
      rel.includes('/CloudTrail-Digest/') && exists(sig)
        ? { signature: readFileSync(sig, 'utf8'), 'signature-algorithm': 'SHA256withRSA' }
        : undefined;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file), Metadata: metadata }));
    count++;
  }
  return count;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function slashDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/** YYYYMMDDTHHmmZ (log files) or YYYYMMDDTHHmmssZ (digests). */
function stamp(ms: number, seconds: boolean): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  return `${base}${seconds ? pad(d.getUTCSeconds()) : ''}Z`;
}
