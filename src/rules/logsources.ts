/**
 * Sigma `logsource` → the lake table and log sources a rule reads, and the field mapping from the
 * provider's native field names (and Sigma's generic category names) to lake columns. Fields
 * without a column are read from the kept raw record by JSON path, where the raw record is JSON.
 */
import { TABLES, hasColumn, type TableName } from '../core/tables';
import type { SourceId } from '../generated/sources';
import type { Frag } from './sql';

/** How a native field reaches the lake. */
export type FieldTarget =
  /** A column holding exactly the native value (`lowercased`: its lower-case form, so only case-insensitive matching may use it). */
  | { column: string; lowercased?: true }
  /** A JSON path (dotted segments) into the raw record, from the target's raw root. */
  | { raw: string }
  /** A JSON path into the request_parameters column (CloudTrail requestParameters, GCP request). */
  | { requestParameters: string };

export interface LogTarget {
  /** A readable name: `aws/cloudtrail`, `category webserver`… */
  name: string;
  table: TableName;
  sources: readonly SourceId[];
  /** Raw records are JSON text (text formats keep the log line, so raw fields cannot be reached). */
  rawJson: boolean;
  /** Where a raw path starts: CloudTrail records may arrive wrapped in an EventBridge envelope (`detail`). */
  rawRoots: readonly string[];
  /** Native field name → where it lives. Matched exactly, then case-insensitively. */
  fields: Readonly<Record<string, FieldTarget>>;
  /** Prefixes of native fields read from request_parameters (`requestParameters.` for CloudTrail). */
  requestParametersPrefixes: readonly string[];
  /** Prefixes dropped before the raw path (`data.` in some GCP rules, `properties.` already in the record). */
  strippedPrefixes: readonly string[];
  /** Azure: PascalCase names of the Log Analytics tables (`UserPrincipalName`) live in camelCase under `properties`. */
  camelCaseFallback: boolean;
}

const col = (column: string): FieldTarget => ({ column });
const lowerCol = (column: string): FieldTarget => ({ column, lowercased: true });
const rawPath = (path: string): FieldTarget => ({ raw: path });

const CLOUDTRAIL: LogTarget = {
  name: 'aws/cloudtrail',
  table: 'api_activity',
  sources: ['cloudtrail'],
  rawJson: true,
  rawRoots: ['$', '$.detail'],
  fields: {
    eventName: col('activity'),
    eventSource: col('service'),
    eventType: col('event_type'),
    eventID: col('event_id'),
    awsRegion: col('region'),
    sourceIPAddress: col('src_ip'),
    userAgent: col('user_agent'),
    errorCode: col('error_code'),
    errorMessage: col('error_message'),
    recipientAccountId: col('recipient_account'),
    vpcEndpointId: col('vpc_endpoint_id'),
    // Typed columns the ETL fills from the record (etl/sources/cloudtrail/parser.ts): read there, not
    // by parsing the raw JSON of every event (bench/README.md: a JSON path over 1M events is most of a rule's cost).
    readOnly: col('read_only'),
    // As logged, except two normalizations (etl/fields/aws-identity.ts): anonymous callers (type
    // AWSAccount, account anonymous) are 'Anonymous', and service events logged without a type are 'AWSService'.
    'userIdentity.type': col('actor_type'),
    'userIdentity.arn': col('actor_arn'),
    'userIdentity.accessKeyId': rawPath('userIdentity.accessKeyId'),
    'userIdentity.sessionContext.sessionIssuer.arn': col('session_issuer_arn'),
  },
  requestParametersPrefixes: ['requestParameters.'],
  strippedPrefixes: [],
  camelCaseFallback: false,
};

const AZURE_ACTIVITY: LogTarget = {
  name: 'azure/activitylogs',
  table: 'api_activity',
  sources: ['azureactivity'],
  rawJson: true,
  rawRoots: ['$', '$.properties'],
  fields: {
    // The REST shape logs operationName as {value, localizedValue}; the column holds the value in lower case.
    operationName: lowerCol('activity'),
    OperationNameValue: lowerCol('activity'),
    callerIpAddress: col('src_ip'),
    CallerIpAddress: col('src_ip'),
  },
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: true,
};

const ENTRA_AUDIT: LogTarget = {
  name: 'azure/auditlogs',
  table: 'api_activity',
  sources: ['azuread'],
  rawJson: true,
  rawRoots: ['$', '$.properties'],
  fields: {
    operationName: col('activity'),
    OperationName: col('activity'),
    ActivityDisplayName: rawPath('properties.activityDisplayName'),
  },
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: true,
};

const ENTRA_SIGNIN: LogTarget = {
  name: 'azure/signinlogs',
  table: 'authentication',
  sources: ['azuread'],
  rawJson: true,
  rawRoots: ['$', '$.properties'],
  fields: {
    IPAddress: col('src_ip'),
    ipAddress: col('src_ip'),
    UserAgent: col('user_agent'),
    ResultType: rawPath('resultType'),
    ResultDescription: rawPath('resultDescription'),
    Location: rawPath('location'),
  },
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: true,
};

const GCP_AUDIT: LogTarget = {
  name: 'gcp/gcp.audit',
  table: 'api_activity',
  sources: ['gcpaudit'],
  rawJson: true,
  rawRoots: ['$'],
  fields: {
    'gcp.audit.method_name': col('activity'),
    'protoPayload.methodName': col('activity'),
    'gcp.audit.service_name': col('service'),
    'protoPayload.serviceName': col('service'),
    'protoPayload.requestMetadata.callerIp': col('src_ip'),
    'protoPayload.requestMetadata.callerSuppliedUserAgent': col('user_agent'),
    'gcp.audit.resource_name': rawPath('protoPayload.resourceName'),
    'gcp.audit.principal_email': rawPath('protoPayload.authenticationInfo.principalEmail'),
  },
  requestParametersPrefixes: ['protoPayload.request.'],
  strippedPrefixes: ['data.'],
  camelCaseFallback: false,
};

/** Sigma's generic webserver / proxy field names, over ALB, CloudFront and S3 server access logs. */
const WEB_FIELDS: Record<string, FieldTarget> = {
  'c-ip': col('src_ip'),
  'cs-method': col('http_method'),
  'c-uri': col('url'),
  'cs-uri': col('url'),
  'c-uri-stem': col('path'),
  'cs-uri-stem': col('path'),
  'sc-status': col('status'),
  'c-useragent': col('user_agent'),
  'cs-user-agent': col('user_agent'),
  'cs-host': col('host'),
  'cs-referrer': col('referrer'),
  'cs-referer': col('referrer'),
  'cs-bytes': col('bytes_in'),
  'sc-bytes': col('bytes_out'),
  // S3 server access log names.
  remoteip: col('src_ip'),
  operation: col('activity'),
  bucket: col('bucket'),
  key: col('object_key'),
  requester: col('actor_arn'),
  http_status: col('status'),
  useragent: col('user_agent'),
  errorcode: col('error_code'),
};

const webTarget = (name: string, sources: readonly SourceId[]): LogTarget => ({
  name,
  table: 'http_activity',
  sources,
  rawJson: false,
  rawRoots: [],
  fields: WEB_FIELDS,
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: false,
});

/** Sigma's generic firewall names plus the VPC Flow Logs field names. */
const FLOW_FIELDS: Record<string, FieldTarget> = {
  src_ip: col('src_ip'),
  dst_ip: col('dst_ip'),
  src_port: col('src_port'),
  dst_port: col('dst_port'),
  srcaddr: col('src_ip'),
  dstaddr: col('dst_ip'),
  srcport: col('src_port'),
  dstport: col('dst_port'),
  action: col('disposition'),
  'log-status': col('log_status'),
  'interface-id': col('interface_id'),
  'vpc-id': col('vpc_id'),
  'subnet-id': col('subnet_id'),
  'instance-id': col('instance_id'),
  'flow-direction': col('direction'),
  'tcp-flags': col('tcp_flags'),
  'pkt-srcaddr': col('pkt_src_ip'),
  'pkt-dstaddr': col('pkt_dst_ip'),
  'account-id': col('account'),
};

const flowTarget = (name: string, sources: readonly SourceId[], rawJson: boolean): LogTarget => ({
  name,
  table: 'network_activity',
  sources,
  rawJson,
  rawRoots: rawJson ? ['$'] : [],
  fields: FLOW_FIELDS,
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: false,
});

const DNS: LogTarget = {
  name: 'category dns',
  table: 'dns_activity',
  sources: ['route53resolver'],
  rawJson: true,
  rawRoots: ['$'],
  fields: {
    query: col('query_name'),
    query_name: col('query_name'),
    record_type: col('query_type'),
    query_type: col('query_type'),
    answer: col('answers'),
    rcode: col('rcode'),
    srcaddr: col('src_ip'),
    src_ip: col('src_ip'),
    vpc_id: col('vpc_id'),
  },
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: false,
};

const SIGN_INS: LogTarget = {
  name: 'category authentication',
  table: 'authentication',
  sources: ['cloudtrail', 'azuread'],
  rawJson: true,
  rawRoots: ['$'],
  fields: {},
  requestParametersPrefixes: [],
  strippedPrefixes: [],
  camelCaseFallback: false,
};

export interface LogSourceSpec {
  product?: string;
  service?: string;
  category?: string;
}

/** The target of a logsource, or why there is none. */
export function resolveLogSource(spec: LogSourceSpec): LogTarget | { reason: string } {
  const product = spec.product?.toLowerCase();
  const service = spec.service?.toLowerCase();
  const category = spec.category?.toLowerCase();
  if (product === 'aws') {
    if (service === 'cloudtrail') return CLOUDTRAIL;
    if (service === 'vpcflowlogs' || service === 'vpcflow') return flowTarget('aws/vpcflowlogs', ['vpcflow'], false);
    if (service === 'route53' || service === 'route53resolver') return DNS;
    if (service === 'alb' || service === 'elb') return webTarget('aws/alb', ['alb']);
    if (service === 'cloudfront') return webTarget('aws/cloudfront', ['cloudfront']);
    if (service === 's3' || service === 's3access' || service === 's3accesslogs') return webTarget('aws/s3access', ['s3access']);
    if (!service && category === 'dns') return DNS;
    if (!service && category === 'webserver') return webTarget('aws webserver', ['alb', 'cloudfront', 's3access']);
    if (!service && (category === 'firewall' || category === 'network_connection'))
      return flowTarget('aws/vpcflowlogs', ['vpcflow'], false);
  }
  if (product === 'azure') {
    if (service === 'activitylogs') return AZURE_ACTIVITY;
    if (service === 'auditlogs') return ENTRA_AUDIT;
    if (service === 'signinlogs') return ENTRA_SIGNIN;
    if (service === 'nsgflowlogs' || service === 'nsgflow') return flowTarget('azure/nsgflowlogs', ['nsgflow'], true);
  }
  if (product === 'gcp' && service === 'gcp.audit') return GCP_AUDIT;
  if (!product || product === 'aws' || product === 'azure') {
    if (category === 'dns' && !service) return DNS;
    if ((category === 'webserver' || category === 'proxy') && !service)
      return webTarget(`category ${category}`, ['alb', 'cloudfront', 's3access']);
    if ((category === 'firewall' || category === 'network_connection') && !service)
      return flowTarget(`category ${category}`, ['vpcflow', 'nsgflow'], false);
    if (category === 'authentication' && !service) return SIGN_INS;
  }
  const described = Object.entries(spec)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
  return {
    reason: `no lake table holds logsource {${described}}; known: aws/cloudtrail, aws/vpcflowlogs, aws/route53, aws/alb, aws/cloudfront, aws/s3access, azure/activitylogs, azure/auditlogs, azure/signinlogs, azure/nsgflowlogs, gcp/gcp.audit, categories dns, webserver, proxy, firewall, network_connection, authentication`,
  };
}

/** Where a field of a rule lives, or why it cannot be reached. */
export type ResolvedField =
  | { kind: 'column'; column: string; type: string; lowercased: boolean }
  | {
      kind: 'json';
      doc: 'raw' | 'request_parameters';
      roots: readonly string[];
      segments: string[];
      /** A path expression the segments start from instead of the roots (inside one array element, for `|elements`). */
      base?: Frag;
    }
  | { kind: 'unreachable'; reason: string };

/** Partition columns every event table can be filtered on. */
const PARTITIONS: Record<string, string> = { account: 'VARCHAR', region: 'VARCHAR', source: 'VARCHAR' };

function columnType(table: TableName, column: string): string | null {
  if (PARTITIONS[column]) return PARTITIONS[column];
  return TABLES[table].columns.find((c) => c.name === column)?.type ?? null;
}

function lookup(fields: Readonly<Record<string, FieldTarget>>, name: string): FieldTarget | undefined {
  if (Object.hasOwn(fields, name)) return fields[name];
  const lower = name.toLowerCase();
  const key = Object.keys(fields).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : fields[key];
}

/** Splits a dotted field name into JSON keys; `a.b.0.c` keeps `0` as a key (an index into an array is implied by traversal). */
export function fieldSegments(name: string): string[] {
  return name.split('.').filter((s) => s.length > 0);
}

export function resolveField(target: LogTarget, name: string): ResolvedField {
  const mapped = lookup(target.fields, name);
  if (mapped) {
    if ('column' in mapped) {
      const type = columnType(target.table, mapped.column);
      if (!type) return { kind: 'unreachable', reason: `column ${mapped.column} is not in table ${target.table}` };
      return { kind: 'column', column: mapped.column, type, lowercased: mapped.lowercased === true };
    }
    if ('requestParameters' in mapped)
      return { kind: 'json', doc: 'request_parameters', roots: ['$'], segments: fieldSegments(mapped.requestParameters) };
    return jsonField(target, fieldSegments(mapped.raw), name);
  }
  // A lake column by its own name (actor_id, src_ip, disposition…).
  if (hasColumn(target.table, name) || PARTITIONS[name]) {
    return { kind: 'column', column: name, type: columnType(target.table, name) ?? 'VARCHAR', lowercased: false };
  }
  for (const prefix of target.requestParametersPrefixes) {
    if (name.startsWith(prefix) && name.length > prefix.length)
      return { kind: 'json', doc: 'request_parameters', roots: ['$'], segments: fieldSegments(name.slice(prefix.length)) };
  }
  let path = name;
  for (const prefix of target.strippedPrefixes) if (path.startsWith(prefix)) path = path.slice(prefix.length);
  return jsonField(target, fieldSegments(path), name);
}

function jsonField(target: LogTarget, segments: string[], name: string): ResolvedField {
  if (!target.rawJson)
    return {
      kind: 'unreachable',
      reason: `field '${name}' has no column in ${target.table} and ${target.name} keeps its raw record as a text line, not JSON`,
    };
  if (segments.length === 0) return { kind: 'unreachable', reason: `field name '${name}' is empty` };
  const bad = segments.find((s) => s.includes('"') || s.includes('\\') || [...s].some((c) => c.charCodeAt(0) < 0x20));
  if (bad !== undefined)
    return { kind: 'unreachable', reason: `field segment ${JSON.stringify(bad)} has a quote, backslash or control character` };
  if (target.camelCaseFallback && /^[A-Z]/.test(segments[0])) {
    segments = [camelCase(segments[0]), ...segments.slice(1)];
  }
  return { kind: 'json', doc: 'raw', roots: target.rawRoots, segments };
}

/** `UserPrincipalName` → `userPrincipalName`, `IPAddress` → `ipAddress`. */
function camelCase(name: string): string {
  const leadingCaps = /^[A-Z]+/.exec(name)?.[0] ?? '';
  if (leadingCaps.length > 1 && leadingCaps.length < name.length)
    return leadingCaps.slice(0, -1).toLowerCase() + name.slice(leadingCaps.length - 1);
  return name.charAt(0).toLowerCase() + name.slice(1);
}
