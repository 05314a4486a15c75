/**
 * The attack stories: each one plans its CloudTrail records (and flow records) at known times
 * and writes itself down as a `Story`. Stories are placed at fixed fractions of the sample's time
 * span, so a one-day sample holds all of them, and a week spreads them out.
 */
import { DAY, HOUR, consoleLoginRecord } from './cloudtrail-baseline';
import {
  ANONYMOUS_IDENTITY,
  assumeRoleShapes,
  assumedRoleIdentity,
  awsCliUserAgent,
  buildRecord,
  cloudTrailStsExpiration,
  iamUserConsoleIdentity,
  iamUserIdentity,
  isoSeconds,
  s3AdditionalData,
  s3BucketResources,
  s3ObjectResources,
  type CallSpec,
  type Caller,
  type JsonObject,
  type PlannedRecord,
} from './cloudtrail-records';
import { IAM_ID_ALPHABET, Rng } from './prng';
import type { Story, StoryBase, StoryExpectations, StoryId, StorySource, StoryStep } from './stories';
import { mustInstance, mustRole, mustUser, sessionKey, type Instance, type World } from './world';

export const MINUTE = 60_000;

/** One flow record a story needs in the VPC flow logs of an interface. */
export interface PlannedFlow {
  start: number;
  end: number;
  account: string;
  region: string;
  interfaceId: string;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  action: 'ACCEPT' | 'REJECT';
}

export interface StoryPlan {
  stories: Story[];
  /** Every story record, sorted by time. */
  records: PlannedRecord[];
  flows: PlannedFlow[];
}

/** Collects a story's records and steps as it is told. */
export class Teller {
  readonly records: PlannedRecord[] = [];
  readonly steps: StoryStep[] = [];
  readonly flows: PlannedFlow[] = [];

  constructor(
    readonly rng: Rng,
    readonly world: World,
  ) {}

  call(spec: CallSpec, actor: string): PlannedRecord {
    const planned = buildRecord(this.rng, spec);
    this.records.push(planned);
    const r = planned.record;
    const identity = r.userIdentity as JsonObject;
    const response = r.responseElements as JsonObject | null;
    const failed = typeof r.errorCode === 'string' || (response !== null && response.ConsoleLogin === 'Failure');
    const step: StoryStep = {
      source: 'cloudtrail',
      time: r.eventTime as string,
      account: spec.account,
      region: spec.region,
      action: r.eventName as string,
      outcome: failed ? 'failure' : 'success',
      eventId: r.eventID as string,
      actor,
      ip: r.sourceIPAddress as string,
    };
    if (typeof identity.accessKeyId === 'string' && identity.accessKeyId !== '') step.accessKeyId = identity.accessKeyId;
    if (typeof r.errorCode === 'string') step.errorCode = r.errorCode;
    this.steps.push(step);
    return planned;
  }

  add(planned: PlannedRecord, actor: string): PlannedRecord {
    this.records.push(planned);
    const r = planned.record;
    const response = r.responseElements as JsonObject | null;
    this.steps.push({
      source: 'cloudtrail',
      time: r.eventTime as string,
      account: planned.account,
      region: planned.region,
      action: r.eventName as string,
      outcome: response && response.ConsoleLogin === 'Failure' ? 'failure' : 'success',
      eventId: r.eventID as string,
      actor,
      ip: r.sourceIPAddress as string,
    });
    return planned;
  }

  flow(flow: PlannedFlow): void {
    this.flows.push(flow);
    this.steps.push({
      source: 'vpcflow',
      time: new Date(flow.start * 1000).toISOString(),
      account: flow.account,
      region: flow.region,
      action: 'flow',
      outcome: flow.action === 'ACCEPT' ? 'success' : 'failure',
      ip: flow.srcAddr,
    });
  }

  /** A step seen in a source other than CloudTrail (the writer of that source holds the record). */
  note(step: StoryStep): void {
    this.steps.push(step);
  }

  story<I extends StoryId>(
    id: I,
    head: { title: string; technique: string; summary: string; account: string; region: string; actors: string[]; resources: string[] },
    ipCountries: Record<string, string>,
    expect: StoryExpectations[I],
  ): Story<I> {
    this.steps.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const times = this.steps.map((s) => s.time);
    const uniq = (xs: (string | undefined)[]): string[] => [...new Set(xs.filter((x): x is string => !!x))];
    const ips = uniq(this.steps.map((s) => s.ip)).filter((ip) => !ip.endsWith('.amazonaws.com'));
    const base: StoryBase = {
      ...head,
      start: times[0],
      end: times[times.length - 1],
      ips,
      ipCountries: Object.fromEntries(ips.map((ip) => [ip, ipCountries[ip] ?? this.world.ipCountry[ip] ?? 'unknown'])),
      accessKeys: uniq(this.steps.map((s) => s.accessKeyId)),
      userAgents: uniq(this.records.map((r) => r.record.userAgent as string)),
      eventIds: this.records.map((r) => r.record.eventID as string),
      sources: sourcesOf(this.steps),
      steps: this.steps,
    };
    return { id, ...base, expect };
  }
}

function sourcesOf(steps: readonly StoryStep[]): Partial<Record<StorySource, string[]>> {
  const out: Partial<Record<StorySource, string[]>> = {};
  for (const step of steps) {
    const ids = (out[step.source] ??= []);
    if (step.eventId && !ids.includes(step.eventId)) ids.push(step.eventId);
  }
  return out;
}

/** A time at a fraction of the span, on the day it falls on, at hh:mm UTC plus a seeded jitter. */
export function anchor(world: World, rng: Rng, fraction: number, hh: number, mm: number): number {
  const day = Math.min(world.days - 1, Math.floor(fraction * world.days));
  return world.start.getTime() + day * DAY + hh * HOUR + mm * MINUTE + rng.int(0, 240) * 1000;
}

function notAuthorized(service: string, action: string, principalArn: string, resource: string): string {
  return `User: ${principalArn} is not authorized to perform: ${service}:${action} on resource: ${resource} because no identity-based policy allows the ${service}:${action} action`;
}

const KALI_CLI_PLATFORM = 'os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython md/distrib#kali.2024';

// ---------------------------------------------------------------------------------------------

function bruteForce(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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
  return { story, teller: t };
}

function publicBucket(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
  const user = mustUser(world, 'prod/tom.becker');
  const person = world.people.find((p) => p.name === 'tom.becker')!;
  const bucket = world.buckets['acme-prod-customer-exports'];
  const host = `${bucket.name}.s3.${bucket.region}.amazonaws.com`;
  const caller = (name: string): Caller => ({
    identity: iamUserIdentity(user),
    sourceIp: person.office.ip,
    userAgent: awsCliUserAgent(person.cliPlatform, 's3api', name.replace(/^Delete/, 'Delete')),
  });
  let time = anchor(world, rng, 0.45, 14, 20);
  const base = {
    account: bucket.account,
    region: bucket.region,
    service: 's3',
    readOnly: false,
    resources: s3BucketResources(bucket.account, bucket.name),
  };
  const ownerId = rng.hex(64);
  const changes: PlannedRecord[] = [];
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'DeletePublicAccessBlock',
        caller: caller('DeletePublicAccessBlock'),
        requestParameters: { publicAccessBlock: '', bucketName: bucket.name, Host: host },
      },
      user.arn,
    ),
  );
  time += rng.int(30, 90) * 1000;
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'PutBucketPolicy',
        caller: caller('PutBucketPolicy'),
        requestParameters: {
          bucketPolicy: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'PublicReadForPartners', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucket.arn}/*` },
            ],
          },
          bucketName: bucket.name,
          Host: host,
          policy: '',
        },
      },
      user.arn,
    ),
  );
  time += rng.int(30, 90) * 1000;
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'PutBucketAcl',
        caller: caller('PutBucketAcl'),
        requestParameters: {
          bucketName: bucket.name,
          Host: host,
          acl: '',
          AccessControlPolicy: {
            AccessControlList: {
              Grant: [
                {
                  Grantee: { 'xsi:type': 'CanonicalUser', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', ID: ownerId },
                  Permission: 'FULL_CONTROL',
                },
                {
                  Grantee: {
                    'xsi:type': 'Group',
                    'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
                    URI: 'http://acs.amazonaws.com/groups/global/AllUsers',
                  },
                  Permission: 'READ',
                },
              ],
            },
            xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/',
            Owner: { ID: ownerId },
          },
        },
      },
      user.arn,
    ),
  );

  // Strangers find the bucket: anonymous listings and downloads from many addresses.
  const ips = Array.from({ length: 12 }, (_, i) => `192.0.2.${120 + i}`);
  const countries = ['NL', 'SG', 'US', 'DE', 'CN', 'FR', 'IN', 'BR', 'RU', 'UA', 'HK', 'JP'];
  const ipCountries: Record<string, string> = {};
  ips.forEach((ip, i) => (ipCountries[ip] = countries[i]!));
  const agents = [
    'curl/8.5.0',
    'python-requests/2.31.0',
    'Wget/1.21.4',
    'aws-sdk-go/1.50.0 (go1.21.6; linux; amd64)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ];
  let anonTime = time + rng.int(40, 90) * MINUTE;
  let gets = 0;
  let lists = 0;
  let first = '';
  const ipAgent = new Map(ips.map((ip) => [ip, rng.pick(agents)]));
  for (let i = 0; i < 90; i++) {
    const ip = i < 5 ? ips[0] : rng.pick(ips);
    const list = i === 0 || rng.chance(0.08);
    const anon: Caller = { identity: ANONYMOUS_IDENTITY, sourceIp: ip, userAgent: ipAgent.get(ip)! };
    if (list) {
      t.call(
        {
          time: anonTime,
          account: bucket.account,
          region: bucket.region,
          service: 's3',
          name: 'ListObjects',
          caller: anon,
          readOnly: true,
          dataEvent: true,
          requestParameters: { 'list-type': '2', bucketName: bucket.name, Host: host, prefix: '' },
          resources: s3BucketResources(bucket.account, bucket.name),
          additionalEventData: s3AdditionalData(rng, rng.int(800, 4000), 0, true),
        },
        'anonymous',
      );
      lists++;
    } else {
      const key = rng.pick(bucket.keys);
      t.call(
        {
          time: anonTime,
          account: bucket.account,
          region: bucket.region,
          service: 's3',
          name: 'GetObject',
          caller: anon,
          readOnly: true,
          dataEvent: true,
          requestParameters: { bucketName: bucket.name, Host: host, key },
          resources: s3ObjectResources(bucket.account, bucket.name, key),
          additionalEventData: s3AdditionalData(rng, rng.int(5_000_000, 250_000_000), 0, true),
        },
        'anonymous',
      );
      gets++;
    }
    if (!first) first = isoSeconds(anonTime);
    anonTime += rng.int(5, 240) * 1000;
  }
  const story = t.story(
    'public-bucket-exposure',
    {
      title: 'A developer makes the customer-exports bucket public; strangers download it',
      technique: 'T1530',
      summary: `${user.name} (not an administrator) removed the public access block of ${bucket.name}, added a bucket policy with Principal "*" and an AllUsers READ ACL. Anonymous listings and downloads from unfamiliar addresses follow.`,
      account: bucket.account,
      region: bucket.region,
      actors: [user.arn, 'anonymous'],
      resources: [bucket.arn, ...bucket.keys.map((k) => `${bucket.arn}/${k}`)],
    },
    { ...ipCountries, [person.office.ip]: person.office.country },
    {
      bucket: bucket.name,
      bucketArn: bucket.arn,
      changedBy: user.arn,
      changeEventNames: changes.map((c) => c.record.eventName as string),
      changeEventIds: changes.map((c) => c.record.eventID as string),
      anonymousGetObjects: gets,
      anonymousListObjects: lists,
      anonymousIps: [...new Set(t.steps.filter((s) => s.actor === 'anonymous').map((s) => s.ip!))].sort(),
      firstAnonymousAccess: first,
    },
  );
  return { story, teller: t };
}

const PROBE_UA =
  'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1.0-17-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11';

function accessDeniedProbing(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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
  return { story, teller: t };
}

function roleChain(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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

  const sensitive: StoryExpectations['role-chain-privilege-escalation']['sensitiveActions'] = [];
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
  return { story, teller: t };
}

function cloudtrailTampering(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
  const user = mustUser(world, 'dev/legacy-admin');
  const trail = world.devLocalTrail;
  const ip = '192.0.2.150';
  const ua = 'aws-cli/1.29.62 Python/3.11.6 Linux/6.5.0-1022-aws botocore/1.31.62';
  const caller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: ua };
  let time = anchor(world, rng, 0.8, 21, 15);
  const base = { account: user.account, region: trail.homeRegion, service: 'cloudtrail', caller };
  t.call(
    { ...base, time, name: 'DescribeTrails', readOnly: true, requestParameters: { trailNameList: [], includeShadowTrails: true } },
    user.arn,
  );
  time += rng.int(10, 30) * 1000;
  t.call({ ...base, time, name: 'GetTrailStatus', readOnly: true, requestParameters: { name: trail.arn } }, user.arn);
  time += rng.int(10, 30) * 1000;
  const stop = t.call(
    {
      ...base,
      time,
      name: 'StopLogging',
      readOnly: false,
      requestParameters: { name: trail.arn },
      resources: [{ accountId: user.account, type: 'AWS::CloudTrail::Trail', ARN: trail.arn }],
    },
    user.arn,
  );
  time += rng.int(3, 8) * MINUTE;
  const del = t.call(
    {
      ...base,
      time,
      name: 'DeleteTrail',
      readOnly: false,
      requestParameters: { name: trail.arn },
      resources: [{ accountId: user.account, type: 'AWS::CloudTrail::Trail', ARN: trail.arn }],
    },
    user.arn,
  );
  const story = t.story(
    'cloudtrail-tampering',
    {
      title: 'Logging is stopped and the account trail deleted',
      technique: 'T1562.008',
      summary: `${user.name} (dev) stops logging on ${trail.name} and deletes it minutes later, from ${ip}. The organization trail keeps recording, which is why this sample still has the events.`,
      account: user.account,
      region: trail.homeRegion,
      actors: [user.arn],
      resources: [trail.arn],
    },
    { [ip]: 'RO' },
    {
      actor: user.arn,
      trailArn: trail.arn,
      stopLoggingEventId: stop.record.eventID as string,
      deleteTrailEventId: del.record.eventID as string,
    },
  );
  return { story, teller: t };
}

/** Ports scanners and brute-forcers use as their ephemeral source. */
function ephemeralPort(rng: Rng): number {
  return rng.int(32768, 60999);
}

function sshOpen(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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
  const until = Math.min(world.start.getTime() + world.days * DAY - 10 * MINUTE, openedAt + 36 * HOUR);
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
      t.flows.push({
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
  return { story, teller: t };
}

function unusedRegion(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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
  return { story, teller: t };
}

function scannerAgents(world: World, rng: Rng): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
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
  return { story, teller: t };
}

/** Plans every story. Small (a few hundred records), so it is held in memory. */
export function planStories(world: World): StoryPlan {
  const root = `${world.seed}:story:`;
  const told = [
    bruteForce(world, new Rng(root + 'console-brute-force')),
    publicBucket(world, new Rng(root + 'public-bucket-exposure')),
    accessDeniedProbing(world, new Rng(root + 'access-denied-probing')),
    roleChain(world, new Rng(root + 'role-chain-privilege-escalation')),
    cloudtrailTampering(world, new Rng(root + 'cloudtrail-tampering')),
    sshOpen(world, new Rng(root + 'ssh-open-to-world')),
    unusedRegion(world, new Rng(root + 'unused-region-activity')),
    scannerAgents(world, new Rng(root + 'scanner-user-agents')),
  ];
  const records = told.flatMap((x) => x.teller.records).sort((a, b) => a.time - b.time);
  const flows = told.flatMap((x) => x.teller.flows).sort((a, b) => a.start - b.start);
  return { stories: told.map((x) => x.story), records, flows };
}
