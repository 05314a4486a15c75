/**
 * entra-brute-force-aws-federation (T1110.001): 45 failed Entra sign-ins (50126) for kenji.watanabe from one Nigerian address, a single-factor success from it, a security-info registration, a SAML sign-in to the AWS app, then AssumeRoleWithSAML (SAML subject and session name = the UPN) from the same address and that session's calls.
 */
import { auditLine, placeOf, signInLine, OFFICE, type AzureLine, entraLines } from '../../../etl/sources/azuread/sample';
import { assumedRoleIdentity, isoSeconds, type Caller, type JsonObject } from '../../../etl/sources/cloudtrail/sample-records';
import { assumeRoleWithSaml, person } from '../federation';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { sessionKey } from '../world';

export interface Expect {
  upn: string;
  /** The same person in each source: Entra ID, the SAML subject in CloudTrail, the federated role. */
  actors: { azuread: string; saml: string; role: string };
  tenantId: string;
  attackerIp: string;
  attackerCountry: string;
  /** Countries the user normally signs in from. */
  usualCountries: string[];
  failedSignIns: number;
  failedErrorCode: string;
  /** Entra sign-in ids: the successful password sign-in, then the sign-in to the AWS app. */
  successSignInId: string;
  awsAppSignInId: string;
  assumeRoleWithSamlEventId: string;
  roleArn: string;
  sessionKey: string;
  followUpEventNames: string[];
  followUpEventIds: string[];
}

/** Plans the story from its own random stream (`<seed>:estate-story:entra-brute-force-aws-federation`). */
export const plan = storyPlanner('entra-brute-force-aws-federation', 'estate-story', tell);

function tell(t: Teller): Story<'entra-brute-force-aws-federation'> {
  const { world, rng } = t;
  const az = world.estate.azure;
  const victim = person(world, 'kenji.watanabe');
  const upn = victim.email;
  const role = world.estate.web.federatedRole;
  const ip = '192.0.2.91';
  const country = 'NG';
  const place = placeOf(country);
  const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const note = (line: AzureLine, action: string, outcome: 'success' | 'failure', errorCode?: string): void => {
    t.emit(entraLines, line);
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
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = [
  'azure/signinlogs/entra_brute_force.yml',
  'azure/signinlogs/entra_failures_burst_then_success.yml',
  'azure/signinlogs/entra_failures_then_success.yml',
];
