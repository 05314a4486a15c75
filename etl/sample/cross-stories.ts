/**
 * Stories that cross sources: each is planned here once and handed to every writer that should
 * show it (CloudTrail records, flow records, and the lines of the other sources), and written
 * down in stories.json with the ids the lake will hold for each source. Also the baseline of
 * Entra ID → AWS federation, which must agree between the Entra sign-in logs and CloudTrail.
 */
import { albLine, loadBalancerArn, type AlbLine } from './alb';
import { MINUTE, Teller, anchor, type PlannedFlow } from './attacks';
import { auditLine, placeOf, signInLine, OFFICE, type AzureLine } from './azuread';
import { HOUR, instanceCredentials } from './cloudtrail-baseline';
import {
  assumedRoleArn,
  assumedRoleIdentity,
  cloudTrailStsExpiration,
  isoSeconds,
  s3AdditionalData,
  s3ObjectResources,
  type Caller,
  type JsonObject,
  type PlannedRecord,
} from './cloudtrail-records';
import { gcpLine, gcsObjectCall, type GcpLine } from './gcpaudit';
import { DAY_MS } from './output';
import { Rng } from './prng';
import { resolverLine, type ResolverLine } from './route53resolver';
import { accessLogLine } from './s3access';
import type { Story } from './stories';
import { mustInstance, sessionKey, type Person, type World } from './world';

/** What the cross-source stories and the federation baseline add to each source. */
export interface EstatePlan {
  stories: Story[];
  records: PlannedRecord[];
  flows: PlannedFlow[];
  azuread: AzureLine[];
  alb: AlbLine[];
  resolver: ResolverLine[];
  gcp: GcpLine[];
}

const FEDERATED_PEOPLE = ['kenji.watanabe', 'sam.okafor'];

function person(world: World, name: string): Person {
  const p = world.people.find((x) => x.name === name);
  if (!p) throw new Error(`sample world has no person ${name}`);
  return p;
}

function samlIssuer(world: World): string {
  return `https://sts.windows.net/${world.estate.azure.tenantId}/`;
}

/** The NameQualifier AWS derives from the issuer, account and provider name (a stable hash, base64). */
function nameQualifier(world: World): string {
  return Buffer.from(new Rng(`${world.seed}:namequalifier:${world.estate.web.samlProviderArn}`).hex(40), 'hex').toString('base64');
}

/** AssumeRoleWithSAML as CloudTrail logs it, issuing `key` to the SAML subject `upn`. */
function assumeRoleWithSaml(world: World, rng: Rng, time: number, upn: string, ip: string, userAgent: string, key: string): PlannedRecord {
  const role = world.estate.web.federatedRole;
  const qualifier = nameQualifier(world);
  const caller: Caller = {
    identity: { type: 'SAMLUser', principalId: `${qualifier}:${upn}`, userName: upn, identityProvider: qualifier },
    sourceIp: ip,
    userAgent,
  };
  const record: JsonObject = {
    eventVersion: '1.08',
    userIdentity: caller.identity,
    eventTime: isoSeconds(time),
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoleWithSAML',
    awsRegion: 'us-east-1',
    sourceIPAddress: ip,
    userAgent,
    requestParameters: {
      sAMLAssertionID: `_${rng.uuid()}`,
      roleSessionName: upn,
      durationSeconds: 3600,
      roleArn: role.arn,
      principalArn: world.estate.web.samlProviderArn,
    },
    responseElements: {
      subjectType: 'persistent',
      issuer: samlIssuer(world),
      credentials: {
        accessKeyId: key,
        sessionToken: 'IQoJb3JpZ2luX2VjE' + key.slice(4) + '//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
        expiration: cloudTrailStsExpiration(new Date(time + 3600_000)),
      },
      nameQualifier: qualifier,
      assumedRoleUser: { assumedRoleId: `${role.roleId}:${upn}`, arn: assumedRoleArn(role, upn) },
      subject: upn,
      audience: 'https://signin.aws.amazon.com/saml',
    },
    resources: [
      { accountId: role.account, type: 'AWS::IAM::Role', ARN: role.arn },
      { accountId: role.account, type: 'AWS::IAM::SAMLProvider', ARN: world.estate.web.samlProviderArn },
    ],
    requestID: rng.uuid(),
    eventID: rng.uuid(),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: role.account,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'sts.amazonaws.com' },
  };
  return { time, account: role.account, region: 'us-east-1', record };
}

/** People who reach AWS through Entra ID: an Entra SAML sign-in, then AssumeRoleWithSAML, then a few reads. */
function federationBaseline(world: World, teller: Teller, azure: AzureLine[]): void {
  const app = world.estate.azure.awsApp;
  const role = world.estate.web.federatedRole;
  for (let day = 0; day < world.days; day++) {
    const dayStart = world.start.getTime() + day * DAY_MS;
    const dow = new Date(dayStart).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    for (const name of FEDERATED_PEOPLE) {
      const p = person(world, name);
      const rng = new Rng(`${world.seed}:federation:${name}:${dayStart}`);
      let t = dayStart + (p.office.name === 'berlin-office' ? 8 : 14) * HOUR + rng.int(0, 90) * MINUTE;
      azure.push(
        signInLine(world, rng, {
          time: t,
          person: p,
          ip: p.office.ip,
          place: placeOf(p.office.country),
          userAgent: p.browser,
          app,
          errorCode: 0,
          mfa: true,
          saml: true,
        }),
      );
      t += rng.int(2, 6) * 1000;
      const key = sessionKey(rng);
      teller.records.push(assumeRoleWithSaml(world, rng, t, p.email, p.office.ip, p.browser, key));
      const caller: Caller = {
        identity: assumedRoleIdentity(role, p.email, key, t, true),
        sourceIp: p.office.ip,
        userAgent: p.browser,
        console: true,
      };
      for (const [service, callName, params] of [
        ['ec2', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
        ['cloudwatch', 'DescribeAlarms', { maxRecords: 100 }],
        ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }],
      ] as const) {
        t += rng.int(20, 300) * 1000;
        teller.call(
          {
            time: t,
            account: role.account,
            region: 'us-east-1',
            service,
            name: callName,
            caller,
            readOnly: true,
            requestParameters: params,
          },
          role.arn,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

function entraToAws(world: World, rng: Rng, azure: AzureLine[]): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
  const az = world.estate.azure;
  const victim = person(world, 'kenji.watanabe');
  const upn = victim.email;
  const role = world.estate.web.federatedRole;
  const ip = '192.0.2.91';
  const country = 'NG';
  const place = placeOf(country);
  const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const note = (line: AzureLine, action: string, outcome: 'success' | 'failure', errorCode?: string): void => {
    azure.push(line);
    t.note({
      source: 'azuread',
      time: isoSeconds(line.time),
      account: az.tenantId,
      region: 'global',
      action,
      outcome,
      eventId: line.eventId,
      actor: `azuread:${upn}`,
      ip,
      ...(errorCode ? { errorCode } : {}),
    });
  };
  let time = anchor(world, rng, 0.35, 3, 5);
  const failures = 45;
  for (let i = 0; i < failures; i++) {
    note(
      signInLine(world, rng, { time, person: victim, ip, place, userAgent: browser, app: OFFICE, errorCode: 50126, mfa: false }),
      'Sign-in activity',
      'failure',
      '50126',
    );
    time += rng.int(8, 25) * 1000;
  }
  time += rng.int(3, 9) * MINUTE;
  const success = signInLine(world, rng, { time, person: victim, ip, place, userAgent: browser, app: OFFICE, errorCode: 0, mfa: false });
  note(success, 'Sign-in activity', 'success');
  time += rng.int(2, 5) * MINUTE;
  note(
    auditLine(world, rng, {
      time,
      activity: 'User registered security info',
      category: 'UserManagement',
      operationType: 'Add',
      initiatedBy: { upn, ip },
      target: { id: az.userObjectIds[upn], displayName: victim.name, type: 'User', userPrincipalName: upn },
    }),
    'User registered security info',
    'success',
  );
  time += rng.int(1, 4) * MINUTE;
  const awsSignIn = signInLine(world, rng, {
    time,
    person: victim,
    ip,
    place,
    userAgent: browser,
    app: az.awsApp,
    errorCode: 0,
    mfa: false,
    saml: true,
  });
  note(awsSignIn, 'Sign-in activity', 'success');
  time += rng.int(2, 6) * 1000;
  const key = sessionKey(rng);
  const assume = t.add(assumeRoleWithSaml(world, rng, time, upn, ip, browser, key), `saml:${upn}`);
  const caller: Caller = { identity: assumedRoleIdentity(role, upn, key, time, false), sourceIp: ip, userAgent: browser, console: true };
  const followUps: [string, string, JsonObject | null][] = [
    ['sts', 'GetCallerIdentity', null],
    ['iam', 'ListRoles', null],
    ['s3', 'ListBuckets', { Host: 's3.amazonaws.com' }],
    ['secretsmanager', 'ListSecrets', null],
    ['secretsmanager', 'GetSecretValue', { secretId: 'prod/app/db-credentials' }],
    ['ec2', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
  ];
  const followIds: string[] = [];
  for (const [service, name, params] of followUps) {
    time += rng.int(15, 90) * 1000;
    followIds.push(
      t.call(
        { time, account: role.account, region: 'us-east-1', service, name, caller, readOnly: true, requestParameters: params },
        role.arn,
      ).record.eventID as string,
    );
  }
  const story = t.story(
    'entra-brute-force-aws-federation',
    {
      title: 'Entra ID password brute force, then the victim’s federated AWS session',
      technique: 'T1110.001',
      summary: `${failures} failed Entra ID sign-ins (50126) for ${upn} from ${ip}, then a single-factor success from the same address in ${country}, a new security-info registration, a SAML sign-in to the AWS app and AssumeRoleWithSAML into ${role.name} (session named after the UPN), followed by secret reads.`,
      account: role.account,
      region: 'us-east-1',
      actors: [`azuread:${upn}`, `saml:${upn}`, role.arn],
      resources: [role.arn, world.estate.web.samlProviderArn],
    },
    { [ip]: country },
    {
      upn,
      actors: { azuread: `azuread:${upn}`, saml: `saml:${upn}`, role: role.arn },
      tenantId: az.tenantId,
      attackerIp: ip,
      attackerCountry: country,
      usualCountries: [victim.office.country],
      failedSignIns: failures,
      failedErrorCode: '50126',
      successSignInId: success.eventId,
      awsAppSignInId: awsSignIn.eventId,
      assumeRoleWithSamlEventId: assume.record.eventID as string,
      roleArn: role.arn,
      sessionKey: key,
      followUpEventNames: followUps.map((f) => f[1]),
      followUpEventIds: followIds,
    },
  );
  return { story, teller: t };
}

const BAD_DOMAIN = 'cdn-sync.update-telemetry.example';
const EXFIL_IP = '192.0.2.95';

function exfiltration(world: World, rng: Rng, resolver: ResolverLine[]): { stories: Story[]; tellers: Teller[] } {
  const t = new Teller(rng, world);
  const dnsTeller = new Teller(rng, world);
  const instance = mustInstance(world, 'worker-1');
  const role = instance.role!;
  const bucket = world.buckets['acme-prod-customer-exports'];
  const natIp = world.egress['prod-nat-us-east-1'];
  let time = anchor(world, rng, 0.6, 2, 20);

  // The implant resolves its drop host first, and again while it sends.
  const queryIds: string[] = [];
  const query = (at: number): void => {
    const line = resolverLine(world, rng, {
      time: at,
      instance,
      name: BAD_DOMAIN,
      type: 'A',
      rcode: 'NOERROR',
      answers: [{ Rdata: EXFIL_IP, Type: 'A', Class: 'IN' }],
    });
    resolver.push(line);
    queryIds.push(line.eventId);
    dnsTeller.note({
      source: 'route53resolver',
      time: isoSeconds(at),
      account: instance.account,
      region: instance.region,
      action: 'Query',
      outcome: 'success',
      eventId: line.eventId,
      ip: instance.privateIp,
    });
  };
  const firstQuery = time;
  query(time);

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
  query(time);
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
    t.flows.push(out);
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
    t.flows.push({
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
  query(minute * 1000 + rng.int(5, 50) * 1000);

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
  const dns = dnsTeller.story(
    'malicious-domain-lookup',
    {
      title: 'An instance resolves a known-bad domain around the exfiltration',
      technique: 'T1071.004',
      summary: `${instance.name} (${instance.id}) asks the VPC resolver for ${BAD_DOMAIN}, a domain on the threat list, which answers ${EXFIL_IP}, the address the instance then sends the exports to.`,
      account: instance.account,
      region: instance.region,
      actors: [],
      resources: [`arn:aws:ec2:${instance.region}:${instance.account}:instance/${instance.id}`],
    },
    {},
    {
      instanceId: instance.id,
      vpcId: instance.vpcId,
      domain: BAD_DOMAIN,
      resolvedIp: EXFIL_IP,
      queries: queryIds.length,
      queryEventIds: queryIds,
      firstQuery: isoSeconds(firstQuery),
    },
  );
  return { stories: [exfil, dns], tellers: [t, dnsTeller] };
}

function gcpKey(world: World, rng: Rng, gcp: GcpLine[]): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
  const project = world.estate.gcp;
  const sa = project.serviceAccounts[0];
  const ip = '192.0.2.91';
  const keyName = `//iam.googleapis.com/projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${sa.keyId}`;
  const ua =
    'google-cloud-sdk gcloud/489.0.0 command/gcloud.storage.cp invocation-id/' +
    rng.hex(32) +
    ' environment/None environment-version/None client-os/LINUX client-os-ver/6.6.9 client-pltf-arch/x86_64 interactive/True from-script/False python/3.11.8 term/xterm-256color (Linux 6.6.9-amd64),gzip(gfe)';
  let time = anchor(world, rng, 0.36, 4, 0);
  const push = (line: GcpLine, method: string): void => {
    gcp.push(line);
    t.note({
      source: 'gcpaudit',
      time: isoSeconds(line.time),
      account: project.projectId,
      region: project.region,
      action: method,
      outcome: 'success',
      eventId: line.insertId,
      actor: `gcp:${sa.email}`,
      ip,
    });
  };
  const methods: string[] = [];
  const call = (c: Parameters<typeof gcpLine>[2]): void => {
    push(gcpLine(world, rng, c), c.method);
    methods.push(c.method);
  };
  call({ ...gcsObjectCall(world, time, sa.email, ip, ua, 'storage.objects.list', project.buckets[1], undefined, keyName) });
  for (const object of [
    'reports/daily-revenue.parquet',
    'reports/churn.parquet',
    'reports/customers-ltv.parquet',
    'exports/all-customers.csv.gz',
  ]) {
    time += rng.int(5, 40) * 1000;
    call(gcsObjectCall(world, time, sa.email, ip, ua, 'storage.objects.get', project.buckets[1], object, keyName));
  }
  time += rng.int(1, 5) * MINUTE;
  const newKey = rng.hex(40);
  call({
    time,
    log: 'activity',
    principal: sa.email,
    keyName,
    ip,
    userAgent: ua.replace('gcloud.storage.cp', 'gcloud.iam.service-accounts.keys.create'),
    service: 'iam.googleapis.com',
    method: 'google.iam.admin.v1.CreateServiceAccountKey',
    resourceName: `projects/-/serviceAccounts/${sa.uniqueId}`,
    permission: 'iam.serviceAccountKeys.create',
    resource: { type: 'service_account', labels: { project_id: project.projectId, email_id: sa.email, unique_id: sa.uniqueId } },
    request: {
      '@type': 'type.googleapis.com/google.iam.admin.v1.CreateServiceAccountKeyRequest',
      name: `projects/-/serviceAccounts/${sa.email}`,
      private_key_type: 2,
    },
    response: {
      '@type': 'type.googleapis.com/google.iam.admin.v1.ServiceAccountKey',
      name: `projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${newKey}`,
      key_algorithm: 2,
      key_origin: 2,
      key_type: 1,
    },
  });
  const story = t.story(
    'gcp-key-from-attacker',
    {
      title: 'A GCP service account key is used from the Entra attacker’s address',
      technique: 'T1078.004',
      summary: `The key ${sa.keyId.slice(0, 8)}… of ${sa.email}, normally used only inside Google Cloud, lists and downloads report objects from ${ip} (the address behind the Entra ID brute force) and then creates a second key for the service account.`,
      account: project.projectId,
      region: project.region,
      actors: [`gcp:${sa.email}`],
      resources: [
        `//iam.googleapis.com/projects/-/serviceAccounts/${sa.uniqueId}`,
        `//storage.googleapis.com/projects/_/buckets/${project.buckets[1]}`,
      ],
    },
    { [ip]: 'NG' },
    {
      serviceAccount: sa.email,
      actor: `gcp:${sa.email}`,
      keyName,
      projectId: project.projectId,
      attackerIp: ip,
      methods,
      insertIds: t.steps.map((s) => s.eventId!),
      createdKeyName: `projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${newKey}`,
    },
  );
  return { story, teller: t };
}

const SCANNER_PATHS = [
  '/.env',
  '/.git/config',
  '/wp-login.php',
  '/wp-admin/',
  '/admin',
  '/phpmyadmin/',
  '/actuator/env',
  '/actuator/heapdump',
  '/server-status',
  '/config.json',
  '/backup.zip',
  '/.aws/credentials',
  '/api/v1/search?q=1%27%20OR%201=1--',
  '/cgi-bin/luci',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/.DS_Store',
  '/debug/pprof/',
  '/login',
  '/api/v1/account',
];

function albScanner(world: World, rng: Rng, alb: AlbLine[]): { story: Story; teller: Teller } {
  const t = new Teller(rng, world);
  const ip = '192.0.2.99';
  const agents = [
    'Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))',
    'sqlmap/1.8.2#stable (https://sqlmap.org)',
  ];
  let time = anchor(world, rng, 0.5, 5, 10);
  let notFound = 0;
  const paths: string[] = [];
  for (let round = 0; round < 3; round++) {
    const ua = round < 2 ? agents[0] : agents[1];
    for (const path of round < 2 ? SCANNER_PATHS : SCANNER_PATHS.filter((p) => p.startsWith('/api') || p === '/login')) {
      const known = path === '/login' || path.startsWith('/api/v1/');
      const status = known ? (path.includes('account') ? 401 : 200) : path === '/admin' ? 403 : 404;
      const line = albLine(world, rng, { time, clientIp: ip, method: 'GET', path, status, userAgent: ua, node: round % 2 });
      alb.push(line);
      if (status === 404) notFound++;
      if (!paths.includes(path)) paths.push(path);
      t.note({
        source: 'alb',
        time: isoSeconds(time),
        account: world.estate.web.alb.account,
        region: world.estate.web.alb.region,
        action: 'GET',
        outcome: status < 400 ? 'success' : 'failure',
        eventId: line.eventId,
        ip,
      });
      time += rng.int(150, 2500);
    }
    time += rng.int(1, 6) * MINUTE;
  }
  const requests = t.steps.length;
  const story = t.story(
    'alb-scanner',
    {
      title: 'A vulnerability scanner sweeps the public web application',
      technique: 'T1595.002',
      summary: `${ip} requests ${paths.length} well-known sensitive paths (/.env, /.git/config, actuator, phpunit…) from the ALB with Nuclei and then sqlmap user agents; most answers are 404.`,
      account: world.estate.web.alb.account,
      region: world.estate.web.alb.region,
      actors: [],
      resources: [loadBalancerArn(world)],
    },
    { [ip]: 'CN' },
    { ip, userAgents: agents, requests, notFound, paths, loadBalancerArn: loadBalancerArn(world) },
  );
  return { story, teller: t };
}

/** Plans the cross-source stories and the federation baseline. */
export function planEstate(world: World): EstatePlan {
  const root = `${world.seed}:estate-story:`;
  const azure: AzureLine[] = [];
  const alb: AlbLine[] = [];
  const resolver: ResolverLine[] = [];
  const gcp: GcpLine[] = [];
  const baseline = new Teller(new Rng(root + 'federation'), world);
  federationBaseline(world, baseline, azure);
  const entra = entraToAws(world, new Rng(root + 'entra-brute-force-aws-federation'), azure);
  const exfil = exfiltration(world, new Rng(root + 's3-exfiltration'), resolver);
  const key = gcpKey(world, new Rng(root + 'gcp-key-from-attacker'), gcp);
  const scan = albScanner(world, new Rng(root + 'alb-scanner'), alb);
  const tellers = [baseline, entra.teller, ...exfil.tellers, key.teller, scan.teller];
  const byTime = <T extends { time: number }>(xs: T[]): T[] => xs.sort((a, b) => a.time - b.time);
  return {
    stories: [entra.story, ...exfil.stories, key.story, scan.story],
    records: byTime(tellers.flatMap((x) => x.records)),
    flows: tellers.flatMap((x) => x.flows).sort((a, b) => a.start - b.start),
    azuread: byTime(azure),
    alb: byTime(alb),
    resolver: byTime(resolver),
    gcp: byTime(gcp),
  };
}
