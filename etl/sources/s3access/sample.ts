/**
 * Amazon S3 server access logs, delivered with date-based partitioning:
 *
 *   s3-access/<source-account>/<source-region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-HH-MM-SS-<16 HEX>
 *
 * (`s3-access/` is the target prefix; AWS adds the account, region and bucket.) Each object holds
 * space-separated lines, unzipped, one per request, in the documented field order.
 *
 * The lines are the same requests CloudTrail logs as S3 events (data events and bucket calls) on
 * the buckets with access logging: the CloudTrail writer hands every S3 record to `observe`, so
 * request ids, x-amz-id-2 host ids, requesters, keys and byte counts agree between the sources.
 * Delivery is best effort and grouped: one object per bucket per hour of requests.
 */
import { type ObjectOutput, emptyStats, pad, type SourceStats, HOUR_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleWriter } from '../../../testkit/sample/writers';
import { cloudTrailDeliveries } from '../cloudtrail/sample';
import type { PlannedRecord, JsonObject } from '../cloudtrail/sample-records';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `[06/Feb/2019:00:00:38 +0000]` */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000]`;
}

/** CloudTrail event name → S3 access log operation and request line. */
function operationOf(name: string, key: string | undefined, params: JsonObject): { op: string; method: string; uri: string } | undefined {
  const path = key ? `/${key.split('/').map(encodeURIComponent).join('/')}` : '/';
  switch (name) {
    case 'GetObject':
      return { op: 'REST.GET.OBJECT', method: 'GET', uri: path };
    case 'HeadObject':
      return { op: 'REST.HEAD.OBJECT', method: 'HEAD', uri: path };
    case 'PutObject':
      return { op: 'REST.PUT.OBJECT', method: 'PUT', uri: path };
    case 'DeleteObject':
      return { op: 'REST.DELETE.OBJECT', method: 'DELETE', uri: path };
    case 'ListObjects':
    case 'ListObjectsV2': {
      const prefix = typeof params.prefix === 'string' ? params.prefix : '';
      return { op: 'REST.GET.BUCKET', method: 'GET', uri: `/?list-type=2&prefix=${encodeURIComponent(prefix)}&encoding-type=url` };
    }
    case 'PutBucketPolicy':
      return { op: 'REST.PUT.BUCKETPOLICY', method: 'PUT', uri: '/?policy' };
    case 'GetBucketPolicy':
      return { op: 'REST.GET.BUCKETPOLICY', method: 'GET', uri: '/?policy' };
    case 'PutBucketAcl':
      return { op: 'REST.PUT.ACL', method: 'PUT', uri: '/?acl' };
    case 'GetBucketAcl':
      return { op: 'REST.GET.ACL', method: 'GET', uri: '/?acl' };
    case 'DeletePublicAccessBlock':
      return { op: 'REST.DELETE.PUBLIC_ACCESS_BLOCK', method: 'DELETE', uri: '/?publicAccessBlock' };
    case 'GetPublicAccessBlock':
      return { op: 'REST.GET.PUBLIC_ACCESS_BLOCK', method: 'GET', uri: '/?publicAccessBlock' };
    case 'GetBucketLocation':
      return { op: 'REST.GET.LOCATION', method: 'GET', uri: '/?location' };
    case 'GetBucketVersioning':
      return { op: 'REST.GET.VERSIONING', method: 'GET', uri: '/?versioning' };
    case 'GetBucketEncryption':
      return { op: 'REST.GET.ENCRYPTION', method: 'GET', uri: '/?encryption' };
    default:
      return undefined;
  }
}

/** The canonical user id S3 writes as bucket owner (64 hex), fixed per account. */
export function canonicalOwnerId(world: World, account: string): string {
  return new Rng(`${world.seed}:canonical:${account}`).hex(64);
}

/**
 * The access log line for a CloudTrail S3 record on a logged bucket, or undefined when the call
 * is not a request S3 logs per bucket (ListBuckets) or the bucket has no access logging.
 */
export function accessLogLine(
  world: World,
  planned: PlannedRecord,
): { bucket: string; region: string; account: string; time: number; requestId: string; text: string } | undefined {
  const r = planned.record;
  if (r.eventSource !== 's3.amazonaws.com') return undefined;
  const params = (r.requestParameters ?? {}) as JsonObject;
  const bucketName = typeof params.bucketName === 'string' ? params.bucketName : undefined;
  if (!bucketName || !world.estate.web.accessLogged.includes(bucketName)) return undefined;
  const bucket = world.buckets[bucketName];
  if (!bucket) return undefined;
  const key = typeof params.key === 'string' ? params.key : undefined;
  const op = operationOf(r.eventName as string, key, params);
  if (!op) return undefined;
  const identity = r.userIdentity as JsonObject;
  const anonymous = identity.accountId === 'ANONYMOUS_PRINCIPAL';
  const requester = anonymous ? '-' : typeof identity.arn === 'string' ? identity.arn : '-';
  const extra = (r.additionalEventData ?? {}) as JsonObject;
  const rng = new Rng(`${world.seed}:s3line:${r.eventID as string}`);
  const errorCode = typeof r.errorCode === 'string' ? r.errorCode : undefined;
  const status = errorCode ? (errorCode === 'NoSuchKey' ? 404 : 403) : op.method === 'DELETE' ? 204 : 200;
  const bytesOut = typeof extra.bytesTransferredOut === 'number' ? extra.bytesTransferredOut : 0;
  const bytesIn = typeof extra.bytesTransferredIn === 'number' ? extra.bytesTransferredIn : 0;
  const isGet = op.method === 'GET' && op.op === 'REST.GET.OBJECT';
  const bytesSent = errorCode ? 243 : op.method === 'GET' ? (isGet ? bytesOut : rng.int(300, 4000)) : 0;
  const objectSize = isGet ? String(bytesOut) : op.method === 'PUT' && key ? String(bytesIn) : '-';
  const total = isGet ? Math.max(8, Math.round(bytesOut / 4_000_000) + rng.int(5, 60)) : rng.int(4, 90);
  const turnAround = Math.min(total, rng.int(3, 40));
  const tls = (r.tlsDetails ?? {}) as JsonObject;
  const tlsVersion = typeof tls.tlsVersion === 'string' ? tls.tlsVersion : 'TLSv1.2';
  const cipher =
    typeof extra.CipherSuite === 'string'
      ? extra.CipherSuite
      : typeof tls.cipherSuite === 'string'
        ? tls.cipherSuite
        : 'TLS_AES_128_GCM_SHA256';
  const hostId =
    typeof extra['x-amz-id-2'] === 'string'
      ? extra['x-amz-id-2']
      : rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 76) + '=';
  const host = `${bucket.name}.s3.${bucket.region}.amazonaws.com`;
  const fields = [
    canonicalOwnerId(world, bucket.account),
    bucket.name,
    clfTime(planned.time),
    r.sourceIPAddress as string,
    requester,
    r.requestID as string,
    op.op,
    key ? key.split('/').map(encodeURIComponent).join('/') : '-',
    `"${op.method} ${op.uri} HTTP/1.1"`,
    String(status),
    errorCode ?? '-',
    bytesSent > 0 ? String(bytesSent) : '-',
    objectSize,
    String(total),
    op.method === 'DELETE' || errorCode ? '-' : String(turnAround),
    '"-"',
    `"${r.userAgent as string}"`,
    '-',
    hostId,
    anonymous ? '-' : 'SigV4',
    cipher,
    anonymous ? '-' : 'AuthHeader',
    host,
    tlsVersion,
    '-',
    op.op.endsWith('.ACL') || op.op === 'REST.PUT.BUCKETPOLICY' ? 'Yes' : '-',
  ];
  return {
    bucket: bucket.name,
    region: bucket.region,
    account: bucket.account,
    time: planned.time,
    requestId: r.requestID as string,
    text: fields.join(' '),
  };
}

interface Pending {
  time: number;
  text: string;
}

export class S3AccessWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();
  private pending = new Map<string, Pending[]>();

  constructor(
    private readonly world: World,
    private readonly output: ObjectOutput,
  ) {}

  /** Every CloudTrail record passes through here; the S3 requests on logged buckets are kept. */
  observe(planned: PlannedRecord): void {
    const line = accessLogLine(this.world, planned);
    if (!line) return;
    const hour = Math.floor(line.time / HOUR_MS) * HOUR_MS;
    const k = `${line.account}|${line.region}|${line.bucket}|${hour}`;
    let list = this.pending.get(k);
    if (!list) this.pending.set(k, (list = []));
    list.push({ time: line.time, text: line.text });
  }

  /** Writes the hours collected so far (CloudTrail's writer has delivered the day's records before). */
  writeDay(): void {
    const keys = [...this.pending.keys()].sort();
    for (const k of keys) {
      const [account, region, bucket, hourText] = k.split('|') as [string, string, string, string];
      const lines = this.pending.get(k)!.sort((a, b) => a.time - b.time);
      const hour = Number(hourText);
      const rng = new Rng(`${this.world.seed}:s3access:${bucket}:${hour}`);
      const delivered = new Date(hour + HOUR_MS + rng.int(5, 55) * 60_000 + rng.int(0, 59) * 1000);
      const y = delivered.getUTCFullYear();
      const m = pad(delivered.getUTCMonth() + 1);
      const d = pad(delivered.getUTCDate());
      const name = `${y}-${m}-${d}-${pad(delivered.getUTCHours())}-${pad(delivered.getUTCMinutes())}-${pad(delivered.getUTCSeconds())}-${rng.chars('0123456789ABCDEF', 16)}`;
      const hourStart = new Date(hour);
      const key = `s3-access/${account}/${region}/${bucket}/${hourStart.getUTCFullYear()}/${pad(hourStart.getUTCMonth() + 1)}/${pad(hourStart.getUTCDate())}/${name}`;
      this.output.put(key, lines.map((l) => l.text).join('\n') + '\n', lines.length, this.stats);
    }
    this.pending.clear();
  }
}

export const sampleWriter = defineSampleWriter({
  source: 's3access',
  reads: [cloudTrailDeliveries],
  create: ({ world, output, feeds }) => {
    const writer = new S3AccessWriter(world, output);
    feeds.subscribe(cloudTrailDeliveries, (record) => writer.observe(record));
    return writer;
  },
});
