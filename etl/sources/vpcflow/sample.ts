/**
 * VPC Flow Logs (default version 2 format) as delivered to S3:
 *
 *   AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/<acct>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
 *
 * Each file starts with the header line naming the fields, then one record per line:
 * `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status`.
 * One flow log per account and region (the VPC of the world), a file per 5 minutes of traffic,
 * aggregation windows of 60 seconds. Connections are logged in both directions, as on an ENI.
 * Background: load balancer traffic to the web instances, HTTPS and DNS egress, database traffic,
 * office SSH to the jump host and internet scanners rejected by its security group, NODATA for idle
 * interfaces. Stories add their own flows (the SSH brute-forcers after the port is opened).
 */
import { gzipSync } from 'node:zlib';
import { DAY_MS, emptyStats, slashDate, stampMinutes, type SourceStats } from '../../../testkit/sample/output';
import { storyChannel } from '../../../testkit/sample/plan';
import { Rng } from '../../../testkit/sample/prng';
import type { Instance, World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter, type SampleWriterContext } from '../../../testkit/sample/writers';

/** One flow record a story needs in the VPC flow logs of an interface. */
export interface PlannedFlow {
  /** Window start and end, epoch seconds. */
  start: number;
  end: number;
  account: string;
  region: string;
  interfaceId: string;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  action: 'ACCEPT' | 'REJECT';
}

/** The stories' flow records. */
export const vpcFlows = storyChannel<PlannedFlow>('vpcflow', 'VPC flow records', (f) => f.start * 1000);

export const VPC_FLOW_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

const WINDOW = 5 * 60_000;

interface FlowLine {
  start: number;
  text: string;
}

/** The flow log id of an account's VPC in a region (one per stream). */
export function flowLogId(world: World, account: string, region: string): string {
  return `fl-0${new Rng(`${world.seed}:flowlog:${account}:${region}`).hex(16)}`;
}

function line(f: PlannedFlow): FlowLine {
  return {
    start: f.start,
    text: `2 ${f.account} ${f.interfaceId} ${f.srcAddr} ${f.dstAddr} ${f.srcPort} ${f.dstPort} ${f.protocol} ${f.packets} ${f.bytes} ${f.start} ${f.end} ${f.action} OK`,
  };
}

/** Both directions of one connection within an aggregation window. */
function connection(
  rng: Rng,
  instance: Instance,
  windowStartSec: number,
  peer: string,
  inbound: boolean,
  localPort: number,
  remotePort: number,
  protocol: number,
  action: 'ACCEPT' | 'REJECT',
  out: FlowLine[],
): void {
  const start = windowStartSec + rng.int(0, 4) * 60;
  const end = start + 60;
  const packets = action === 'REJECT' ? rng.int(1, 3) : rng.int(4, 60);
  const bytes = packets * (action === 'REJECT' ? rng.int(40, 60) : rng.int(60, 1400));
  const base = { start, end, account: instance.account, region: instance.region, interfaceId: instance.eniId, protocol, action } as const;
  const request: PlannedFlow = inbound
    ? { ...base, srcAddr: peer, dstAddr: instance.privateIp, srcPort: remotePort, dstPort: localPort, packets, bytes }
    : { ...base, srcAddr: instance.privateIp, dstAddr: peer, srcPort: localPort, dstPort: remotePort, packets, bytes };
  out.push(line(request));
  if (action === 'ACCEPT') {
    const back = rng.int(Math.max(1, Math.floor(packets / 2)), packets + 5);
    out.push(
      line({
        ...request,
        srcAddr: request.dstAddr,
        dstAddr: request.srcAddr,
        srcPort: request.dstPort,
        dstPort: request.srcPort,
        packets: back,
        bytes: back * rng.int(60, 1400),
      }),
    );
  }
}

const EXTERNAL_HTTPS = ['203.0.113.200', '203.0.113.201', '203.0.113.214', '203.0.113.229'];
const INTERNET_SCANNERS = ['192.0.2.240', '192.0.2.241', '192.0.2.244', '192.0.2.247', '192.0.2.250'];

function ephemeral(rng: Rng): number {
  return rng.int(32768, 60999);
}

function isWorkHours(ms: number): boolean {
  const d = new Date(ms);
  return d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && d.getUTCHours() >= 7 && d.getUTCHours() < 22;
}

/** Background traffic of one interface in one 5-minute window. */
function background(world: World, scale: number, instance: Instance, windowStart: number): FlowLine[] {
  const rng = new Rng(`${world.seed}:flow:${instance.eniId}:${windowStart}`);
  const out: FlowLine[] = [];
  const sec = Math.floor(windowStart / 1000);
  const prefix = instance.privateIp.split('.').slice(0, 3).join('.');
  const resolver = `${prefix.split('.').slice(0, 2).join('.')}.0.2`;
  const busy = isWorkHours(windowStart) ? 1 : 0.4;
  const n = (mean: number): number => rng.poisson(mean * scale * busy);
  if (instance.name.startsWith('web') || instance.name.startsWith('dev-web')) {
    for (let i = n(1.2); i > 0; i--)
      connection(rng, instance, sec, `${prefix}.${rng.pick([5, 6, 7])}`, true, 8080, ephemeral(rng), 6, 'ACCEPT', out);
    for (let i = n(0.4); i > 0; i--) connection(rng, instance, sec, rng.pick(EXTERNAL_HTTPS), false, ephemeral(rng), 443, 6, 'ACCEPT', out);
  } else if (instance.name.startsWith('worker')) {
    for (let i = n(0.6); i > 0; i--) connection(rng, instance, sec, `${prefix}.50`, false, ephemeral(rng), 5432, 6, 'ACCEPT', out);
    for (let i = n(0.4); i > 0; i--) connection(rng, instance, sec, rng.pick(EXTERNAL_HTTPS), false, ephemeral(rng), 443, 6, 'ACCEPT', out);
  } else if (instance.name === 'jump-host') {
    if (isWorkHours(windowStart)) {
      for (let i = rng.poisson(0.08 * scale); i > 0; i--)
        connection(rng, instance, sec, rng.pick(world.offices).ip, true, 22, ephemeral(rng), 6, 'ACCEPT', out);
    }
    for (let i = rng.poisson(0.25 * scale); i > 0; i--) {
      connection(
        rng,
        instance,
        sec,
        rng.pick(INTERNET_SCANNERS),
        true,
        rng.pick([22, 22, 23, 3389, 445]),
        ephemeral(rng),
        6,
        'REJECT',
        out,
      );
    }
  } else {
    for (let i = n(0.1); i > 0; i--) connection(rng, instance, sec, rng.pick(EXTERNAL_HTTPS), false, ephemeral(rng), 443, 6, 'ACCEPT', out);
  }
  if (out.length > 0 && rng.chance(0.3)) connection(rng, instance, sec, resolver, false, ephemeral(rng), 53, 17, 'ACCEPT', out);
  if (out.length === 0 && rng.chance(0.5)) {
    const start = sec + rng.int(0, 4) * 60;
    out.push({ start, text: `2 ${instance.account} ${instance.eniId} - - - - - - - ${start} ${start + 60} - NODATA` });
  }
  return out;
}

export class VpcFlowWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();
  private readonly streams: { account: string; region: string; instances: Instance[]; flowLogId: string }[] = [];
  private readonly world: World;

  constructor(private readonly ctx: SampleWriterContext) {
    const world = ctx.world;
    this.world = world;
    const keys = new Map<string, Instance[]>();
    for (const i of world.instances) keys.set(`${i.account}/${i.region}`, [...(keys.get(`${i.account}/${i.region}`) ?? []), i]);
    for (const [key, instances] of keys) {
      const [account, region] = key.split('/') as [string, string];
      this.streams.push({ account, region, instances, flowLogId: flowLogId(world, account, region) });
    }
  }

  /** Writes one day, with the stories' flows starting that day. */
  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyFlows = day.items(vpcFlows);
    for (const stream of this.streams) {
      const mine = storyFlows.filter((f) => f.account === stream.account && f.region === stream.region).map(line);
      let cursor = 0;
      for (let ws = dayStart; ws < dayStart + DAY_MS; ws += WINDOW) {
        const lines: FlowLine[] = [];
        for (const instance of stream.instances) lines.push(...background(this.world, this.ctx.scale, instance, ws));
        const we = ws + WINDOW;
        while (cursor < mine.length && mine[cursor].start * 1000 < we) lines.push(mine[cursor++]);
        if (lines.length === 0) continue;
        lines.sort((a, b) => a.start - b.start);
        this.writeFile(stream, we, lines);
      }
    }
  }

  section(): Record<string, number> {
    return { ...this.stats };
  }

  private writeFile(stream: { account: string; region: string; flowLogId: string }, delivered: number, lines: FlowLine[]): void {
    const hash = new Rng(`${this.world.seed}:flowfile:${stream.flowLogId}:${delivered}`).hex(8);
    const name = `${stream.account}_vpcflowlogs_${stream.region}_${stream.flowLogId}_${stampMinutes(delivered)}_${hash}.log.gz`;
    const key = `AWSLogs/${stream.account}/vpcflowlogs/${stream.region}/${slashDate(delivered)}/${name}`;
    const body = gzipSync(`${VPC_FLOW_HEADER}\n${lines.map((l) => l.text).join('\n')}\n`);
    this.ctx.output.put(key, body, lines.length, this.stats);
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'vpcflow',
  // Its counts also head sample.json (where the first sample put them), beside bySource.
  emptySection: () => ({ ...emptyStats() }),
  create: (ctx) => new VpcFlowWriter(ctx),
});
