/**
 * The resources a CloudTrail record touched, as ids of the graph's Resource nodes (ARNs): those the
 * record lists in `resources`, and those its request or response names in the services' own
 * fields (a secret's `secretId`, a snapshot's `snapshotId`, a function's `functionName`…), for the
 * writes and sensitive reads hunters follow: secrets, SSM parameters, commands and sessions, EBS
 * and RDS snapshots, AMIs, Lambda functions and layers, flow logs, Resolver query-log configs,
 * EC2 Instance Connect targets, Roles Anywhere trust anchors, Bedrock models, IAM principals.
 *
 * ARNs are built in the record's partition (its caller's ARN, a listed resource, else its region:
 * src/core/arn.ts), never a literal `arn:aws:`. Field layouts follow the records AWS documents for
 * each call (see the golden file resource-events.json). IAM users and roles are keyed without their
 * path, as identities are (iamIdentityKey), so a principal created, changed and then acting is one node.
 */
import { iamIdentityKey, parseArn, partitionOf, secretKey } from '../../../src/core/arn';
import { asString, obj, type JsonObject } from '../../fields/json';

/** Where ARNs built from bare names and ids live: the record's partition, region and account. */
interface Scope {
  partition: string;
  region: string | null;
  account: string | null;
}

interface Call {
  eventName: string;
  params: JsonObject | null;
  response: JsonObject | null;
  /** serviceEventDetails of service events (SharedSnapshotCopyInitiated…). */
  details: JsonObject | null;
}

/** Builds ARNs in the record's scope; null when the scope lacks what the ARN needs. */
class Arns {
  constructor(readonly scope: Scope) {}

  /** `arn:<p>:<service>:<region>:<account>:<resource>`. */
  regional(service: string, resource: string): string | null {
    const { partition, region, account } = this.scope;
    return region && account ? `arn:${partition}:${service}:${region}:${account}:${resource}` : null;
  }

  /** `arn:<p>:<service>:<region>::<resource>`: resources whose ARN names no account (EBS snapshots, AMIs, foundation models). */
  regionalNoAccount(service: string, resource: string): string | null {
    const { partition, region } = this.scope;
    return region ? `arn:${partition}:${service}:${region}::${resource}` : null;
  }

  /** `arn:<p>:<service>::<account>:<resource>` (IAM). */
  global(service: string, resource: string): string | null {
    const { partition, account } = this.scope;
    return account ? `arn:${partition}:${service}::${account}:${resource}` : null;
  }
}

type Add = (id: string | null | undefined) => void;
type Extractor = (call: Call, arns: Arns, add: Add) => void;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];

/** Instance ids as EC2 logs them: instanceId, instanceIds[], or instancesSet.items[].instanceId. */
export function instanceIds(fields: JsonObject | null): string[] {
  if (!fields) return [];
  const ids: string[] = [];
  const single = asString(fields['instanceId']);
  if (single) ids.push(single);
  ids.push(...strings(fields['instanceIds']));
  const items = obj(fields['instancesSet'])?.['items'];
  if (Array.isArray(items))
    for (const item of items) {
      const id = asString(obj(item)?.['instanceId']);
      if (id) ids.push(id);
    }
  return ids;
}

const instanceArn = (arns: Arns, id: string) => arns.regional('ec2', `instance/${id}`);

/** `DeleteFlowLogsRequest.FlowLogId`: one `{content, tag}` item or a list of them (EC2's query-protocol shape). */
function flowLogIds(params: JsonObject | null): string[] {
  const ids = obj(params?.['DeleteFlowLogsRequest'])?.['FlowLogId'];
  const items = Array.isArray(ids) ? ids : [ids];
  const out: string[] = [];
  for (const item of items) {
    const id = asString(obj(item)?.['content']) ?? asString(item);
    if (id) out.push(id);
  }
  return out;
}

const ec2: Extractor = ({ eventName, params, response, details }, arns, add) => {
  const groupId = asString(params?.['groupId']);
  if (groupId?.startsWith('sg-')) add(arns.regional('ec2', `security-group/${groupId}`));
  for (const id of [...instanceIds(params), ...instanceIds(response)]) add(instanceArn(arns, id));
  // EBS snapshots and AMIs have no account in their ARN.
  for (const id of [asString(params?.['snapshotId']), asString(details?.['snapshotId'])])
    if (id?.startsWith('snap-')) add(arns.regionalNoAccount('ec2', `snapshot/${id}`));
  const imageId = asString(params?.['imageId']);
  if (imageId?.startsWith('ami-')) add(arns.regionalNoAccount('ec2', `image/${imageId}`));
  const volumeId = asString(params?.['volumeId']);
  if (volumeId?.startsWith('vol-')) add(arns.regional('ec2', `volume/${volumeId}`));
  if (eventName === 'DeleteFlowLogs') for (const id of flowLogIds(params)) add(arns.regional('ec2', `vpc-flow-log/${id}`));
};

const instanceConnect: Extractor = ({ params }, arns, add) => {
  for (const id of instanceIds(params)) add(instanceArn(arns, id));
};

const iam: Extractor = ({ params, response }, arns, add) => {
  const userName = asString(params?.['userName']);
  if (userName) add(arns.global('iam', `user/${userName}`));
  const roleName = asString(params?.['roleName']);
  if (roleName) add(arns.global('iam', `role/${roleName}`));
  const groupName = asString(params?.['groupName']);
  if (groupName) add(arns.global('iam', `group/${groupName}`));
  const profileName = asString(params?.['instanceProfileName']);
  if (profileName) add(arns.global('iam', `instance-profile/${profileName}`));
  // CreateUser / CreateRole / GetUser… answer with the principal's full ARN.
  for (const key of ['user', 'role', 'group', 'instanceProfile']) add(asString(obj(response?.[key])?.['arn']));
};

/** A secret's id as logged: its ARN (with Secrets Manager's `-XXXXXX` suffix) or its name. */
function secretArn(arns: Arns, secretId: string): string | null {
  return secretId.startsWith('arn:') ? secretId : arns.regional('secretsmanager', `secret:${secretId}`);
}

const secretsManager: Extractor = ({ params, response }, arns, add) => {
  const ids = [asString(params?.['secretId']), ...strings(params?.['secretIdList'])];
  // CreateSecret names the new secret in `name` and answers with its ARN (`arn`, `aRN` before 2024).
  if (!ids[0] && !ids[1]) ids.push(asString(params?.['name']));
  ids.push(asString(response?.['arn']) ?? asString(response?.['aRN']));
  for (const id of ids) if (id) add(secretArn(arns, id));
};

/** SSM documents AWS owns (`AWS-RunShellScript`, `AmazonInspector-…`) have no account in their ARN. */
function ssmDocumentArn(arns: Arns, name: string): string | null {
  if (name.startsWith('arn:')) return name;
  return /^(AWS|Amazon)/.test(name) ? arns.regionalNoAccount('ssm', `document/${name}`) : arns.regional('ssm', `document/${name}`);
}

/** A parameter name (`/prod/db/password` or `db-password`) → its ARN (`parameter/prod/db/password`). */
const parameterArn = (arns: Arns, name: string) =>
  name.startsWith('arn:') ? name : arns.regional('ssm', `parameter/${name.replace(/^\//, '')}`);

/** A Session Manager target: an EC2 instance or a hybrid managed instance (`mi-…`). */
function ssmTargetArn(arns: Arns, target: string): string | null {
  if (target.startsWith('i-')) return instanceArn(arns, target);
  if (target.startsWith('mi-')) return arns.regional('ssm', `managed-instance/${target}`);
  return null;
}

const ssm: Extractor = ({ eventName, params, response }, arns, add) => {
  if (/Parameters?($|ByPath$|History$)/.test(eventName) || eventName === 'LabelParameterVersion') {
    for (const name of [asString(params?.['name']), asString(params?.['path']), ...strings(params?.['names'])])
      if (name) add(parameterArn(arns, name));
  } else if (/Document/.test(eventName)) {
    const name = asString(params?.['name']);
    if (name) add(ssmDocumentArn(arns, name));
  }
  const documentName = asString(params?.['documentName']);
  if (documentName) add(ssmDocumentArn(arns, documentName));
  for (const id of strings(params?.['instanceIds'])) add(ssmTargetArn(arns, id));
  // SendCommand by targets: [{ key: 'InstanceIds', values: [...] }].
  const targets = params?.['targets'];
  if (Array.isArray(targets))
    for (const target of targets) {
      const t = obj(target);
      if (asString(t?.['key']) === 'InstanceIds') for (const id of strings(t?.['values'])) add(ssmTargetArn(arns, id));
    }
  const target = asString(params?.['target']);
  if (target) add(ssmTargetArn(arns, target));
  for (const sessionId of [asString(params?.['sessionId']), asString(response?.['sessionId'])])
    if (sessionId) add(arns.regional('ssm', `session/${sessionId}`));
};

/**
 * A Lambda function as its requests name it (name, `name:qualifier`, partial or full ARN) → the
 * function's unqualified ARN, in the account and region the ARN names when it names them.
 */
function functionArn(arns: Arns, name: string): string | null {
  const parsed = parseArn(name);
  if (parsed) {
    const fn = /^function:([^:]+)/.exec(parsed.resource)?.[1];
    return fn ? `arn:${parsed.partition}:lambda:${parsed.region}:${parsed.account}:function:${fn}` : name;
  }
  // `123456789012:function:name` (partial ARN) or `name` or `name:alias`.
  const partial = /^(\d{12}):function:([^:]+)/.exec(name);
  if (partial) return new Arns({ ...arns.scope, account: partial[1] }).regional('lambda', `function:${partial[2]}`);
  return arns.regional('lambda', `function:${name.split(':')[0]}`);
}

const lambda: Extractor = ({ params, response }, arns, add) => {
  const fn = asString(params?.['functionName']);
  if (fn) add(functionArn(arns, fn));
  for (const layer of strings(params?.['layers'])) add(layer);
  const layerName = asString(params?.['layerName']);
  const version = params?.['versionNumber'];
  if (layerName && (typeof version === 'number' || typeof version === 'string')) {
    add(layerName.startsWith('arn:') ? `${layerName}:${version}` : arns.regional('lambda', `layer:${layerName}:${version}`));
  }
  add(asString(response?.['layerVersionArn']));
};

const rds: Extractor = ({ params }, arns, add) => {
  const named: [string, string][] = [
    ['dBSnapshotIdentifier', 'snapshot'],
    ['sourceDBSnapshotIdentifier', 'snapshot'],
    ['targetDBSnapshotIdentifier', 'snapshot'],
    ['dBClusterSnapshotIdentifier', 'cluster-snapshot'],
    ['sourceDBClusterSnapshotIdentifier', 'cluster-snapshot'],
    ['targetDBClusterSnapshotIdentifier', 'cluster-snapshot'],
    ['dBInstanceIdentifier', 'db'],
    ['dBClusterIdentifier', 'cluster'],
  ];
  for (const [field, kind] of named) {
    const id = asString(params?.[field]);
    if (id) add(id.startsWith('arn:') ? id : arns.regional('rds', `${kind}:${id}`));
  }
};

const route53Resolver: Extractor = ({ params, response }, arns, add) => {
  const configId = asString(params?.['resolverQueryLogConfigId']);
  if (configId) add(arns.regional('route53resolver', `resolver-query-log-config/${configId}`));
  add(asString(obj(response?.['resolverQueryLogConfig'])?.['arn']));
  // Associate / DisassociateResolverQueryLogConfig name the VPC whose queries are (no longer) logged.
  const vpc = asString(params?.['resourceId']);
  if (vpc?.startsWith('vpc-')) add(arns.regional('ec2', `vpc/${vpc}`));
};

const rolesAnywhere: Extractor = ({ params, response }, arns, add) => {
  add(asString(obj(response?.['trustAnchor'])?.['trustAnchorArn']));
  add(asString(obj(response?.['profile'])?.['profileArn']));
  const anchor = asString(params?.['trustAnchorId']);
  if (anchor) add(arns.regional('rolesanywhere', `trust-anchor/${anchor}`));
  const profile = asString(params?.['profileId']);
  if (profile) add(arns.regional('rolesanywhere', `profile/${profile}`));
};

/** A Bedrock model id: a foundation model's name (no account in its ARN), or an ARN (custom, provisioned, inference profile). */
const bedrock: Extractor = ({ params }, arns, add) => {
  const model = asString(params?.['modelId']);
  if (model) add(model.startsWith('arn:') ? model : arns.regionalNoAccount('bedrock', `foundation-model/${model}`));
};

const guardDuty: Extractor = ({ params }, arns, add) => {
  const detector = asString(params?.['detectorId']);
  if (detector) add(arns.regional('guardduty', `detector/${detector}`));
};

const cloudTrail: Extractor = ({ params }, arns, add) => {
  const trail = asString(params?.['name']) ?? asString(params?.['trailName']);
  if (trail) add(trail.startsWith('arn:') ? trail : (arns.regional('cloudtrail', `trail/${trail}`) ?? trail));
};

/** Extractors by eventSource. */
const BY_SERVICE: ReadonlyMap<string, Extractor> = new Map([
  ['ec2.amazonaws.com', ec2],
  ['ec2-instance-connect.amazonaws.com', instanceConnect],
  ['iam.amazonaws.com', iam],
  ['secretsmanager.amazonaws.com', secretsManager],
  ['ssm.amazonaws.com', ssm],
  ['lambda.amazonaws.com', lambda],
  ['rds.amazonaws.com', rds],
  ['route53resolver.amazonaws.com', route53Resolver],
  ['rolesanywhere.amazonaws.com', rolesAnywhere],
  ['bedrock.amazonaws.com', bedrock],
  ['guardduty.amazonaws.com', guardDuty],
  ['cloudtrail.amazonaws.com', cloudTrail],
]);

/** Fields that name a resource whatever the service: S3 buckets and keys, roles passed or assumed, managed policies. */
const anyService: Extractor = ({ params }, arns, add) => {
  const bucket = asString(params?.['bucketName']);
  if (bucket) {
    const partition = arns.scope.partition;
    add(`arn:${partition}:s3:::${bucket}`);
    const key = asString(params?.['key']);
    if (key) add(`arn:${partition}:s3:::${bucket}/${key}`);
  }
  for (const field of ['roleArn', 'policyArn']) {
    const arn = asString(params?.[field]);
    if (arn?.startsWith('arn:')) add(arn);
  }
};

/** Every resource id of one record, each once, in the order found (listed resources first). */
export function resourceIds(record: JsonObject, account: string | null, region: string | null, actorArn: string | null): string[] {
  const ids = new Set<string>();
  const add: Add = (id) => {
    if (!id) return;
    ids.add(secretKey(iamIdentityKey(id)));
  };
  const listed = record['resources'];
  if (Array.isArray(listed))
    for (const resource of listed) {
      const entry = obj(resource);
      add(asString(entry?.['ARN']) ?? asString(entry?.['arn']));
    }
  // The partition of the caller's ARN, else of a resource the record lists, else of its region.
  const partition = partitionOf(actorArn ?? [...ids].find((id) => id.startsWith('arn:')), region);
  const arns = new Arns({ partition, region, account });
  const call: Call = {
    eventName: asString(record['eventName']) ?? '',
    params: obj(record['requestParameters'] ?? record['RequestParameters']),
    response: obj(record['responseElements']),
    details: obj(record['serviceEventDetails']),
  };
  anyService(call, arns, add);
  BY_SERVICE.get(asString(record['eventSource']) ?? '')?.(call, arns, add);
  return [...ids];
}
