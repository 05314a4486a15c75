/**
 * Security Hub findings as an EventBridge rule on "Security Hub Findings - Imported" sends them to a
 * Firehose stream that writes S3 (default key layout below the prefix, newline between events):
 *
 *   securityhub-findings/YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>
 *
 * Security Hub imports GuardDuty's findings: each of the day's GuardDuty findings
 * (../guardduty/sample.ts) arrives as one event holding its ASFF form, with the ASFF Id being the
 * GuardDuty finding's ARN, as the GuardDuty integration maps them.
 */
import { type ObjectOutput, emptyStats, pad, type SourceStats } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';
import { guardDutyFindingsOfDay, type SampleGuardDutyFinding } from '../guardduty/sample';

const STREAM = 'securityhub-findings-to-s3';

const iso = (ms: number) => new Date(ms).toISOString();

/** The "Security Hub Findings - Imported" event of one GuardDuty finding. */
export function importedEvent(world: World, f: SampleGuardDutyFinding): Record<string, unknown> {
  const i = f.instance;
  const receivedAt = f.updatedAt + 120_000;
  return {
    version: '0',
    id: new Rng(`${world.seed}:securityhub-event:${f.id}`).uuid(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: i.account,
    time: iso(receivedAt).replace(/\.\d{3}Z$/, 'Z'),
    region: i.region,
    resources: [f.arn],
    detail: {
      findings: [
        {
          SchemaVersion: '2018-10-08',
          Id: f.arn,
          ProductArn: `arn:aws:securityhub:${i.region}::product/aws/guardduty`,
          ProductName: 'GuardDuty',
          CompanyName: 'Amazon',
          Region: i.region,
          GeneratorId: `arn:aws:guardduty:${i.region}:${i.account}:detector/${f.detectorId}`,
          AwsAccountId: i.account,
          Types: ['TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort'],
          FirstObservedAt: iso(f.firstSeen),
          LastObservedAt: iso(f.lastSeen),
          CreatedAt: iso(f.createdAt),
          UpdatedAt: iso(f.updatedAt + 60_000),
          Severity: { Label: 'LOW', Normalized: 20, Product: 2 },
          Title: `Unprotected port on EC2 instance ${i.id} is being probed.`,
          Description: 'EC2 instance has an unprotected port which is being probed by a known malicious host.',
          ProductFields: { 'aws/guardduty/service/action/actionType': 'PORT_PROBE', 'aws/guardduty/service/count': String(f.count) },
          Resources: [
            {
              Type: 'AwsEc2Instance',
              Id: `arn:aws:ec2:${i.region}:${i.account}:instance/${i.id}`,
              Partition: 'aws',
              Region: i.region,
              Details: {
                AwsEc2Instance: { Type: 't3.micro', IpV4Addresses: [i.privateIp, i.publicIp], VpcId: i.vpcId, SubnetId: i.subnetId },
              },
            },
          ],
          Action: {
            ActionType: 'PORT_PROBE',
            PortProbeAction: {
              Blocked: false,
              PortProbeDetails: [{ LocalPortDetails: { Port: 22, PortName: 'SSH' }, RemoteIpDetails: { IpAddressV4: f.scanner } }],
            },
          },
          Network: { Direction: 'IN', Protocol: 'TCP', SourceIpV4: f.scanner, DestinationIpV4: i.privateIp, DestinationPort: 22 },
          WorkflowState: 'NEW',
          Workflow: { Status: 'NEW' },
          RecordState: 'ACTIVE',
        },
      ],
    },
  };
}

export class SecurityHubWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const findings = guardDutyFindingsOfDay(this.world, day.start);
    if (findings.length === 0) return;
    // Firehose buffers: the day's events land in one object, stamped when the buffer was flushed.
    const flushed = Math.max(...findings.map((f) => f.updatedAt)) + 300_000;
    const d = new Date(flushed);
    const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
    const uuid = new Rng(`${this.world.seed}:securityhub-firehose:${day.start}`).uuid();
    const key = `securityhub-findings/${stamp.slice(0, 13).replace(/-/g, '/')}/${STREAM}-1-${stamp}-${uuid}`;
    const body = findings.map((f) => JSON.stringify(importedEvent(this.world, f))).join('\n') + '\n';
    this.output.put(key, body, findings.length, this.stats);
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'securityhub',
  create: ({ world, output }) => new SecurityHubWriter(world, output),
});
