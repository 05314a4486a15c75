/**
 * s3-exfiltration (T1537): worker-1's instance-profile session reads 32 export objects (CloudTrail
 * data events and S3 access log lines with the same request ids), then its ENI sends as many bytes
 * to the attacker in VPC flow logs. The instance's DNS lookups of its drop host are told on the
 * way (malicious-domain-lookup).
 */
import { instanceCredentials } from '../../../etl/sources/cloudtrail/sample-baseline';
import {
  assumedRoleIdentity,
  isoSeconds,
  s3AdditionalData,
  s3ObjectResources,
  type Caller,
} from '../../../etl/sources/cloudtrail/sample-records';
import { accessLogLine } from '../../../etl/sources/s3access/sample';
import type { PlannedFlow } from '../../../etl/sources/vpcflow/sample';
import type { Story } from '../story';
import { MINUTE, Teller, anchor, storyPlanner } from '../teller';
import { mustInstance } from '../world';
import { DomainLookups, EXFIL_IP } from './malicious-domain-lookup';

export interface Expect {
  instanceId: string;
  interfaceId: string;
  privateIp: string;
  roleArn: string;
  sessionKey: string;
  bucket: string;
  /** S3 request ids: each is a CloudTrail requestID and an S3 server access log request id. */
  requestIds: string[];
  cloudTrailEventIds: string[];
  getObjects: number;
  bytesRead: number;
  attackerIp: string;
  /** Flow records from the instance's interface to the attacker, and the bytes they carry. */
  flowsOut: number;
  flowBytesOut: number;
  firstFlow: string;
}

/** Plans the exfiltration and the DNS lookups around it from one random stream (`<seed>:estate-story:s3-exfiltration`). */
export const plan = storyPlanner('s3-exfiltration', 'estate-story', tell);

function tell(t: Teller): readonly Story[] {
  const { world, rng, plan } = t;
  const instance = mustInstance(world, 'worker-1');
  // The DNS story is told by its own teller, on this story's random stream.
  const dns = new DomainLookups(new Teller(rng, world, plan), instance);
  const role = instance.role!;
  const bucket = world.buckets['acme-prod-customer-exports'];
  const natIp = world.egress['prod-nat-us-east-1'];
  let time = anchor(world, rng, 0.6, 2, 20);

  // The implant resolves its drop host first, and again while it sends.
  dns.query(time);

  time += rng.int(1, 3) * MINUTE;
  const creds = instanceCredentials(world, instance, time);
  const caller: Caller = {
    identity: assumedRoleIdentity(role, instance.id, creds.key, creds.issued, false),
    sourceIp: natIp,
    userAgent:
      'aws-cli/2.18.11 md/awscrt#0.21.4 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp',
  };
  const keys = [...bucket.keys, ...['q1', 'q2', 'q3', 'q4'].map((q) => `exports/2025/customers-${q}.csv.gz`)];
  const requestIds: string[] = [];
  const eventIds: string[] = [];
  let bytesRead = 0;
  const gets = 32;
  for (let i = 0; i < gets; i++) {
    const key = keys[i % keys.length];
    const bytes = rng.int(20_000_000, 120_000_000);
    bytesRead += bytes;
    const planned = t.call(
      {
        time,
        account: bucket.account,
        region: bucket.region,
        service: 's3',
        name: 'GetObject',
        caller,
        readOnly: true,
        dataEvent: true,
        requestParameters: { bucketName: bucket.name, Host: `${bucket.name}.s3.${bucket.region}.amazonaws.com`, key },
        resources: s3ObjectResources(bucket.account, bucket.name, key),
        additionalEventData: s3AdditionalData(rng, bytes, 0),
      },
      role.arn,
    );
    requestIds.push(planned.record.requestID as string);
    eventIds.push(planned.record.eventID as string);
    const line = accessLogLine(world, planned);
    if (line) {
      t.note({
        source: 's3access',
        time: isoSeconds(time),
        account: bucket.account,
        region: bucket.region,
        action: 'REST.GET.OBJECT',
        outcome: 'success',
        eventId: line.requestId,
        actor: role.arn,
        ip: natIp,
      });
    }
    time += rng.int(3, 20) * 1000;
  }

  // Then the instance sends about as much to the drop host, a flow record per minute.
  time += rng.int(1, 4) * MINUTE;
  dns.query(time);
  let remaining = Math.round(bytesRead * 1.03);
  let flowBytes = 0;
  let flowsOut = 0;
  const firstFlow = Math.floor(time / 60_000) * 60;
  let minute = firstFlow;
  const srcPort = rng.int(32768, 60999);
  while (remaining > 0) {
    const bytes = Math.min(remaining, rng.int(150_000_000, 400_000_000));
    remaining -= bytes;
    const packets = Math.ceil(bytes / 1448);
    const out: PlannedFlow = {
      start: minute,
      end: minute + 60,
      account: instance.account,
      region: instance.region,
      interfaceId: instance.eniId,
      srcAddr: instance.privateIp,
      dstAddr: EXFIL_IP,
      srcPort,
      dstPort: 443,
      protocol: 6,
      packets,
      bytes,
      action: 'ACCEPT',
    };
    t.planFlow(out);
    t.note({
      source: 'vpcflow',
      time: isoSeconds(minute * 1000),
      account: instance.account,
      region: instance.region,
      action: 'flow',
      outcome: 'success',
      ip: EXFIL_IP,
    });
    const acks = Math.ceil(packets / 2);
    t.planFlow({
      ...out,
      srcAddr: EXFIL_IP,
      dstAddr: instance.privateIp,
      srcPort: 443,
      dstPort: srcPort,
      packets: acks,
      bytes: acks * 52,
    });
    flowBytes += bytes;
    flowsOut++;
    minute += 60;
  }
  dns.query(minute * 1000 + rng.int(5, 50) * 1000);

  const exfil = t.story(
    's3-exfiltration',
    {
      title: 'A compromised worker instance pulls the customer exports and sends them out',
      technique: 'T1537',
      summary: `With its instance-profile credentials, ${instance.name} (${instance.id}) downloads ${gets} objects (${(bytesRead / 1e9).toFixed(1)} GB) from ${bucket.name} at night; CloudTrail data events and S3 server access logs show the same request ids. Minutes later its interface ${instance.eniId} sends about as many bytes to ${EXFIL_IP}:443.`,
      account: instance.account,
      region: instance.region,
      actors: [role.arn],
      resources: [`arn:aws:ec2:${instance.region}:${instance.account}:instance/${instance.id}`, bucket.arn],
    },
    { [EXFIL_IP]: 'RU' },
    {
      instanceId: instance.id,
      interfaceId: instance.eniId,
      privateIp: instance.privateIp,
      roleArn: role.arn,
      sessionKey: creds.key,
      bucket: bucket.name,
      requestIds,
      cloudTrailEventIds: eventIds,
      getObjects: gets,
      bytesRead,
      attackerIp: EXFIL_IP,
      flowsOut,
      flowBytesOut: flowBytes,
      firstFlow: isoSeconds(firstFlow * 1000),
    },
  );
  return [exfil, dns.story()];
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/baselines/volume_spike_per_identity.yml'];
