/**
 * Amazon API Gateway access logs (REST and HTTP APIs) → http_activity.
 *
 * An access log's format is the API owner's choice; this source reads the two the API Gateway
 * console offers and the documentation shows: JSON objects with the documented keys (requestId,
 * extendedRequestId, ip, caller, user, userArn, principalId, requestTime, requestTimeEpoch,
 * httpMethod, routeKey, resourcePath, path, status, protocol, responseLength, userAgent, stage,
 * apiId, domainName, accountId…) and the CLF layout
 * `<sourceIp> <caller> <user> [<requestTime>] "<httpMethod> <resourcePath|routeKey> <protocol>"
 * <status> <responseLength> <requestId> [<extendedRequestId>]`. Any other record is quarantined
 * with the reason.
 *
 * Deliveries: the records themselves (JSON lines, Firehose), a CloudWatch Logs export
 * (`<ISO time> <record>` lines) and CloudWatch Logs subscription messages (Firehose to S3; one
 * item per message, quarantined whole if one of its events cannot be read).
 *
 * time = requestTimeEpoch, else requestTime, else the CloudWatch event's time. account =
 * accountId, else the subscription's owner, else the key's `AWSLogs/<account>/`; region = the
 * `execute-api.<region>.amazonaws.com` domain name, else the key's. The stage resource is
 * `arn:aws:apigateway:<region>::/restapis/<apiId>/stages/<stage>` (`/apis/` for an HTTP API, known
 * by its routeKey). The actor is the IAM caller (userArn) or the authorizer's principalId.
 * `-` means no value, as in every AWS access log.
 */
import { parseArn, partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { parseClfTime } from '../../../src/core/time';
import { awsLogsPathHints, isAccountId, isRegion } from '../../fields/aws-path';
import { NormalizeError, obj, type JsonObject } from '../../fields/json';
import { httpOutcome, integer, requestLine, text, urlPath } from '../../fields/text';
import { splitExportLine, subscriptionLogEvents } from '../../readers/cloudwatch-logs';
import { parseJsonRecords } from '../../readers/json-items';
import { itemsByLine } from '../../readers/line-items';
import { peekFirstChunk } from '../../readers/read-state';
import { defineSource, quarantine, type DetectSample, type Detection, type ParsedItem, type RowIn } from '../types';
import { manifest } from './manifest';

type Row = RowOf<'http_activity'>;
type Item = ParsedItem<'http_activity'>;

/** What the delivery tells beside the record: the CloudWatch event's time and the log group's owner. */
interface Delivery {
  eventTime: Date | null;
  owner: string | null;
}

/** The fields of one access log record, whichever format it was written in. */
interface AccessRecord {
  requestId: string | null;
  extendedRequestId: string | null;
  ip: string | null;
  caller: string | null;
  user: string | null;
  userArn: string | null;
  principalId: string | null;
  time: Date | null;
  httpMethod: string | null;
  /** routeKey (HTTP API) or resourcePath (REST API). */
  route: string | null;
  isHttpApi: boolean;
  path: string | null;
  status: number | null;
  protocol: string | null;
  responseLength: number | null;
  userAgent: string | null;
  stage: string | null;
  apiId: string | null;
  domainName: string | null;
  accountId: string | null;
  errorMessage: string | null;
  latencyMs: number | null;
}

// `$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "…" status length requestId [extendedRequestId]`
// (the REST console example has no space between `]` and `"`).
const CLF = /^(\S+) (\S+) (\S+) \[(\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] ?"([^"]*)" (\S+) (\S+) ([^\s"]+)(?: ([^\s"]+))?$/;
const REQUEST_ID_KEY = /\\?"(?:requestId|extendedRequestId)\\?"\s*:/;
const METHOD_KEY = /\\?"httpMethod\\?"\s*:/;
const ROUTE_KEY = /\\?"(?:routeKey|resourcePath)\\?"\s*:/;
const SUBSCRIPTION = /"messageType"\s*:\s*"(?:DATA|CONTROL)_MESSAGE"/;
const EXECUTE_API_DOMAIN = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** A JSON value as text: strings as logged, numbers printed, `-` and empty as null. */
function field(record: JsonObject, key: string): string | null {
  const value = record[key];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? text(value) : null;
}

function numberField(record: JsonObject, key: string): number | null | string {
  const value = field(record, key);
  const n = integer(value ?? undefined);
  if (n !== null && (Number.isNaN(n) || n < 0)) return `${key} '${String(value).slice(0, 40)}' is not a non-negative integer`;
  return n;
}

/** A JSON object with the documented keys, or the reason it is not one. */
function fromJson(record: JsonObject): AccessRecord | string {
  const requestId = field(record, 'requestId');
  const extendedRequestId = field(record, 'extendedRequestId');
  if (!requestId && !extendedRequestId)
    return 'not an API Gateway access log record: no requestId or extendedRequestId (every access log format must log one)';
  const httpMethod = field(record, 'httpMethod');
  if (!httpMethod) return 'API Gateway access log record without httpMethod: not a format this source reads';
  const status = numberField(record, 'status');
  if (typeof status === 'string') return status;
  const responseLength = numberField(record, 'responseLength');
  if (typeof responseLength === 'string') return responseLength;
  const latency = numberField(record, 'responseLatency');
  let time: Date | null = null;
  const epoch = field(record, 'requestTimeEpoch');
  if (epoch !== null) {
    const ms = integer(epoch);
    if (ms === null || Number.isNaN(ms)) return `requestTimeEpoch '${epoch.slice(0, 40)}' is not epoch milliseconds`;
    time = new Date(ms);
  }
  const requestTime = field(record, 'requestTime');
  if (!time && requestTime !== null) {
    time = parseClfTime(requestTime);
    if (!time) return `requestTime '${requestTime.slice(0, 40)}' is not dd/MMM/yyyy:HH:mm:ss +hhmm`;
  }
  const routeKey = field(record, 'routeKey');
  return {
    requestId,
    extendedRequestId,
    ip: field(record, 'ip') ?? field(record, 'sourceIp'),
    caller: field(record, 'caller'),
    user: field(record, 'user'),
    userArn: field(record, 'userArn'),
    principalId: field(record, 'principalId'),
    time,
    httpMethod,
    route: routeKey ?? field(record, 'resourcePath'),
    isHttpApi: routeKey !== null,
    path: field(record, 'path'),
    status,
    protocol: field(record, 'protocol'),
    responseLength,
    userAgent: field(record, 'userAgent'),
    stage: field(record, 'stage'),
    apiId: field(record, 'apiId'),
    domainName: field(record, 'domainName'),
    accountId: field(record, 'accountId'),
    errorMessage: field(record, 'errorMessage') ?? field(record, 'error'),
    latencyMs: typeof latency === 'number' ? latency : null,
  };
}

/** A line in the documented CLF layout, or the reason it is not one. */
function fromClf(line: string): AccessRecord | string {
  const m = CLF.exec(line);
  if (!m) return 'not an API Gateway access log record: neither JSON nor the documented CLF layout';
  const time = parseClfTime(m[4]);
  if (!time) return `requestTime '${m[4]}' is not a valid time`;
  const status = integer(m[6]);
  if (status !== null && (Number.isNaN(status) || status < 100 || status > 999)) return `status '${m[6]}' is not an HTTP status`;
  const length = integer(m[7]);
  if (length !== null && (Number.isNaN(length) || length < 0)) return `responseLength '${m[7]}' is not a non-negative integer`;
  // "GET /pets HTTP/1.1" (REST: resourcePath) or "GET GET /pets HTTP/1.1" (HTTP API: routeKey includes the method).
  const request = requestLine(text(m[5]));
  const route = request.target;
  return {
    requestId: text(m[8]),
    extendedRequestId: text(m[9]),
    ip: text(m[1]),
    caller: text(m[2]),
    user: text(m[3]),
    userArn: null,
    principalId: null,
    time,
    httpMethod: request.method,
    route,
    isHttpApi: route !== null && (route === '$default' || /^[A-Z]+ \//.test(route) || route.startsWith('ANY ')),
    path: null,
    status,
    protocol: request.version,
    responseLength: length,
    userAgent: null,
    stage: null,
    apiId: null,
    domainName: null,
    accountId: null,
    errorMessage: null,
    latencyMs: null,
  };
}

/** The request path a route names: `/pets/{id}` from `GET /pets/{id}`, nothing from `$default`. */
function routePath(route: string | null): string | null {
  if (!route) return null;
  const path = route.slice(route.indexOf(' ') + 1);
  return path.startsWith('/') ? path : null;
}

class AccessLogReader {
  private readonly pathAccount: string | null;
  private readonly pathRegion: string | null;

  constructor(key: string) {
    const hints = awsLogsPathHints(key);
    this.pathAccount = hints.account;
    this.pathRegion = hints.region;
  }

  /** One access log record's text (a JSON object or a CLF line) → its row, or the reason it is none. */
  row(message: string, delivery: Delivery): Row | string {
    const trimmed = message.trim();
    let record: AccessRecord | string;
    if (trimmed.startsWith('{')) {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (err) {
        return `record is not valid JSON (${(err as Error).message})`;
      }
      const object = obj(value);
      record = object ? fromJson(object) : 'not an API Gateway access log record: not a JSON object';
    } else record = fromClf(trimmed);
    if (typeof record === 'string') return record;
    const time = record.time ?? delivery.eventTime;
    if (!time) return 'API Gateway access log record without requestTime or requestTimeEpoch';
    return this.normalize(record, time, trimmed, delivery);
  }

  private normalize(r: AccessRecord, time: Date, raw: string, delivery: Delivery): Row {
    const domainRegion = r.domainName ? (EXECUTE_API_DOMAIN.exec(r.domainName)?.[1] ?? null) : null;
    const region = isRegion(domainRegion) ? domainRegion : (this.pathRegion ?? 'unknown');
    const account = isAccountId(r.accountId) ? r.accountId : isAccountId(delivery.owner) ? delivery.owner : (this.pathAccount ?? 'unknown');
    const resources: string[] = [];
    if (r.apiId && r.stage && region !== 'unknown')
      resources.push(
        `arn:${partitionForRegion(region)}:apigateway:${region}::/${r.isHttpApi ? 'apis' : 'restapis'}/${r.apiId}/stages/${r.stage}`,
      );
    else if (r.apiId && region !== 'unknown')
      resources.push(`arn:${partitionForRegion(region)}:apigateway:${region}::/${r.isHttpApi ? 'apis' : 'restapis'}/${r.apiId}`);
    const actor = actorOf(r);
    const path = r.path ?? routePath(r.route);
    return {
      time,
      // requestId can be set by the client (x-amzn-RequestId); extendedRequestId cannot.
      event_id: r.extendedRequestId ?? sha1Hex(raw),
      class_uid: 4002,
      activity: r.httpMethod,
      service: 'apigateway.amazonaws.com',
      outcome: httpOutcome(r.status),
      error_code: r.status !== null && r.status >= 400 ? String(r.status) : null,
      error_message: r.errorMessage,
      ...actor,
      session_id: null,
      src_ip: r.ip,
      user_agent: r.userAgent,
      resources,
      raw,
      account,
      region,
      http_method: r.httpMethod,
      url: r.route,
      host: r.domainName,
      path: path ? urlPath(path) : null,
      status: r.status,
      bytes_out: r.responseLength,
      bytes_in: null,
      duration_ms: r.latencyMs,
      referrer: null,
      bucket: null,
      object_key: null,
      dst_ip: null,
      dst_port: null,
      tls_protocol: null,
    };
  }
}

type Actor = Pick<Row, 'actor_id' | 'actor_type' | 'actor_name' | 'actor_arn' | 'actor_account'>;

/** The IAM caller when the API uses IAM authorization, else the authorizer's principal, else the caller ids. */
function actorOf(r: AccessRecord): Actor {
  const arn = parseArn(r.userArn);
  if (arn && r.userArn) {
    const resource = arn.resource;
    const type = resource.startsWith('assumed-role/')
      ? 'AssumedRole'
      : resource.startsWith('user/')
        ? 'IAMUser'
        : resource === 'root'
          ? 'Root'
          : 'Unknown';
    const name = resource.slice(resource.lastIndexOf('/') + 1);
    return {
      actor_id: r.userArn,
      actor_type: type,
      actor_name: name,
      actor_arn: r.userArn,
      actor_account: isAccountId(arn.account) ? arn.account : null,
    };
  }
  if (r.principalId)
    return { actor_id: r.principalId, actor_type: 'AuthorizerPrincipal', actor_name: r.principalId, actor_arn: null, actor_account: null };
  const id = r.user ?? r.caller;
  if (id) return { actor_id: id, actor_type: 'IAMPrincipal', actor_name: null, actor_arn: null, actor_account: null };
  return { actor_id: null, actor_type: null, actor_name: null, actor_arn: null, actor_account: null };
}

function rowsOrThrow(row: Row | string, where: string): RowIn<'http_activity'>[] {
  if (typeof row === 'string') throw new NormalizeError(where ? `${where}: ${row}` : row);
  return [{ table: 'http_activity', row }];
}

/**
 * A JSON object of the object: a subscription message (its events' records), a CloudWatch event
 * exported as JSON (`{"timestamp":…,"message":"…"}`) or an access log record itself.
 */
function normalizeJson(reader: AccessLogReader, value: unknown, recordText: string): RowIn<'http_activity'>[] {
  const subscription = subscriptionLogEvents(value);
  if (subscription) {
    return subscription.events.flatMap((event, index) => {
      if (typeof event.message !== 'string') throw new NormalizeError(`log event ${index + 1}: no message text`);
      const eventTime = event.timestamp === null ? null : new Date(event.timestamp);
      return rowsOrThrow(reader.row(event.message, { eventTime, owner: subscription.owner }), `log event ${index + 1}`);
    });
  }
  const object = obj(value);
  const message = object?.['message'];
  if (object && typeof message === 'string' && object['requestId'] === undefined && object['extendedRequestId'] === undefined) {
    const timestamp = object['timestamp'];
    return rowsOrThrow(reader.row(message, { eventTime: typeof timestamp === 'number' ? new Date(timestamp) : null, owner: null }), '');
  }
  return rowsOrThrow(reader.row(recordText, { eventTime: null, owner: null }), '');
}

/** Lines: CloudWatch Logs export lines (`<ISO time> <record>`) or CLF / JSON records one per line. */
function lineReader(reader: AccessLogReader) {
  return {
    item(line: string, number: number): Item | null {
      if (!line.trim()) return null;
      const exported = splitExportLine(line);
      const message = exported ? exported.message : line;
      const row = reader.row(message, { eventTime: exported ? new Date(exported.time) : null, owner: null });
      return typeof row === 'string' ? quarantine(`line ${number}`, row, line) : { kind: 'rows', rows: [{ table: 'http_activity', row }] };
    },
  };
}

async function* parse(input: AsyncIterable<Buffer>, key: string): AsyncGenerator<Item> {
  const reader = new AccessLogReader(key);
  const peeked = await peekFirstChunk(input);
  const head = peeked.first.toString('utf8', 0, Math.min(peeked.first.length, 4096));
  // Subscription messages come as JSON values Firehose concatenates without newlines; everything else is a record per line.
  if (/^[\s\ufeff]*\{/.test(head) && SUBSCRIPTION.test(head))
    yield* parseJsonRecords(peeked.input, {}, (value, recordText) => normalizeJson(reader, value, recordText));
  else yield* itemsByLine(peeked.input, lineReader(reader));
}

export function detectApiGateway({ key, head }: DetectSample): Detection {
  const hinted = manifest.objects.keyPatterns.some((p) => p.test(key)) ? 0.04 : 0;
  if (REQUEST_ID_KEY.test(head) && METHOD_KEY.test(head) && ROUTE_KEY.test(head)) return { confidence: 0.9 + hinted };
  const lines = head.split('\n', 5).filter((l) => l.trim());
  const clf = lines.some((l) => {
    const exported = splitExportLine(l);
    return CLF.test(exported ? exported.message : l);
  });
  return { confidence: clf ? 0.9 + hinted : 0 };
}

export const source = defineSource(manifest, {
  detect: detectApiGateway,
  parse: (input, ctx) => parse(input, ctx.key),
});
