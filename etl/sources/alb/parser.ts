/**
 * Elastic Load Balancing logs, every line type a load balancer writes, read line by line so a file
 * that mixes them loses none:
 *
 * - Application Load Balancer access logs → http_activity: types http, https, h2, grpcs, ws, wss;
 *   every documented field up to conn_trace_id, and fields AWS appends later are tolerated.
 * - Classic Load Balancer access logs → http_activity (a different, shorter field set).
 * - Network Load Balancer access logs (`tls 2.0 …`: one line per TLS listener connection) →
 *   network_activity: client and listener address, bytes both ways, the connection's start and
 *   end, the TLS version, cipher and SNI name; a failed handshake is a failure.
 * - Application Load Balancer connection logs (one line per TLS handshake, since late 2023) →
 *   network_activity: client, listener port, TLS version and cipher, the mutual TLS client
 *   certificate and its verify status (a `Failed:<reason>` status is a failure with that reason).
 *
 * `-1` times mean "could not dispatch" (no duration); `-` means no value. Account and region come
 * from an ARN in the line (target group, chosen certificate) when there is one, else from the key
 * (`AWSLogs/<account>/elasticloadbalancing/<region>/`), else 'unknown'. Load balancer logs carry
 * no request id, so event_id is the sha1 of the line.
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
import { albSql } from './sql';

type Row = RowOf<'http_activity'>;
type NetRow = RowOf<'network_activity'>;
type ElbItem = ParsedItem<'http_activity' | 'network_activity'>;

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

// Network Load Balancer access log (TLS listeners) field positions, as documented.
const N = {
  type: 0,
  version: 1,
  time: 2,
  elb: 3,
  listener: 4,
  client: 5,
  destination: 6,
  connectionTime: 7,
  tlsHandshakeTime: 8,
  receivedBytes: 9,
  sentBytes: 10,
  incomingTlsAlert: 11,
  chosenCertArn: 12,
  chosenCertSerial: 13,
  tlsCipher: 14,
  tlsProtocolVersion: 15,
  tlsNamedGroup: 16,
  domainName: 17,
  alpnFeProtocol: 18,
  alpnBeProtocol: 19,
  alpnClientPreferenceList: 20,
  tlsConnectionCreationTime: 21,
} as const;

// Application Load Balancer connection log field positions, as documented; later lines append
// tls_keyexchange, elb and ip_address.
const K = {
  time: 0,
  clientIp: 1,
  clientPort: 2,
  listenerPort: 3,
  tlsProtocol: 4,
  tlsCipher: 5,
  tlsHandshakeLatency: 6,
  leafClientCertSubject: 7,
  leafClientCertValidity: 8,
  leafClientCertSerialNumber: 9,
  tlsVerifyStatus: 10,
  connTraceId: 11,
  tlsKeyExchange: 12,
  elb: 13,
} as const;

/** The oldest ALB lines end after ssl_protocol; shorter lines are cut off. */
const ALB_MIN_FIELDS = A.sslProtocol + 1;
const CLASSIC_FIELDS = C.sslProtocol + 1;
/** The first NLB lines (2018) ended after domain_name; the ALPN fields and the creation time came later. */
const NLB_MIN_FIELDS = N.domainName + 1;
/** conn_trace_id and what follows it came after the first connection logs. */
const CONNECTION_MIN_FIELDS = K.tlsVerifyStatus + 1;

/** The NLB's TLS versions (`tlsv12`) in the form ALB, CloudFront and OpenSSL write them (`TLSv1.2`), so one filter finds both. */
const TLS_VERSION_NAMES: Readonly<Record<string, string>> = {
  sslv3: 'SSLv3',
  tlsv1: 'TLSv1',
  tlsv10: 'TLSv1',
  tlsv11: 'TLSv1.1',
  tlsv12: 'TLSv1.2',
  tlsv13: 'TLSv1.3',
};

/** The columns a load balancer connection leaves empty: flow-log and Transit Gateway fields, actors. */
const NOT_A_FLOW_LOG = {
  error_message: null,
  actor_id: null,
  actor_type: null,
  actor_name: null,
  actor_arn: null,
  actor_account: null,
  session_id: null,
  user_agent: null,
  packets: null,
  disposition: null,
  log_status: null,
  interface_id: null,
  vpc_id: null,
  subnet_id: null,
  instance_id: null,
  tcp_flags: null,
  pkt_src_ip: null,
  pkt_dst_ip: null,
  rule: null,
  transit_gateway_id: null,
  attachment_id: null,
  pair_attachment_id: null,
  src_vpc_account: null,
  dst_vpc_account: null,
  dst_vpc_id: null,
  dst_subnet_id: null,
  dst_interface_id: null,
  packets_lost: null,
} as const;

class ElbReader {
  private readonly tokens: string[] = [];
  private readonly pathAccount: string | null;
  private readonly pathRegion: string | null;
  /** The load balancer the object's name says wrote it (`app/<name>/<id>`), for lines that do not name it. */
  private readonly keyLoadBalancer: string | null;

  constructor(key: string) {
    const hints = awsLogsPathHints(key, 'elasticloadbalancing');
    this.pathAccount = hints.account;
    this.pathRegion = hints.region;
    const named = KEY_LOAD_BALANCER.exec(key);
    this.keyLoadBalancer = named ? `${named[1]}/${named[2]}/${named[3]}` : null;
  }

  item(line: string, number: number): ElbItem | null {
    if (!line.trim()) return null;
    const position = `line ${number}`;
    const tokens = this.tokens;
    const error = tokenize(line, tokens);
    if (error) return quarantine(position, error, line);
    const first = tokens[0];
    let row: Row | string;
    if (first === 'tls' && tokens[N.elb]?.startsWith('net/')) {
      return netItem(
        position,
        line,
        tokens.length >= NLB_MIN_FIELDS
          ? this.networkTls(tokens, line)
          : `Network Load Balancer line has ${tokens.length} fields, expected at least ${NLB_MIN_FIELDS}`,
      );
    } else if (parseIsoTime(first)) {
      // A connection log line names the client's address and port apart (`203.0.113.1 36280 443`);
      // a Classic line joins them (`192.168.131.39:2817`).
      if (/^\d{1,5}$/.test(tokens[K.clientPort] ?? '')) {
        return netItem(
          position,
          line,
          tokens.length >= CONNECTION_MIN_FIELDS
            ? this.connection(tokens, line)
            : `Application Load Balancer connection log line has ${tokens.length} fields, expected at least ${CONNECTION_MIN_FIELDS}`,
        );
      }
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
      row = `not a load balancer log line: no ALB, Classic or NLB access log or ALB connection log layout (type '${first.slice(0, 20)}')`;
    }
    return typeof row === 'string' ? quarantine(position, row, line) : { kind: 'rows', rows: [{ table: 'http_activity', row }] };
  }

  /** A Network Load Balancer TLS listener's connection: client to listener, with the handshake's outcome. */
  private networkTls(t: readonly string[], raw: string): NetRow | string {
    const time = parseIsoTime(t[N.time]);
    if (!time) return `time '${t[N.time]}' is not an ISO 8601 timestamp`;
    const created = text(t[N.tlsConnectionCreationTime]);
    const startTime = created === null ? null : parseIsoTime(created);
    if (created !== null && !startTime) return `tls_connection_creation_time '${created}' is not an ISO 8601 timestamp`;
    const numbers = checkedNumbers(t, [
      [N.receivedBytes, 'received_bytes'],
      [N.sentBytes, 'sent_bytes'],
    ]);
    if (typeof numbers === 'string') return numbers;
    const [receivedBytes, sentBytes] = numbers;
    const handshakeMs = decimal(t[N.tlsHandshakeTime]);
    if (handshakeMs !== null && Number.isNaN(handshakeMs)) return `tls_handshake_time '${t[N.tlsHandshakeTime]}' is not a number`;
    const client = hostPort(t[N.client]);
    const destination = hostPort(t[N.destination]);
    if (!client.ip) return 'no client address';

    const certArn = text(t[N.chosenCertArn]);
    const { account, region } = this.place(certArn);
    const elb = text(t[N.elb]);
    const listener = text(t[N.listener]);
    const resources: string[] = [];
    if (elb) {
      const arn = loadBalancerArn(account, region, elb);
      resources.push(arn);
      // The listener's ARN is the load balancer's with `listener/` and the listener id.
      if (listener && arn !== elb) resources.push(`${arn.replace(':loadbalancer/', ':listener/')}/${listener}`);
    }
    if (certArn) resources.push(certArn);
    // The client's TLS alert (a number), when it sent one: why the connection ended badly.
    const alert = text(t[N.incomingTlsAlert]);
    // A handshake that failed logs no handshake time.
    const failed = handshakeMs === null || alert !== null;
    return {
      ...NOT_A_FLOW_LOG,
      time,
      event_id: sha1Hex(raw),
      class_uid: 4001,
      activity: 'tls-connection',
      service: 'elasticloadbalancing.amazonaws.com',
      outcome: failed ? 'failure' : 'success',
      error_code: alert === null ? (handshakeMs === null ? 'TlsHandshakeFailed' : null) : `TlsAlert${alert}`,
      src_ip: client.ip,
      resources,
      raw,
      account,
      region,
      dst_ip: destination.ip,
      src_port: client.port,
      dst_port: destination.port,
      protocol: 6,
      bytes: receivedBytes === null && sentBytes === null ? null : (receivedBytes ?? 0) + (sentBytes ?? 0),
      start_time: startTime,
      end_time: time,
      direction: 'ingress',
      traffic_type: client.ip.includes(':') ? 'IPv6' : 'IPv4',
      tls_protocol: tlsVersionName(text(t[N.tlsProtocolVersion])),
      tls_cipher: text(t[N.tlsCipher]),
      server_name: text(t[N.domainName]),
      client_cert_subject: null,
      client_cert_serial: null,
    };
  }

  /** An Application Load Balancer connection log line: one TLS handshake on a listener, with the client certificate when mutual TLS is on. */
  private connection(t: readonly string[], raw: string): NetRow | string {
    const time = parseIsoTime(t[K.time]);
    if (!time) return `time '${t[K.time]}' is not an ISO 8601 timestamp`;
    const clientPort = port(t[K.clientPort]);
    const listenerPort = port(t[K.listenerPort]);
    if (clientPort === undefined) return `client_port '${t[K.clientPort]}' is not a port`;
    if (listenerPort === undefined) return `listener_port '${t[K.listenerPort]}' is not a port`;
    const latency = decimal(t[K.tlsHandshakeLatency]);
    if (latency !== null && Number.isNaN(latency)) return `tls_handshake_latency '${t[K.tlsHandshakeLatency]}' is not a number`;
    const clientIp = text(t[K.clientIp]);
    if (!clientIp) return 'no client address';

    const { account, region } = this.place(null);
    // Connection log lines name no load balancer; their object's name does.
    const elb = text(t[K.elb]) ?? this.keyLoadBalancer;
    const status = text(t[K.tlsVerifyStatus]);
    const tlsProtocol = text(t[K.tlsProtocol]);
    // `Success` or `Failed:<reason>` when the listener verifies client certificates; `-` otherwise,
    // where a handshake latency says the handshake completed.
    const failure = status?.startsWith('Failed') ? status.slice(status.indexOf(':') + 1) || status : null;
    const outcome = failure !== null ? 'failure' : status === 'Success' || latency !== null ? 'success' : 'unknown';
    return {
      ...NOT_A_FLOW_LOG,
      time,
      event_id: sha1Hex(raw),
      class_uid: 4001,
      activity: tlsProtocol === null ? 'connection' : 'tls-handshake',
      service: 'elasticloadbalancing.amazonaws.com',
      outcome,
      error_code: failure,
      src_ip: clientIp,
      resources: elb ? [loadBalancerArn(account, region, elb)] : [],
      raw,
      account,
      region,
      dst_ip: null,
      src_port: clientPort,
      dst_port: listenerPort,
      protocol: 6,
      bytes: null,
      start_time: null,
      end_time: null,
      direction: 'ingress',
      traffic_type: clientIp.includes(':') ? 'IPv6' : 'IPv4',
      tls_protocol: tlsProtocol,
      tls_cipher: text(t[K.tlsCipher]),
      server_name: null,
      client_cert_subject: text(t[K.leafClientCertSubject]),
      client_cert_serial: text(t[K.leafClientCertSerialNumber]),
    };
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
    if (elb) resources.push(loadBalancerArn(account, region, elb));
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
    if (name) resources.push(loadBalancerArn(account, region, name));
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

  /** Account and region: those of an ARN in the line (target group, chosen certificate), else the key's, else 'unknown'. */
  private place(lineArn: string | null): { account: string; region: string } {
    const arn = parseArn(lineArn);
    const account = arn && isAccountId(arn.account) ? arn.account : (this.pathAccount ?? 'unknown');
    const region = arn && isRegion(arn.region) ? arn.region : (this.pathRegion ?? 'unknown');
    return { account, region };
  }
}

/** A network_activity row (or why the line is quarantined) as the line's item. */
function netItem(position: string, line: string, row: NetRow | string): ElbItem {
  return typeof row === 'string' ? quarantine(position, row, line) : { kind: 'rows', rows: [{ table: 'network_activity', row }] };
}

/** The load balancer's ARN (`app/…`, `net/…` or a Classic name) when account and region are known, else its name. */
function loadBalancerArn(account: string, region: string, name: string): string {
  return isAccountId(account) && region !== 'unknown'
    ? `arn:${partitionForRegion(region)}:elasticloadbalancing:${region}:${account}:loadbalancer/${name}`
    : name;
}

function tlsVersionName(logged: string | null): string | null {
  return logged === null ? null : (TLS_VERSION_NAMES[logged.toLowerCase()] ?? logged);
}

/** A port number, null for `-`, undefined when it is not one. */
function port(value: string | undefined): number | null | undefined {
  const n = integer(value);
  if (n === null) return null;
  return Number.isNaN(n) || n < 0 || n > 65535 ? undefined : n;
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

/**
 * ELB's object names: `…_elasticloadbalancing_<region>_app.<name>.<id>_<end time>_…` (access and
 * connection logs, `conn_log_` before the latter) and `…_net.<name>.<id>_<end time>_…` (NLB).
 */
const KEY_LOAD_BALANCER = /_elasticloadbalancing_[a-z0-9-]+_(app|net)\.([A-Za-z0-9-]+)\.([0-9a-f]+)_\d{8}T\d{4}Z_[^/\\]*$/;

const ALB_START = /^[a-z][a-z0-9]* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z app\/\S+ \S+:\d+ /;
// NLB times carry no zone (`2018-12-20T02:59:40`): UTC.
const NLB_START = /^tls \d+\.\d+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z? net\/\S+ \S+ \S+:\d+ \S+:\d+ /;
const CONNECTION_START = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-fA-F.:]+ \d{1,5} \d{1,5} \S+ \S+ \S+ "/;
const CLASSIC_START = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [^\s/]+ \S+:\d+ (?:\S+:\d+|-) -?[\d.]+ -?[\d.]+ -?[\d.]+ /;

function detect(sample: DetectSample): Detection {
  const first = sample.head.split('\n', 3).find((l) => l.trim());
  if (!first) return { confidence: 0 };
  const pathHint = manifest.objects.keyPatterns.some((p) => p.test(sample.key)) ? 0.04 : 0;
  if (ALB_START.test(first)) return { confidence: 0.95 + pathHint };
  if (CLASSIC_START.test(first)) return { confidence: 0.9 + pathHint };
  if (NLB_START.test(first)) return { confidence: 0.95 + pathHint };
  if (CONNECTION_START.test(first)) return { confidence: 0.9 + pathHint };
  return { confidence: 0 };
}

export const source = defineSource(manifest, {
  detect,
  parse: (input, ctx) => itemsByLine(input, new ElbReader(ctx.key)),
  sql: albSql,
});
