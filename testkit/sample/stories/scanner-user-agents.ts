/**
 * scanner-user-agents (T1526): ScoutSuite, Pacu and AWS CLI on Kali user agents enumerate two regions.
 */
import {
  awsCliUserAgent,
  iamUserIdentity,
  notAuthorized,
  type CallSpec,
  type Caller,
  type JsonObject,
} from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { mustUser } from '../world';

export interface Expect {
  actor: string;
  accessKeyId: string;
  tools: string[];
  userAgents: string[];
  eventCount: number;
  deniedCount: number;
}

const KALI_CLI_PLATFORM = 'os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython md/distrib#kali.2024';

/** Plans the story from its own random stream (`<seed>:story:scanner-user-agents`). */
export const plan = storyPlanner('scanner-user-agents', 'story', tell);

function tell(t: Teller): Story<'scanner-user-agents'> {
  const { world, rng } = t;
  const user = mustUser(world, 'dev/jenkins-old');
  const ip = '192.0.2.66';
  const acct = user.account;
  const tools: { tool: string; ua: (service: string, name: string) => string }[] = [
    { tool: 'ScoutSuite', ua: () => 'Scout Suite/5.14.0 Python/3.11.8 Linux/6.6.9-amd64 Botocore/1.34.50' },
    {
      tool: 'Pacu',
      ua: () =>
        'Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.50 Pacu/1.5.3',
    },
    { tool: 'aws-cli on Kali Linux', ua: (service, name) => awsCliUserAgent(KALI_CLI_PLATFORM, service, name, '2.15.17') },
  ];
  const calls: [string, string, JsonObject | null, boolean][] = [
    ['iam', 'ListUsers', null, true],
    ['iam', 'ListRoles', null, true],
    ['iam', 'ListPolicies', { scope: 'Local', onlyAttached: false }, true],
    ['iam', 'GetAccountPasswordPolicy', null, true],
    ['iam', 'ListGroups', null, true],
    ['iam', 'GetAccountAuthorizationDetails', null, false],
    ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }, true],
    ['ec2', 'DescribeInstances', { instancesSet: {}, filterSet: {} }, true],
    ['ec2', 'DescribeSecurityGroups', { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }, true],
    ['ec2', 'DescribeVpcs', { vpcSet: {}, filterSet: {} }, true],
    ['ec2', 'DescribeSnapshots', { snapshotSet: {}, ownersSet: { items: [{ owner: 'self' }] }, filterSet: {} }, true],
    ['lambda', 'ListFunctions20150331', null, true],
    ['rds', 'DescribeDBInstances', null, true],
    ['kms', 'ListKeys', null, true],
    ['cloudtrail', 'DescribeTrails', { trailNameList: [], includeShadowTrails: true }, true],
    ['guardduty', 'ListDetectors', null, false],
    ['secretsmanager', 'ListSecrets', null, false],
    ['sns', 'ListTopics', null, true],
  ];
  let time = anchor(world, rng, 0.9, 4, 30);
  let count = 0;
  let denied = 0;
  for (const tool of tools) {
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const [service, name, params, allowed] of calls) {
        if (service === 'iam' && region !== 'us-east-1') continue;
        if (tool.tool !== 'ScoutSuite' && rng.chance(0.4)) continue;
        time += rng.int(0, 3) * 1000;
        const caller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: tool.ua(service, name) };
        const spec: CallSpec = { time, account: acct, region, service, name, caller, readOnly: true, requestParameters: params };
        if (!allowed) {
          spec.errorCode = 'AccessDenied';
          spec.errorMessage = notAuthorized(service, name, user.arn, '*');
          denied++;
        }
        t.call(spec, user.arn);
        count++;
      }
    }
    time += rng.int(5, 15) * MINUTE;
  }
  const story = t.story(
    'scanner-user-agents',
    {
      title: 'An old Jenkins key is used by offensive cloud scanners',
      technique: 'T1526',
      summary: `The key of ${user.name} enumerates IAM, S3, EC2 and more in two regions from ${ip} with ScoutSuite, Pacu and the AWS CLI on Kali Linux.`,
      account: acct,
      region: 'us-east-1',
      actors: [user.arn],
      resources: [user.arn],
    },
    { [ip]: 'SG' },
    {
      actor: user.arn,
      accessKeyId: user.accessKeyId,
      tools: tools.map((x) => x.tool),
      userAgents: [...new Set(t.records.map((r) => r.record.userAgent as string))],
      eventCount: count,
      deniedCount: denied,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/cloudtrail/scanner_user_agent.yml'];
