/**
 * Amazon CloudFront standard (access) logs → http_activity.
 *
 * W3C-style files: `#Version: 1.0`, then `#Fields: …` naming the tab-separated columns. Columns
 * are mapped by that header (so older files with fewer fields and newer ones with more both
 * read); without a header the documented 33-field order is assumed. A line with fewer fields
 * than its header leaves the missing trailing ones empty; one with more is quarantined. Values
 * are URL-encoded (a user agent's spaces are `%20`) and decoded here; `-` is empty.
 *
 * Region is 'global'. Account comes from the key when the logs sit under `AWSLogs/<account>/`
 * (standard logging v2 delivery), else 'unknown'. event_id is x-edge-request-id. A status of 000
 * (the viewer went away before the response) is stored as no status.
 */
import { partitionForHost, partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { parseIsoTime } from '../../../src/core/time';
import { awsLogsPathHints, isAccountId } from '../../fields/aws-path';
import { decimal, httpOutcome, integer, text, urlDecode } from '../../fields/text';
import { itemsByLine } from '../../readers/line-items';
import { defineSource, quarantine, type DetectSample, type Detection, type ParsedItem } from '../types';
import { manifest } from './manifest';

/** The documented field order (the `#Fields` line CloudFront writes today). */
const DOCUMENTED_FIELDS = (
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) ' +
  'cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken ' +
  'x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status ' +
  'fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len ' +
  'sc-range-start sc-range-end'
).split(' ');

interface Layout {
  size: number;
  date: number;
  time: number;
  bytesOut: number;
  clientIp: number;
  method: number;
  csHost: number;
  uriStem: number;
  status: number;
  referer: number;
  userAgent: number;
  uriQuery: number;
  resultType: number;
  requestId: number;
  hostHeader: number;
  bytesIn: number;
  timeTaken: number;
  sslProtocol: number;
  detailedResultType: number;
}

function layoutOf(names: readonly string[]): Layout {
  const at = (name: string) => names.indexOf(name);
  return {
    size: names.length,
    date: at('date'),
    time: at('time'),
    bytesOut: at('sc-bytes'),
    clientIp: at('c-ip'),
    method: at('cs-method'),
    csHost: at('cs(Host)'),
    uriStem: at('cs-uri-stem'),
    status: at('sc-status'),
    referer: at('cs(Referer)'),
    userAgent: at('cs(User-Agent)'),
    uriQuery: at('cs-uri-query'),
    resultType: at('x-edge-result-type'),
    requestId: at('x-edge-request-id'),
    hostHeader: at('x-host-header'),
    bytesIn: at('cs-bytes'),
    timeTaken: at('time-taken'),
    sslProtocol: at('ssl-protocol'),
    detailedResultType: at('x-edge-detailed-result-type'),
  };
}

const DEFAULT_LAYOUT = layoutOf(DOCUMENTED_FIELDS);

class StandardLogReader {
  private layout: Layout = DEFAULT_LAYOUT;
  private readonly account: string;
  /** The distribution named by the file name, when the key also names the account. */
  private readonly distribution: string | null;
  private distributionArn: { partition: string; arn: string } | null = null;

  constructor(key: string) {
    const { account } = awsLogsPathHints(key);
    this.account = account ?? 'unknown';
    // Files are named `<distribution id>.YYYY-MM-DD-HH.<unique>.gz`.
    const base = key.slice(Math.max(key.lastIndexOf('/'), key.lastIndexOf('\\')) + 1);
    const distribution = /^(E[A-Z0-9]{5,})\.\d{4}-\d\d-\d\d-\d\d\./.exec(base)?.[1];
    this.distribution = distribution && isAccountId(account) ? distribution : null;
  }

  item(line: string, number: number): ParsedItem<'http_activity'> | null {
    if (!line.trim()) return null;
    if (line.charCodeAt(0) === 35 /* # */) {
      if (line.startsWith('#Fields:')) this.layout = layoutOf(line.slice('#Fields:'.length).trim().split(/\s+/));
      return null;
    }
    const position = `line ${number}`;
    const t = line.split('\t');
    const layout = this.layout;
    // CloudFront has appended fields over the years, and a line may end before its header's last
    // fields: those are absent values, not a broken line (a line cut before its time fails on the
    // time). More non-empty fields than the header names is a line this layout cannot place; a
    // trailing tab (an empty extra column) is not.
    if (t.length > layout.size && t.slice(layout.size).some((extra) => extra !== '')) {
      return quarantine(position, `${t.length} tab-separated fields, more than the ${layout.size} its #Fields header names`, line);
    }
    const row = this.row(layout, t, line);
    return typeof row === 'string' ? quarantine(position, row, line) : { kind: 'rows', rows: [{ table: 'http_activity', row }] };
  }

  private row(l: Layout, t: readonly string[], raw: string): RowOf<'http_activity'> | string {
    const field = (index: number) => (index < 0 ? undefined : t[index]);
    const time = parseIsoTime(`${field(l.date)}T${field(l.time)}Z`);
    if (!time) return `date/time '${field(l.date) ?? ''} ${field(l.time) ?? ''}' is not a UTC timestamp`;
    let problem: string | null = null;
    const count = (index: number, name: string): number | null => {
      const value = integer(field(index));
      if (value !== null && (Number.isNaN(value) || value < 0)) {
        problem ??= `${name} '${field(index)}' is not a non-negative integer`;
        return null;
      }
      return value;
    };
    const status = count(l.status, 'sc-status');
    const bytesOut = count(l.bytesOut, 'sc-bytes');
    const bytesIn = count(l.bytesIn, 'cs-bytes');
    const timeTaken = decimal(field(l.timeTaken));
    if (timeTaken !== null && Number.isNaN(timeTaken)) problem ??= `time-taken '${field(l.timeTaken)}' is not a number`;
    if (problem) return problem;

    const decoded = (index: number) => {
      const value = text(field(index));
      return value === null ? null : urlDecode(value);
    };
    const stem = text(field(l.uriStem));
    const query = text(field(l.uriQuery));
    const resultType = text(field(l.resultType));
    const httpStatus = status === 0 ? null : status;
    const outcome = httpStatus === null && resultType === 'Error' ? 'failure' : httpOutcome(httpStatus);
    const method = text(field(l.method));
    return {
      time,
      event_id: text(field(l.requestId)) ?? sha1Hex(raw),
      class_uid: 4002,
      activity: method,
      service: 'cloudfront.amazonaws.com',
      outcome,
      error_code: resultType === 'Error' ? (text(field(l.detailedResultType)) ?? resultType) : null,
      error_message: null,
      actor_id: null,
      actor_type: null,
      actor_name: null,
      actor_arn: null,
      actor_account: null,
      session_id: null,
      src_ip: text(field(l.clientIp)),
      user_agent: userAgent(decoded(l.userAgent)),
      resources: this.distribution ? [this.arnOfDistribution(text(field(l.csHost)))] : [],
      raw,
      account: this.account,
      region: 'global',
      http_method: method,
      url: stem === null ? null : query === null ? stem : `${stem}?${query}`,
      host: text(field(l.hostHeader)) ?? text(field(l.csHost)),
      path: stem === null ? null : urlDecode(stem),
      status: httpStatus,
      bytes_out: bytesOut,
      bytes_in: bytesIn,
      duration_ms: timeTaken === null ? null : Math.round(timeTaken * 1e6) / 1e3,
      referrer: decoded(l.referer),
      bucket: null,
      object_key: null,
      dst_ip: null,
      dst_port: null,
      tls_protocol: text(field(l.sslProtocol)),
    };
  }

  /** The distribution's ARN, in the partition its CloudFront domain names (`….cloudfront.cn` is China). */
  private arnOfDistribution(domain: string | null): string {
    const partition = partitionForHost(domain) ?? partitionForRegion(null);
    if (this.distributionArn?.partition !== partition) {
      this.distributionArn = { partition, arn: `arn:${partition}:cloudfront::${this.account}:distribution/${this.distribution}` };
    }
    return this.distributionArn.arn;
  }
}

/**
 * Older logs encoded user agents twice (`Mozilla/5.0%2520(Macintosh;…`): after one decoding a
 * `%20` is left, which no real user agent contains, so decode once more.
 */
function userAgent(once: string | null): string | null {
  return once !== null && once.includes('%20') ? urlDecode(once) : once;
}

function detect(sample: DetectSample): Detection {
  const head = sample.head;
  if (head.startsWith('#Version: 1.0')) {
    if (/^#Fields:.*\bx-edge-location\b/m.test(head)) return { confidence: 0.95 };
    // W3C files from other servers (IIS) say #Software first; CloudFront does not.
    return { confidence: /^#Software:/m.test(head) ? 0 : 0.6 };
  }
  const first = head.split('\n', 2)[0] ?? '';
  // A header-less file: `2019-12-04<TAB>21:02:31<TAB>LAX1<TAB>…`
  return { confidence: /^\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\t[A-Z]{3}[0-9A-Z-]*\t\d+\t/.test(first) ? 0.8 : 0 };
}

export const source = defineSource(manifest, {
  detect,
  parse: (input, ctx) => itemsByLine(input, new StandardLogReader(ctx.key)),
});
