/**
 * GuardDuty findings as the findings export writes them to S3: per account, region and export, one
 * gzip'd JSON-lines object (one finding a line) under
 *
 *   AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz
 *
 * The sample's one internet-facing instance (the jump host) is probed on SSH by scanners every day:
 * GuardDuty reports Recon:EC2/PortProbeUnprotectedPort on it, a finding per day whose count and
 * last-seen time grow with the probes. Security Hub imports the same findings (../securityhub/sample.ts).
 */
import { gzipSync } from 'node:zlib';
import { type ObjectOutput, emptyStats, pad, type SourceStats, HOUR_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { Instance, World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

/** Internet scanners (documentation addresses, as the NSG flow sample's). */
export const PROBE_SOURCES = ['192.0.2.240', '192.0.2.241', '192.0.2.244'];

export interface SampleGuardDutyFinding {
  instance: Instance;
  detectorId: string;
  id: string;
  arn: string;
  scanner: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  createdAt: number;
  updatedAt: number;
}

export function detectorIdOf(world: World, account: string, region: string): string {
  return new Rng(`${world.seed}:guardduty-detector:${account}:${region}`).hex(32);
}

/** The findings GuardDuty reports on one day of the sample: one port probe per internet-facing instance. */
export function guardDutyFindingsOfDay(world: World, dayStart: number): SampleGuardDutyFinding[] {
  return world.instances
    .filter((i) => i.publicIp)
    .map((instance) => {
      const rng = new Rng(`${world.seed}:guardduty:${instance.id}:${dayStart}`);
      const detectorId = detectorIdOf(world, instance.account, instance.region);
      const id = rng.hex(32);
      const firstSeen = dayStart + rng.int(0, 5) * HOUR_MS + rng.int(0, 3_599_999);
      const lastSeen = firstSeen + rng.int(2, 10) * HOUR_MS;
      const createdAt = firstSeen + rng.int(300_000, 900_000);
      return {
        instance,
        detectorId,
        id,
        arn: `arn:aws:guardduty:${instance.region}:${instance.account}:detector/${detectorId}/finding/${id}`,
        scanner: rng.pick(PROBE_SOURCES),
        count: rng.int(3, 40),
        firstSeen,
        lastSeen,
        createdAt,
        updatedAt: lastSeen + rng.int(60_000, 600_000),
      };
    });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The finding as GuardDuty's export writes it (the documented finding JSON, fields the sample needs). */
export function guardDutyFindingJson(f: SampleGuardDutyFinding): Record<string, unknown> {
  const i = f.instance;
  return {
    schemaVersion: '2.0',
    accountId: i.account,
    region: i.region,
    partition: 'aws',
    id: f.id,
    arn: f.arn,
    type: 'Recon:EC2/PortProbeUnprotectedPort',
    resource: {
      resourceType: 'Instance',
      instanceDetails: {
        instanceId: i.id,
        instanceType: 't3.micro',
        availabilityZone: `${i.region}a`,
        networkInterfaces: [
          {
            networkInterfaceId: i.eniId,
            privateIpAddress: i.privateIp,
            publicIp: i.publicIp,
            subnetId: i.subnetId,
            vpcId: i.vpcId,
            securityGroups: [{ groupId: i.securityGroupId, groupName: `${i.name}-sg` }],
          },
        ],
        instanceState: 'running',
        tags: [{ key: 'Name', value: i.name }],
      },
    },
    service: {
      serviceName: 'guardduty',
      detectorId: f.detectorId,
      action: {
        actionType: 'PORT_PROBE',
        portProbeAction: {
          blocked: false,
          portProbeDetails: [{ localPortDetails: { port: 22, portName: 'SSH' }, remoteIpDetails: { ipAddressV4: f.scanner } }],
        },
      },
      resourceRole: 'TARGET',
      additionalInfo: { value: '{}', type: 'default' },
      eventFirstSeen: iso(f.firstSeen),
      eventLastSeen: iso(f.lastSeen),
      archived: false,
      count: f.count,
    },
    severity: 2,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
    title: `Unprotected port on EC2 instance ${i.id} is being probed.`,
    description: 'EC2 instance has an unprotected port which is being probed by a known malicious host.',
  };
}

export class GuardDutyWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const byExport = new Map<string, SampleGuardDutyFinding[]>();
    for (const f of guardDutyFindingsOfDay(this.world, day.start)) {
      const key = `${f.instance.account}/${f.instance.region}`;
      byExport.set(key, [...(byExport.get(key) ?? []), f]);
    }
    const d = new Date(day.start);
    for (const [key, findings] of byExport) {
      const [account, region] = key.split('/');
      const uuid = new Rng(`${this.world.seed}:guardduty-export:${key}:${day.start}`).uuid();
      const body = findings.map((f) => JSON.stringify(guardDutyFindingJson(f))).join('\n') + '\n';
      const path = `AWSLogs/${account}/GuardDuty/${region}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${uuid}.jsonl.gz`;
      this.output.put(path, gzipSync(body), findings.length, this.stats);
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'guardduty',
  create: ({ world, output }) => new GuardDutyWriter(world, output),
});
