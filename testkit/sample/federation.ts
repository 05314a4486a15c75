/**
 * The Entra ID → AWS federation baseline: people who reach AWS through Entra ID sign in to the AWS
 * app (an Entra SAML sign-in), call AssumeRoleWithSAML and read a little, every weekday. The two
 * logs must agree, so it is planned once for both, like a story, but tells none. Also the SAML
 * helpers the Entra brute-force story uses.
 */
import { entraLines, signInLine, placeOf } from '../../etl/sources/azuread/sample';
import {
  assumedRoleArn,
  assumedRoleIdentity,
  cloudTrailStsExpiration,
  isoSeconds,
  type Caller,
  type JsonObject,
  type PlannedRecord,
} from '../../etl/sources/cloudtrail/sample-records';
import { DAY_MS, HOUR_MS } from './output';
import type { SamplePlan } from './plan';
import { Rng } from './prng';
import { MINUTE, Teller } from './teller';
import { sessionKey, type Person, type World } from './world';

const FEDERATED_PEOPLE = ['kenji.watanabe', 'sam.okafor'];

export function person(world: World, name: string): Person {
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
export function assumeRoleWithSaml(
  world: World,
  rng: Rng,
  time: number,
  upn: string,
  ip: string,
  userAgent: string,
  key: string,
): PlannedRecord {
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
function federationBaseline(teller: Teller): void {
  const { world } = teller;
  const app = world.estate.azure.awsApp;
  const role = world.estate.web.federatedRole;
  for (let day = 0; day < world.days; day++) {
    const dayStart = world.start.getTime() + day * DAY_MS;
    const dow = new Date(dayStart).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    for (const name of FEDERATED_PEOPLE) {
      const p = person(world, name);
      const rng = new Rng(`${world.seed}:federation:${name}:${dayStart}`);
      let t = dayStart + (p.office.name === 'berlin-office' ? 8 : 14) * HOUR_MS + rng.int(0, 90) * MINUTE;
      teller.emit(
        entraLines,
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
      teller.record(assumeRoleWithSaml(world, rng, t, p.email, p.office.ip, p.browser, key));
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

/** Plans the federation baseline from its own random stream (`<seed>:estate-story:federation`). */
export function entraFederationBaseline(world: World, plan: SamplePlan): void {
  federationBaseline(new Teller(new Rng(`${world.seed}:estate-story:federation`), world, plan));
}
