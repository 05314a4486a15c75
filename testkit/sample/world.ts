/**
 * The shared world every sample log source draws from: accounts, regions, people, credentials,
 * IP addresses, instances, buckets and the org trail. Names are fixed so stories read the same for
 * every seed; ids (principal ids, access keys, instance ids…) come from the seed.
 *
 * IP addresses are taken from the documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24), so the sample never names a real host. The country each address stands for is
 * written down here (and in stories.json) because no GeoIP database would know them.
 */
import { IAM_ID_ALPHABET, Rng } from './prng';

export type AccountAlias = 'prod' | 'dev' | 'security';

export interface Account {
  id: string;
  alias: AccountAlias;
  /** Regions where this account normally works. */
  regions: readonly string[];
}

export interface Office {
  name: string;
  ip: string;
  country: string;
}

export interface IamUser {
  account: string;
  name: string;
  arn: string;
  /** AIDA… unique id. */
  principalId: string;
  /** Long-term AKIA… access key, for users that use the API. */
  accessKeyId: string;
  mfaSerial?: string;
}

export interface Role {
  account: string;
  name: string;
  path: string;
  arn: string;
  /** AROA… unique id. */
  roleId: string;
}

export interface Person {
  name: string;
  email: string;
  office: Office;
  browser: string;
  /** Platform part of this person's AWS CLI user agent. */
  cliPlatform: string;
  /** IAM user per account (alias → user), for people who have one. */
  iamUsers: Partial<Record<AccountAlias, IamUser>>;
  /** IAM Identity Center permission-set role per account, for people who sign in through SSO. */
  ssoRoles: Partial<Record<AccountAlias, Role>>;
  /** Relative amount of work this person does. */
  activity: number;
}

export interface Instance {
  account: string;
  region: string;
  name: string;
  id: string;
  eniId: string;
  privateIp: string;
  publicIp?: string;
  vpcId: string;
  subnetId: string;
  securityGroupId: string;
  role?: Role;
}

export interface Bucket {
  account: string;
  region: string;
  name: string;
  arn: string;
  /** Object keys that baseline reads and writes touch. */
  keys: readonly string[];
}

export interface Trail {
  account: string;
  name: string;
  arn: string;
  homeRegion: string;
  bucket: string;
}

export interface World {
  seed: string;
  start: Date;
  days: number;
  accounts: Record<AccountAlias, Account>;
  /** Every region the sample writes CloudTrail files for (used ones plus the story's unused one). */
  regions: readonly string[];
  /** A region none of the accounts ever uses (story: calls from an unused region). */
  unusedRegion: string;
  offices: readonly Office[];
  people: readonly Person[];
  users: Record<string, IamUser>;
  roles: Record<string, Role>;
  instances: readonly Instance[];
  buckets: Record<string, Bucket>;
  orgTrail: Trail;
  devLocalTrail: Trail;
  /** NAT / runner egress addresses: alias of what they are → ip. */
  egress: Record<string, string>;
  /** Country each IP stands for (documentation addresses have no real location). */
  ipCountry: Record<string, string>;
  /** Everything outside the AWS accounts' CloudTrail and VPCs: web front ends, Entra ID, Azure, GCP. */
  estate: Estate;
}

/** The company's Microsoft Entra ID tenant, Azure subscription and the people's accounts in it. */
export interface AzureEstate {
  tenantId: string;
  domain: string;
  subscriptionId: string;
  resourceGroup: string;
  /** UPN (lower case) → directory object id, one per person. */
  userObjectIds: Record<string, string>;
  /** Enterprise application that signs people in to AWS with SAML. */
  awsApp: { appId: string; displayName: string };
  /** Virtual machines with their NIC MAC (as NSG flow logs write it) and their NSG. */
  vms: { name: string; privateIp: string; mac: string; nsg: string }[];
  /** An automation service principal that manages resources on a schedule. */
  automation: { appId: string; objectId: string; displayName: string };
}

export interface GcpEstate {
  projectId: string;
  projectNumber: string;
  /** Service accounts (email) used by workloads. */
  serviceAccounts: { email: string; uniqueId: string; keyId: string }[];
  region: string;
  buckets: string[];
}

export interface WebEstate {
  alb: { account: string; region: string; name: string; id: string; nodeIps: string[]; targetGroupArn: string; host: string };
  cloudfront: { account: string; distributionId: string; domain: string; alias: string; logPrefix: string };
  /** Buckets with server access logging, and the bucket that receives the logs. */
  accessLogged: string[];
  accessLogBucket: string;
  /** VPC whose Resolver queries are logged (the prod us-east-1 VPC). */
  resolverVpc: { account: string; region: string; vpcId: string; configId: string };
  /** SAML provider and role that Entra ID users federate into. */
  samlProviderArn: string;
  federatedRole: Role;
}

export interface Estate {
  azure: AzureEstate;
  gcp: GcpEstate;
  web: WebEstate;
}

export const ACCOUNT_IDS: Record<AccountAlias, string> = {
  prod: '418295730146',
  dev: '539104826377',
  security: '660712384915',
};

export const USED_REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const UNUSED_REGION = 'ap-southeast-3';

const OFFICES: Office[] = [
  { name: 'new-york-office', ip: '203.0.113.10', country: 'US' },
  { name: 'berlin-office', ip: '203.0.113.74', country: 'DE' },
  { name: 'corporate-vpn', ip: '198.51.100.23', country: 'US' },
];

const BROWSERS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
];

const CLI_PLATFORMS = [
  'os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython',
  'os/linux#6.8.0-48-generic md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython',
  'os/windows#10 md/arch#amd64 lang/python#3.12.6 md/pyimpl#CPython',
];

function iamId(rng: Rng, prefix: 'AIDA' | 'AROA' | 'AKIA' | 'ASIA'): string {
  return prefix + rng.chars(IAM_ID_ALPHABET, prefix === 'AKIA' || prefix === 'ASIA' ? 16 : 17);
}

/** A fresh temporary access key id (ASIA…). */
export function sessionKey(rng: Rng): string {
  return iamId(rng, 'ASIA');
}

export function parseStartDate(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error(`--start must be YYYY-MM-DD, got '${text}'`);
  const date = new Date(`${text}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) throw new Error(`--start is not a valid date: '${text}'`);
  return date;
}

export function buildWorld(seed: string, start: Date, days: number): World {
  const rng = new Rng(`world:${seed}`);
  const accounts: Record<AccountAlias, Account> = {
    prod: { id: ACCOUNT_IDS.prod, alias: 'prod', regions: USED_REGIONS },
    dev: { id: ACCOUNT_IDS.dev, alias: 'dev', regions: USED_REGIONS },
    security: { id: ACCOUNT_IDS.security, alias: 'security', regions: ['us-east-1'] },
  };

  const users: Record<string, IamUser> = {};
  const user = (alias: AccountAlias, name: string, mfa = false): IamUser => {
    const account = accounts[alias].id;
    const u: IamUser = {
      account,
      name,
      arn: `arn:aws:iam::${account}:user/${name}`,
      principalId: iamId(rng, 'AIDA'),
      accessKeyId: iamId(rng, 'AKIA'),
      ...(mfa ? { mfaSerial: `arn:aws:iam::${account}:mfa/${name}` } : {}),
    };
    users[`${alias}/${name}`] = u;
    return u;
  };

  const roles: Record<string, Role> = {};
  const role = (alias: AccountAlias, name: string, path = '/'): Role => {
    const account = accounts[alias].id;
    const r: Role = { account, name, path, arn: `arn:aws:iam::${account}:role${path}${name}`, roleId: iamId(rng, 'AROA') };
    roles[`${alias}/${name}`] = r;
    return r;
  };

  const ssoSuffix = (): string => rng.hex(16);
  const ssoPath = '/aws-reserved/sso.amazonaws.com/';
  const adminSets = {} as Record<AccountAlias, Role>;
  const powerSets = {} as Record<AccountAlias, Role>;
  const readSets = {} as Record<AccountAlias, Role>;
  for (const alias of ['prod', 'dev', 'security'] as AccountAlias[]) {
    adminSets[alias] = role(alias, `AWSReservedSSO_AdministratorAccess_${ssoSuffix()}`, ssoPath);
    powerSets[alias] = role(alias, `AWSReservedSSO_PowerUserAccess_${ssoSuffix()}`, ssoPath);
    readSets[alias] = role(alias, `AWSReservedSSO_ReadOnlyAccess_${ssoSuffix()}`, ssoPath);
  }

  const [nyc, berlin, vpn] = OFFICES as [Office, Office, Office];
  const person = (
    name: string,
    office: Office,
    iam: AccountAlias[],
    sso: Partial<Record<AccountAlias, Role>>,
    activity: number,
  ): Person => {
    const iamUsers: Partial<Record<AccountAlias, IamUser>> = {};
    for (const alias of iam) iamUsers[alias] = user(alias, name, true);
    return {
      name,
      email: `${name}@acme-corp.example`,
      office,
      browser: rng.pick(BROWSERS),
      cliPlatform: rng.pick(CLI_PLATFORMS),
      iamUsers,
      ssoRoles: sso,
      activity,
    };
  };
  const people: Person[] = [
    person('priya.nair', nyc, [], { prod: powerSets.prod, dev: adminSets.dev }, 3),
    person('dana.whitfield', nyc, ['prod'], { security: readSets.security }, 2),
    person('tom.becker', berlin, ['prod'], { dev: powerSets.dev }, 3),
    person('marco.silva', berlin, ['prod', 'dev'], {}, 2),
    person('lena.fischer', berlin, [], { security: adminSets.security, prod: readSets.prod, dev: readSets.dev }, 2),
    person('sam.okafor', vpn, [], { prod: readSets.prod, dev: readSets.dev }, 1),
    person('kenji.watanabe', nyc, ['dev'], { dev: powerSets.dev }, 2),
    person('ana.costa', vpn, [], { prod: adminSets.prod, security: adminSets.security }, 1),
  ];

  // Machine users and roles.
  user('prod', 'ci-deployer');
  user('dev', 'ci-deployer');
  user('prod', 'svc-reporting');
  user('prod', 'backup-admin');
  user('dev', 'jenkins-old');
  user('dev', 'legacy-admin');
  role('prod', 'ci-deploy-role');
  role('dev', 'ci-deploy-role');
  role('prod', 'DeployOps');
  role('prod', 'BreakGlassAdmin');
  role('prod', 'app-web-role');
  role('prod', 'app-worker-role');
  role('dev', 'app-web-role');
  role('prod', 'OrganizationAccountAuditRole');
  role('dev', 'OrganizationAccountAuditRole');
  role('security', 'security-scanner-lambda-role');
  for (const alias of ['prod', 'dev', 'security'] as AccountAlias[]) {
    role(alias, 'AWSServiceRoleForConfig', '/aws-service-role/config.amazonaws.com/');
    role(alias, 'AWSServiceRoleForAutoScaling', '/aws-service-role/autoscaling.amazonaws.com/');
  }

  const egress: Record<string, string> = {
    'ci-runner-1': '198.51.100.140',
    'ci-runner-2': '198.51.100.141',
    'prod-nat-us-east-1': '198.51.100.200',
    'prod-nat-eu-west-1': '198.51.100.201',
    'dev-nat-us-east-1': '198.51.100.210',
    'dev-nat-eu-west-1': '198.51.100.211',
  };

  const vpcs: Record<string, { vpcId: string; subnetId: string; cidrPrefix: string }> = {};
  const vpcFor = (alias: AccountAlias, region: string) => {
    const key = `${alias}/${region}`;
    vpcs[key] ??= {
      vpcId: `vpc-0${rng.hex(16)}`,
      subnetId: `subnet-0${rng.hex(16)}`,
      cidrPrefix: `10.${alias === 'prod' ? 10 : alias === 'dev' ? 20 : 30}.${region === 'us-east-1' ? 1 : 2}`,
    };
    return vpcs[key];
  };
  const instances: Instance[] = [];
  const instance = (alias: AccountAlias, region: string, name: string, roleKey?: string, publicIp?: string): void => {
    const vpc = vpcFor(alias, region);
    const r = roleKey ? roles[roleKey] : undefined;
    instances.push({
      account: accounts[alias].id,
      region,
      name,
      id: `i-0${rng.hex(16)}`,
      eniId: `eni-0${rng.hex(16)}`,
      privateIp: `${vpc.cidrPrefix}.${rng.int(10, 250)}`,
      ...(publicIp ? { publicIp } : {}),
      vpcId: vpc.vpcId,
      subnetId: vpc.subnetId,
      securityGroupId: `sg-0${rng.hex(16)}`,
      ...(r ? { role: r } : {}),
    });
  };
  instance('prod', 'us-east-1', 'web-1', 'prod/app-web-role');
  instance('prod', 'us-east-1', 'web-2', 'prod/app-web-role');
  instance('prod', 'us-east-1', 'worker-1', 'prod/app-worker-role');
  instance('prod', 'us-east-1', 'jump-host', undefined, '198.51.100.77');
  instance('prod', 'eu-west-1', 'web-eu-1', 'prod/app-web-role');
  instance('dev', 'us-east-1', 'dev-web-1', 'dev/app-web-role');
  instance('dev', 'eu-west-1', 'dev-sandbox', undefined);

  const buckets: Record<string, Bucket> = {};
  const bucket = (alias: AccountAlias, region: string, name: string, keys: string[]): void => {
    buckets[name] = { account: accounts[alias].id, region, name, arn: `arn:aws:s3:::${name}`, keys };
  };
  bucket('prod', 'us-east-1', 'acme-prod-assets', ['static/app.js', 'static/app.css', 'img/logo.png', 'img/hero.jpg']);
  bucket('prod', 'us-east-1', 'acme-prod-customer-exports', [
    'exports/2026/customers-full.csv.gz',
    'exports/2026/orders-q3.csv.gz',
    'exports/2026/invoices-q3.parquet',
    'exports/2026/support-tickets.json.gz',
  ]);
  bucket('prod', 'us-east-1', 'acme-prod-audit-archive', ['audit/2026/10/summary.json']);
  bucket('prod', 'us-east-1', 'acme-prod-artifacts', ['builds/web/app.tar.gz', 'builds/worker/worker.tar.gz', 'builds/manifest.json']);
  bucket('prod', 'eu-west-1', 'acme-prod-eu-assets', ['static/app.js', 'img/logo.png']);
  bucket('dev', 'us-east-1', 'acme-dev-artifacts', ['builds/web/app.tar.gz', 'builds/manifest.json']);
  bucket('dev', 'eu-west-1', 'acme-dev-scratch', ['tmp/test-data.csv', 'tmp/notes.txt']);

  const ipCountry: Record<string, string> = {};
  for (const o of OFFICES) ipCountry[o.ip] = o.country;
  for (const ip of Object.values(egress)) ipCountry[ip] = 'US';
  ipCountry[egress['prod-nat-eu-west-1']] = 'IE';
  ipCountry[egress['dev-nat-eu-west-1']] = 'IE';

  const trailAccount = accounts.security.id;
  const estate = buildEstate(seed, accounts, people, instances);
  roles[`prod/${estate.web.federatedRole.name}`] = estate.web.federatedRole;
  return {
    seed,
    start,
    days,
    accounts,
    regions: [...USED_REGIONS, UNUSED_REGION],
    unusedRegion: UNUSED_REGION,
    offices: OFFICES,
    people,
    users,
    roles,
    instances,
    buckets,
    orgTrail: {
      account: trailAccount,
      name: 'acme-org-trail',
      arn: `arn:aws:cloudtrail:us-east-1:${trailAccount}:trail/acme-org-trail`,
      homeRegion: 'us-east-1',
      bucket: 'acme-org-cloudtrail-logs',
    },
    devLocalTrail: {
      account: accounts.dev.id,
      name: 'dev-local-trail',
      arn: `arn:aws:cloudtrail:us-east-1:${accounts.dev.id}:trail/dev-local-trail`,
      homeRegion: 'us-east-1',
      bucket: 'acme-dev-local-trail-logs',
    },
    egress,
    ipCountry,
    estate,
  };
}

/**
 * The estate beyond CloudTrail and VPC flow logs. Drawn from its own generator so adding it did
 * not change any id the older sources write.
 */
function buildEstate(
  seed: string,
  accounts: Record<AccountAlias, Account>,
  people: readonly Person[],
  instances: readonly Instance[],
): Estate {
  const rng = new Rng(`estate:${seed}`);
  const upper = (n: number): string => rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', n);
  const userObjectIds: Record<string, string> = {};
  for (const p of people) userObjectIds[p.email.toLowerCase()] = rng.uuid();
  const mac = (): string => `000D3A${rng.chars('0123456789ABCDEF', 6)}`;
  const prod = accounts.prod.id;
  const web1 = instances.find((i) => i.name === 'web-1')!;
  const albId = rng.hex(16);
  return {
    azure: {
      tenantId: rng.uuid(),
      domain: 'acme-corp.example',
      subscriptionId: rng.uuid(),
      resourceGroup: 'RG-ANALYTICS-PROD',
      userObjectIds,
      awsApp: { appId: rng.uuid(), displayName: 'AWS Single-Account Access' },
      vms: [
        { name: 'vm-reporting-01', privateIp: '10.40.1.4', mac: mac(), nsg: 'VM-REPORTING-01-NSG' },
        { name: 'vm-bastion-01', privateIp: '10.40.2.4', mac: mac(), nsg: 'VM-BASTION-01-NSG' },
      ],
      automation: { appId: rng.uuid(), objectId: rng.uuid(), displayName: 'acme-nightly-automation' },
    },
    gcp: {
      projectId: 'acme-analytics-prod',
      projectNumber: String(rng.int(100_000_000, 999_999_999)) + String(rng.int(100, 999)),
      serviceAccounts: ['etl-runner', 'dashboards'].map((name) => ({
        email: `${name}@acme-analytics-prod.iam.gserviceaccount.com`,
        uniqueId: String(rng.int(100_000_000, 999_999_999)) + String(rng.int(100_000_000, 999_999_999)) + String(rng.int(100, 999)),
        keyId: rng.hex(40),
      })),
      region: 'europe-west1',
      buckets: ['acme-analytics-raw', 'acme-analytics-reports'],
    },
    web: {
      alb: {
        account: prod,
        region: 'us-east-1',
        name: 'acme-web-prod',
        id: albId,
        // Load balancer nodes in the VPC: the addresses the web instances see connections from.
        nodeIps: [5, 6].map((n) => `${web1.privateIp.split('.').slice(0, 3).join('.')}.${n}`),
        targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:${prod}:targetgroup/acme-web-tg/${rng.hex(16)}`,
        host: 'app.acme-corp.example',
      },
      cloudfront: {
        account: prod,
        distributionId: `E${upper(13)}`,
        domain: `d${rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 13)}.cloudfront.net`,
        alias: 'www.acme-corp.example',
        logPrefix: `AWSLogs/${prod}/CloudFront/`,
      },
      accessLogged: ['acme-prod-customer-exports', 'acme-prod-assets'],
      accessLogBucket: 'acme-prod-s3-access-logs',
      resolverVpc: { account: prod, region: 'us-east-1', vpcId: web1.vpcId, configId: `rqlc-${rng.hex(16)}` },
      samlProviderArn: `arn:aws:iam::${prod}:saml-provider/AzureAD`,
      federatedRole: {
        account: prod,
        name: 'AzureAD-Engineers',
        path: '/',
        arn: `arn:aws:iam::${prod}:role/AzureAD-Engineers`,
        roleId: 'AROA' + rng.chars(IAM_ID_ALPHABET, 17),
      },
    },
  };
}

export function accountAlias(world: World, accountId: string): AccountAlias {
  for (const a of Object.values(world.accounts)) if (a.id === accountId) return a.alias;
  throw new Error(`unknown account ${accountId}`);
}

export function mustUser(world: World, key: string): IamUser {
  const u = world.users[key];
  if (!u) throw new Error(`sample world has no user ${key}`);
  return u;
}

export function mustRole(world: World, key: string): Role {
  const r = world.roles[key];
  if (!r) throw new Error(`sample world has no role ${key}`);
  return r;
}

export function mustInstance(world: World, name: string): Instance {
  const i = world.instances.find((x) => x.name === name);
  if (!i) throw new Error(`sample world has no instance ${name}`);
  return i;
}
