/**
 * Route 53 Resolver query logs of the prod us-east-1 VPC, delivered to S3:
 *
 *   AWSLogs/<acct>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/<acct>_vpcdnsquerylogs_<vpc-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
 *
 * gzip'd JSON lines, one query each, with the fields (and field order) Resolver writes:
 * version, account_id, region, vpc_id, query_timestamp, query_name, query_type, query_class,
 * rcode, answers, srcaddr, srcport, transport, srcids. A file per 5 minutes with queries.
 * The instances ask for the AWS endpoints their CloudTrail calls go to, the database's private
 * name, and the outside services their flow logs show HTTPS connections to.
 */
import { gzipSync } from 'node:zlib';
import {
  type ObjectOutput,
  emptyStats,
  isWorkHour,
  slashDate,
  stampMinutes,
  type SourceStats,
  DAY_MS,
} from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { Instance, World } from '../../../testkit/sample/world';
import { sha1Hex } from '../../../src/core/hash';
import { storyChannel } from '../../../testkit/sample/plan';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

const WINDOW = 5 * 60_000;

export interface DnsAnswer {
  Rdata: string;
  Type: string;
  Class: 'IN';
}

export interface PlannedQuery {
  time: number;
  instance: Instance;
  name: string;
  type: string;
  rcode: string;
  answers: DnsAnswer[];
}

export interface ResolverLine {
  time: number;
  text: string;
  eventId: string;
}

/** The stories' Route 53 Resolver query log lines. */
export const resolverLines = storyChannel<ResolverLine>('route53resolver', 'Route 53 Resolver query log lines', (l) => l.time);

export function resolverLine(world: World, rng: Rng, q: PlannedQuery): ResolverLine {
  const vpc = world.estate.web.resolverVpc;
  const record = {
    version: '1.100000',
    account_id: vpc.account,
    region: vpc.region,
    vpc_id: vpc.vpcId,
    query_timestamp: new Date(Math.floor(q.time / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    query_name: q.name.endsWith('.') ? q.name : `${q.name}.`,
    query_type: q.type,
    query_class: 'IN',
    rcode: q.rcode,
    answers: q.answers,
    srcaddr: q.instance.privateIp,
    srcport: String(rng.int(32768, 60999)),
    transport: 'UDP',
    srcids: { instance: q.instance.id },
  };
  const text = JSON.stringify(record);
  return { time: q.time, text, eventId: sha1Hex(text) };
}

const a = (ip: string): DnsAnswer => ({ Rdata: ip, Type: 'A', Class: 'IN' });
const cname = (name: string): DnsAnswer => ({ Rdata: name, Type: 'CNAME', Class: 'IN' });

/** Names the instances look up, with their answers. The outside services answer with the addresses flow logs show. */
function usualQueries(instance: Instance): [string, string, string, DnsAnswer[]][] {
  const region = instance.region;
  const prefix = instance.privateIp.split('.').slice(0, 3).join('.');
  const common: [string, string, string, DnsAnswer[]][] = [
    [`secretsmanager.${region}.amazonaws.com.`, 'A', 'NOERROR', [a('203.0.113.241')]],
    [`sts.${region}.amazonaws.com.`, 'A', 'NOERROR', [a('203.0.113.242')]],
    [`kms.${region}.amazonaws.com.`, 'A', 'NOERROR', [a('203.0.113.243')]],
    [`ssm.${region}.amazonaws.com.`, 'AAAA', 'NOERROR', []],
    ['api.payments-partner.example.', 'A', 'NOERROR', [cname('edge.payments-partner.example.'), a('203.0.113.200')]],
    ['telemetry.vendor-apm.example.', 'A', 'NOERROR', [a('203.0.113.201')]],
    ['updates.os-mirror.example.', 'A', 'NOERROR', [a('203.0.113.214'), a('203.0.113.229')]],
    ['metadata.google.internal.', 'A', 'NXDOMAIN', []],
  ];
  if (instance.name.startsWith('worker')) common.push(['db.prod.acme.internal.', 'A', 'NOERROR', [a(`${prefix}.50`)]]);
  if (instance.name.startsWith('web'))
    common.push([
      `acme-prod-assets.s3.${region}.amazonaws.com.`,
      'A',
      'NOERROR',
      [cname(`s3-r-w.${region}.amazonaws.com.`), a('203.0.113.244')],
    ]);
  return common;
}

export class Route53ResolverWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();
  private readonly instances: Instance[];

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {
    const vpc = world.estate.web.resolverVpc;
    this.instances = world.instances.filter((i) => i.vpcId === vpc.vpcId);
  }

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyLines = day.items(resolverLines);
    const vpc = this.world.estate.web.resolverVpc;
    const mine = [...storyLines].sort((x, y) => x.time - y.time);
    let cursor = 0;
    for (let ws = dayStart; ws < dayStart + DAY_MS; ws += WINDOW) {
      const rng = new Rng(`${this.world.seed}:dns:${ws}`);
      const lines: ResolverLine[] = [];
      const busy = isWorkHour(ws) ? 1 : 0.35;
      for (const instance of this.instances) {
        for (let n = rng.poisson(0.7 * this.scale * busy); n > 0; n--) {
          const [name, type, rcode, answers] = rng.pick(usualQueries(instance));
          lines.push(resolverLine(this.world, rng, { time: ws + rng.int(0, WINDOW - 1000), instance, name, type, rcode, answers }));
        }
      }
      while (cursor < mine.length && mine[cursor].time < ws + WINDOW) lines.push(mine[cursor++]);
      if (lines.length === 0) continue;
      lines.sort((x, y) => x.time - y.time);
      const delivered = ws + WINDOW;
      const hash = new Rng(`${this.world.seed}:dnsfile:${ws}`).hex(8);
      const name = `${vpc.account}_vpcdnsquerylogs_${vpc.vpcId}_${stampMinutes(delivered)}_${hash}.log.gz`;
      const key = `AWSLogs/${vpc.account}/vpcdnsquerylogs/${vpc.vpcId}/${slashDate(delivered)}/${name}`;
      this.output.put(key, gzipSync(lines.map((l) => l.text).join('\n') + '\n'), lines.length, this.stats);
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'route53resolver',
  create: ({ world, scale, output }) => new Route53ResolverWriter(world, scale, output),
});
