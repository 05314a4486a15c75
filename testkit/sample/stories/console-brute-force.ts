/**
 * console-brute-force (T1110.001): 60 failed ConsoleLogin for one user from one IP, then a success without MFA from another country, then discovery.
 */
import { iamUserConsoleIdentity, type Caller, type JsonObject } from '../../../etl/sources/cloudtrail/sample-records';
import { consoleLoginRecord } from '../../../etl/sources/cloudtrail/sample-baseline';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { mustUser, sessionKey } from '../world';

export interface Expect {
  targetUser: string;
  failedLogins: number;
  attackerIp: string;
  attackerCountry: string;
  successIp: string;
  successCountry: string;
  successEventId: string;
  successMfaUsed: boolean;
  /** The console session key the attacker's later calls carry. */
  consoleSessionKey: string;
  followUpEventNames: string[];
}

/** Plans the story from its own random stream (`<seed>:story:console-brute-force`). */
export const plan = storyPlanner('console-brute-force', 'story', tell);

function tell(t: Teller): Story<'console-brute-force'> {
  const { world, rng } = t;
  const user = mustUser(world, 'prod/dana.whitfield');
  const attackerIp = '192.0.2.45';
  const successIp = '192.0.2.77';
  const countries = { [attackerIp]: 'RU', [successIp]: 'BR' };
  const browser = 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0';
  let time = anchor(world, rng, 0.3, 2, 10);
  const failures = 60;
  for (let i = 0; i < failures; i++) {
    t.add(consoleLoginRecord(rng, world, user, attackerIp, browser, time, false, false), user.arn);
    time += rng.int(6, 20) * 1000;
  }
  time += rng.int(18, 30) * MINUTE;
  const success = t.add(consoleLoginRecord(rng, world, user, successIp, browser, time, true, false), user.arn);
  const consoleKey = sessionKey(rng);
  const caller: Caller = {
    identity: iamUserConsoleIdentity(user, consoleKey, time, false),
    sourceIp: successIp,
    userAgent: browser,
    console: true,
  };
  const followUps: [string, string, JsonObject | null][] = [
    ['iam', 'GetAccountSummary', null],
    ['iam', 'ListUsers', null],
    ['iam', 'ListAccessKeys', { userName: user.name }],
    ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }],
    ['ec2', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
  ];
  for (const [service, name, params] of followUps) {
    time += rng.int(10, 60) * 1000;
    t.call(
      { time, account: user.account, region: 'us-east-1', service, name, caller, readOnly: true, requestParameters: params },
      user.arn,
    );
  }
  const story = t.story(
    'console-brute-force',
    {
      title: 'Console password brute force, then a sign-in from a new country',
      technique: 'T1110.001',
      summary: `${failures} failed console logins for ${user.name} from ${attackerIp} within minutes, then a successful login without MFA from ${successIp} and IAM / S3 / EC2 discovery with the console session.`,
      account: user.account,
      region: 'us-east-1',
      actors: [user.arn],
      resources: [user.arn],
    },
    countries,
    {
      targetUser: user.arn,
      failedLogins: failures,
      attackerIp,
      attackerCountry: 'RU',
      successIp,
      successCountry: 'BR',
      successEventId: success.record.eventID as string,
      successMfaUsed: false,
      consoleSessionKey: consoleKey,
      followUpEventNames: followUps.map((f) => f[1]),
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = [
  'aws/signin/console_brute_force.yml',
  'aws/signin/console_failures_burst_then_success.yml',
  'aws/signin/console_login_without_mfa.yml',
];
