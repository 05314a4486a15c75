/**
 * CloudFront standard logs (legacy logging to S3) of the distribution in front of the assets
 * bucket:
 *
 *   AWSLogs/<acct>/CloudFront/<distribution-id>.YYYY-MM-DD-HH.<unique>.gz
 *
 * (`AWSLogs/<acct>/CloudFront/` is the log prefix the distribution was configured with.) Each file
 * starts with `#Version: 1.0` and the `#Fields:` line, then tab-separated, URL-encoded values in
 * that order. One file per hour with requests.
 */
import { gzipSync } from 'node:zlib';
import { type ObjectOutput, emptyStats, isWorkHour, pad, type SourceStats, DAY_MS, HOUR_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import { ASSET_PATHS, CUSTOMER_AGENTS, customerIp } from '../../../testkit/sample/web-traffic';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

export const CLOUDFRONT_FIELDS =
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) ' +
  'x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher ' +
  'x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type ' +
  'sc-content-type sc-content-len sc-range-start sc-range-end';

const EDGES = ['IAD89-P1', 'IAD12-P3', 'JFK52-P2', 'FRA56-P3', 'LHR61-P2', 'NRT57-P1', 'GRU3-C1'];

/** CloudFront's URL encoding of a header value (spaces and a few delimiters become %XX). */
function cfEncode(value: string): string {
  return value.replace(/[\s%"\\<>`{}|^]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export interface CloudFrontLine {
  time: number;
  text: string;
  requestId: string;
}

function requestId(rng: Rng): string {
  return rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', 54) + '==';
}

function line(world: World, rng: Rng, time: number, ip: string, ua: string, asset: (typeof ASSET_PATHS)[number]): CloudFrontLine {
  const cf = world.estate.web.cloudfront;
  const d = new Date(time);
  const [path, contentType, size] = asset;
  const hit = rng.chance(0.85);
  const notModified = rng.chance(0.1);
  const status = notModified ? 304 : 200;
  const bodyBytes = notModified ? 0 : size;
  const scBytes = bodyBytes + rng.int(300, 600);
  const taken = (hit ? rng.int(1, 20) : rng.int(30, 400)) / 1000;
  const result = notModified ? 'RefreshHit' : hit ? 'Hit' : 'Miss';
  const id = requestId(rng);
  const fields = [
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    rng.pick(EDGES),
    String(scBytes),
    ip,
    'GET',
    cf.domain,
    path,
    String(status),
    path === '/index.html' ? '-' : `https://${cf.alias}/`,
    cfEncode(ua),
    '-',
    '-',
    result,
    id,
    cf.alias,
    'https',
    String(rng.int(90, 480)),
    taken.toFixed(3),
    '-',
    'TLSv1.3',
    'TLS_AES_128_GCM_SHA256',
    result,
    'HTTP/2.0',
    '-',
    '-',
    String(rng.int(1024, 65535)),
    taken.toFixed(3),
    result,
    contentType,
    notModified ? '-' : String(bodyBytes),
    '-',
    '-',
  ];
  return { time, text: fields.join('\t'), requestId: id };
}

export class CloudFrontWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const cf = this.world.estate.web.cloudfront;
    for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
      const rng = new Rng(`${this.world.seed}:cloudfront:${hour}`);
      const lines: CloudFrontLine[] = [];
      const visits = rng.poisson(24 * this.scale * (isWorkHour(hour) ? 1 : 0.3));
      for (let v = 0; v < visits; v++) {
        const ip = customerIp(rng);
        const ua = rng.pick(CUSTOMER_AGENTS);
        let t = hour + rng.int(0, HOUR_MS - 60_000);
        for (let i = rng.int(1, ASSET_PATHS.length); i > 0; i--) {
          lines.push(line(this.world, rng, t, ip, ua, rng.pick(ASSET_PATHS)));
          t += rng.int(20, 1500);
        }
      }
      if (lines.length === 0) continue;
      lines.sort((a, b) => a.time - b.time);
      const d = new Date(hour);
      const name = `${cf.distributionId}.${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}.${rng.hex(8)}.gz`;
      const body = `#Version: 1.0\n#Fields: ${CLOUDFRONT_FIELDS}\n${lines.map((l) => l.text).join('\n')}\n`;
      this.output.put(`${cf.logPrefix}${name}`, gzipSync(body), lines.length, this.stats);
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'cloudfront',
  create: ({ world, scale, output }) => new CloudFrontWriter(world, scale, output),
});
