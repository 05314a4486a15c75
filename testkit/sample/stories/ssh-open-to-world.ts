/**
 * ssh-open-to-world (T1562.007): AuthorizeSecurityGroupIngress 0.0.0.0/0 tcp/22 on the jump host; accepted SSH flows from the internet follow in VPC flow logs.
 */
import { assumedRoleIdentity, type Caller } from '../../../etl/sources/cloudtrail/sample-records';
import { type PlannedFlow } from '../../../etl/sources/vpcflow/sample';
import { DAY_MS, HOUR_MS } from '../output';
import { type Rng } from '../prng';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { mustInstance, sessionKey, type Instance } from '../world';

export interface Expect {
  actor: string;
  groupId: string;
  groupArn: string;
  ruleId: string;
  port: number;
  cidr: string;
  instanceId: string;
  interfaceId: string;
  eventId: string;
  /** Accepted SSH flow records from the internet to the instance after the change. */
  sshFlowsAccepted: number;
  sshFlowSources: string[];
}

/** Ports scanners and brute-forcers use as their ephemeral source. */
function ephemeralPort(rng: Rng): number {
  return rng.int(32768, 60999);
}

/** Plans the story from its own random stream (`<seed>:story:ssh-open-to-world`). */
export const plan = storyPlanner('ssh-open-to-world', 'story', tell);

function tell(t: Teller): Story<'ssh-open-to-world'> {
  const { world, rng } = t;
  const person = world.people.find((p) => p.name === 'priya.nair')!;
  const role = person.ssoRoles.prod!;
  const instance: Instance = mustInstance(world, 'jump-host');
  const acct = instance.account;
  let time = anchor(world, rng, 0.15, 10, 45);
  const session = sessionKey(rng);
  const caller: Caller = {
    identity: assumedRoleIdentity(role, person.email, session, time - 40 * MINUTE, false),
    sourceIp: person.office.ip,
    userAgent: person.browser,
    console: true,
  };
  const base = { account: acct, region: instance.region, service: 'ec2', caller };
  t.call(
    {
      ...base,
      time,
      name: 'DescribeSecurityGroups',
      readOnly: true,
      requestParameters: { securityGroupSet: {}, securityGroupIdSet: { items: [{ groupId: instance.securityGroupId }] }, filterSet: {} },
    },
    role.arn,
  );
  time += rng.int(20, 90) * 1000;
  const ruleId = `sgr-0${rng.hex(16)}`;
  const opened = t.call(
    {
      ...base,
      time,
      name: 'AuthorizeSecurityGroupIngress',
      readOnly: false,
      requestParameters: {
        groupId: instance.securityGroupId,
        ipPermissions: {
          items: [
            {
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              groups: {},
              ipRanges: { items: [{ cidrIp: '0.0.0.0/0', description: 'temp ssh for vendor' }] },
              ipv6Ranges: {},
              prefixListIds: {},
            },
          ],
        },
      },
      responseElements: {
        requestId: rng.uuid(),
        _return: true,
        securityGroupRuleSet: {
          items: [
            {
              groupOwnerId: acct,
              groupId: instance.securityGroupId,
              securityGroupRuleId: ruleId,
              isEgress: false,
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              cidrIpv4: '0.0.0.0/0',
              description: 'temp ssh for vendor',
            },
          ],
        },
      },
    },
    role.arn,
  );

  // Internet SSH brute-forcers find the open port within the hour and keep coming.
  const sources = ['192.0.2.30', '192.0.2.31', '192.0.2.88', '192.0.2.89', '192.0.2.171'];
  const ipCountries: Record<string, string> = {
    '192.0.2.30': 'CN',
    '192.0.2.31': 'CN',
    '192.0.2.88': 'RU',
    '192.0.2.89': 'RU',
    '192.0.2.171': 'US',
  };
  const openedAt = time;
  const until = Math.min(world.start.getTime() + world.days * DAY_MS - 10 * MINUTE, openedAt + 36 * HOUR_MS);
  let flowTime = openedAt + rng.int(20, 50) * MINUTE;
  let accepted = 0;
  while (flowTime < until) {
    const src = rng.pick(sources);
    const startSec = Math.floor(flowTime / 1000);
    const attempts = rng.int(1, 6);
    for (let i = 0; i < attempts; i++) {
      const srcPort = ephemeralPort(rng);
      const packets = rng.int(10, 40);
      const inbound: PlannedFlow = {
        start: startSec,
        end: startSec + 60,
        account: acct,
        region: instance.region,
        interfaceId: instance.eniId,
        srcAddr: src,
        dstAddr: instance.privateIp,
        srcPort,
        dstPort: 22,
        protocol: 6,
        packets,
        bytes: packets * rng.int(70, 130),
        action: 'ACCEPT',
      };
      t.flow(inbound);
      accepted++;
      const outPackets = rng.int(8, 30);
      t.planFlow({
        ...inbound,
        srcAddr: instance.privateIp,
        dstAddr: src,
        srcPort: 22,
        dstPort: srcPort,
        packets: outPackets,
        bytes: outPackets * rng.int(80, 200),
      });
    }
    flowTime += rng.int(4, 40) * MINUTE;
  }
  const story = t.story(
    'ssh-open-to-world',
    {
      title: 'SSH opened to the internet on the jump host; brute-forcers arrive',
      technique: 'T1562.007',
      summary: `${person.email} (SSO PowerUser, console) added 0.0.0.0/0 on tcp/22 to ${instance.securityGroupId} of ${instance.name}. VPC flow logs then show SSH connections from the internet accepted on ${instance.eniId}.`,
      account: acct,
      region: instance.region,
      actors: [role.arn],
      resources: [
        `arn:aws:ec2:${instance.region}:${acct}:security-group/${instance.securityGroupId}`,
        `arn:aws:ec2:${instance.region}:${acct}:instance/${instance.id}`,
      ],
    },
    { ...ipCountries, [person.office.ip]: person.office.country },
    {
      actor: role.arn,
      groupId: instance.securityGroupId,
      groupArn: `arn:aws:ec2:${instance.region}:${acct}:security-group/${instance.securityGroupId}`,
      ruleId,
      port: 22,
      cidr: '0.0.0.0/0',
      instanceId: instance.id,
      interfaceId: instance.eniId,
      eventId: opened.record.eventID as string,
      sshFlowsAccepted: accepted,
      sshFlowSources: [...new Set(t.flows.filter((f) => f.dstPort === 22).map((f) => f.srcAddr))].sort(),
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/ec2/security_group_open_to_world.yml', 'aws/ec2/ssh_rdp_opened_then_accepted.yml'];
