/**
 * Elastic Load Balancing logs as ELB delivers them to S3, three kinds of object side by side in
 * `AWSLogs/<acct>/elasticloadbalancing/<region>/YYYY/MM/DD/`:
 *
 * - ALB access logs: `<acct>_elasticloadbalancing_<region>_app.<name>.<id>_<YYYYMMDDTHHmmZ>_<node ip>_<random>.log.gz`,
 *   lines in the documented field order (type … classification_reason, conn_trace_id).
 * - ALB connection logs (the same ALB, one line per TLS handshake): `conn_log_<acct>_…_app.<name>.<id>_<end>_<node ip>_<random>.log.gz`.
 *   AWS's guide writes the prefix `conn_log.`; the objects ALBs deliver are named `conn_log_` (as
 *   users report, e.g. grafana/lambda-promtail#23): the sample writes what arrives.
 * - NLB access logs of the partner API's TLS listener: `<acct>_elasticloadbalancing_<region>_net.<name>.<id>_<end>_<random>.log.gz`
 *   (no node address in the name), `tls 2.0 …` lines.
 *
 * Each load balancer node writes a file every 5 minutes in which it had traffic. The web instances
 * of the world are the ALB's targets (port 8080), the node addresses are the ones their flow logs
 * show. Every request the access log holds came on its own connection (its client port), so each
 * has one connection log line with the same client address, port and conn_trace_id.
 */
import { gzipSync } from 'node:zlib';
import { sha1Hex } from '../../../src/core/hash';
import {
  type ObjectOutput,
  emptyStats,
  isWorkHour,
  slashDate,
  stampMinutes,
  type SourceStats,
  DAY_MS,
} from '../../../testkit/sample/output';
import { storyChannel } from '../../../testkit/sample/plan';
import { Rng } from '../../../testkit/sample/prng';
import { APP_REQUESTS, CUSTOMER_AGENTS, customerIp, fillPath } from '../../../testkit/sample/web-traffic';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

const WINDOW = 5 * 60_000;

export interface PlannedAlbRequest {
  time: number;
  clientIp: string;
  method: string;
  path: string;
  status: number;
  userAgent: string;
  /** No target answered (the load balancer itself did: a fixed response or an error). */
  noTarget?: boolean;
  /** The load balancer node the client's connection reached (a visit keeps its connection). */
  node?: number;
}

export interface AlbLine {
  time: number;
  node: number;
  text: string;
  eventId: string;
  /** The TLS connection the request came on: what its connection log line says. */
  connection: { clientIp: string; clientPort: number; created: number; traceId: string };
}

/** The stories' access log lines (the scanner's requests). */
export const albLines = storyChannel<AlbLine>('alb', 'ALB access log lines', (l) => l.time);

function isoMicros(ms: number, micros: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(Math.floor(ms % 1000) * 1000 + micros).padStart(6, '0')}Z`);
}

export function loadBalancerArn(world: World): string {
  const alb = world.estate.web.alb;
  return `arn:aws:elasticloadbalancing:${alb.region}:${alb.account}:loadbalancer/app/${alb.name}/${alb.id}`;
}

/** One access log line, as an ALB with an HTTPS listener writes it. */
export function albLine(world: World, rng: Rng, req: PlannedAlbRequest): AlbLine {
  const alb = world.estate.web.alb;
  const targets = world.instances.filter((i) => i.account === alb.account && i.region === alb.region && i.name.startsWith('web-'));
  const target = rng.pick(targets);
  const node = req.node ?? rng.int(0, alb.nodeIps.length - 1);
  const created = req.time - rng.int(1, 400);
  const requestSeconds = (rng.int(0, 2) / 1000).toFixed(3);
  const targetSeconds = req.noTarget ? '-1' : (rng.int(1, 180) / 1000).toFixed(3);
  const responseSeconds = req.noTarget ? '-1' : '0.000';
  const received = rng.int(180, 900) + (req.method === 'POST' ? rng.int(100, 2000) : 0);
  const spec = APP_REQUESTS.find((r) => r[1].split('?')[0] === req.path.split('?')[0] && r[0] === req.method);
  const sent =
    req.status === 404 ? rng.int(180, 260) : req.status >= 400 ? rng.int(120, 200) : spec ? rng.int(spec[3], spec[4]) : rng.int(200, 5000);
  const traceTime = Math.floor(created / 1000).toString(16);
  const clientPort = rng.int(1024, 65535);
  const targetField = req.noTarget ? '-' : `${target.privateIp}:8080`;
  const certificate = `"arn:aws:acm:${alb.region}:${alb.account}:certificate/${new Rng(`${world.seed}:acm`).uuid()}"`;
  const fields = [
    'https',
    isoMicros(req.time, rng.int(0, 999)),
    `app/${alb.name}/${alb.id}`,
    `${req.clientIp}:${clientPort}`,
    targetField,
    requestSeconds,
    targetSeconds,
    responseSeconds,
    String(req.status),
    req.noTarget ? '-' : String(req.status),
    String(received),
    String(sent),
    `"${req.method} https://${alb.host}:443${req.path} HTTP/1.1"`,
    `"${req.userAgent}"`,
    'ECDHE-RSA-AES128-GCM-SHA256',
    'TLSv1.2',
    alb.targetGroupArn,
    `"Root=1-${traceTime}-${rng.hex(24)}"`,
    `"${alb.host}"`,
    certificate,
    req.noTarget ? '0' : '1',
    isoMicros(created, rng.int(0, 999)),
    req.noTarget ? '"fixed-response"' : '"forward"',
    '"-"',
    '"-"',
    req.noTarget ? '"-"' : `"${target.privateIp}:8080"`,
    req.noTarget ? '"-"' : `"${req.status}"`,
    '"-"',
    '"-"',
    `TID_${rng.hex(32)}`,
  ];
  // Drawn last, as ever, so the access lines stay what they were; the connection log line shares it.
  const traceId = fields[fields.length - 1];
  const text = fields.join(' ');
  return { time: req.time, node, text, eventId: sha1Hex(text), connection: { clientIp: req.clientIp, clientPort, created, traceId } };
}

/** Customers using the web application during one 5-minute window. */
function baseline(world: World, scale: number, windowStart: number): AlbLine[] {
  const rng = new Rng(`${world.seed}:alb:${windowStart}`);
  const hourFactor = isWorkHour(windowStart) ? 1 : 0.15;
  const visits = rng.poisson(1.6 * scale * hourFactor);
  const out: AlbLine[] = [];
  for (let v = 0; v < visits; v++) {
    const ip = customerIp(rng);
    const ua = rng.pick(CUSTOMER_AGENTS);
    const node = rng.int(0, world.estate.web.alb.nodeIps.length - 1);
    let t = windowStart + rng.int(0, WINDOW - 60_000);
    for (let i = rng.int(1, 6); i > 0; i--) {
      const [method, path, status] = rng.pick(APP_REQUESTS);
      const failed = rng.chance(0.02);
      out.push(
        albLine(world, rng, {
          time: t,
          clientIp: ip,
          method,
          path: fillPath(rng, path),
          status: failed ? rng.pick([500, 502, 401]) : status,
          userAgent: ua,
          node,
        }),
      );
      t += rng.int(200, 9000);
    }
  }
  return out;
}

/** The partner API's Network Load Balancer (TLS listener on 443): drawn from its own stream so the estate's ids stay as they were. */
export interface PartnerNlb {
  account: string;
  region: string;
  name: string;
  id: string;
  listenerId: string;
  /** Its nodes' addresses in the web VPC: the destination of every connection it logs. */
  nodeIps: string[];
  host: string;
  certificateArn: string;
  certificateSerial: string;
}

export function partnerNlb(world: World): PartnerNlb {
  const alb = world.estate.web.alb;
  const rng = new Rng(`${world.seed}:nlb`);
  const subnet = alb.nodeIps[0].split('.').slice(0, 3).join('.');
  return {
    account: alb.account,
    region: alb.region,
    name: 'acme-partner-api',
    id: rng.hex(16),
    listenerId: rng.hex(16),
    nodeIps: [7, 8].map((n) => `${subnet}.${n}`),
    host: 'partners.acme-corp.example',
    certificateArn: `arn:aws:acm:${alb.region}:${alb.account}:certificate/${rng.uuid()}`,
    certificateSerial: rng.chars('0123456789ABCDEF', 32),
  };
}

/** NLB times carry no zone and no fraction (`2018-12-20T02:59:40`), as AWS's examples show. */
function nlbTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Partner systems that call the API through the NLB (IPv4, the customers' documentation ranges). */
function partnerIp(rng: Rng): string {
  return rng.chance(0.5) ? `198.51.100.${rng.int(150, 199)}` : `203.0.113.${rng.int(100, 199)}`;
}

/** Internet clients that try the NLB's listener and give up on its certificate (hosts 180–189 of 192.0.2.0/24: no story uses them). */
function internetClientIp(rng: Rng): string {
  return `192.0.2.${rng.int(180, 189)}`;
}

interface NodeLine {
  time: number;
  node: number;
  text: string;
}

/**
 * One 5-minute window of the NLB's TLS listener: partner systems sync in bursts every quarter hour
 * of the work day and call now and then otherwise; a few internet clients' handshakes fail (no
 * handshake time, the client's alert when it sent one).
 */
function nlbWindow(world: World, nlb: PartnerNlb, scale: number, windowStart: number): NodeLine[] {
  const rng = new Rng(`${world.seed}:nlb:${windowStart}`);
  const sync = isWorkHour(windowStart) && new Date(windowStart).getUTCMinutes() % 15 === 0;
  const out: NodeLine[] = [];
  const connections = rng.poisson((sync ? 3 : 0.12) * scale);
  const failures = rng.poisson(0.04 * scale);
  for (let c = 0; c < connections + failures; c++) {
    const failed = c >= connections;
    const node = rng.int(0, nlb.nodeIps.length - 1);
    // `time` is when the connection closed: inside this window, as the file it lands in says.
    const time = windowStart + rng.int(1_000, WINDOW - 1_000);
    const connectionMs = failed ? rng.int(2, 40) : rng.int(40, 120_000);
    const h2 = !failed && rng.chance(0.6);
    const fields = [
      'tls',
      '2.0',
      nlbTime(time),
      `net/${nlb.name}/${nlb.id}`,
      nlb.listenerId,
      `${failed ? internetClientIp(rng) : partnerIp(rng)}:${rng.int(1024, 65535)}`,
      `${nlb.nodeIps[node]}:443`,
      String(connectionMs),
      failed ? '-' : String(rng.int(1, 30)),
      String(failed ? rng.int(100, 300) : rng.int(600, 40_000)),
      String(failed ? rng.int(0, 2_000) : rng.int(800, 400_000)),
      failed ? rng.pick(['-', '46', '48']) : '-',
      nlb.certificateArn,
      nlb.certificateSerial,
      failed ? '-' : 'ECDHE-RSA-AES128-GCM-SHA256',
      failed ? '-' : rng.pick(['tlsv12', 'tlsv12', 'tlsv13']),
      failed ? '-' : 'x25519',
      failed ? '-' : nlb.host,
      h2 ? 'h2' : '-',
      h2 ? 'h2' : '-',
      h2 ? '"h2","http/1.1"' : '-',
      nlbTime(time - connectionMs),
    ];
    out.push({ time, node, text: fields.join(' ') });
  }
  return out;
}

/** The connection log line of the TLS connection an access log line's request came on. */
function connectionLine(rng: Rng, line: AlbLine): NodeLine {
  const { clientIp, clientPort, created, traceId } = line.connection;
  const latencyMs = rng.int(1_500, 12_000) / 1000;
  // The handshake ends just before the request arrives.
  const time = created - rng.int(1, 40);
  const fields = [
    isoMicros(time, rng.int(0, 999)),
    clientIp,
    String(clientPort),
    '443',
    'TLSv1.2',
    'ECDHE-RSA-AES128-GCM-SHA256',
    latencyMs.toFixed(3),
    // The listener does not verify client certificates (no mutual TLS): no certificate, no status.
    '"-"',
    '-',
    '-',
    '-',
    traceId,
  ];
  return { time, node: line.node, text: fields.join(' ') };
}

/** Per kind of line, what the writer wrote (sample.json's `alb` section). */
interface ElbLineCounts {
  accessLines: number;
  connectionLines: number;
  nlbTlsLines: number;
}

export class AlbWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();
  private readonly counts: ElbLineCounts = { accessLines: 0, connectionLines: 0, nlbTlsLines: 0 };
  private readonly nlb: PartnerNlb;

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {
    this.nlb = partnerNlb(world);
  }

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyLines = day.items(albLines);
    const alb = this.world.estate.web.alb;
    const folder = `AWSLogs/${alb.account}/elasticloadbalancing/${alb.region}`;
    const albName = `${alb.account}_elasticloadbalancing_${alb.region}_app.${alb.name}.${alb.id}`;
    let cursor = 0;
    const mine = [...storyLines].sort((a, b) => a.time - b.time);
    const windows: AlbLine[][] = [];
    for (let ws = dayStart; ws < dayStart + DAY_MS; ws += WINDOW) {
      const lines = baseline(this.world, this.scale, ws);
      while (cursor < mine.length && mine[cursor].time < ws + WINDOW) lines.push(mine[cursor++]);
      windows.push(lines);
    }
    // A connection log line lands in the file of the window its handshake fell in, which can be the
    // window before its request's (a handshake at 10:04:59.9, the request at 10:05:00.1).
    const connections: NodeLine[][] = windows.map(() => []);
    windows.forEach((lines, w) => {
      const rng = new Rng(`${this.world.seed}:albconn:${dayStart + w * WINDOW}`);
      for (const line of lines) {
        const c = connectionLine(rng, line);
        // The day's first handshake is kept in the day (its files are the day's).
        if (c.time < dayStart) c.time = dayStart;
        connections[Math.min(windows.length - 1, Math.floor((c.time - dayStart) / WINDOW))].push(c);
      }
    });
    windows.forEach((lines, w) => {
      const ws = dayStart + w * WINDOW;
      const delivered = ws + WINDOW;
      const stamp = `${slashDate(delivered)}`;
      for (let node = 0; node < alb.nodeIps.length; node++) {
        const nodeLines = lines.filter((l) => l.node === node);
        if (nodeLines.length > 0) {
          const rnd = new Rng(`${this.world.seed}:albfile:${node}:${ws}`).chars('abcdefghijklmnopqrstuvwxyz0123456789', 8);
          const key = `${folder}/${stamp}/${albName}_${stampMinutes(delivered)}_${alb.nodeIps[node]}_${rnd}.log.gz`;
          this.counts.accessLines += this.put(key, nodeLines);
        }
        const nodeConnections = connections[w].filter((l) => l.node === node);
        if (nodeConnections.length > 0) {
          const rnd = new Rng(`${this.world.seed}:albconnfile:${node}:${ws}`).chars('abcdefghijklmnopqrstuvwxyz0123456789', 8);
          const key = `${folder}/${stamp}/conn_log_${albName}_${stampMinutes(delivered)}_${alb.nodeIps[node]}_${rnd}.log.gz`;
          this.counts.connectionLines += this.put(key, nodeConnections);
        }
      }
      const nlbLines = nlbWindow(this.world, this.nlb, this.scale, ws);
      for (let node = 0; node < this.nlb.nodeIps.length; node++) {
        const nodeLines = nlbLines.filter((l) => l.node === node);
        if (nodeLines.length === 0) continue;
        const rnd = new Rng(`${this.world.seed}:nlbfile:${node}:${ws}`).chars('abcdefghijklmnopqrstuvwxyz0123456789', 8);
        const key = `${folder}/${stamp}/${alb.account}_elasticloadbalancing_${alb.region}_net.${this.nlb.name}.${this.nlb.id}_${stampMinutes(delivered)}_${rnd}.log.gz`;
        this.counts.nlbTlsLines += this.put(key, nodeLines);
      }
    });
  }

  section(): Record<string, number> {
    return { ...this.counts };
  }

  /** One gzip'd log object of time-ordered lines; returns how many lines it holds. */
  private put(key: string, lines: readonly NodeLine[]): number {
    const sorted = [...lines].sort((a, b) => a.time - b.time);
    this.output.put(key, gzipSync(sorted.map((l) => l.text).join('\n') + '\n'), sorted.length, this.stats);
    return sorted.length;
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'alb',
  emptySection: () => ({ accessLines: 0, connectionLines: 0, nlbTlsLines: 0 }),
  create: ({ world, scale, output }) => new AlbWriter(world, scale, output),
});
