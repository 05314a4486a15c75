/**
 * Normal work, the background every story hides in: people reading in the console and the CLI
 * from their offices, CI jobs assuming a deploy role, applications on EC2 reading secrets and
 * objects with instance-profile credentials, AWS services (Config, Auto Scaling, EC2) acting
 * through service-linked roles, and a security-account scanner assuming an audit role in the
 * other accounts every hour (cross-account AssumeRole, logged in both accounts with one
 * sharedEventID).
 *
 * Two kinds of output, both deterministic:
 * - `scheduledForHour`: events that happen on a clock (instance credential refreshes, the hourly
 *   audit scan, morning console logins). Derived only from the seed and the hour, so every stream
 *   can ask for them without coordination.
 * - `randomActivity`: Poisson-distributed work inside one delivery window of one stream, from a
 *   generator keyed by the stream and the window start.
 */
import { DAY_MS, HOUR_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import {
  BOTO3_APP_UA,
  CI_CLI_PLATFORM,
  JAVA_APP_UA,
  TERRAFORM_UA,
  assumeRoleShapes,
  assumedRoleIdentity,
  awsCliUserAgent,
  awsServiceIdentity,
  buildRecord,
  iamUserConsoleIdentity,
  iamUserIdentity,
  s3AdditionalData,
  s3BucketResources,
  s3ObjectResources,
  type CallSpec,
  type Caller,
  type Json,
  type JsonObject,
  type PlannedRecord,
} from './sample-records';
import {
  mustRole,
  sessionKey,
  type Account,
  type AccountAlias,
  type Instance,
  type Person,
  type World,
} from '../../../testkit/sample/world';

export interface Stream {
  account: Account;
  region: string;
}

/** Peak events per hour at scale 1, per stream and kind of work. */
const RATES: Record<string, { human: number; ci: number; app: number; service: number }> = {
  'prod/us-east-1': { human: 70, ci: 40, app: 55, service: 18 },
  'prod/eu-west-1': { human: 18, ci: 12, app: 20, service: 8 },
  'dev/us-east-1': { human: 55, ci: 30, app: 8, service: 8 },
  'dev/eu-west-1': { human: 14, ci: 8, app: 3, service: 4 },
  'security/us-east-1': { human: 18, ci: 0, app: 0, service: 12 },
};

export function streamRates(stream: Stream): { human: number; ci: number; app: number; service: number } | undefined {
  return RATES[`${stream.account.alias}/${stream.region}`];
}

/** Office hours in UTC: [start, end). */
function officeHours(person: Person): [number, number] {
  if (person.office.name === 'berlin-office') return [7, 16];
  if (person.office.name === 'new-york-office') return [13, 22];
  return [14, 23];
}

function isWeekend(ms: number): boolean {
  const d = new Date(ms).getUTCDay();
  return d === 0 || d === 6;
}

function hourOf(ms: number): number {
  return new Date(ms).getUTCHours();
}

function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** When a person signs in to the console on a given day (weekdays only), from the seed alone. */
export function consoleLoginTime(world: World, person: Person, accountAlias: AccountAlias, day: number): number | undefined {
  if (isWeekend(day)) return undefined;
  const rng = new Rng(`${world.seed}:login:${person.name}:${accountAlias}:${day}`);
  const [start] = officeHours(person);
  return day + start * HOUR_MS + rng.int(5, 50) * 60_000 + rng.int(0, 59) * 1000;
}

/** The console session key of a person in an account on a day. */
function consoleKey(world: World, person: Person, accountAlias: AccountAlias, day: number): string {
  return sessionKey(new Rng(`${world.seed}:console-key:${person.name}:${accountAlias}:${day}`));
}

/**
 * The SSO role session a person holds in an account at time t. Permission-set sessions last an
 * hour by default, so a new one starts each hour the person works (at a seeded minute); before
 * that minute the previous hour's session is still in use.
 */
function ssoSession(world: World, person: Person, accountAlias: AccountAlias, t: number): { key: string; created: number } {
  const at = (hour: number) => {
    const rng = new Rng(`${world.seed}:sso:${person.name}:${accountAlias}:${hour}`);
    return { key: sessionKey(rng), created: hour + rng.int(0, 900) * 1000 };
  };
  const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
  const current = at(hour);
  return current.created <= t ? current : at(hour - HOUR_MS);
}

/** Instance-profile credentials rotate hourly at a minute fixed per instance. */
function instanceRotation(world: World, instance: Instance, hour: number): { key: string; issued: number } {
  const rng = new Rng(`${world.seed}:instance-creds:${instance.id}:${hour}`);
  const minute = new Rng(`${world.seed}:instance-minute:${instance.id}`).int(0, 59);
  return { key: sessionKey(rng), issued: hour + minute * 60_000 + rng.int(0, 59) * 1000 };
}

export function instanceCredentials(world: World, instance: Instance, t: number): { key: string; issued: number } {
  const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
  const current = instanceRotation(world, instance, hour);
  return current.issued <= t ? current : instanceRotation(world, instance, hour - HOUR_MS);
}

const SERVICE_IP = (service: string): string => `${service}.amazonaws.com`;

// ---------------------------------------------------------------------------------------------
// Calls: what an identity may do, with request parameters shaped as CloudTrail logs them.

export interface Call {
  service: string;
  name: string;
  readOnly: boolean;
  requestParameters: JsonObject | null;
  responseElements?: JsonObject | null;
  resources?: Json[];
  dataEvent?: boolean;
  additionalEventData?: JsonObject;
  /** Global services are logged in us-east-1 only. */
  global?: boolean;
}

interface Env {
  world: World;
  account: Account;
  region: string;
}

const FUNCTIONS = ['orders-api', 'thumbnailer', 'nightly-report'];
const TABLES = ['orders', 'sessions', 'feature-flags'];

function instancesIn(env: Env): Instance[] {
  return env.world.instances.filter((i) => i.account === env.account.id && i.region === env.region);
}

function bucketsIn(env: Env): string[] {
  return Object.values(env.world.buckets)
    .filter((b) => b.account === env.account.id && b.region === env.region)
    .map((b) => b.name);
}

function s3Host(bucket: string, region: string): string {
  return `${bucket}.s3.${region}.amazonaws.com`;
}

function bucketCall(name: string, sub: string, bucket: string, env: Env): Call {
  return {
    service: 's3',
    name,
    readOnly: true,
    requestParameters: { [sub]: '', bucketName: bucket, Host: s3Host(bucket, env.region) },
    resources: s3BucketResources(env.account.id, bucket),
  };
}

type CallMaker = (rng: Rng, env: Env) => Call | undefined;

const READS: [CallMaker, number][] = [
  [
    (rng, env): Call => {
      const inst = instancesIn(env);
      const one = inst.length > 0 && rng.chance(0.3) ? rng.pick(inst) : undefined;
      const instancesSet: JsonObject = one ? { items: [{ instanceId: one.id }] } : {};
      return {
        service: 'ec2',
        name: 'DescribeInstances',
        readOnly: true,
        requestParameters: { instancesSet, filterSet: {} },
      };
    },
    10,
  ],
  [
    () => ({
      service: 'ec2',
      name: 'DescribeSecurityGroups',
      readOnly: true,
      requestParameters: { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} },
    }),
    4,
  ],
  [() => ({ service: 'ec2', name: 'DescribeVpcs', readOnly: true, requestParameters: { vpcSet: {}, filterSet: {} } }), 2],
  [() => ({ service: 'ec2', name: 'DescribeSubnets', readOnly: true, requestParameters: { subnetSet: {}, filterSet: {} } }), 2],
  [() => ({ service: 'ec2', name: 'DescribeVolumes', readOnly: true, requestParameters: { volumeSet: {}, filterSet: {} } }), 2],
  [
    () => ({
      service: 'ec2',
      name: 'DescribeInstanceStatus',
      readOnly: true,
      requestParameters: { instancesSet: {}, filterSet: {}, includeAllInstances: false },
    }),
    2,
  ],
  [
    (_rng, env) => ({
      service: 's3',
      name: 'ListBuckets',
      readOnly: true,
      requestParameters: { Host: env.region === 'us-east-1' ? 's3.amazonaws.com' : `s3.${env.region}.amazonaws.com` },
    }),
    3,
  ],
  [
    (rng, env) => {
      const buckets = bucketsIn(env);
      if (buckets.length === 0) return undefined;
      const [name, sub] = rng.pick([
        ['GetBucketLocation', 'location'],
        ['GetBucketPolicy', 'policy'],
        ['GetBucketAcl', 'acl'],
        ['GetBucketVersioning', 'versioning'],
        ['GetBucketEncryption', 'encryption'],
        ['GetBucketPublicAccessBlock', 'publicAccessBlock'],
      ] as const);
      return bucketCall(name, sub, rng.pick(buckets), env);
    },
    5,
  ],
  [() => ({ service: 'iam', name: 'ListUsers', readOnly: true, requestParameters: null, global: true }), 2],
  [() => ({ service: 'iam', name: 'ListRoles', readOnly: true, requestParameters: null, global: true }), 2],
  [
    (rng, env) => {
      const users = Object.values(env.world.users).filter((u) => u.account === env.account.id);
      return users.length
        ? { service: 'iam', name: 'GetUser', readOnly: true, requestParameters: { userName: rng.pick(users).name }, global: true }
        : undefined;
    },
    1,
  ],
  [
    (rng, env) => {
      const roles = Object.values(env.world.roles).filter((r) => r.account === env.account.id && r.path === '/');
      if (roles.length === 0) return undefined;
      const r = rng.pick(roles);
      return {
        service: 'iam',
        name: rng.pick(['GetRole', 'ListAttachedRolePolicies', 'ListRolePolicies']),
        readOnly: true,
        requestParameters: { roleName: r.name },
        global: true,
      };
    },
    2,
  ],
  [() => ({ service: 'iam', name: 'GetAccountSummary', readOnly: true, requestParameters: null, global: true }), 1],
  [() => ({ service: 'lambda', name: 'ListFunctions20150331', readOnly: true, requestParameters: null }), 2],
  [
    (rng) => ({
      service: 'lambda',
      name: 'GetFunction20150331v2',
      readOnly: true,
      requestParameters: { functionName: rng.pick(FUNCTIONS) },
    }),
    2,
  ],
  [() => ({ service: 'monitoring', name: 'DescribeAlarms', readOnly: true, requestParameters: { maxRecords: 100 } }), 2],
  [() => ({ service: 'logs', name: 'DescribeLogGroups', readOnly: true, requestParameters: { limit: 50 } }), 2],
  [
    (rng) => ({
      service: 'logs',
      name: 'FilterLogEvents',
      readOnly: true,
      requestParameters: { logGroupName: `/aws/lambda/${rng.pick(FUNCTIONS)}`, interleaved: true, limit: 100 },
    }),
    1,
  ],
  [() => ({ service: 'rds', name: 'DescribeDBInstances', readOnly: true, requestParameters: null }), 1],
  [() => ({ service: 'ssm', name: 'DescribeInstanceInformation', readOnly: true, requestParameters: { maxResults: 50 } }), 1],
  [() => ({ service: 'kms', name: 'ListAliases', readOnly: true, requestParameters: null }), 1],
  [
    () => ({
      service: 'cloudtrail',
      name: 'DescribeTrails',
      readOnly: true,
      requestParameters: { trailNameList: [], includeShadowTrails: true },
    }),
    1,
  ],
  [() => ({ service: 'dynamodb', name: 'ListTables', readOnly: true, requestParameters: null }), 1],
  [(rng) => ({ service: 'dynamodb', name: 'DescribeTable', readOnly: true, requestParameters: { tableName: rng.pick(TABLES) } }), 1],
  [() => ({ service: 'sts', name: 'GetCallerIdentity', readOnly: true, requestParameters: null }), 1],
];

const SECURITY_READS: [CallMaker, number][] = [
  [
    () => ({
      service: 'guardduty',
      name: 'ListFindings',
      readOnly: true,
      requestParameters: { detectorId: 'b2c7f1e0a3d94c5e8f6a1b2c3d4e5f60', maxResults: 50 },
    }),
    4,
  ],
  [() => ({ service: 'securityhub', name: 'GetFindings', readOnly: true, requestParameters: { maxResults: 100 } }), 4],
  [() => ({ service: 'cloudtrail', name: 'LookupEvents', readOnly: true, requestParameters: { maxResults: 50 } }), 2],
  [
    (rng) => ({
      service: 'athena',
      name: 'StartQueryExecution',
      readOnly: false,
      requestParameters: { queryString: '***', workGroup: 'security', clientRequestToken: rng.uuid() },
      responseElements: { queryExecutionId: rng.uuid() },
    }),
    1,
  ],
];

function humanWrite(rng: Rng, env: Env, person: Person): Call | undefined {
  const inst = instancesIn(env);
  const buckets = bucketsIn(env);
  const choice = rng.int(0, 4);
  if (choice === 0 && inst.length) {
    const i = rng.pick(inst);
    return {
      service: 'ec2',
      name: 'CreateTags',
      readOnly: false,
      requestParameters: { resourcesSet: { items: [{ resourceId: i.id }] }, tagSet: { items: [{ key: 'owner', value: person.name }] } },
      responseElements: { requestId: rng.uuid(), _return: true },
    };
  }
  if (choice === 1) {
    const name = `/app/${env.account.alias}/${rng.pick(['feature-flags', 'log-level', 'max-workers'])}`;
    return {
      service: 'ssm',
      name: 'PutParameter',
      readOnly: false,
      requestParameters: { name, type: 'String', overwrite: true },
      responseElements: { version: rng.int(2, 40), tier: 'Standard' },
    };
  }
  if (choice === 2 && buckets.length && env.account.alias !== 'prod') {
    const bucket = rng.pick(buckets);
    const key = `tmp/${person.name}/${rng.hex(8)}.json`;
    return {
      service: 's3',
      name: 'PutObject',
      readOnly: false,
      dataEvent: true,
      requestParameters: { bucketName: bucket, Host: s3Host(bucket, env.region), key },
      responseElements: { 'x-amz-server-side-encryption': 'AES256' },
      resources: s3ObjectResources(env.account.id, bucket, key),
      additionalEventData: s3AdditionalData(rng, 0, rng.int(200, 40_000)),
    };
  }
  if (choice === 3) {
    return {
      service: 'lambda',
      name: 'UpdateFunctionConfiguration20150331v2',
      readOnly: false,
      requestParameters: { functionName: rng.pick(FUNCTIONS), timeout: rng.pick([30, 60, 120]) },
      responseElements: null,
    };
  }
  return {
    service: 'logs',
    name: 'PutRetentionPolicy',
    readOnly: false,
    requestParameters: { logGroupName: `/aws/lambda/${rng.pick(FUNCTIONS)}`, retentionInDays: rng.pick([14, 30, 90]) },
    responseElements: null,
  };
}

/** Places a call in the right region: global services are logged in us-east-1. */
function specFor(call: Call, env: Env, caller: Caller, time: number): CallSpec | undefined {
  if (call.global && env.region !== 'us-east-1') return undefined;
  return {
    time,
    account: env.account.id,
    region: env.region,
    service: call.service,
    name: call.name,
    caller,
    readOnly: call.readOnly,
    requestParameters: call.requestParameters,
    ...(call.responseElements !== undefined ? { responseElements: call.responseElements } : {}),
    ...(call.resources ? { resources: call.resources } : {}),
    ...(call.dataEvent ? { dataEvent: true } : {}),
    ...(call.additionalEventData ? { additionalEventData: call.additionalEventData } : {}),
  };
}

function pickRead(rng: Rng, env: Env, table = READS): Call {
  for (let attempt = 0; attempt < 10; attempt++) {
    const call = rng.weighted(table)(rng, env);
    if (call && !(call.global && env.region !== 'us-east-1')) return call;
  }
  return { service: 'ec2', name: 'DescribeInstances', readOnly: true, requestParameters: { instancesSet: {}, filterSet: {} } };
}

// ---------------------------------------------------------------------------------------------
// Random activity inside one delivery window.

function humansOf(world: World, alias: AccountAlias): Person[] {
  return world.people.filter((p) => p.iamUsers[alias] || p.ssoRoles[alias]);
}

function humanWeight(person: Person, t: number): number {
  const [start, end] = officeHours(person);
  const h = hourOf(t);
  const inHours = h >= start && h < end;
  if (isWeekend(t)) return inHours ? 0.04 : 0.005;
  return inHours ? 1 : h === start - 1 || h === end ? 0.25 : 0.02;
}

/** A person's burst of work: console browsing, CLI, occasionally a change. */
function humanBurst(rng: Rng, env: Env, person: Person, t0: number, out: PlannedRecord[]): void {
  const { world, account } = env;
  const alias = account.alias;
  const day = dayStart(t0);
  const user = person.iamUsers[alias];
  const ssoRole = person.ssoRoles[alias];
  const useSso = ssoRole && (!user || rng.chance(0.5));
  const consoleMode = rng.chance(0.6);
  let caller: Caller;
  if (useSso && ssoRole) {
    const session = ssoSession(world, person, alias, t0);
    caller = {
      identity: assumedRoleIdentity(ssoRole, person.email, session.key, session.created, false),
      sourceIp: person.office.ip,
      userAgent: consoleMode ? person.browser : '',
      console: consoleMode,
    };
  } else if (user) {
    const login = consoleLoginTime(world, person, alias, day);
    if (consoleMode && login !== undefined && login < t0) {
      caller = {
        identity: iamUserConsoleIdentity(user, consoleKey(world, person, alias, day), login, true),
        sourceIp: person.office.ip,
        userAgent: person.browser,
        console: true,
      };
    } else {
      caller = { identity: iamUserIdentity(user), sourceIp: person.office.ip, userAgent: '' };
    }
  } else {
    return;
  }
  const isConsole = caller.console === true;
  const count = isConsole ? rng.int(2, 9) : rng.int(1, 4);
  let t = t0;
  for (let i = 0; i < count; i++) {
    const call = rng.chance(0.06)
      ? humanWrite(rng, env, person)
      : pickRead(rng, env, alias === 'security' && rng.chance(0.6) ? SECURITY_READS : READS);
    if (!call) continue;
    const userAgent = isConsole
      ? rng.chance(0.15)
        ? 'AWS Internal'
        : person.browser
      : awsCliUserAgent(person.cliPlatform, call.service, call.name);
    const spec = specFor(call, env, { ...caller, userAgent }, t);
    if (spec) out.push(buildRecord(rng, spec));
    t += rng.int(1, isConsole ? 20 : 4) * 1000;
  }
}

/** A CI job: the CI user assumes the deploy role, then builds and ships with the role's credentials. */
function ciJob(rng: Rng, env: Env, t0: number, out: PlannedRecord[]): void {
  const { world, account, region } = env;
  const ciUser = world.users[`${account.alias}/ci-deployer`];
  const ciRole = world.roles[`${account.alias}/ci-deploy-role`];
  if (!ciUser || !ciRole) return;
  const runnerIp = rng.pick([world.egress['ci-runner-1'], world.egress['ci-runner-2']]);
  const sessionName = `gha-run-${rng.int(11_000_000_000, 11_999_999_999)}`;
  const key = sessionKey(rng);
  const terraform = rng.chance(0.3);
  const assume = assumeRoleShapes(ciRole, sessionName, key, t0, 3600);
  out.push(
    buildRecord(rng, {
      time: t0,
      account: account.id,
      region,
      service: 'sts',
      name: 'AssumeRole',
      caller: {
        identity: iamUserIdentity(ciUser),
        sourceIp: runnerIp,
        userAgent: terraform ? TERRAFORM_UA : awsCliUserAgent(CI_CLI_PLATFORM, 'sts', 'AssumeRole'),
      },
      readOnly: true,
      requestParameters: assume.requestParameters,
      responseElements: assume.responseElements,
      resources: assume.resources,
    }),
  );
  const caller: Caller = { identity: assumedRoleIdentity(ciRole, sessionName, key, t0, false), sourceIp: runnerIp, userAgent: '' };
  const artifacts = Object.values(world.buckets).find((b) => b.account === account.id && b.name.endsWith('-artifacts'));
  const steps = rng.int(3, 10);
  let t = t0 + rng.int(2, 6) * 1000;
  const commit = rng.hex(12);
  for (let i = 0; i < steps; i++) {
    let call: Call | undefined;
    const r = rng.next();
    if (r < 0.25 && artifacts) {
      const put = rng.chance(0.6);
      const key2 = put ? `builds/${commit}/${rng.pick(['web', 'worker'])}.tar.gz` : rng.pick(artifacts.keys);
      call = {
        service: 's3',
        name: put ? 'PutObject' : 'GetObject',
        readOnly: !put,
        dataEvent: true,
        requestParameters: { bucketName: artifacts.name, Host: s3Host(artifacts.name, artifacts.region), key: key2 },
        responseElements: put ? { 'x-amz-server-side-encryption': 'AES256' } : null,
        resources: s3ObjectResources(account.id, artifacts.name, key2),
        additionalEventData: s3AdditionalData(rng, put ? 0 : rng.int(10_000, 5_000_000), put ? rng.int(1_000_000, 60_000_000) : 0),
      };
      if (artifacts.region !== region) call = undefined;
    } else if (r < 0.35) {
      call = {
        service: 'lambda',
        name: 'UpdateFunctionCode20150331v2',
        readOnly: false,
        requestParameters: {
          functionName: rng.pick(FUNCTIONS),
          s3Bucket: artifacts?.name ?? 'artifacts',
          s3Key: `builds/${commit}/lambda.zip`,
          publish: true,
        },
        responseElements: null,
      };
    } else if (r < 0.42) {
      call = {
        service: 'cloudformation',
        name: 'DescribeStacks',
        readOnly: true,
        requestParameters: { stackName: `${account.alias}-app` },
      };
    } else {
      call = pickRead(rng, env);
    }
    if (!call) continue;
    const userAgent = terraform ? TERRAFORM_UA : awsCliUserAgent(CI_CLI_PLATFORM, call.service, call.name);
    const spec = specFor(call, env, { ...caller, userAgent }, t);
    if (spec) out.push(buildRecord(rng, spec));
    t += rng.int(1, 8) * 1000;
  }
}

/** Applications on EC2, calling with their instance-profile credentials through the NAT. */
function appBurst(rng: Rng, env: Env, t0: number, out: PlannedRecord[]): void {
  const { world, account, region } = env;
  const apps = instancesIn(env).filter((i) => i.role);
  if (apps.length === 0) return;
  const instance = rng.pick(apps);
  const role = instance.role!;
  const creds = instanceCredentials(world, instance, t0);
  const natIp = world.egress[`${account.alias}-nat-${region}`] ?? instance.privateIp;
  const ua = instance.name.startsWith('worker') ? JAVA_APP_UA : BOTO3_APP_UA;
  const caller: Caller = {
    identity: assumedRoleIdentity(role, instance.id, creds.key, creds.issued, false),
    sourceIp: natIp,
    userAgent: ua,
  };
  const assets = Object.values(world.buckets).find((b) => b.account === account.id && b.region === region && b.name.includes('assets'));
  const exports = instance.name.startsWith('worker') ? world.buckets['acme-prod-customer-exports'] : undefined;
  const n = rng.int(1, 4);
  let t = t0;
  for (let i = 0; i < n; i++) {
    let call: Call;
    const r = rng.next();
    if (r < 0.45 && (assets || exports)) {
      const bucket = exports && rng.chance(0.5) ? exports : (assets ?? exports)!;
      const put = bucket === exports ? rng.chance(0.7) : rng.chance(0.1);
      const key =
        put && bucket === exports
          ? `exports/2026/${rng.pick(['orders', 'invoices', 'customers'])}-${rng.hex(6)}.csv.gz`
          : rng.pick(bucket.keys);
      call = {
        service: 's3',
        name: put ? 'PutObject' : 'GetObject',
        readOnly: !put,
        dataEvent: true,
        requestParameters: { bucketName: bucket.name, Host: s3Host(bucket.name, bucket.region), key },
        responseElements: put ? { 'x-amz-server-side-encryption': 'AES256' } : null,
        resources: s3ObjectResources(bucket.account, bucket.name, key),
        additionalEventData: s3AdditionalData(rng, put ? 0 : rng.int(2_000, 900_000), put ? rng.int(10_000, 20_000_000) : 0),
      };
    } else if (r < 0.65) {
      call = {
        service: 'secretsmanager',
        name: 'GetSecretValue',
        readOnly: true,
        requestParameters: { secretId: `${account.alias}/app/db-credentials` },
      };
    } else if (r < 0.8) {
      call = {
        service: 'ssm',
        name: 'GetParameter',
        readOnly: true,
        requestParameters: { name: `/app/${account.alias}/feature-flags`, withDecryption: true },
      };
    } else if (r < 0.95) {
      call = {
        service: 'kms',
        name: 'Decrypt',
        readOnly: true,
        requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { app: `${account.alias}-web` } },
        resources: [
          {
            accountId: account.id,
            type: 'AWS::KMS::Key',
            ARN: `arn:aws:kms:${region}:${account.id}:key/${new Rng(`${world.seed}:kms:${account.id}:${region}`).uuid()}`,
          },
        ],
      };
    } else {
      call = { service: 'sts', name: 'GetCallerIdentity', readOnly: true, requestParameters: null };
    }
    const spec = specFor(call, env, caller, t);
    if (spec) out.push(buildRecord(rng, spec));
    t += rng.int(0, 3) * 1000;
  }
}

/** AWS services working through their service-linked roles. */
function serviceBurst(rng: Rng, env: Env, t0: number, out: PlannedRecord[]): void {
  const { world, account, region } = env;
  const useAutoscaling = account.alias === 'prod' && rng.chance(0.3);
  const service = useAutoscaling ? 'autoscaling' : 'config';
  const role = mustRole(world, `${account.alias}/${useAutoscaling ? 'AWSServiceRoleForAutoScaling' : 'AWSServiceRoleForConfig'}`);
  const sessionName = useAutoscaling ? 'AutoScaling' : 'AWSConfig-Describe';
  const hourKey = sessionKey(new Rng(`${world.seed}:svc:${role.arn}:${region}:${Math.floor(t0 / HOUR_MS)}`));
  const caller: Caller = {
    identity: assumedRoleIdentity(role, sessionName, hourKey, Math.floor(t0 / HOUR_MS) * HOUR_MS - 120_000, false, SERVICE_IP(service)),
    sourceIp: SERVICE_IP(service),
    userAgent: SERVICE_IP(service),
    viaService: true,
  };
  const n = useAutoscaling ? rng.int(1, 2) : rng.int(2, 6);
  let t = t0;
  for (let i = 0; i < n; i++) {
    const call: Call = useAutoscaling
      ? {
          service: 'ec2',
          name: rng.pick(['DescribeInstances', 'DescribeInstanceStatus']),
          readOnly: true,
          requestParameters: { instancesSet: {}, filterSet: {} },
        }
      : pickRead(rng, env);
    const spec = specFor(call, env, caller, t);
    if (spec) out.push(buildRecord(rng, spec));
    t += rng.int(0, 2) * 1000;
  }
}

const AVG_EVENTS = { human: 3.5, ci: 7, app: 2.5, service: 3 };

/** The random baseline activity of one stream in [windowStart, windowEnd). */
export function randomActivity(world: World, scale: number, stream: Stream, windowStart: number, windowEnd: number): PlannedRecord[] {
  const rates = streamRates(stream);
  const out: PlannedRecord[] = [];
  if (!rates) return out;
  const rng = new Rng(`${world.seed}:ct:${stream.account.id}:${stream.region}:${windowStart}`);
  const env: Env = { world, account: stream.account, region: stream.region };
  const hours = (windowEnd - windowStart) / HOUR_MS;
  const mid = (windowStart + windowEnd) / 2;
  const burstStart = (): number => windowStart + Math.floor(rng.next() * Math.max(1, windowEnd - windowStart - 90_000));

  // People: each person's share follows their office hours.
  const people = humansOf(world, stream.account.alias);
  let totalWeight = 0;
  for (const p of people) totalWeight += p.activity;
  for (const p of people) {
    const mean = ((rates.human * hours * scale * p.activity) / totalWeight / AVG_EVENTS.human) * humanWeight(p, mid) * 2.2;
    const n = rng.poisson(mean);
    for (let i = 0; i < n; i++) humanBurst(rng, env, p, burstStart(), out);
  }
  const h = hourOf(mid);
  const businessHours = !isWeekend(mid) && h >= 7 && h < 22;
  const ciMean = (rates.ci * hours * scale * (businessHours ? 1 : 0.15)) / AVG_EVENTS.ci;
  for (let i = rng.poisson(ciMean); i > 0; i--) ciJob(rng, env, burstStart(), out);
  const appMean = (rates.app * hours * scale * (0.75 + 0.25 * Math.sin(((h - 9) / 24) * 2 * Math.PI))) / AVG_EVENTS.app;
  for (let i = rng.poisson(appMean); i > 0; i--) appBurst(rng, env, burstStart(), out);
  const svcMean = (rates.service * hours * scale) / AVG_EVENTS.service;
  for (let i = rng.poisson(svcMean); i > 0; i--) serviceBurst(rng, env, burstStart(), out);
  return out.filter((r) => r.time >= windowStart && r.time < windowEnd);
}

// ---------------------------------------------------------------------------------------------
// Scheduled activity: on a clock, the same whichever stream asks.

const LAMBDA_UA =
  'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145';

export const SCANNER_LAMBDA_IP = '198.51.100.230';

/**
 * Everything scheduled in the hour starting at `hour` (all accounts and regions). Each caller
 * keeps what falls in its own stream and window.
 */
export function scheduledForHour(world: World, hour: number): PlannedRecord[] {
  const out: PlannedRecord[] = [];

  // EC2 refreshes instance-profile credentials: AssumeRole by the EC2 service.
  for (const instance of world.instances) {
    if (!instance.role) continue;
    const rng = new Rng(`${world.seed}:instance-assume:${instance.id}:${hour}`);
    const { key, issued } = instanceRotation(world, instance, hour);
    const shapes = assumeRoleShapes(instance.role, instance.id, key, issued, 6 * 3600);
    out.push(
      buildRecord(rng, {
        time: issued,
        account: instance.account,
        region: instance.region,
        service: 'sts',
        name: 'AssumeRole',
        caller: {
          identity: awsServiceIdentity('ec2.amazonaws.com'),
          sourceIp: 'ec2.amazonaws.com',
          userAgent: 'ec2.amazonaws.com',
          viaService: true,
        },
        readOnly: true,
        requestParameters: shapes.requestParameters,
        responseElements: shapes.responseElements,
        resources: shapes.resources,
      }),
    );
  }

  // The security account's scanner assumes the audit role in prod and dev, then reads.
  const scannerRole = mustRole(world, 'security/security-scanner-lambda-role');
  const scannerRng = new Rng(`${world.seed}:scanner:${hour}`);
  const scannerKey = sessionKey(scannerRng);
  const scannerStart = hour + 17 * 60_000 + scannerRng.int(0, 120) * 1000;
  const scannerCaller: Caller = {
    identity: assumedRoleIdentity(scannerRole, 'security-scanner', scannerKey, scannerStart - 2000, false),
    sourceIp: SCANNER_LAMBDA_IP,
    userAgent: LAMBDA_UA,
  };
  let t = scannerStart;
  for (const alias of ['prod', 'dev'] as AccountAlias[]) {
    const target = world.accounts[alias];
    const auditRole = mustRole(world, `${alias}/OrganizationAccountAuditRole`);
    const issued = sessionKey(scannerRng);
    const shapes = assumeRoleShapes(auditRole, 'security-scanner', issued, t, 900);
    const shared = scannerRng.uuid();
    for (const recipient of [world.accounts.security.id, target.id]) {
      out.push(
        buildRecord(scannerRng, {
          time: t,
          account: recipient,
          region: 'us-east-1',
          service: 'sts',
          name: 'AssumeRole',
          caller: scannerCaller,
          readOnly: true,
          requestParameters: shapes.requestParameters,
          responseElements: shapes.responseElements,
          resources: shapes.resources,
          sharedEventID: shared,
        }),
      );
    }
    const auditCaller: Caller = {
      identity: assumedRoleIdentity(auditRole, 'security-scanner', issued, t, false),
      sourceIp: SCANNER_LAMBDA_IP,
      userAgent: LAMBDA_UA,
    };
    let tt = t + 1000;
    for (const region of target.regions) {
      const env: Env = { world, account: target, region };
      for (let i = scannerRng.int(3, 6); i > 0; i--) {
        const call = pickRead(scannerRng, env);
        const spec = specFor(call, env, auditCaller, tt);
        if (spec) out.push(buildRecord(scannerRng, spec));
        tt += scannerRng.int(0, 2) * 1000;
      }
    }
    t = tt + 2000;
  }

  // AWS rotates each account's customer managed KMS key (an AwsServiceEvent, whose userIdentity
  // has no type) once, at 03:00 on the first day.
  if (hour === world.start.getTime() + 3 * HOUR_MS) {
    for (const account of Object.values(world.accounts)) {
      const rng = new Rng(`${world.seed}:kms-rotate:${account.id}`);
      const keyId = new Rng(`${world.seed}:kms:${account.id}:us-east-1`).uuid();
      const planned = buildRecord(rng, {
        time: hour + rng.int(0, 1800) * 1000,
        account: account.id,
        region: 'us-east-1',
        service: 'kms',
        name: 'RotateKey',
        caller: {
          identity: { accountId: account.id, invokedBy: 'kms.amazonaws.com' },
          sourceIp: 'kms.amazonaws.com',
          userAgent: 'kms.amazonaws.com',
          viaService: true,
        },
        readOnly: false,
        requestParameters: null,
        responseElements: null,
        resources: [{ accountId: account.id, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:${account.id}:key/${keyId}` }],
        eventType: 'AwsServiceEvent',
        eventVersion: '1.08',
      });
      const { requestID: _none, eventCategory, ...rest } = planned.record;
      void _none;
      planned.record = { ...rest, serviceEventDetails: { keyId }, eventCategory: eventCategory! };
      out.push(planned);
    }
  }

  // Morning console logins of people with IAM users (MFA, from the office).
  const day = dayStart(hour);
  for (const person of world.people) {
    for (const [alias, user] of Object.entries(person.iamUsers) as [AccountAlias, NonNullable<Person['iamUsers'][AccountAlias]>][]) {
      const login = consoleLoginTime(world, person, alias, day);
      if (login === undefined || login < hour || login >= hour + HOUR_MS) continue;
      const rng = new Rng(`${world.seed}:login-record:${person.name}:${alias}:${day}`);
      out.push(consoleLoginRecord(rng, world, user, person.office.ip, person.browser, login, true));
    }
  }
  return out;
}

export function consoleLoginRecord(
  rng: Rng,
  world: World,
  user: NonNullable<Person['iamUsers'][AccountAlias]>,
  ip: string,
  browser: string,
  time: number,
  success: boolean,
  mfa = success,
  eventID?: string,
): PlannedRecord {
  void world;
  const identity: JsonObject = success
    ? { type: 'IAMUser', principalId: user.principalId, arn: user.arn, accountId: user.account, userName: user.name }
    : { type: 'IAMUser', principalId: user.principalId, accountId: user.account, accessKeyId: '', userName: user.name };
  const additional: JsonObject = {
    LoginTo: 'https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_' + rng.hex(16),
    MobileVersion: 'No',
  };
  if (success && mfa && user.mfaSerial) additional.MFAIdentifier = user.mfaSerial;
  additional.MFAUsed = mfa ? 'Yes' : 'No';
  return buildRecord(rng, {
    time,
    account: user.account,
    region: 'us-east-1',
    service: 'signin',
    name: 'ConsoleLogin',
    caller: { identity, sourceIp: ip, userAgent: browser },
    readOnly: false,
    requestParameters: null,
    responseElements: { ConsoleLogin: success ? 'Success' : 'Failure' },
    additionalEventData: additional,
    eventType: 'AwsConsoleSignIn',
    ...(success ? {} : { errorMessage: 'Failed authentication' }),
    ...(eventID ? { eventID } : {}),
  });
}
