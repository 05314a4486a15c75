/**
 * Amazon S3 server access logs → http_activity.
 *
 * Space-separated lines with "quoted" and [bracketed] fields, `-` for empty; every documented
 * field is read by position and fields AWS appends later are tolerated (kept in `raw`).
 *
 * Account: the bucket owner field is a canonical user id, not an account id, so the account comes
 * from the object key when the log prefix holds one (`…/<12-digit account>/…`, as date-based
 * partitioning writes `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/…`), else 'unknown'.
 * Region: from the Host header (`<bucket>.s3.<region>.amazonaws.com`), else the access point ARN,
 * else the key, else 'unknown'.
 *
 * Actor (from the requester field): `-` → 'anonymous'; root ARNs as logged, IAM user and role ARNs
 * without their path (the identity convention, src/core/arn.ts iamIdentityKey); an
 * assumed-role ARN → the role's IAM ARN (session name as actor_name); `svc:<principal>` →
 * `service:<principal>`; `AmazonS3` (lifecycle) → `service:s3.amazonaws.com`; a canonical user id →
 * `canonical:<id>`. An access key id is not a requester: it becomes session_id, never actor_id.
 *
 * event_id is the S3 request id; operations that log several records under one request id
 * (batch deletes, lifecycle actions, the GET half of a copy) get the key or the half appended.
 */
import { iamIdentityKey, parseArn, partitionForHost, partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { parseClfTime } from '../../../src/core/time';
import { accountSegmentHints, isRegion } from '../../fields/aws-path';
import { httpOutcome, integer, requestLine, text, tokenize, urlDecode, urlPath } from '../../fields/text';
import { itemsByLine } from '../../readers/line-items';
import { defineSource, quarantine, type DetectSample, type Detection, type ParsedItem } from '../types';
import { manifest } from './manifest';

// Field positions, as documented.
const F = {
  bucketOwner: 0,
  bucket: 1,
  time: 2,
  remoteIp: 3,
  requester: 4,
  requestId: 5,
  operation: 6,
  key: 7,
  requestUri: 8,
  status: 9,
  errorCode: 10,
  bytesSent: 11,
  objectSize: 12,
  totalTime: 13,
  turnAroundTime: 14,
  referer: 15,
  userAgent: 16,
  versionId: 17,
  hostId: 18,
  signatureVersion: 19,
  cipherSuite: 20,
  authType: 21,
  hostHeader: 22,
  tlsVersion: 23,
  accessPointArn: 24,
  aclRequired: 25,
} as const;

/** Records from before 2017 end after the user agent; anything shorter is cut off. */
const MIN_FIELDS = F.userAgent + 1;

interface Actor {
  actor_id: string | null;
  actor_type: string;
  actor_name: string | null;
  actor_arn: string | null;
  actor_account: string | null;
  session_id: string | null;
}

const ANONYMOUS: Actor = {
  actor_id: 'anonymous',
  actor_type: 'Anonymous',
  actor_name: 'anonymous',
  actor_arn: null,
  actor_account: null,
  session_id: null,
};
const ACCESS_KEY_ID = /^(?:AKIA|ASIA)[A-Z0-9]{12,}$/;
const CANONICAL_ID = /^[0-9a-f]{64}$/;

/** The requester field → actor columns, following the shared identity conventions. */
export function requesterActor(requester: string | null): Actor {
  if (requester === null) return ANONYMOUS;
  const arn = parseArn(requester);
  if (arn) {
    const base = { actor_arn: requester, actor_account: arn.account || null, session_id: null };
    if (arn.service === 'iam' && arn.resource === 'root') return { ...base, actor_id: requester, actor_type: 'Root', actor_name: 'root' };
    if (arn.service === 'iam' && arn.resource.startsWith('user/')) {
      return {
        ...base,
        actor_id: iamIdentityKey(requester),
        actor_type: 'IAMUser',
        actor_name: arn.resource.slice(arn.resource.lastIndexOf('/') + 1),
      };
    }
    if (arn.service === 'iam' && arn.resource.startsWith('role/')) {
      return {
        ...base,
        actor_id: iamIdentityKey(requester),
        actor_type: 'Role',
        actor_name: arn.resource.slice(arn.resource.lastIndexOf('/') + 1),
      };
    }
    if (arn.service === 'sts' && arn.resource.startsWith('assumed-role/')) {
      const rest = arn.resource.slice('assumed-role/'.length);
      const slash = rest.indexOf('/');
      const role = slash === -1 ? rest : rest.slice(0, slash);
      const session = slash === -1 ? null : rest.slice(slash + 1) || null;
      return { ...base, actor_id: `arn:${arn.partition}:iam::${arn.account}:role/${role}`, actor_type: 'AssumedRole', actor_name: session };
    }
    if (arn.service === 'sts' && arn.resource.startsWith('federated-user/')) {
      return { ...base, actor_id: requester, actor_type: 'FederatedUser', actor_name: arn.resource.slice('federated-user/'.length) };
    }
    return { ...base, actor_id: requester, actor_type: 'Unknown', actor_name: null };
  }
  if (requester.startsWith('svc:')) {
    const service = requester.slice(4);
    return {
      actor_id: `service:${service}`,
      actor_type: 'AWSService',
      actor_name: service,
      actor_arn: requester,
      actor_account: null,
      session_id: null,
    };
  }
  if (requester === 'AmazonS3') {
    // S3 itself acting (lifecycle expirations and transitions).
    return {
      actor_id: 'service:s3.amazonaws.com',
      actor_type: 'AWSService',
      actor_name: 's3.amazonaws.com',
      actor_arn: requester,
      actor_account: null,
      session_id: null,
    };
  }
  if (requester.length === 64 && CANONICAL_ID.test(requester)) {
    return {
      actor_id: `canonical:${requester}`,
      actor_type: 'CanonicalUser',
      actor_name: null,
      actor_arn: requester,
      actor_account: null,
      session_id: null,
    };
  }
  if (ACCESS_KEY_ID.test(requester)) {
    return { actor_id: null, actor_type: 'Unknown', actor_name: null, actor_arn: null, actor_account: null, session_id: requester };
  }
  return { actor_id: requester, actor_type: 'Unknown', actor_name: null, actor_arn: requester, actor_account: null, session_id: null };
}

const REGION_IN_HOST = /[.-]([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com/;

class AccessLogReader {
  private readonly tokens: string[] = [];
  private readonly pathAccount: string | null;
  private readonly pathRegion: string | null;
  // Most lines of a file share a Host header: remember the last one's region.
  private lastHost: string | null = null;
  private lastHostRegion: string | null = null;

  constructor(key: string) {
    const hints = accountSegmentHints(key);
    this.pathAccount = hints.account;
    this.pathRegion = hints.region;
  }

  // Consecutive lines often share a requester: remember the last one's actor (read-only, spread into rows).
  private lastRequester: string | null | undefined = undefined;
  private lastActor: Actor = ANONYMOUS;

  private actorOf(requester: string | null): Actor {
    if (requester !== this.lastRequester) {
      this.lastRequester = requester;
      this.lastActor = requesterActor(requester);
    }
    return this.lastActor;
  }

  item(line: string, number: number): ParsedItem<'http_activity'> | null {
    if (!line.trim()) return null;
    const position = `line ${number}`;
    const tokens = this.tokens;
    const error = tokenize(line, tokens);
    if (error) return quarantine(position, error, line);
    if (tokens.length < MIN_FIELDS) {
      return quarantine(position, `expected at least ${MIN_FIELDS} fields (bucket owner … user agent), found ${tokens.length}`, line);
    }
    const row = this.row(tokens, line);
    return typeof row === 'string' ? quarantine(position, row, line) : { kind: 'rows', rows: [{ table: 'http_activity', row }] };
  }

  private regionOfHost(host: string | null): string | null {
    if (host !== this.lastHost) {
      this.lastHost = host;
      this.lastHostRegion = host ? (REGION_IN_HOST.exec(host)?.[1] ?? null) : null;
    }
    return this.lastHostRegion;
  }

  private row(t: readonly string[], raw: string): RowOf<'http_activity'> | string {
    const time = parseClfTime(t[F.time]);
    if (!time) return `time '${t[F.time]}' is not [dd/Mon/yyyy:HH:MM:SS +zzzz]`;
    let problem: string | null = null;
    const count = (index: number, name: string): number | null => {
      const value = integer(t[index]);
      if (value !== null && (Number.isNaN(value) || value < 0)) {
        problem ??= `${name} '${t[index]}' is not a non-negative integer`;
        return null;
      }
      return value;
    };
    const status = count(F.status, 'HTTP status');
    const bytesSent = count(F.bytesSent, 'bytes sent');
    const objectSize = count(F.objectSize, 'object size');
    const totalTime = count(F.totalTime, 'total time');
    count(F.turnAroundTime, 'turn-around time');
    if (problem) return problem;

    const bucket = text(t[F.bucket]);
    const rawKey = text(t[F.key]);
    const objectKey = rawKey === null ? null : urlDecode(rawKey, true);
    const operation = text(t[F.operation]);
    const request = requestLine(text(t[F.requestUri]));
    const host = text(t[F.hostHeader]);
    const accessPoint = parseArn(text(t[F.accessPointArn]));
    const regionFromAccessPoint = accessPoint && isRegion(accessPoint.region) ? accessPoint.region : null;
    const region = this.regionOfHost(host) ?? regionFromAccessPoint ?? this.pathRegion ?? 'unknown';
    const partition = accessPoint?.partition ?? partitionForHost(host) ?? partitionForRegion(region === 'unknown' ? null : region);
    const resources: string[] = [];
    if (bucket) {
      resources.push(`arn:${partition}:s3:::${bucket}`);
      if (objectKey !== null) resources.push(`arn:${partition}:s3:::${bucket}/${objectKey}`);
    }
    const errorCode = text(t[F.errorCode]);
    const method = request.method;
    const actor = this.actorOf(text(t[F.requester]));
    return {
      time,
      event_id: eventId(text(t[F.requestId]), operation, rawKey, raw),
      class_uid: 4002,
      activity: operation,
      service: 's3.amazonaws.com',
      outcome: status === null ? (errorCode ? 'failure' : 'unknown') : httpOutcome(status),
      error_code: errorCode,
      error_message: null,
      ...actor,
      src_ip: text(t[F.remoteIp]),
      user_agent: text(t[F.userAgent]),
      resources,
      raw,
      account: this.pathAccount ?? 'unknown',
      region,
      http_method: method,
      url: request.target,
      host,
      path: urlPath(request.target),
      status,
      // The log writes `-` for zero bytes sent.
      bytes_out: bytesSent ?? (status !== null ? 0 : null),
      // Object size is what an upload carried in; for reads it is the stored object's size.
      bytes_in: method === 'PUT' || method === 'POST' ? objectSize : null,
      duration_ms: totalTime,
      referrer: text(t[F.referer]),
      bucket,
      object_key: objectKey,
      dst_ip: null,
      dst_port: null,
      tls_protocol: text(t[F.tlsVersion]),
    };
  }
}

function eventId(requestId: string | null, operation: string | null, rawKey: string | null, raw: string): string {
  if (!requestId) return sha1Hex(raw);
  if (operation && rawKey && (operation.startsWith('BATCH.') || operation.startsWith('S3.'))) return `${requestId}/${rawKey}`;
  if (operation?.endsWith('_GET')) return `${requestId}/GET`;
  return requestId;
}

/** `<64-hex owner> <bucket> [06/Feb/2019:00:00:38 +0000] …`: the shape of a record. */
const RECORD_START = /^(?:[0-9a-f]{64}|-) \S+ \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] /;

function detect(sample: DetectSample): Detection {
  const first = sample.head.split('\n', 3).find((l) => l.trim());
  if (!first) return { confidence: 0 };
  return { confidence: RECORD_START.test(first) ? 0.95 : 0 };
}

export const source = defineSource(manifest, {
  detect,
  parse: (input, ctx) => itemsByLine(input, new AccessLogReader(ctx.key)),
});
