/**
 * CloudTrail source. Golden samples in etl/sources/cloudtrail/golden/ are records from AWS documentation
 * (CloudTrail, IAM, IAM Identity Center, Transfer Family, CodeBuild, Mainframe Modernization
 * guides, EventBridge examples); cloudtrail-lake-export.jsonl also holds two public captures and
 * one anonymous S3 record built on the documented data-event shape; resource-events.json holds the key
 * calls of real attacks (secrets, SSM, snapshots, AMIs, Lambda, flow logs, Resolver logging, remote
 * access, Roles Anywhere, Bedrock) in the field layouts the service guides and Stratus Red Team's
 * recorded detonations show, with example accounts and addresses; bad-*.json* are damaged on purpose.
 * The export and pipeline shapes (lookup-events.json, event-history-download.csv, logstash-export.jsonl,
 * elasticsearch-hits.json, filebeat-ecs.jsonl, splunk-export.json, cloudwatch-logs-*) wrap the AWS CLI
 * reference's lookup-events record and IAM / EC2 user guide records as each tool writes them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { awsActor } from '../../etl/fields/aws-identity';
import { source as cloudtrail } from '../../etl/sources/cloudtrail/parser';
import { sourceById } from '../../etl/sources';
import type { ParsedItem } from '../../etl/sources/types';
import type { TableRow } from '../../src/core/tables';
import { columnNames } from '../../src/core/tables';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(cloudtrail);
const sample = (name: string) => parseFile(cloudtrail, join(dir, name));

function rowsOf(items: ParsedItem[], table: TableRow['table']): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.filter((r) => r.table === table).map((r) => r.row) : []));
}
const apiRows = (items: ParsedItem[]) => rowsOf(items, 'api_activity');
const authRows = (items: ParsedItem[]) => rowsOf(items, 'authentication');
const byActivity = (rows: Row[], activity: string) => rows.filter((r) => r['activity'] === activity);

async function parseText(text: string): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of cloudtrail.parse(Readable.from([Buffer.from(text)]), { key: 'inline.json' })) items.push(item);
  return items;
}

describe('cloudtrail registration', () => {
  test('is registered under its id and writes api_activity and authentication', () => {
    expect(sourceById('cloudtrail')).toBe(cloudtrail);
    expect(cloudtrail.tables).toEqual(['api_activity', 'authentication']);
  });

  test('rows use only columns of their table plus the account and region partitions', async () => {
    const items = [...(await sample('console-sign-in.json')), ...(await sample('sts-assume-role.json'))];
    for (const item of items) {
      if (item.kind !== 'rows') continue;
      for (const { table, row } of item.rows) {
        if (table === 'findings') throw new Error('CloudTrail yields no findings');
        const allowed = new Set([...columnNames(table), 'account', 'region']);
        expect(Object.keys(row).filter((k) => !allowed.has(k))).toEqual([]);
        expect(row['time']).toBeInstanceOf(Date);
        expect(typeof row['account']).toBe('string');
        expect(typeof row['region']).toBe('string');
      }
    }
  });
});

describe('cloudtrail detect', () => {
  const head = (name: string) => readFileSync(join(dir, name), 'utf8').slice(0, 65536);

  test('a trail log file is certain', () => {
    expect(cloudtrail.detect({ key: 'x/log.json', head: head('log-file-examples.json') })).toEqual({ confidence: 1 });
  });

  test('JSON lines and EventBridge events are recognised by content', () => {
    const lines = cloudtrail.detect({ key: 'export/part-0001.jsonl', head: head('cloudtrail-lake-export.jsonl') });
    const bridge = cloudtrail.detect({ key: 'firehose/2016/02/20/out', head: head('eventbridge-api-call.json') });
    expect('confidence' in lines && lines.confidence).toBeGreaterThanOrEqual(0.9);
    expect('confidence' in bridge && bridge.confidence).toBeGreaterThanOrEqual(0.9);
  });

  test('the trail path is only a hint: it breaks ties but does not claim other content', () => {
    const key = 's3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz';
    expect(cloudtrail.detect({ key, head: '{"Records":[]}' })).toEqual({ confidence: 0.65 });
    expect(cloudtrail.detect({ key, head: '2 123456789012 eni-0a1b2c3d 10.0.1.5 ACCEPT OK' })).toEqual({ confidence: 0 });
    expect(cloudtrail.detect({ key: 'a/b.log', head: '{"time":"x","operationName":"y"}' })).toEqual({ confidence: 0 });
  });

  test('digest files are skipped by their content, wherever they are; a log file at a digest key is read', () => {
    const digestKey = 's3://b/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz';
    const digestHead = head('111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150820T180131Z.json');
    expect(cloudtrail.detect({ key: digestKey, head: digestHead })).toEqual({ skip: 'CloudTrail digest file' });
    expect(cloudtrail.detect({ key: 'local/digest.json', head: digestHead })).toEqual({ skip: 'CloudTrail digest file' });
    expect(cloudtrail.detect({ key: digestKey, head: head('log-file-examples.json') })).toEqual({ confidence: 1 });
  });
});

describe('cloudtrail identities', () => {
  test('actor_id follows the shared conventions for every userIdentity type', async () => {
    const rows = [
      ...apiRows(await sample('log-file-examples.json')),
      ...apiRows(await sample('console-sign-in.json')),
      ...apiRows(await sample('sts-assume-role.json')),
      ...apiRows(await sample('sts-federation.json')),
      ...apiRows(await sample('identity-center.json')),
      ...apiRows(await sample('federated-user.json')),
      ...apiRows(await sample('aws-service.json')),
      ...apiRows(await sample('eventbridge-api-call.json')),
      ...apiRows(await sample('cloudtrail-lake-export.jsonl')),
    ];
    const idOf = (activity: string, type: string) =>
      rows.find((r) => r['activity'] === activity && r['actor_type'] === type)?.['actor_id'];
    expect(idOf('StartInstances', 'IAMUser')).toBe('arn:aws:iam::123456789012:user/Alice');
    expect(idOf('CreateBucket', 'Root')).toBe('arn:aws:iam::123456789012:root');
    expect(idOf('DeleteBucket', 'AssumedRole')).toBe('arn:aws:iam::777788889999:role/AssumeNothing');
    expect(idOf('CreateProject', 'FederatedUser')).toBe('arn:aws:sts::123456789012:federated-user/Mary');
    expect(idOf('AssumeRole', 'AWSAccount')).toBe('account:777788889999');
    expect(idOf('Decrypt', 'AWSService')).toBe('service:ebs.amazonaws.com');
    expect(idOf('AssumeRoleWithSAML', 'SAMLUser')).toBe('saml:SamlExample');
    expect(idOf('AssumeRoleWithWebIdentity', 'WebIdentityUser')).toBe('webidentity:accounts.google.com:<id of user>');
    expect(idOf('ListApplications', 'IdentityCenterUser')).toBe('identitycenter:94d00cd8-e9e6-4810-b177-b08e84775435');
    expect(idOf('GetObject', 'Anonymous')).toBe('anonymous');
    // Unknown keeps what was logged: no ARN, so no id, but the name survives.
    expect(rows.find((r) => r['actor_type'] === 'Unknown')).toMatchObject({ actor_id: null, actor_name: 'test@example.com' });
  });

  test('an assumed role is the role, named by its session; the access key is the session', async () => {
    const [row] = byActivity(apiRows(await sample('sts-assume-role.json')), 'DeleteBucket');
    expect(row).toMatchObject({
      actor_id: 'arn:aws:iam::777788889999:role/AssumeNothing',
      actor_name: 'devdsk',
      session_name: 'devdsk',
      session_issuer_arn: 'arn:aws:iam::777788889999:role/AssumeNothing',
      session_id: 'AKIAQRSTUVWXYZEXAMPLE',
      resources: ['arn:aws:s3:::my-test-bucket-cross-account'],
    });
  });

  test('a session issuer logged as an sts ARN still yields the IAM role ARN', async () => {
    const [row] = byActivity(apiRows(await sample('aws-service.json')), 'CreateGrant');
    expect(row?.['actor_id']).toBe('arn:aws:iam::111122223333:role/Admin');
  });

  test('a service event without userIdentity.type but with invokedBy is the service', async () => {
    const [row] = byActivity(apiRows(await sample('aws-service.json')), 'BidEvictedEvent');
    expect(row).toMatchObject({ actor_id: 'service:ec2.amazonaws.com', actor_type: 'AWSService', request_parameters: null });
  });

  test('a masked user name on a failed login identifies nobody', async () => {
    const rows = apiRows(await sample('console-sign-in.json'));
    const masked = rows.find((r) => r['actor_name'] === 'HIDDEN_DUE_TO_SECURITY_REASONS');
    expect(masked?.['actor_id']).toBeNull();
    // A failed login without an ARN but with a real user name still gets the user's ARN.
    const anaya = rows.find((r) => r['event_id'] === 'd38ce1b3-4575-4cb8-a632-611b8243bfc3');
    expect(anaya?.['actor_id']).toBe('arn:aws:iam::111122223333:user/anaya');
  });

  test('Identity Center sign-ins logged as type Unknown use onBehalfOf.userId', async () => {
    const rows = apiRows(await sample('identity-center-sign-in.jsonl'));
    expect(rows.map((r) => r['actor_id'])).toEqual([
      'identitycenter:f12bb510-a011-702f-10dd-5607e2776dbc',
      'identitycenter:f12bb510-a011-702f-10dd-5607e2776dbc',
    ]);
    expect(rows.map((r) => r['session_id'])).toEqual(['58138a11-87e5-401d-8f0b-7161c9389112', 'b41f0a02-1635-4d07-a414-aecf9e14b906']);
  });

  test('a missing userIdentity leaves the actor null instead of failing', () => {
    expect(awsActor(undefined)).toMatchObject({ actor_id: null, actor_type: null, session_id: null });
  });
});

describe('cloudtrail credentials and sessions', () => {
  test('AssumeRole records the credentials it issued and the role they act as', async () => {
    const rows = byActivity(apiRows(await sample('sts-assume-role.json')), 'AssumeRole');
    expect(rows.map((r) => [r['issued_session_id'], r['issued_role_arn']])).toEqual([
      ['AKIAQRSTUVWXYZEXAMPLE', 'arn:aws:iam::111122223333:role/EC2-dev'],
      ['AKIAQRSTUVWXYZEXAMPLE', 'arn:aws:iam::111122223333:role/EC2-dev'],
      ['ASIAWHOJDLGPOEXAMPLE', 'arn:aws:iam::111111111111:role/JohnRole2'],
    ]);
    // Cross-account: the event lands in the role's account, the caller belongs to another.
    expect(rows[0]).toMatchObject({ account: '111122223333', actor_account: '777788889999', recipient_account: '111122223333' });
    // Without recipientAccountId the caller's account is all the record tells.
    expect(rows[1]).toMatchObject({ account: '777788889999', recipient_account: null });
  });

  test('GetFederationToken issues credentials acting as the federated user', async () => {
    // Shape of the STS GetFederationToken response as CloudTrail logs it.
    const record = {
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/Bob', accountId: '123456789012', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'Bob' },
      eventTime: '2023-01-10T10:00:00Z',
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetFederationToken',
      awsRegion: 'us-east-1',
      requestParameters: { name: 'Bob', durationSeconds: 3600 },
      responseElements: {
        credentials: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', expiration: 'Jan 10, 2023, 11:00:00 AM' },
        federatedUser: { federatedUserId: '123456789012:Bob', arn: 'arn:aws:sts::123456789012:federated-user/Bob' },
      },
      eventID: 'e1',
      recipientAccountId: '123456789012',
    };
    const [row] = apiRows(await parseText(JSON.stringify(record)));
    expect(row).toMatchObject({
      session_id: 'AKIAIOSFODNN7EXAMPLE',
      issued_session_id: 'ASIAIOSFODNN7EXAMPLE',
      issued_role_arn: 'arn:aws:sts::123456789012:federated-user/Bob',
    });
  });

  test('federation calls issue credentials too; other calls issue none', async () => {
    const fed = apiRows(await sample('sts-federation.json'));
    expect(fed.map((r) => r['issued_session_id'])).toEqual(['AKIAIOSFODNN7EXAMPLE', 'ASIACQRSTUVWRAOEXAMPLE']);
    const token = byActivity(apiRows(await sample('identity-center.json')), 'CreateToken');
    expect(token[0]?.['issued_session_id']).toBeNull();
  });
});

describe('cloudtrail outcomes and sign-ins', () => {
  test('errorCode makes a failure with its code and message', async () => {
    const [denied] = byActivity(apiRows(await sample('cloudtrail-lake-export.jsonl')), 'ListBuckets');
    expect(denied).toMatchObject({ outcome: 'failure', error_code: 'AccessDenied', read_only: true });
    expect(denied?.['error_message']).toMatch(/not authorized to perform: s3:ListAllMyBuckets/);
    const [trail] = byActivity(apiRows(await sample('log-file-examples.json')), 'UpdateTrail');
    expect(trail).toMatchObject({ outcome: 'failure', error_code: 'TrailNotFoundException' });
    expect(trail?.['resources']).toEqual(['arn:aws:cloudtrail:us-east-2:123456789012:trail/myTrail2']);
  });

  test('console logins: success with MFA, failures without, each also an authentication row', async () => {
    const items = await sample('console-sign-in.json');
    const auth = authRows(items);
    // Four ConsoleLogin records; CheckMfa is a sign-in step, not a login.
    expect(auth.map((r) => [r['outcome'], r['mfa'], r['result_detail']])).toEqual([
      ['success', true, null],
      ['failure', true, 'Failed authentication'],
      ['failure', false, 'Failed authentication'],
      ['failure', false, 'No username found in supplied account'],
    ]);
    expect(auth.every((r) => r['auth_protocol'] === 'password' && r['is_interactive'] === true && r['class_uid'] === 3002)).toBe(true);
    expect(auth[0]?.['app']).toBe('https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true');
    const api = apiRows(items);
    expect(api).toHaveLength(5);
    expect(api.every((r) => r['request_parameters'] === null)).toBe(true);
  });

  test('federation and Identity Center sign-ins are authentications with their protocol', async () => {
    const fed = authRows(await sample('sts-federation.json'));
    expect(fed.map((r) => [r['activity'], r['auth_protocol'], r['is_interactive'], r['actor_id']])).toEqual([
      ['AssumeRoleWithSAML', 'SAML', true, 'saml:SamlExample'],
      ['AssumeRoleWithWebIdentity', 'OIDC', false, 'webidentity:accounts.google.com:<id of user>'],
    ]);
    const ic = authRows(await sample('identity-center-sign-in.jsonl'));
    expect(ic.map((r) => [r['activity'], r['auth_protocol'], r['outcome'], r['app']])).toEqual([
      ['CredentialVerification', 'IdentityCenter', 'success', 'signin.amazonaws.com'],
      ['UserAuthentication', 'IdentityCenter', 'success', 'https://example.awsapps.com/start/'],
    ]);
  });

  test('a sign-in step reported as Failure in serviceEventDetails is a failed authentication', async () => {
    const record = {
      eventVersion: '1.09',
      userIdentity: { type: 'Unknown', accountId: '123456789012', onBehalfOf: { userId: 'u-1' } },
      eventTime: '2025-08-08T15:29:30Z',
      eventSource: 'signin.amazonaws.com',
      eventName: 'CredentialVerification',
      awsRegion: 'us-east-2',
      serviceEventDetails: { CredentialVerification: 'Failure' },
    };
    const [auth] = authRows(await parseText(JSON.stringify(record)));
    expect(auth).toMatchObject({ outcome: 'failure', result_detail: 'Failure', actor_id: 'identitycenter:u-1' });
  });
});

describe('cloudtrail records, resources and raw', () => {
  test('every record yields exactly one item, and raw is the record text as read', async () => {
    const items = await sample('log-file-examples.json');
    expect(items).toHaveLength(3);
    const [start] = apiRows(items);
    expect(JSON.parse(start?.['raw'] as string).eventName).toBe('StartInstances');
    expect((start?.['raw'] as string).startsWith('{\n    "eventVersion": "1.0"')).toBe(true);
  });

  test('records without eventID get a stable sha1 of their text', async () => {
    const first = apiRows(await sample('log-file-examples.json'));
    const again = apiRows(await sample('log-file-examples.json'));
    expect(first[0]?.['event_id']).toMatch(/^[0-9a-f]{40}$/);
    expect(first[0]?.['event_id']).toBe(again[0]?.['event_id']);
    expect(first[0]?.['event_id']).not.toBe(first[1]?.['event_id']);
  });

  test('resources combine the resources array with ARNs derived from request parameters', async () => {
    const rows = apiRows(await sample('log-file-examples.json'));
    expect(byActivity(rows, 'StartInstances')[0]?.['resources']).toEqual(['arn:aws:ec2:us-east-2:123456789012:instance/i-ebeaf9e2']);
    expect(byActivity(rows, 'AddUserToGroup')[0]?.['resources']).toEqual([
      'arn:aws:iam::123456789012:user/Bob',
      'arn:aws:iam::123456789012:group/admin',
    ]);
    const [anon] = byActivity(apiRows(await sample('cloudtrail-lake-export.jsonl')), 'GetObject');
    expect(anon?.['resources']).toEqual(['arn:aws:s3:::amzn-s3-demo-bucket/public/report.pdf', 'arn:aws:s3:::amzn-s3-demo-bucket']);
    expect(anon).toMatchObject({ account: '111122223333', actor_account: null });
  });

  test('security groups, policies and users named in sensitive IAM and EC2 calls become ARNs', async () => {
    const base = { eventVersion: '1.08', eventTime: '2023-01-10T10:00:00Z', awsRegion: 'eu-west-1', recipientAccountId: '123456789012' };
    const records = [
      { ...base, eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', requestParameters: { groupId: 'sg-0123456789abcdef0' } },
      { ...base, eventSource: 'iam.amazonaws.com', eventName: 'AttachUserPolicy', requestParameters: { userName: 'mallory', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } },
      // userName outside IAM is not an IAM user: no ARN is made up for it.
      { ...base, eventSource: 'workmail.amazonaws.com', eventName: 'CreateUser', requestParameters: { userName: 'mallory' } },
    ];
    const rows = apiRows(await parseText(records.map((r) => JSON.stringify(r)).join('\n')));
    expect(rows.map((r) => r['resources'])).toEqual([
      ['arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0'],
      ['arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::123456789012:user/mallory'],
      [],
    ]);
  });

  test('the key events of real attacks name what they touched (resource-events.json, shapes as AWS and Stratus Red Team record them)', async () => {
    const rows = apiRows(await sample('resource-events.json'));
    const of = (activity: string, n = 0) => byActivity(rows, activity)[n]?.['resources'];
    const acct = '111122223333';
    // Every record of the file is a write or a sensitive read: none is left without its resource.
    for (const row of rows) expect({ activity: row['activity'], resources: row['resources'] }).not.toMatchObject({ resources: [] });
    // A secret by ARN (with the six characters Secrets Manager appends) and by name are one node.
    expect(of('GetSecretValue')).toEqual([`arn:aws:secretsmanager:us-east-1:${acct}:secret:prod/reporting/warehouse`]);
    expect(of('DeleteSecret')).toEqual([`arn:aws:secretsmanager:us-east-1:${acct}:secret:MyDatabaseSecret`]);
    expect(of('GetParameter')).toEqual([`arn:aws:ssm:us-east-1:${acct}:parameter/credentials/app/db-password`]);
    expect(of('ModifySnapshotAttribute')).toEqual(['arn:aws:ec2:us-east-1::snapshot/snap-041993b54a9b3af6f']);
    expect(of('ModifyImageAttribute')).toEqual(['arn:aws:ec2:us-east-1::image/ami-0b87ea1d007078d18']);
    expect(of('ModifyDBSnapshotAttribute')).toEqual([`arn:aws:rds:us-east-1:${acct}:snapshot:exfiltration`]);
    expect(of('UpdateFunctionCode20150331v2')).toEqual([`arn:aws:lambda:us-east-1:${acct}:function:payments-webhook`]);
    expect(of('AddPermission20150331v2')).toEqual(of('UpdateFunctionCode20150331v2'));
    expect(of('AddLayerVersionPermission20181031')).toEqual([`arn:aws:lambda:us-east-1:${acct}:layer:shared-deps:3`]);
    expect(of('DeleteFlowLogs')).toEqual([`arn:aws:ec2:us-east-1:${acct}:vpc-flow-log/fl-0b99f482856f6f98b`]);
    expect(of('DeleteResolverQueryLogConfig')).toEqual([
      `arn:aws:route53resolver:us-east-1:${acct}:resolver-query-log-config/rqlc-4473f20ca554c07`,
    ]);
    expect(of('DisassociateResolverQueryLogConfig')).toContain(`arn:aws:ec2:us-east-1:${acct}:vpc/vpc-0a1b2c3d4e5f67890`);
    expect(of('SendCommand')).toEqual([
      'arn:aws:ssm:us-east-1::document/AWS-RunShellScript',
      `arn:aws:ec2:us-east-1:${acct}:instance/i-0f364762ca43f9661`,
      `arn:aws:ec2:us-east-1:${acct}:instance/i-0a86d1f61db2b9b5d`,
    ]);
    expect(of('StartSession')).toContain(`arn:aws:ssm:us-east-1:${acct}:session/Mateo-0e34861185201706f`);
    expect(of('SendSSHPublicKey')).toEqual([`arn:aws:ec2:us-east-1:${acct}:instance/i-0a86d1f61db2b9b5d`]);
    expect(of('CreateTrustAnchor')).toEqual([
      `arn:aws:rolesanywhere:us-east-1:${acct}:trust-anchor/4d07f6a0-1c50-44d3-951b-b68b783daa0a`,
    ]);
    expect(of('InvokeModel')).toEqual(['arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0']);
    // The user CreateUser made (its response ARN carries the path) and the one a policy was attached to are one node.
    expect(of('CreateUser')).toEqual([`arn:aws:iam::${acct}:user/backup-sync`]);
    expect(of('AttachUserPolicy')).toContain(`arn:aws:iam::${acct}:user/backup-sync`);
    // Built in the record's partition, never a literal arn:aws:.
    expect(of('GetSecretValue', 1)).toEqual(['arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:prod/payments/api-key']);
    expect(of('GetParameter', 1)).toEqual(['arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/db-password']);
  });

  test('an IAM principal is keyed without its path, whichever spelling the record uses', async () => {
    const base = { eventVersion: '1.08', eventTime: '2023-01-10T10:00:00Z', awsRegion: 'us-east-1', eventSource: 's3.amazonaws.com', eventName: 'ListBuckets' };
    const ssoRole = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1a2b3c4d5e6f7a8b';
    const withIssuer = {
      ...base,
      userIdentity: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1a2b3c4d5e6f7a8b/dana',
        accountId: '123456789012',
        sessionContext: { sessionIssuer: { type: 'Role', arn: ssoRole, accountId: '123456789012' } },
      },
    };
    const withoutIssuer = { ...withIssuer, userIdentity: { ...withIssuer.userIdentity, sessionContext: {} } };
    const pathedUser = { ...base, userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/ops/dana', accountId: '123456789012', userName: 'dana' } };
    const rows = apiRows(await parseText([withIssuer, withoutIssuer, pathedUser].map((r) => JSON.stringify(r)).join('\n')));
    const key = 'arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_1a2b3c4d5e6f7a8b';
    expect(rows.map((r) => r['actor_id'])).toEqual([key, key, 'arn:aws:iam::123456789012:user/dana']);
    // What was logged stays as logged.
    expect(rows[0]?.['session_issuer_arn']).toBe(ssoRole);
    expect(rows[2]?.['actor_arn']).toBe('arn:aws:iam::123456789012:user/ops/dana');
  });

  test('an EventBridge event is unwrapped; the envelope fills in the account', async () => {
    const items = await sample('eventbridge-api-call.json');
    expect(items).toHaveLength(1);
    expect(apiRows(items)[0]).toMatchObject({
      activity: 'CreateBucket',
      account: '123456789012',
      region: 'us-east-1',
      mfa: false,
      resources: ['arn:aws:s3:::bucket-test-iad'],
    });
  });
});

describe('cloudtrail bad input', () => {
  test('damaged records are quarantined with a precise reason; the good ones survive', async () => {
    const items = await sample('bad-input.json');
    expect(items.map((i) => (i.kind === 'quarantine' ? i.reason : i.kind))).toEqual([
      'rows',
      'record is not a JSON object (got array)',
      'missing eventTime',
      'unparseable eventTime "Mar 24, 2014 9:11:59 PM"',
      'unparseable eventTime "2014-02-30T21:11:59Z"',
      'missing eventSource',
      'rows',
      'truncated JSON: the object ends inside this record',
    ]);
    expect(apiRows(items).map((r) => r['activity'])).toEqual(['CreateUser', 'CreateKeyPair']);
  });

  test('in JSON lines a bad line and a foreign EventBridge event cost only themselves', async () => {
    const items = await sample('bad-lines.jsonl');
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [i.reason] : []));
    expect(reasons[0]).toMatch(/^invalid JSON/);
    expect(reasons[1]).toBe('EventBridge event is not a CloudTrail record (detail-type "AWS Health Event")');
  });

  test('a digest file read by mistake is quarantined, not normalized', async () => {
    const items = await sample('111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150820T180131Z.json');
    expect(items).toEqual([expect.objectContaining({ kind: 'quarantine', reason: 'CloudTrail digest file, not an event record' })]);
  });

  test('missing eventName and non-object records in a trail file are quarantined', async () => {
    const items = await parseText('{"Records":[{"eventTime":"2020-01-01T00:00:00Z","eventSource":"s3.amazonaws.com"},[1]]}');
    expect(items.map((i) => (i.kind === 'quarantine' ? i.reason : i.kind))).toEqual([
      'missing eventName',
      'record is not a JSON object (got array)',
    ]);
  });

  test('a scalar element in Records does not cost the records after it', async () => {
    const good = '{"eventTime":"2020-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets"}';
    const items = await parseText(`{"Records":[${good},null,${good}]}`);
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'rows']);
  });
});

describe('cloudtrail as exported and re-shipped (shapes.ts)', () => {
  /** The rows a shape yields, without `raw` (each shape keeps the text it found the record as). */
  const rowsWithoutRaw = async (name: string) =>
    apiRows(await sample(name)).map((row) => Object.fromEntries(Object.entries(row).filter(([column]) => column !== 'raw')));

  test('a record re-shipped by any pipeline yields the row the record itself yields', async () => {
    const direct = await rowsWithoutRaw('logstash-export.jsonl');
    expect(direct.map((r) => r['activity'])).toEqual(['CreateUser', 'StopInstances']);
    for (const shape of ['elasticsearch-hits.json', 'filebeat-ecs.jsonl', 'splunk-export.json', 'cloudwatch-logs-firehose.json', 'cloudwatch-logs-export.txt'])
      expect({ shape, rows: await rowsWithoutRaw(shape) }).toEqual({ shape, rows: direct });
  });

  test("Logstash's @timestamp stands in for the eventTime its codec moved", async () => {
    const [row] = apiRows(await sample('logstash-export.jsonl'));
    expect((row['time'] as Date).toISOString()).toBe('2023-07-19T21:25:09.000Z');
    expect(row['raw']).toContain('"@timestamp":"2023-07-19T21:25:09.000Z"');
  });

  test('raw is the record text as the pipeline carried it', async () => {
    const [splunk] = apiRows(await sample('splunk-export.json'));
    expect(JSON.parse(splunk['raw'] as string)).toMatchObject({ eventName: 'CreateUser', eventID: 'ba0801a1-87ec-4d26-be87-EXAMPLE75bbb' });
  });

  test('lookup-events: the record text wins over the columns; a broken one is quarantined alone', async () => {
    const items = await sample('lookup-events.json');
    expect(apiRows(items).map((r) => [r['activity'], r['actor_id']])).toEqual([
      ['ConsoleLogin', 'arn:aws:iam::123456789012:role/my-role'],
      ['CreateUser', 'arn:aws:iam::444455556666:user/JaneDoe'],
    ]);
    expect(authRows(items)).toHaveLength(1);
    const bad = items.filter((i) => i.kind === 'quarantine');
    expect(bad.map((q) => (q.kind === 'quarantine' ? [q.position, q.reason] : null))).toEqual([
      ['record 3 (line 27) CloudTrailEvent', 'CloudTrailEvent is not JSON'],
    ]);
  });

  test('lookup events without record text are rebuilt from their columns (epoch EventTime too)', async () => {
    const event = { EventId: 'e-1', EventName: 'DeleteBucket', EventTime: 1689801909.5, EventSource: 's3.amazonaws.com', Username: 'JaneDoe' };
    const [row] = apiRows(await parseText(JSON.stringify({ Events: [event] })));
    expect(row).toMatchObject({ event_id: 'e-1', activity: 'DeleteBucket', service: 's3.amazonaws.com', actor_name: 'JaneDoe' });
    expect((row['time'] as Date).toISOString()).toBe('2023-07-19T21:25:09.500Z');
  });

  test("the console's CSV download: columns by name, quoted fields, and a record-text column when present", async () => {
    const rows = apiRows(await sample('event-history-download.csv'));
    expect(rows.map((r) => [r['activity'], r['actor_name'], r['session_id'], r['outcome'], r['error_code'], r['region']])).toEqual([
      ['CreateUser', 'JaneDoe', 'AKIAI44QH8DHBEXAMPLE', 'success', null, 'us-east-1'],
      ['StopInstances', 'JaneDoe', 'AKIAI44QH8DHBEXAMPLE', 'failure', 'Client.UnauthorizedOperation', 'us-east-2'],
      ['ConsoleLogin', 'my-session-name', null, 'success', null, 'us-east-1'],
    ]);
    const record = JSON.stringify({ eventVersion: '1.08', eventTime: '2023-07-19T21:25:09Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', eventID: 'x-1', recipientAccountId: '444455556666', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::444455556666:user/JaneDoe', accountId: '444455556666', userName: 'JaneDoe' } }, null, 2);
    const csv = `Event ID,Event name,Event time,CloudTrail event\nx-1,CreateUser,2023-07-19T21:25:09Z,"${record.replace(/"/g, '""')}"\nx-2,DeleteUser,2023-07-19T21:26:00Z,"{""unterminated\n`;
    const items = await parseText(csv);
    expect(apiRows(items)).toEqual([expect.objectContaining({ event_id: 'x-1', account: '444455556666', actor_id: 'arn:aws:iam::444455556666:user/JaneDoe' })]);
    expect(items.filter((i) => i.kind === 'quarantine').map((q) => (q.kind === 'quarantine' ? [q.position, q.reason] : null))).toEqual([
      // The first row's quoted record spans lines 2 to 15.
      ['line 16', 'the object ends inside a quoted CSV field'],
    ]);
  });

  test('a CloudWatch Logs control message carries no records; a JSON line naming record fields is not a CSV header', async () => {
    expect(await parseText('{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}')).toEqual([]);
    const line = '{"eventName":"ListBuckets","eventTime":"2024-01-01T00:00:00Z","eventID":"j-1","eventSource":"s3.amazonaws.com","eventVersion":"1.08"}\n';
    expect(apiRows(await parseText(line))).toEqual([expect.objectContaining({ event_id: 'j-1', activity: 'ListBuckets' })]);
  });

  test('every shape is recognized by content', () => {
    for (const shape of [
      'lookup-events.json',
      'event-history-download.csv',
      'logstash-export.jsonl',
      'elasticsearch-hits.json',
      'filebeat-ecs.jsonl',
      'splunk-export.json',
      'cloudwatch-logs-firehose.json',
      'cloudwatch-logs-export.txt',
    ]) {
      const detection = cloudtrail.detect({ key: `/exports/${shape}`, head: readFileSync(join(dir, shape), 'utf8') });
      expect({ shape, sure: 'confidence' in detection && detection.confidence >= 0.9 }).toEqual({ shape, sure: true });
    }
  });
});
