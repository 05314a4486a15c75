/**
 * Builders for CloudTrail records shaped as AWS delivers them: the userIdentity of each identity
 * type (with sessionContext for temporary credentials), the envelope fields (eventVersion,
 * readOnly, eventType, managementEvent, eventCategory, tlsDetails, recipientAccountId…) and
 * the request/response shapes of the calls the sample emits.
 */
import { UPPER_ALNUM, type Rng } from '../../../testkit/sample/prng';
import type { IamUser, Role } from '../../../testkit/sample/world';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One CloudTrail record, ready to be placed in a log file of `account`/`region`. */
export interface PlannedRecord {
  /** Milliseconds since the epoch (eventTime has second precision). */
  time: number;
  /** Recipient account: whose log file the record lands in. */
  account: string;
  region: string;
  record: JsonObject;
}

/** CloudTrail writes eventTime with second precision, UTC, `Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface Caller {
  identity: JsonObject;
  sourceIp: string;
  userAgent: string;
  /** Calls made with console credentials carry `sessionCredentialFromConsole`. */
  console?: boolean;
  /** An AWS service acting for the caller: no TLS details are logged for it. */
  viaService?: boolean;
}

export function iamUserIdentity(user: IamUser, accessKeyId = user.accessKeyId): JsonObject {
  return {
    type: 'IAMUser',
    principalId: user.principalId,
    arn: user.arn,
    accountId: user.account,
    accessKeyId,
    userName: user.name,
  };
}

/** An IAM user's console session: temporary ASIA key with session attributes. */
export function iamUserConsoleIdentity(user: IamUser, accessKeyId: string, created: number, mfa: boolean): JsonObject {
  return {
    ...iamUserIdentity(user, accessKeyId),
    sessionContext: {
      sessionIssuer: {},
      webIdFederationData: {},
      attributes: { creationDate: isoSeconds(created), mfaAuthenticated: String(mfa) },
    },
  };
}

export function assumedRoleArn(role: Role, sessionName: string): string {
  return `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`;
}

export function assumedRoleIdentity(
  role: Role,
  sessionName: string,
  accessKeyId: string,
  created: number,
  mfa: boolean,
  invokedBy?: string,
): JsonObject {
  const identity: JsonObject = {
    type: 'AssumedRole',
    principalId: `${role.roleId}:${sessionName}`,
    arn: assumedRoleArn(role, sessionName),
    accountId: role.account,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: role.roleId,
        arn: role.arn,
        accountId: role.account,
        userName: role.name,
      },
      webIdFederationData: {},
      attributes: { creationDate: isoSeconds(created), mfaAuthenticated: String(mfa) },
    },
  };
  if (invokedBy) identity.invokedBy = invokedBy;
  return identity;
}

export function awsServiceIdentity(service: string): JsonObject {
  return { type: 'AWSService', invokedBy: service };
}

/** How S3 logs an unauthenticated request. */
export const ANONYMOUS_IDENTITY: JsonObject = { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' };

/** Services whose API has one global endpoint; CloudTrail logs them in us-east-1. */
export const GLOBAL_SERVICES = new Set(['iam', 'sts', 'signin', 'organizations', 'cloudfront', 'route53']);

export function eventSourceOf(service: string): string {
  return `${service}.amazonaws.com`;
}

function hostHeader(service: string, region: string, params: JsonObject | null): string {
  if (service === 'signin') return 'signin.aws.amazon.com';
  if (service === 's3') {
    const bucket = params && typeof params.bucketName === 'string' ? params.bucketName : undefined;
    if (bucket) return `${bucket}.s3.${region}.amazonaws.com`;
    return region === 'us-east-1' ? 's3.amazonaws.com' : `s3.${region}.amazonaws.com`;
  }
  if (GLOBAL_SERVICES.has(service)) return `${service}.amazonaws.com`;
  return `${service}.${region}.amazonaws.com`;
}

export interface CallSpec {
  time: number;
  /** Recipient account. */
  account: string;
  region: string;
  /** Service prefix: `ec2`, `s3`, `iam`… (eventSource is `<service>.amazonaws.com`). */
  service: string;
  name: string;
  caller: Caller;
  readOnly: boolean;
  requestParameters?: JsonObject | null;
  responseElements?: JsonObject | null;
  additionalEventData?: JsonObject;
  errorCode?: string;
  errorMessage?: string;
  resources?: Json[];
  eventType?: 'AwsApiCall' | 'AwsServiceEvent' | 'AwsConsoleSignIn';
  /** S3 object-level (and other data-plane) calls are data events. */
  dataEvent?: boolean;
  sharedEventID?: string;
  eventID?: string;
  requestID?: string;
  eventVersion?: string;
  vpcEndpointId?: string;
}

const TLS_CHOICES: [string, string][] = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
];

export function s3RequestId(rng: Rng): string {
  return rng.chars('0123456789ABCDEF', 16);
}

export function amzId2(rng: Rng): string {
  return rng.chars(UPPER_ALNUM + 'abcdefghijklmnopqrstuvwxyz+/', 76) + '=';
}

/** Builds the record with the field order CloudTrail uses. */
export function buildRecord(rng: Rng, spec: CallSpec): PlannedRecord {
  const params = spec.requestParameters === undefined ? null : spec.requestParameters;
  const record: JsonObject = {
    eventVersion: spec.eventVersion ?? (spec.service === 'signin' ? '1.08' : '1.09'),
    userIdentity: spec.caller.identity,
    eventTime: isoSeconds(spec.time),
    eventSource: eventSourceOf(spec.service),
    eventName: spec.name,
    awsRegion: spec.region,
    sourceIPAddress: spec.caller.sourceIp,
    userAgent: spec.caller.userAgent,
  };
  if (spec.errorCode) record.errorCode = spec.errorCode;
  if (spec.errorMessage) record.errorMessage = spec.errorMessage;
  record.requestParameters = params;
  record.responseElements = spec.responseElements === undefined ? null : spec.responseElements;
  if (spec.additionalEventData) record.additionalEventData = spec.additionalEventData;
  if (spec.eventType !== 'AwsConsoleSignIn') {
    // EC2 echoes the request id inside its response; the two must agree.
    const echoed =
      spec.responseElements && typeof spec.responseElements.requestId === 'string' ? spec.responseElements.requestId : undefined;
    record.requestID = spec.requestID ?? echoed ?? (spec.service === 's3' ? s3RequestId(rng) : rng.uuid());
  }
  record.eventID = spec.eventID ?? rng.uuid();
  record.readOnly = spec.readOnly;
  if (spec.resources) record.resources = spec.resources;
  record.eventType = spec.eventType ?? 'AwsApiCall';
  record.managementEvent = !spec.dataEvent;
  record.recipientAccountId = spec.account;
  if (spec.sharedEventID) record.sharedEventID = spec.sharedEventID;
  if (spec.vpcEndpointId) record.vpcEndpointId = spec.vpcEndpointId;
  record.eventCategory = spec.dataEvent ? 'Data' : 'Management';
  if (!spec.caller.viaService) {
    const [tlsVersion, cipherSuite] = rng.pick(TLS_CHOICES);
    record.tlsDetails = { tlsVersion, cipherSuite, clientProvidedHostHeader: hostHeader(spec.service, spec.region, params) };
  }
  if (spec.caller.console) record.sessionCredentialFromConsole = 'true';
  return { time: spec.time, account: spec.account, region: spec.region, record };
}

/** `DescribeInstances` → `describe-instances`, for the CLI's `command/` user-agent part. */
function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** AWS CLI v2 user agent as recent versions send it, naming the command run. */
export function awsCliUserAgent(platform: string, service: string, eventName: string, version = '2.18.11'): string {
  return `aws-cli/${version} md/awscrt#0.21.4 ua/2.0 ${platform} cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#${service}.${kebab(eventName)}`;
}

export const BOTO3_APP_UA =
  'Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36';
export const JAVA_APP_UA =
  'aws-sdk-java/2.28.16 Linux/6.1.112-122.189.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy';
export const TERRAFORM_UA =
  'APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.74.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.3 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64';
export const CI_CLI_PLATFORM = 'os/linux#6.5.0-1025-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython';

/** S3 object resources as CloudTrail lists them for object-level calls. */
export function s3ObjectResources(bucketAccount: string, bucket: string, key: string): Json[] {
  return [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
    { accountId: bucketAccount, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
  ];
}

export function s3BucketResources(bucketAccount: string, bucket: string): Json[] {
  return [{ accountId: bucketAccount, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }];
}

export function s3AdditionalData(rng: Rng, bytesOut: number, bytesIn: number, anonymous = false): JsonObject {
  const data: JsonObject = {};
  if (!anonymous) {
    data.SignatureVersion = 'SigV4';
    data.CipherSuite = 'TLS_AES_128_GCM_SHA256';
  } else {
    data.CipherSuite = 'TLS_AES_128_GCM_SHA256';
  }
  data.bytesTransferredIn = bytesIn;
  if (!anonymous) data.AuthenticationMethod = 'AuthHeader';
  data['x-amz-id-2'] = amzId2(rng);
  data.bytesTransferredOut = bytesOut;
  return data;
}

/** `AssumeRole` request and response as CloudTrail logs them. */
export function assumeRoleShapes(
  role: Role,
  sessionName: string,
  issuedKey: string,
  issued: number,
  durationSeconds = 3600,
): { requestParameters: JsonObject; responseElements: JsonObject; resources: Json[] } {
  const expiration = new Date(issued + durationSeconds * 1000);
  return {
    requestParameters: { roleArn: role.arn, roleSessionName: sessionName, durationSeconds },
    responseElements: {
      credentials: {
        accessKeyId: issuedKey,
        sessionToken: 'IQoJb3JpZ2luX2VjE' + issuedKey.slice(4) + '//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
        expiration: cloudTrailStsExpiration(expiration),
      },
      assumedRoleUser: { assumedRoleId: `${role.roleId}:${sessionName}`, arn: assumedRoleArn(role, sessionName) },
    },
    resources: [{ accountId: role.account, type: 'AWS::IAM::Role', ARN: role.arn }],
  };
}

/** STS expirations appear in CloudTrail as e.g. `Nov 5, 2026, 4:17:09 PM`. */
export function cloudTrailStsExpiration(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const h = date.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  const ss = String(date.getUTCSeconds()).padStart(2, '0');
  return `${months[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

/** The message AWS logs with an AccessDenied for a call no identity-based policy allows. */
export function notAuthorized(service: string, action: string, principalArn: string, resource: string): string {
  return `User: ${principalArn} is not authorized to perform: ${service}:${action} on resource: ${resource} because no identity-based policy allows the ${service}:${action} action`;
}
