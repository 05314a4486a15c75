/**
 * Application Load Balancer access logs as ELB delivers them to S3:
 *
 *   AWSLogs/<acct>/elasticloadbalancing/<region>/YYYY/MM/DD/<acct>_elasticloadbalancing_<region>_app.<name>.<id>_<YYYYMMDDTHHmmZ>_<node ip>_<random>.log.gz
 *
 * Each load balancer node writes a file every 5 minutes in which it served requests: gzip'd lines
 * in the documented field order (type … classification_reason, conn_trace_id). The web instances
 * of the world are the targets (port 8080), the node addresses are the ones their flow logs show.
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
    `"arn:aws:acm:${alb.region}:${alb.account}:certificate/${new Rng(`${world.seed}:acm`).uuid()}"`,
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
  const text = fields.join(' ');
  return { time: req.time, node, text, eventId: sha1Hex(text) };
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

export class AlbWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyLines = day.items(albLines);
    const alb = this.world.estate.web.alb;
    let cursor = 0;
    const mine = [...storyLines].sort((a, b) => a.time - b.time);
    for (let ws = dayStart; ws < dayStart + DAY_MS; ws += WINDOW) {
      const lines = baseline(this.world, this.scale, ws);
      while (cursor < mine.length && mine[cursor].time < ws + WINDOW) lines.push(mine[cursor++]);
      for (let node = 0; node < alb.nodeIps.length; node++) {
        const nodeLines = lines.filter((l) => l.node === node).sort((a, b) => a.time - b.time);
        if (nodeLines.length === 0) continue;
        const delivered = ws + WINDOW;
        const rnd = new Rng(`${this.world.seed}:albfile:${node}:${ws}`).chars('abcdefghijklmnopqrstuvwxyz0123456789', 8);
        const name = `${alb.account}_elasticloadbalancing_${alb.region}_app.${alb.name}.${alb.id}_${stampMinutes(delivered)}_${alb.nodeIps[node]}_${rnd}.log.gz`;
        const key = `AWSLogs/${alb.account}/elasticloadbalancing/${alb.region}/${slashDate(delivered)}/${name}`;
        this.output.put(key, gzipSync(nodeLines.map((l) => l.text).join('\n') + '\n'), nodeLines.length, this.stats);
      }
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'alb',
  create: ({ world, scale, output }) => new AlbWriter(world, scale, output),
});
