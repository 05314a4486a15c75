/**
 * Elastic Load Balancing access logs → http_activity: Application Load Balancer lines (types
 * http, https, h2, grpcs, ws, wss; every documented field up to conn_trace_id, and fields AWS
 * appends later are tolerated) and Classic Load Balancer lines (a different, shorter field set).
 *
 * `-1` times mean "could not dispatch" (no duration); `-` means no value. Account and region come
 * from the target group ARN when the line has one, else from the key
 * (`AWSLogs/<account>/elasticloadbalancing/<region>/`), else 'unknown'.
 * ALB logs carry no request id, so event_id is the sha1 of the line.
 */
import { parseArn, partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { parseIsoTime } from '../../../src/core/time';
import { awsLogsPathHints, isAccountId, isRegion } from '../../fields/aws-path';
import { decimal, hostPort, httpOutcome, integer, requestLine, text, tokenize, urlHost, urlPath } from '../../fields/text';
import { itemsByLine } from '../../readers/line-items';
import { defineSource, quarantine, type DetectSample, type Detection, type ParsedItem } from '../types';
import { manifest } from './manifest';

type Row = RowOf<'http_activity'>;

/** The columns no load balancer log fills. */
const NOT_LOGGED = {
  error_message: null,
  actor_id: null,
  actor_type: null,
  actor_name: null,
  actor_arn: null,
  actor_account: null,
  session_id: null,
  referrer: null,
  bucket: null,
  object_key: null,
} as const;

// Application Load Balancer field positions, as documented.
const A = {
  type: 0,
  time: 1,
  elb: 2,
  client: 3,
  target: 4,
  requestProcessingTime: 5,
  targetProcessingTime: 6,
  responseProcessingTime: 7,
  elbStatusCode: 8,
  targetStatusCode: 9,
  receivedBytes: 10,
  sentBytes: 11,
  request: 12,
  userAgent: 13,
  sslCipher: 14,
  sslProtocol: 15,
  targetGroupArn: 16,
  traceId: 17,
  domainName: 18,
  chosenCertArn: 19,
  matchedRulePriority: 20,
  requestCreationTime: 21,
  actionsExecuted: 22,
  redirectUrl: 23,
  errorReason: 24,
  targetPortList: 25,
  targetStatusCodeList: 26,
  classification: 27,
  classificationReason: 28,
  connTraceId: 29,
} as const;

// Classic Load Balancer field positions.
const C = {
  time: 0,
  elb: 1,
  client: 2,
  backend: 3,
  requestProcessingTime: 4,
  backendProcessingTime: 5,
  responseProcessingTime: 6,
  elbStatusCode: 7,
  backendStatusCode: 8,
  receivedBytes: 9,
  sentBytes: 10,
  request: 11,
  userAgent: 12,
  sslCipher: 13,
  sslProtocol: 14,
} as const;

/** The oldest ALB lines end after ssl_protocol; shorter lines are cut off. */
const ALB_MIN_FIELDS = A.sslProtocol + 1;
const CLASSIC_FIELDS = C.sslProtocol + 1;

class ElbReader {
  private readonly tokens: string[] = [];
  private readonly pathAccount: string | null;
  private readonly pathRegion: string | null;

  constructor(key: string) {
    const hints = awsLogsPathHints(key, 'elasticloadbalancing');
    this.pathAccount = hints.account;
    this.pathRegion = hints.region;
  }

  item(line: string, number: number): ParsedItem<'http_activity'> | null {
    if (!line.trim()) return null;
    const position = `line ${number}`;
    const tokens = this.tokens;
    const error = tokenize(line, tokens);
    if (error) return quarantine(position, error, line);
    const first = tokens[0];
    let row: Row | string;
    if (parseIsoTime(first)) {
      row =
        tokens.length >= CLASSIC_FIELDS
          ? this.classic(tokens, line)
          : `Classic Load Balancer line has ${tokens.length} fields, expected ${CLASSIC_FIELDS}`;
    } else if (/^[a-z][a-z0-9]*$/.test(first) && tokens[2]?.startsWith('app/')) {
      row =
        tokens.length >= ALB_MIN_FIELDS
          ? this.application(tokens, line)
          : `Application Load Balancer line has ${tokens.length} fields, expected at least ${ALB_MIN_FIELDS}`;
    } else {
      row = `not an Application or Classic Load Balancer access log line (type '${first.slice(0, 20)}')`;
    }
    return typeof row === 'string' ? quarantine(position, row, line) : { kind: 'rows', rows: [{ table: 'http_activity', row }] };
  }

  private application(t: readonly string[], raw: string): Row | string {
    const time = parseIsoTime(t[A.time]);
    if (!time) return `time '${t[A.time]}' is not an ISO 8601 timestamp`;
    const numbers = checkedNumbers(t, [
      [A.elbStatusCode, 'elb_status_code'],
      [A.targetStatusCode, 'target_status_code'],
      [A.receivedBytes, 'received_bytes'],
      [A.sentBytes, 'sent_bytes'],
    ]);
    if (typeof numbers === 'string') return numbers;
    const [status, , receivedBytes, sentBytes] = numbers;
    const duration = durationMs(t, A.requestProcessingTime);
    if (typeof duration === 'string') return duration;

    const targetGroupArn = text(t[A.targetGroupArn]);
    const { account, region } = this.place(targetGroupArn);
    const elb = text(t[A.elb]);
    const client = hostPort(t[A.client]);
    const target = hostPort(t[A.target]);
    const request = requestLine(text(t[A.request]));
    const errorReason = text(t[A.errorReason]);
    const resources: string[] = [];
    if (elb)
      resources.push(
        isAccountId(account) && region !== 'unknown'
          ? `arn:${partitionForRegion(region)}:elasticloadbalancing:${region}:${account}:loadbalancer/${elb}`
          : elb,
      );
    if (targetGroupArn) resources.push(targetGroupArn);
    return {
      ...NOT_LOGGED,
      time,
      event_id: sha1Hex(raw),
      class_uid: 4002,
      activity: request.method,
      service: 'elasticloadbalancing.amazonaws.com',
      outcome: httpOutcome(status),
      error_code: errorReason,
      src_ip: client.ip,
      user_agent: text(t[A.userAgent]),
      resources,
      raw,
      account,
      region,
      http_method: request.method,
      url: request.target,
      host: urlHost(request.target) ?? text(t[A.domainName]),
      path: urlPath(request.target),
      status,
      bytes_out: sentBytes,
      bytes_in: receivedBytes,
      duration_ms: duration,
      dst_ip: target.ip,
      dst_port: target.port,
      tls_protocol: text(t[A.sslProtocol]),
    };
  }

  private classic(t: readonly string[], raw: string): Row | string {
    const time = parseIsoTime(t[C.time]);
    if (!time) return `time '${t[C.time]}' is not an ISO 8601 timestamp`;
    const numbers = checkedNumbers(t, [
      [C.elbStatusCode, 'elb_status_code'],
      [C.backendStatusCode, 'backend_status_code'],
      [C.receivedBytes, 'received_bytes'],
      [C.sentBytes, 'sent_bytes'],
    ]);
    if (typeof numbers === 'string') return numbers;
    const [status, , receivedBytes, sentBytes] = numbers;
    const duration = durationMs(t, C.requestProcessingTime);
    if (typeof duration === 'string') return duration;

    const { account, region } = this.place(null);
    const name = text(t[C.elb]);
    const client = hostPort(t[C.client]);
    const backend = hostPort(t[C.backend]);
    // A TCP/SSL listener logs the request as `- - - `.
    const request = requestLine(text(t[C.request]?.trim()));
    const resources: string[] = [];
    if (name)
      resources.push(
        isAccountId(account) && region !== 'unknown'
          ? `arn:${partitionForRegion(region)}:elasticloadbalancing:${region}:${account}:loadbalancer/${name}`
          : name,
      );
    return {
      ...NOT_LOGGED,
      time,
      event_id: sha1Hex(raw),
      class_uid: 4002,
      activity: request.method,
      service: 'elasticloadbalancing.amazonaws.com',
      outcome: httpOutcome(status),
      error_code: null,
      src_ip: client.ip,
      user_agent: text(t[C.userAgent]),
      resources,
      raw,
      account,
      region,
      http_method: request.method,
      url: request.target,
      host: urlHost(request.target),
      path: urlPath(request.target),
      status,
      bytes_out: sentBytes,
      bytes_in: receivedBytes,
      duration_ms: duration,
      dst_ip: backend.ip,
      dst_port: backend.port,
      tls_protocol: text(t[C.sslProtocol]),
    };
  }

  /** Account and region: the target group ARN's, else the key's, else 'unknown'. */
  private place(targetGroupArn: string | null): { account: string; region: string } {
    const arn = parseArn(targetGroupArn);
    const account = arn && isAccountId(arn.account) ? arn.account : (this.pathAccount ?? 'unknown');
    const region = arn && isRegion(arn.region) ? arn.region : (this.pathRegion ?? 'unknown');
    return { account, region };
  }
}

/** Integer fields that may be `-`; a non-number makes the whole line a quarantine reason. */
function checkedNumbers(t: readonly string[], fields: ReadonlyArray<readonly [number, string]>): Array<number | null> | string {
  const values: Array<number | null> = [];
  for (const [index, name] of fields) {
    const value = integer(t[index]);
    if (value !== null && (Number.isNaN(value) || value < 0)) return `${name} '${t[index]}' is not a non-negative integer`;
    values.push(value);
  }
  return values;
}

/** The three processing times (seconds) summed into milliseconds; null when any is -1 or `-`. */
function durationMs(t: readonly string[], first: number): number | null | string {
  let total = 0;
  let known = true;
  for (let i = first; i < first + 3; i++) {
    const seconds = decimal(t[i]);
    if (seconds !== null && Number.isNaN(seconds)) return `processing time '${t[i]}' is not a number`;
    if (seconds === null || seconds < 0) known = false;
    else total += seconds;
  }
  return known ? Math.round(total * 1e6) / 1e3 : null;
}

const ALB_START = /^[a-z][a-z0-9]* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z app\/\S+ \S+:\d+ /;
const CLASSIC_START = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [^\s/]+ \S+:\d+ (?:\S+:\d+|-) -?[\d.]+ -?[\d.]+ -?[\d.]+ /;

function detect(sample: DetectSample): Detection {
  const first = sample.head.split('\n', 3).find((l) => l.trim());
  if (!first) return { confidence: 0 };
  const pathHint = manifest.objects.keyPatterns.some((p) => p.test(sample.key)) ? 0.04 : 0;
  if (ALB_START.test(first)) return { confidence: 0.95 + pathHint };
  if (CLASSIC_START.test(first)) return { confidence: 0.9 + pathHint };
  return { confidence: 0 };
}

export const source = defineSource(manifest, {
  detect,
  parse: (input, ctx) => itemsByLine(input, new ElbReader(ctx.key)),
});
