/**
 * access-denied-probing (T1580): a leaked key is denied across ~15 services, then reads a secret and objects.
 */
import {
  iamUserIdentity,
  notAuthorized,
  s3AdditionalData,
  s3ObjectResources,
  type Caller,
  type JsonObject,
} from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { type Teller, anchor, storyPlanner } from '../teller';
import { mustUser } from '../world';

export interface Expect {
  actor: string;
  accessKeyId: string;
  deniedCount: number;
  deniedServices: string[];
  deniedErrorCodes: string[];
  /** The first successful call after the denials began (GetCallerIdentity before them aside). */
  successAfterDenials: { eventId: string; eventName: string; time: string };
}

const PROBE_UA =
  'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1.0-17-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11';

/** Plans the story from its own random stream (`<seed>:story:access-denied-probing`). */
export const plan = storyPlanner('access-denied-probing', 'story', tell);

function tell(t: Teller): Story<'access-denied-probing'> {
  const { world, rng } = t;
  const user = mustUser(world, 'prod/svc-reporting');
  const ip = '192.0.2.113';
  const caller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: PROBE_UA };
  const acct = user.account;
  let time = anchor(world, rng, 0.55, 9, 5);
  t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'sts',
      name: 'GetCallerIdentity',
      caller,
      readOnly: true,
      requestParameters: null,
    },
    user.arn,
  );
  // [service, action, errorCode, region, request parameters]
  const probes: [string, string, string, string, JsonObject | null][] = [
    ['iam', 'ListUsers', 'AccessDenied', 'us-east-1', null],
    ['iam', 'ListRoles', 'AccessDenied', 'us-east-1', null],
    ['iam', 'GetAccountAuthorizationDetails', 'AccessDenied', 'us-east-1', null],
    ['iam', 'ListAttachedUserPolicies', 'AccessDenied', 'us-east-1', { userName: user.name }],
    ['iam', 'ListGroupsForUser', 'AccessDenied', 'us-east-1', { userName: user.name }],
    ['s3', 'ListBuckets', 'AccessDenied', 'us-east-1', { Host: 's3.amazonaws.com' }],
    ['ec2', 'DescribeInstances', 'Client.UnauthorizedOperation', 'us-east-1', { instancesSet: {}, filterSet: {} }],
    [
      'ec2',
      'DescribeSecurityGroups',
      'Client.UnauthorizedOperation',
      'us-east-1',
      { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} },
    ],
    [
      'ec2',
      'DescribeSnapshots',
      'Client.UnauthorizedOperation',
      'us-east-1',
      { snapshotSet: {}, ownersSet: { items: [{ owner: 'self' }] }, filterSet: {} },
    ],
    ['ec2', 'DescribeInstances', 'Client.UnauthorizedOperation', 'eu-west-1', { instancesSet: {}, filterSet: {} }],
    ['lambda', 'ListFunctions20150331', 'AccessDenied', 'us-east-1', null],
    ['lambda', 'ListFunctions20150331', 'AccessDenied', 'eu-west-1', null],
    ['rds', 'DescribeDBInstances', 'AccessDenied', 'us-east-1', null],
    ['rds', 'DescribeDBSnapshots', 'AccessDenied', 'us-east-1', null],
    ['kms', 'ListKeys', 'AccessDenied', 'us-east-1', null],
    ['dynamodb', 'ListTables', 'AccessDenied', 'us-east-1', null],
    ['ssm', 'DescribeParameters', 'AccessDenied', 'us-east-1', null],
    ['secretsmanager', 'ListSecrets', 'AccessDenied', 'us-east-1', null],
    ['cloudtrail', 'DescribeTrails', 'AccessDenied', 'us-east-1', { trailNameList: [], includeShadowTrails: true }],
    ['organizations', 'DescribeOrganization', 'AccessDeniedException', 'us-east-1', null],
    ['sns', 'ListTopics', 'AuthorizationError', 'us-east-1', null],
    ['logs', 'DescribeLogGroups', 'AccessDeniedException', 'us-east-1', null],
    ['ecr', 'DescribeRepositories', 'AccessDeniedException', 'us-east-1', null],
    ['eks', 'ListClusters', 'AccessDeniedException', 'us-east-1', null],
  ];
  const deniedServices = new Set<string>();
  const codes = new Set<string>();
  let denied = 0;
  for (let round = 0; round < 2; round++) {
    for (const [service, name, code, region, params] of probes) {
      if (round === 1 && rng.chance(0.5)) continue;
      time += rng.int(1, 9) * 1000;
      const action = name.replace(/20150331$/, '');
      const message =
        code === 'Client.UnauthorizedOperation'
          ? `You are not authorized to perform this operation. User: ${user.arn} is not authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`
          : notAuthorized(service, action, user.arn, service === 'iam' ? `arn:aws:iam::${acct}:user/${user.name}` : '*');
      t.call(
        {
          time,
          account: acct,
          region,
          service,
          name,
          caller,
          readOnly: true,
          requestParameters: params,
          errorCode: code,
          errorMessage: message,
        },
        user.arn,
      );
      denied++;
      deniedServices.add(service);
      codes.add(code);
    }
  }
  time += rng.int(40, 120) * 1000;
  const success = t.call(
    {
      time,
      account: acct,
      region: 'us-east-1',
      service: 'secretsmanager',
      name: 'GetSecretValue',
      caller,
      readOnly: true,
      requestParameters: { secretId: 'prod/reporting/warehouse-readonly' },
    },
    user.arn,
  );
  const exportsBucket = world.buckets['acme-prod-customer-exports'];
  for (const key of exportsBucket.keys.slice(0, 3)) {
    time += rng.int(5, 30) * 1000;
    t.call(
      {
        time,
        account: acct,
        region: exportsBucket.region,
        service: 's3',
        name: 'GetObject',
        caller,
        readOnly: true,
        dataEvent: true,
        requestParameters: { bucketName: exportsBucket.name, Host: `${exportsBucket.name}.s3.${exportsBucket.region}.amazonaws.com`, key },
        resources: s3ObjectResources(acct, exportsBucket.name, key),
        additionalEventData: s3AdditionalData(rng, rng.int(10_000_000, 90_000_000), 0),
      },
      user.arn,
    );
  }
  const story = t.story(
    'access-denied-probing',
    {
      title: 'A leaked reporting key probes many services, is denied, then finds what it can read',
      technique: 'T1580',
      summary: `The access key of ${user.name} is used from ${ip}: GetCallerIdentity, then ${denied} calls denied across ${deniedServices.size} services, then a secret read and downloads from the exports bucket succeed.`,
      account: acct,
      region: 'us-east-1',
      actors: [user.arn],
      resources: [user.arn, `arn:aws:secretsmanager:us-east-1:${acct}:secret:prod/reporting/warehouse-readonly`, exportsBucket.arn],
    },
    { [ip]: 'NL' },
    {
      actor: user.arn,
      accessKeyId: user.accessKeyId,
      deniedCount: denied,
      deniedServices: [...deniedServices].sort(),
      deniedErrorCodes: [...codes].sort(),
      successAfterDenials: {
        eventId: success.record.eventID as string,
        eventName: 'GetSecretValue',
        time: success.record.eventTime as string,
      },
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/cloudtrail/access_denied_burst.yml'];
