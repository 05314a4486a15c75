/**
 * Amazon VPC Flow Logs and Transit Gateway flow logs → network_activity.
 *
 * Accepts the default (version 2) format, custom formats named by a header line (fields in any
 * order, v2–v8 fields; unknown fields are kept only in `raw`), NODATA / SKIPDATA records, the S3
 * delivery layout (`AWSLogs/<account>/vpcflowlogs/<region>/…`, header line first) and CloudWatch
 * Logs exports: lines prefixed with an ISO timestamp, JSON lines `{"timestamp":…,"message":"…"}`
 * and subscription envelopes `{"logEvents":[…]}` (one record per log event). Transit Gateway flow
 * logs are their own format (attachment, VPCs, subnets and ENIs on both sides, dropped packets,
 * no action); their rows fill network_activity's Transit Gateway columns.
 *
 * Without a header line the layout is the format the user gives (`--vpcflow-format '${version}
 * ${account-id} …'`, AWS's own format string); without that too, only layouts that can be told
 * apart with certainty are read: the default VPC format (14 fields), "all fields in the documented
 * order" (21, 25, 29, 39 or 40 fields starting with the version) and the Transit Gateway default
 * (its 36 fields, the gateway id fourth). Any other header-less record is quarantined with that
 * reason.
 *
 * time = start (else end, else the CloudWatch event timestamp, else the delivery time in the S3
 * file name); account = account-id, else the
 * key's `AWSLogs/<account>/`; region = the region field, else the key's region, else 'unknown'.
 */
import { partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { parseIsoTime } from '../../../src/core/time';
import { awsLogsPathHints, isAccountId } from '../../fields/aws-path';
import { epochSeconds, integer, text, tokenize } from '../../fields/text';
import { readLines } from '../../readers/lines';
import { defineSource, quarantine, type DetectSample, type Detection, type ParsedItem } from '../types';
import { KNOWN_FIELDS, TGW_FIELDS, VPC_FIELDS, fieldsOfFormat } from './fields';
import { manifest } from './manifest';
import { vpcFlowSql } from './sql';

type Item = ParsedItem<'network_activity'>;

/** Header-less field counts that are a prefix of the documented VPC order (default = 14). */
const POSITIONAL_COUNTS: ReadonlySet<number> = new Set([14, 21, 25, 29, 39, 40]);

/** Where each field sits in a record (-1: not in the format). */
export interface Layout {
  size: number;
  version: number;
  account: number;
  interfaceId: number;
  srcaddr: number;
  dstaddr: number;
  srcport: number;
  dstport: number;
  protocol: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  action: number;
  logStatus: number;
  vpc: number;
  subnet: number;
  instance: number;
  tcpFlags: number;
  type: number;
  pktSrc: number;
  pktDst: number;
  region: number;
  flowDirection: number;
  // Transit Gateway flow logs
  tgw: number;
  attachment: number;
  pairAttachment: number;
  srcVpcAccount: number;
  dstVpcAccount: number;
  srcVpc: number;
  dstVpc: number;
  srcSubnet: number;
  dstSubnet: number;
  srcEni: number;
  dstEni: number;
  lost: readonly number[];
}

export function layoutOf(names: readonly string[]): Layout {
  const at = (name: string) => names.indexOf(name);
  return {
    size: names.length,
    version: at('version'),
    account: at('account-id'),
    interfaceId: at('interface-id'),
    srcaddr: at('srcaddr'),
    dstaddr: at('dstaddr'),
    srcport: at('srcport'),
    dstport: at('dstport'),
    protocol: at('protocol'),
    packets: at('packets'),
    bytes: at('bytes'),
    start: at('start'),
    end: at('end'),
    action: at('action'),
    logStatus: at('log-status'),
    vpc: at('vpc-id'),
    subnet: at('subnet-id'),
    instance: at('instance-id'),
    tcpFlags: at('tcp-flags'),
    type: at('type'),
    pktSrc: at('pkt-srcaddr'),
    pktDst: at('pkt-dstaddr'),
    region: at('region'),
    flowDirection: at('flow-direction'),
    tgw: at('tgw-id'),
    attachment: at('tgw-attachment-id'),
    pairAttachment: at('tgw-pair-attachment-id'),
    srcVpcAccount: at('tgw-src-vpc-account-id'),
    dstVpcAccount: at('tgw-dst-vpc-account-id'),
    srcVpc: at('tgw-src-vpc-id'),
    dstVpc: at('tgw-dst-vpc-id'),
    srcSubnet: at('tgw-src-subnet-id'),
    dstSubnet: at('tgw-dst-subnet-id'),
    srcEni: at('tgw-src-eni'),
    dstEni: at('tgw-dst-eni'),
    lost: ['packets-lost-no-route', 'packets-lost-blackhole', 'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired']
      .map(at)
      .filter((i) => i >= 0),
  };
}

const POSITIONAL_LAYOUTS = new Map<number, Layout>([...POSITIONAL_COUNTS].map((n) => [n, layoutOf(VPC_FIELDS.slice(0, n))]));
const TGW_DEFAULT_LAYOUT = layoutOf(TGW_FIELDS);

/** A header line names fields: lower-case words joined by `-`, at least one a known field. */
export function isHeader(tokens: readonly string[]): boolean {
  const first = tokens[0]?.charCodeAt(0) ?? 0;
  if (first < 97 || first > 122) return false; // records start with a digit or `-`
  let known = 0;
  for (const token of tokens) {
    if (!/^[a-z]+(?:-[a-z]+)*$/.test(token)) return false;
    if (KNOWN_FIELDS.has(token)) known++;
  }
  return known > 0;
}

const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*|-)$/;

/**
 * `2 123456789010 eni-… 172.31.16.139 172.31.16.21 …`: the shape of a record in the documented
 * order (default or all fields). Accounts are not checked for twelve digits: real samples are
 * redacted (`64111117617`, `eni-069xxxxxb7a490`).
 */
function looksLikeDocumentedRecord(tokens: readonly string[]): boolean {
  return (
    POSITIONAL_COUNTS.has(tokens.length) &&
    /^\d+$/.test(tokens[0]) &&
    /^(?:\d{1,12}|-)$/.test(tokens[1]) &&
    /^(?:eni-[0-9a-zA-Z]+|-)$/.test(tokens[2]) &&
    ADDRESS.test(tokens[3]) &&
    ADDRESS.test(tokens[4])
  );
}

/** `6 TransitGateway 123456789012 tgw-… tgw-attach-…` (36 fields): the Transit Gateway default format. */
function looksLikeTgwDefaultRecord(tokens: readonly string[]): boolean {
  return (
    tokens.length === TGW_FIELDS.length &&
    /^\d+$/.test(tokens[0]) &&
    /^(?:TransitGateway|TransitGatewayAttachment|-)$/.test(tokens[1]) &&
    /^(?:\d{1,12}|-)$/.test(tokens[2]) &&
    /^tgw-[0-9a-zA-Z]+$/.test(tokens[3])
  );
}

/** The flow-log line inside one CloudWatch Logs form, with the event's timestamp and id. */
interface Unwrapped {
  message: string;
  timestamp: Date | null;
  eventId: string | null;
}

function cloudWatchEvent(value: unknown): Unwrapped | string {
  if (value === null || typeof value !== 'object') return 'JSON line is not an object';
  const event = value as Record<string, unknown>;
  const message = event['message'];
  if (typeof message !== 'string') return 'CloudWatch Logs event has no "message" string';
  const ts = event['timestamp'];
  const id = event['eventId'] ?? event['id'];
  return {
    message: message.trim(),
    timestamp: typeof ts === 'number' && Number.isFinite(ts) ? new Date(ts) : null,
    eventId: typeof id === 'string' && id ? id : null,
  };
}

const FILE_NAME = /(?:^|[/\\])(\d{12})_vpcflowlogs_([a-z]{2}(?:-[a-z]+)+-\d{1,2})_fl-[0-9a-f]+_(\d{8}T\d{4}Z)_[^/\\]*$/;

/** What an object's key says: account and region (AWSLogs path, else the S3 file name) and the delivery time in the file name. */
export function keyHints(key: string): { account: string | null; region: string | null; fileTime: Date | null } {
  const hints = awsLogsPathHints(key, 'vpcflowlogs');
  // S3 delivery names files `<account>_vpcflowlogs_<region>_<flow log id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`.
  const file = FILE_NAME.exec(key);
  const stamp = file?.[3];
  return {
    account: hints.account ?? file?.[1] ?? null,
    region: hints.region ?? file?.[2] ?? null,
    fileTime: stamp
      ? parseIsoTime(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:00Z`)
      : null,
  };
}

/** Per-object state: the header in force and what the key says. */
class FlowReader {
  private layout: Layout | null = null;
  private readonly tokens: string[] = [];
  private readonly pathAccount: string | null;
  private readonly pathRegion: string | null;

  /** The end of the delivery window named in an S3 object's file name: a last-resort time. */
  private readonly fileTime: Date | null;

  /** The layout the user gave for header-less records (`--vpcflow-format`). */
  private readonly given: Layout | null;

  constructor(key: string, format: string | undefined) {
    const fields = format === undefined ? null : fieldsOfFormat(format);
    if (typeof fields === 'string') throw new Error(`--vpcflow-format: ${fields}`);
    this.given = fields ? layoutOf(fields) : null;
    const hints = keyHints(key);
    this.pathAccount = hints.account;
    this.pathRegion = hints.region;
    this.fileTime = hints.fileTime;
  }

  *line(lineText: string, number: number): Generator<Item> {
    const trimmed = lineText.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const position = `line ${number}`;
    if (trimmed.charCodeAt(0) === 123 /* { */) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch (err) {
        yield quarantine(position, `invalid JSON: ${(err as Error).message}`, lineText);
        return;
      }
      const envelope = parsed as Record<string, unknown> | null;
      if (envelope && typeof envelope === 'object' && Array.isArray(envelope['logEvents'])) {
        // A subscription-filter envelope: each log event is one record. Control messages hold none.
        if (envelope['messageType'] === 'CONTROL_MESSAGE') return;
        const events = envelope['logEvents'] as unknown[];
        for (let i = 0; i < events.length; i++) {
          const event = cloudWatchEvent(events[i]);
          const eventPosition = `${position} event ${i + 1}`;
          if (typeof event === 'string') yield quarantine(eventPosition, event, JSON.stringify(events[i]));
          else yield* this.record(event.message, JSON.stringify(events[i]), eventPosition, event.timestamp, event.eventId);
        }
        return;
      }
      const event = cloudWatchEvent(parsed);
      if (typeof event === 'string') yield quarantine(position, event, lineText);
      else yield* this.record(event.message, lineText, position, event.timestamp, event.eventId);
      return;
    }
    yield* this.record(trimmed, lineText, position, null, null);
  }

  private *record(message: string, raw: string, position: string, eventTime: Date | null, eventId: string | null): Generator<Item> {
    const tokens = this.tokens;
    const error = tokenize(message, tokens);
    if (error) {
      yield quarantine(position, error, raw);
      return;
    }
    // CloudWatch Logs exports prefix each message with the event's ISO timestamp.
    if (tokens.length > 1) {
      const prefixTime = tokens[0].length >= 20 ? parseIsoTime(tokens[0]) : null;
      if (prefixTime) {
        eventTime = prefixTime;
        tokens.shift();
      }
    }
    if (isHeader(tokens)) {
      this.layout = layoutOf(tokens.slice());
      return;
    }
    let layout = this.layout ?? this.given;
    if (!layout) {
      // Only layouts that cannot be mistaken: a custom format of the same length would be misread field by field.
      layout = looksLikeTgwDefaultRecord(tokens)
        ? TGW_DEFAULT_LAYOUT
        : looksLikeDocumentedRecord(tokens)
          ? (POSITIONAL_LAYOUTS.get(tokens.length) ?? null)
          : null;
      if (!layout) {
        yield quarantine(
          position,
          `${tokens.length} fields and no header line: not the default VPC format (14 fields), all fields in documented order, nor the Transit Gateway default (36 fields); a custom format needs its header line or --vpcflow-format`,
          raw,
        );
        return;
      }
    } else if (tokens.length !== layout.size) {
      const per = this.layout ? 'per the header line' : 'per --vpcflow-format';
      yield quarantine(position, `expected ${layout.size} fields (${per}), found ${tokens.length}`, raw);
      return;
    }
    const result = this.row(layout, tokens, raw, eventTime, eventId);
    if (typeof result === 'string') yield quarantine(position, result, raw);
    else yield { kind: 'rows', rows: [{ table: 'network_activity', row: result }] };
  }

  private row(
    layout: Layout,
    tokens: readonly string[],
    raw: string,
    eventTime: Date | null,
    eventId: string | null,
  ): RowOf<'network_activity'> | string {
    const field = (index: number) => (index < 0 ? undefined : tokens[index]);
    let problem: string | null = null;
    const number = (index: number, name: string, max = Number.MAX_SAFE_INTEGER): number | null => {
      const value = integer(field(index));
      if (value !== null && (Number.isNaN(value) || value < 0 || value > max)) {
        problem ??= `${name} '${field(index)}' is not ${max === 65535 ? 'a port number' : 'a non-negative integer'}`;
        return null;
      }
      return value;
    };
    number(layout.version, 'version'); // validated only: a non-numeric version means a misread line
    const srcPort = number(layout.srcport, 'srcport', 65535);
    const dstPort = number(layout.dstport, 'dstport', 65535);
    const protocol = number(layout.protocol, 'protocol', 255);
    const packets = number(layout.packets, 'packets');
    const bytes = number(layout.bytes, 'bytes');
    const tcpFlags = number(layout.tcpFlags, 'tcp-flags');
    let lost: number | null = null;
    for (const index of layout.lost) {
      const n = number(index, 'packets-lost');
      if (n !== null) lost = (lost ?? 0) + n;
    }
    const start = epochSeconds(field(layout.start));
    const end = epochSeconds(field(layout.end));
    if (start === undefined) problem ??= `start '${field(layout.start)}' is not epoch seconds`;
    if (end === undefined) problem ??= `end '${field(layout.end)}' is not epoch seconds`;
    if (problem) return problem;
    // A custom format may leave out start and end: fall back to the CloudWatch event time, then
    // to the delivery window in the S3 file name.
    const time = start ?? end ?? eventTime ?? this.fileTime;
    if (!time) return 'no start or end time in the record, and no event timestamp or timestamped file name to fall back on';

    const accountField = text(field(layout.account));
    const account = accountField ?? this.pathAccount ?? 'unknown';
    const region = text(field(layout.region)) ?? this.pathRegion ?? 'unknown';
    // A Transit Gateway record's interface is the attachment ENI on the source side.
    const interfaceId = text(field(layout.interfaceId)) ?? text(field(layout.srcEni));
    const instanceId = text(field(layout.instance));
    const action = text(field(layout.action));
    const logStatus = text(field(layout.logStatus));
    const tgw = text(field(layout.tgw));
    const attachment = text(field(layout.attachment));
    return {
      time,
      event_id: eventId ?? sha1Hex(raw),
      class_uid: 4001,
      activity: 'flow',
      service: 'ec2.amazonaws.com',
      outcome: action === 'ACCEPT' ? 'success' : action === 'REJECT' ? 'failure' : 'unknown',
      error_code: null,
      error_message: null,
      actor_id: null,
      actor_type: null,
      actor_name: null,
      actor_arn: null,
      actor_account: null,
      session_id: null,
      src_ip: text(field(layout.srcaddr)),
      user_agent: null,
      resources: resourceIds(account, region, interfaceId, instanceId, tgw, attachment),
      raw,
      account,
      region,
      dst_ip: text(field(layout.dstaddr)),
      src_port: srcPort,
      dst_port: dstPort,
      protocol,
      packets,
      bytes,
      start_time: start ?? null,
      end_time: end ?? null,
      disposition: action,
      log_status: logStatus,
      direction: text(field(layout.flowDirection)),
      interface_id: interfaceId,
      vpc_id: text(field(layout.vpc)) ?? text(field(layout.srcVpc)),
      subnet_id: text(field(layout.subnet)) ?? text(field(layout.srcSubnet)),
      instance_id: instanceId,
      tcp_flags: tcpFlags,
      traffic_type: text(field(layout.type)),
      pkt_src_ip: text(field(layout.pktSrc)),
      pkt_dst_ip: text(field(layout.pktDst)),
      rule: null,
      transit_gateway_id: tgw,
      attachment_id: attachment,
      pair_attachment_id: text(field(layout.pairAttachment)),
      src_vpc_account: text(field(layout.srcVpcAccount)),
      dst_vpc_account: text(field(layout.dstVpcAccount)),
      dst_vpc_id: text(field(layout.dstVpc)),
      dst_subnet_id: text(field(layout.dstSubnet)),
      dst_interface_id: text(field(layout.dstEni)),
      packets_lost: lost,
      tls_protocol: null,
      tls_cipher: null,
      server_name: null,
      client_cert_subject: null,
      client_cert_serial: null,
    };
  }
}

/** ARNs of the interface, instance, transit gateway and attachment when account and region are known, else their bare ids. */
function resourceIds(
  account: string,
  region: string,
  interfaceId: string | null,
  instanceId: string | null,
  tgw: string | null,
  attachment: string | null,
): string[] {
  const ids: string[] = [];
  const arns = isAccountId(account) && region !== 'unknown';
  const prefix = arns ? `arn:${partitionForRegion(region)}:ec2:${region}:${account}:` : '';
  if (instanceId) ids.push(arns ? `${prefix}instance/${instanceId}` : instanceId);
  if (interfaceId) ids.push(arns ? `${prefix}network-interface/${interfaceId}` : interfaceId);
  if (tgw) ids.push(arns ? `${prefix}transit-gateway/${tgw}` : tgw);
  if (attachment) ids.push(arns ? `${prefix}transit-gateway-attachment/${attachment}` : attachment);
  return ids;
}

function detect(sample: DetectSample): Detection {
  const pathHint = manifest.objects.keyPatterns.some((p) => p.test(sample.key)) ? 0.04 : 0;
  const tokens: string[] = [];
  let checked = 0;
  for (const rawLine of sample.head.split('\n', 6)) {
    const line = rawLine.trim();
    if (!line) continue;
    if (++checked > 3) break;
    let message = line;
    if (line.startsWith('{')) {
      // A JSON line from a CloudWatch Logs export: judge the message inside (the line may be cut).
      const match = /"message"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(line);
      if (!match) return { confidence: 0 };
      message = match[1]!;
    }
    if (tokenize(message, tokens)) return { confidence: 0 };
    if (tokens.length > 1 && tokens[0].length >= 20 && parseIsoTime(tokens[0])) tokens.shift();
    if (isHeader(tokens)) {
      const known = tokens.filter((t) => KNOWN_FIELDS.has(t)).length;
      if (known >= 3) return { confidence: (known === tokens.length ? 0.95 : 0.85) + pathHint };
      continue;
    }
    if (looksLikeDocumentedRecord(tokens) || looksLikeTgwDefaultRecord(tokens)) return { confidence: 0.9 + pathHint };
    return { confidence: pathHint && !/["[\]\t]/.test(message) ? 0.45 : 0 };
  }
  return { confidence: 0 };
}

export const source = defineSource(manifest, {
  detect,
  sql: vpcFlowSql,
  async *parse(input, ctx) {
    const reader = new FlowReader(ctx.key, ctx.options?.['format']);
    for await (const line of readLines(input)) yield* reader.line(line.text, line.number);
  },
});
