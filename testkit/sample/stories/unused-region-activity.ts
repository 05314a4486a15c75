/**
 * unused-region-activity (T1535): a leaked CI key launches instances in ap-southeast-3.
 */
import { iamUserIdentity, type Caller, type JsonObject } from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { type Teller, anchor, storyPlanner } from '../teller';
import { mustUser } from '../world';

export interface Expect {
  actor: string;
  accessKeyId: string;
  unusedRegion: string;
  eventCount: number;
  runInstancesEventId: string;
  instanceIds: string[];
}

/** Plans the story from its own random stream (`<seed>:story:unused-region-activity`). */
export const plan = storyPlanner('unused-region-activity', 'story', tell);

function tell(t: Teller): Story<'unused-region-activity'> {
  const { world, rng } = t;
  const user = mustUser(world, 'prod/ci-deployer');
  const region = world.unusedRegion;
  const ip = '192.0.2.160';
  const ua = 'aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1041-azure exe/x86_64.ubuntu.22 prompt/off command/ec2.run-instances';
  const caller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: ua };
  const acct = user.account;
  let time = anchor(world, rng, 0.55, 11, 40);
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'ec2',
      name: 'DescribeRegions',
      caller,
      readOnly: true,
      requestParameters: { regionSet: {}, allRegions: false },
    },
    user.arn,
  );
  const steps: [string, boolean, JsonObject][] = [
    ['DescribeAvailabilityZones', true, { availabilityZoneSet: {}, availabilityZoneIdSet: {}, allAvailabilityZones: false }],
    [
      'DescribeImages',
      true,
      {
        executableBySet: {},
        imagesSet: {},
        ownersSet: { items: [{ owner: 'amazon' }] },
        filterSet: {
          items: [{ name: 'name', valueSet: { items: [{ value: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*' }] } }],
        },
      },
    ],
    ['DescribeSecurityGroups', true, { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }],
    ['CreateKeyPair', false, { keyName: 'ops-temp', keyType: 'rsa', keyFormat: 'pem' }],
    [
      'AuthorizeSecurityGroupIngress',
      false,
      {
        groupId: `sg-0${rng.hex(16)}`,
        ipPermissions: {
          items: [{ ipProtocol: '-1', groups: {}, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] }, ipv6Ranges: {}, prefixListIds: {} }],
        },
      },
    ],
  ];
  for (const [name, readOnly, params] of steps) {
    time += rng.int(5, 40) * 1000;
    t.call({ time, account: acct, region, service: 'ec2', name, caller, readOnly, requestParameters: params }, user.arn);
  }
  time += rng.int(20, 60) * 1000;
  const instanceIds = Array.from({ length: 4 }, () => `i-0${rng.hex(16)}`);
  const reservation = `r-0${rng.hex(16)}`;
  const run = t.call(
    {
      time,
      account: acct,
      region,
      service: 'ec2',
      name: 'RunInstances',
      caller,
      readOnly: false,
      requestParameters: {
        instancesSet: { items: [{ imageId: `ami-0${rng.hex(16)}`, minCount: 4, maxCount: 4, keyName: 'ops-temp' }] },
        instanceType: 'c5.9xlarge',
        blockDeviceMapping: {},
        monitoring: { enabled: false },
        disableApiTermination: false,
        disableApiStop: false,
        clientToken: rng.uuid(),
      },
      responseElements: {
        requestId: rng.uuid(),
        reservationId: reservation,
        ownerId: acct,
        groupSet: {},
        instancesSet: {
          items: instanceIds.map((id, i) => ({
            instanceId: id,
            instanceType: 'c5.9xlarge',
            launchTime: time,
            amiLaunchIndex: i,
            instanceState: { code: 0, name: 'pending' },
          })),
        },
      },
    },
    user.arn,
  );
  for (let i = 0; i < 3; i++) {
    time += rng.int(30, 300) * 1000;
    t.call(
      {
        time,
        account: acct,
        region,
        service: 'ec2',
        name: 'DescribeInstances',
        caller,
        readOnly: true,
        requestParameters: { instancesSet: { items: instanceIds.map((instanceId) => ({ instanceId })) }, filterSet: {} },
      },
      user.arn,
    );
  }
  const inRegion = t.records.filter((r) => r.region === region).length;
  const story = t.story(
    'unused-region-activity',
    {
      title: 'A leaked CI key launches large instances in a region the company never uses',
      technique: 'T1535',
      summary: `The long-term key of ${user.name}, which normally only assumes the deploy role from CI runners, is used from ${ip} to create a key pair, open a security group and launch four c5.9xlarge instances in ${region}.`,
      account: acct,
      region,
      actors: [user.arn],
      resources: instanceIds.map((id) => `arn:aws:ec2:${region}:${acct}:instance/${id}`),
    },
    { [ip]: 'CN' },
    {
      actor: user.arn,
      accessKeyId: user.accessKeyId,
      unusedRegion: region,
      eventCount: inRegion,
      runInstancesEventId: run.record.eventID as string,
      instanceIds,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/baselines/new_region_for_account.yml', 'aws/ec2/security_group_open_to_world.yml'];
