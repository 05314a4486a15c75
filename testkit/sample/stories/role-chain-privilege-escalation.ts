/**
 * role-chain-privilege-escalation (T1098): user → DeployOps → BreakGlassAdmin (second hop made with the first hop's credentials); CreateAccessKey for another user, AttachUserPolicy AdministratorAccess, DeleteBucket.
 */
import {
  assumeRoleShapes,
  assumedRoleIdentity,
  cloudTrailStsExpiration,
  iamUserIdentity,
  s3AdditionalData,
  s3BucketResources,
  s3ObjectResources,
  type Caller,
} from '../../../etl/sources/cloudtrail/sample-records';
import { IAM_ID_ALPHABET } from '../prng';
import { type Story } from '../story';
import { type Teller, anchor, storyPlanner } from '../teller';
import { mustRole, mustUser, sessionKey } from '../world';

export interface Expect {
  /** user → RoleA → RoleB */
  chain: [string, string, string];
  /** Credentials at each hop: the user's AKIA key, then the ASIA keys the two AssumeRole calls issued. */
  sessions: [string, string, string];
  assumeRoleEventIds: [string, string];
  sensitiveActions: { eventName: string; eventId: string; accessKeyId: string; target: string }[];
  createdAccessKeyId: string;
}

/** Plans the story from its own random stream (`<seed>:story:role-chain-privilege-escalation`). */
export const plan = storyPlanner('role-chain-privilege-escalation', 'story', tell);

function tell(t: Teller): Story<'role-chain-privilege-escalation'> {
  const { world, rng } = t;
  const user = mustUser(world, 'prod/marco.silva');
  const roleA = mustRole(world, 'prod/DeployOps');
  const roleB = mustRole(world, 'prod/BreakGlassAdmin');
  const victim = mustUser(world, 'prod/backup-admin');
  const doomed = world.buckets['acme-prod-audit-archive'];
  const acct = user.account;
  const ip = '192.0.2.200';
  const ua =
    'Boto3/1.35.2 md/Botocore#1.35.2 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.2';
  let time = anchor(world, rng, 0.7, 16, 30);
  const userCaller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: ua };
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'sts',
      name: 'GetCallerIdentity',
      caller: userCaller,
      readOnly: true,
      requestParameters: null,
    },
    user.arn,
  );

  time += rng.int(20, 60) * 1000;
  const keyA = sessionKey(rng);
  const sessionA = 'marco';
  const shapesA = assumeRoleShapes(roleA, sessionA, keyA, time);
  const assumeA = t.call(
    { time, account: acct, region: 'us-east-1', service: 'sts', name: 'AssumeRole', caller: userCaller, readOnly: true, ...shapesA },
    user.arn,
  );
  const createdA = time;
  const callerA: Caller = { identity: assumedRoleIdentity(roleA, sessionA, keyA, createdA, false), sourceIp: ip, userAgent: ua };
  time += rng.int(10, 40) * 1000;
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'iam',
      name: 'ListRoles',
      caller: callerA,
      readOnly: true,
      requestParameters: null,
    },
    roleA.arn,
  );
  time += rng.int(10, 40) * 1000;
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'iam',
      name: 'GetRole',
      caller: callerA,
      readOnly: true,
      requestParameters: { roleName: roleB.name },
    },
    roleA.arn,
  );

  time += rng.int(20, 60) * 1000;
  const keyB = sessionKey(rng);
  const sessionB = 'maintenance';
  const shapesB = assumeRoleShapes(roleB, sessionB, keyB, time);
  const assumeB = t.call(
    { time, account: acct, region: 'us-east-1', service: 'sts', name: 'AssumeRole', caller: callerA, readOnly: true, ...shapesB },
    roleA.arn,
  );
  const callerB: Caller = { identity: assumedRoleIdentity(roleB, sessionB, keyB, time, false), sourceIp: ip, userAgent: ua };

  const sensitive: Expect['sensitiveActions'] = [];
  time += rng.int(15, 45) * 1000;
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'iam',
      name: 'ListUsers',
      caller: callerB,
      readOnly: true,
      requestParameters: null,
    },
    roleB.arn,
  );

  time += rng.int(15, 45) * 1000;
  const newKey = 'AKIA' + rng.chars(IAM_ID_ALPHABET, 16);
  const createKey = t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'iam',
      name: 'CreateAccessKey',
      caller: callerB,
      readOnly: false,
      requestParameters: { userName: victim.name },
      responseElements: {
        accessKey: { userName: victim.name, accessKeyId: newKey, status: 'Active', createDate: cloudTrailStsExpiration(new Date(time)) },
      },
    },
    roleB.arn,
  );
  sensitive.push({ eventName: 'CreateAccessKey', eventId: createKey.record.eventID as string, accessKeyId: keyB, target: victim.arn });

  time += rng.int(15, 45) * 1000;
  const attach = t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'iam',
      name: 'AttachUserPolicy',
      caller: callerB,
      readOnly: false,
      requestParameters: { userName: user.name, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    },
    roleB.arn,
  );
  sensitive.push({ eventName: 'AttachUserPolicy', eventId: attach.record.eventID as string, accessKeyId: keyB, target: user.arn });

  const host = `${doomed.name}.s3.${doomed.region}.amazonaws.com`;
  for (const key of doomed.keys) {
    time += rng.int(5, 20) * 1000;
    t.call(
      {
        time,
        account: acct,
        region: doomed.region,
        service: 's3',
        name: 'DeleteObject',
        caller: callerB,
        readOnly: false,
        dataEvent: true,
        requestParameters: { bucketName: doomed.name, Host: host, key },
        resources: s3ObjectResources(acct, doomed.name, key),
        additionalEventData: s3AdditionalData(rng, 0, 0),
      },
      roleB.arn,
    );
  }
  time += rng.int(5, 20) * 1000;
  const del = t.call(
    {
      time,
      account: acct,
      region: doomed.region,
      service: 's3',
      name: 'DeleteBucket',
      caller: callerB,
      readOnly: false,
      requestParameters: { bucketName: doomed.name, Host: host },
      resources: s3BucketResources(acct, doomed.name),
    },
    roleB.arn,
  );
  sensitive.push({ eventName: 'DeleteBucket', eventId: del.record.eventID as string, accessKeyId: keyB, target: doomed.arn });

  const story = t.story(
    'role-chain-privilege-escalation',
    {
      title: 'Stolen developer keys chain two roles, then create keys, grant admin and delete a bucket',
      technique: 'T1098',
      summary: `${user.name}'s access key, used from ${ip}, assumes ${roleA.name}; with that session it assumes ${roleB.name}; with the ${roleB.name} session it creates an access key for ${victim.name}, attaches AdministratorAccess to ${user.name} and deletes ${doomed.name}.`,
      account: acct,
      region: 'us-east-1',
      actors: [user.arn, roleA.arn, roleB.arn],
      resources: [roleA.arn, roleB.arn, victim.arn, user.arn, doomed.arn, 'arn:aws:iam::aws:policy/AdministratorAccess'],
    },
    { [ip]: 'VN' },
    {
      chain: [user.arn, roleA.arn, roleB.arn],
      sessions: [user.accessKeyId, keyA, keyB],
      assumeRoleEventIds: [assumeA.record.eventID as string, assumeB.record.eventID as string],
      sensitiveActions: sensitive,
      createdAccessKeyId: newKey,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = [
  'aws/iam/credentials_for_another_user.yml',
  'aws/iam/iam_user_or_admin_created.yml',
  'aws/sts/role_assumed_then_sensitive_action.yml',
];
