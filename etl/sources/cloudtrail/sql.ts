/**
 * CloudTrail in SQL: trail log files (`{"Records":[…]}`, as AWS delivers them) split into their
 * records here, in JavaScript, exactly as the parser's JSON reader splits them (each record's text
 * is the row's `raw`), then mapped by DuckDB in one statement per batch: JSON paths for the fields,
 * `CASE` for outcome and identity (etl/fields/aws-identity.ts), the listed and request-named
 * resources (resources.ts), written once below.
 *
 * The parser stays the reference. A record this mapping is not certain to map as the parser does
 * (not JSON as JavaScript reads it, a duplicate key where the mapping reads, a sign-in (two rows),
 * an EventBridge or pipeline wrapper, a time in another form, an identity type or service-specific
 * resource field not ported here, request parameters whose JSON text JavaScript would write
 * otherwise) is `valid = false`, and the parser reads that record alone (SqlMapping.recordItems),
 * so its rows and quarantine records are the parser's own.
 */
import { REGION_PARTITIONS } from '../../../src/core/arn';
import { isExportLine } from '../../readers/cloudwatch-logs';
import type { ObjectContext, ParsedItem, SourceTable, SqlMapping, SqlPlan, SqlRecord } from '../types';
import { isEventHistoryCsvHeader } from './shapes';

/** What the mapping needs from parser.ts (passed in: parser.ts imports this module). */
export interface CloudTrailSqlDeps {
  /** `eventSource eventName` of the sign-in events (they give a second row: the parser reads them). */
  signIns: readonly string[];
  /** eventName of the calls whose response carries new credentials. */
  credentialIssuing: readonly string[];
  /** What the parser makes of one record of a `Records` array (its text and position). */
  recordItems(text: string, position: string): Iterable<ParsedItem<SourceTable>>;
}

// ---------------------------------------------------------------------------------------------
// Splitting: the parser's JSON reader (etl/readers/json-records.ts) on a `{"Records":[…]}` object.

const SPACE = 32;
const NEWLINE = 10;
const CR = 13;
const TAB = 9;
const BOM = 0xfeff;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The reader's whitespace (not JavaScript's \s: a no-break space is not skipped). */
const isSpace = (c: number) => c === SPACE || c === NEWLINE || c === CR || c === TAB || c === BOM;

/** The reader's envelope test on the object's start, for the key `Records` only. */
const RECORDS_HEAD = /^\{\s*"Records"\s*:\s*\[/;

/**
 * The records of a trail log file: the elements of its `Records` array, each an object, with the
 * position the reader gives it. Null for anything else or anything more (another envelope key
 * after the array, a second envelope, an element that is not an object, truncation): the parser
 * reads such an object whole.
 */
export function splitRecordsEnvelope(text: string): SqlRecord[] | null {
  let pos = 0;
  while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  const head = RECORDS_HEAD.exec(text.slice(pos, pos + 4096));
  if (!head) return null;
  let line = 1;
  for (let i = 0; i < pos + head[0].length; i++) if (text.charCodeAt(i) === NEWLINE) line++;
  pos += head[0].length;
  const records: SqlRecord[] = [];
  const n = text.length;
  for (;;) {
    // Between elements: whitespace and commas, as the reader skips them.
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === NEWLINE) line++;
      else if (!isSpace(c) && c !== COMMA) break;
      pos++;
    }
    if (pos >= n) return null;
    const c = text.charCodeAt(pos);
    if (c === CLOSE_BRACKET) break;
    if (c !== OPEN_BRACE) return null;
    const start = pos;
    const startLine = line;
    let depth = 0;
    while (pos < n) {
      const d = text.charCodeAt(pos);
      if (d === QUOTE) {
        // To the closing quote, over escapes.
        pos++;
        for (;;) {
          const quote = text.indexOf('"', pos);
          if (quote === -1) return null;
          let backslashes = 0;
          for (let b = quote - 1; b >= pos && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
          pos = quote + 1;
          if (backslashes % 2 === 0) break;
        }
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) depth--;
      else if (d === NEWLINE) line++;
      pos++;
      if (depth === 0) break;
    }
    if (depth !== 0) return null;
    records.push({ text: text.slice(start, pos), position: `record ${records.length + 1} (line ${startLine})` });
  }
  // The array's end, the envelope's end, nothing after.
  pos++;
  while (pos < n && isSpace(text.charCodeAt(pos))) pos++;
  if (text.charCodeAt(pos) !== CLOSE_BRACE) return null;
  pos++;
  while (pos < n && isSpace(text.charCodeAt(pos))) pos++;
  return pos === n ? records : null;
}

function plan(text: string): SqlPlan | null {
  // The parser's first tests: a CSV download or a CloudWatch Logs export is not a trail file.
  const firstLine = text.slice(0, 4096).split('\n', 1)[0];
  if (isEventHistoryCsvHeader(firstLine) || isExportLine(firstLine)) return null;
  const records = splitRecordsEnvelope(text);
  return records ? { body: '', firstLine: 1, values: {}, records } : null;
}

// ---------------------------------------------------------------------------------------------
// Mapping.

/**
 * The fields read, as paths into the record's struct (`j`: from_json with every leaf typed JSON, one
 * parse per record) or into its request parameters' (`rp`). A leaf holds the value's JSON text, so
 * its type shows (asString() takes strings only) and ct_str() gives the string.
 */
const PATHS = {
  eventTime: 'j.eventTime',
  eventName: 'j.eventName',
  eventSource: 'j.eventSource',
  eventID: 'j.eventID',
  recipient: 'j.recipientAccountId',
  region: 'j.awsRegion',
  errorCode: 'j.errorCode',
  errorMessage: 'j.errorMessage',
  sourceIp: 'j.sourceIPAddress',
  userAgent: 'j.userAgent',
  eventType: 'j.eventType',
  readOnly: 'j.readOnly',
  vpcEndpoint: 'j.vpcEndpointId',
  uiType: 'j.userIdentity.type',
  uiArn: 'j.userIdentity.arn',
  uiAccount: 'j.userIdentity.accountId',
  uiAccessKey: 'j.userIdentity.accessKeyId',
  uiCredential: 'j.userIdentity.credentialId',
  uiUserName: 'j.userIdentity.userName',
  uiPrincipal: 'j.userIdentity.principalId',
  uiInvokedBy: 'j.userIdentity.invokedBy',
  uiProvider: 'j.userIdentity.identityProvider',
  issuerArn: 'j.userIdentity.sessionContext.sessionIssuer.arn',
  mfaAuthenticated: 'j.userIdentity.sessionContext.attributes.mfaAuthenticated',
  onBehalfOfUser: 'j.userIdentity.onBehalfOf.userId',
  mfaUsed: 'j.additionalEventData.MFAUsed',
  federatedUserArn: 'j.responseElements.federatedUser.arn',
  credentialsKey: 'j.responseElements.credentials.accessKeyId',
  requestParameters: 'j.requestParameters',
  resources: 'j.resources',
  paramsRoleArn: 'rp.roleArn',
  bucketName: 'rp.bucketName',
  objectKey: 'rp.key',
  policyArn: 'rp.policyArn',
} as const;
type Field = keyof typeof PATHS;

/** The from_json structure of the paths under `root` (`j` or `rp`): nested objects, JSON leaves. */
function structure(root: 'j' | 'rp'): string {
  const tree: Record<string, unknown> = {};
  for (const path of Object.values(PATHS)) {
    const [head, ...rest] = path.split('.');
    if (head !== root) continue;
    let node = tree;
    rest.forEach((name, i) => {
      if (i === rest.length - 1) node[name] = 'JSON';
      else node = (node[name] ??= {}) as Record<string, unknown>;
    });
  }
  return `'${JSON.stringify(tree)}'`;
}

/**
 * Objects whose keys are checked for duplicates (JavaScript keeps a duplicate key's last value,
 * DuckDB's JSON paths its first): every object the mapping reads a field of.
 */
const KEYED = [
  '$',
  '$.userIdentity',
  '$.userIdentity.sessionContext',
  '$.userIdentity.sessionContext.sessionIssuer',
  '$.userIdentity.sessionContext.attributes',
  '$.userIdentity.onBehalfOf',
  '$.additionalEventData',
  '$.requestParameters',
  '$.responseElements',
  '$.responseElements.credentials',
  '$.responseElements.federatedUser',
  '$.serviceEventDetails',
] as const;
const keysOf = (path: (typeof KEYED)[number]) => `k[${KEYED.indexOf(path) + 1}]`;

/** A field as asString() reads it: a non-empty string, else null. */
const text = (field: Field) => `ct_str(CAST(${PATHS[field]} AS VARCHAR))`;
/** A field's JSON text (null when absent). */
const json = (field: Field) => `CAST(${PATHS[field]} AS VARCHAR)`;

/**
 * resources.ts's service extractors read these fields (requestParameters, responseElements,
 * serviceEventDetails); a record of such a service that holds any of them is read by the parser.
 * Keep in step with resources.ts (the byte-identity test in test/etl/sql-ingest.test.ts reads its golden file).
 */
const SERVICE_FIELDS: Readonly<Record<string, { params?: string[]; response?: string[]; details?: string[]; events?: string[] }>> = {
  'ec2.amazonaws.com': {
    params: ['groupId', 'instanceId', 'instanceIds', 'instancesSet', 'snapshotId', 'imageId', 'volumeId', 'DeleteFlowLogsRequest'],
    response: ['instanceId', 'instanceIds', 'instancesSet'],
    details: ['snapshotId'],
    events: ['DeleteFlowLogs'],
  },
  'ec2-instance-connect.amazonaws.com': { params: ['instanceId', 'instanceIds', 'instancesSet'] },
  'iam.amazonaws.com': {
    params: ['userName', 'roleName', 'groupName', 'instanceProfileName'],
    response: ['user', 'role', 'group', 'instanceProfile'],
  },
  'secretsmanager.amazonaws.com': { params: ['secretId', 'secretIdList', 'name'], response: ['arn', 'aRN'] },
  'ssm.amazonaws.com': {
    params: ['name', 'path', 'names', 'documentName', 'instanceIds', 'targets', 'target', 'sessionId'],
    response: ['sessionId'],
  },
  'lambda.amazonaws.com': { params: ['functionName', 'layers', 'layerName', 'versionNumber'], response: ['layerVersionArn'] },
  'rds.amazonaws.com': {
    params: [
      'dBSnapshotIdentifier',
      'sourceDBSnapshotIdentifier',
      'targetDBSnapshotIdentifier',
      'dBClusterSnapshotIdentifier',
      'sourceDBClusterSnapshotIdentifier',
      'targetDBClusterSnapshotIdentifier',
      'dBInstanceIdentifier',
      'dBClusterIdentifier',
    ],
  },
  'route53resolver.amazonaws.com': { params: ['resolverQueryLogConfigId', 'resourceId'], response: ['resolverQueryLogConfig'] },
  'rolesanywhere.amazonaws.com': { params: ['trustAnchorId', 'profileId'], response: ['trustAnchor', 'profile'] },
  'bedrock.amazonaws.com': { params: ['modelId'] },
  'guardduty.amazonaws.com': { params: ['detectorId'] },
  'cloudtrail.amazonaws.com': { params: ['name', 'trailName'] },
};

const quoted = (values: readonly string[]) => values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
const sqlList = (values: readonly string[]) => `[${quoted(values)}]`;
const sqlIn = (values: readonly string[]) => `(${quoted(values)})`;

/** Whether a record of a service with an extractor names something it would read. */
function serviceFieldsPresent(): string {
  const cases = Object.entries(SERVICE_FIELDS).map(([service, f]) => {
    const tests = [
      f.params ? `list_has_any(${keysOf('$.requestParameters')}, ${sqlList(f.params)})` : null,
      f.response ? `list_has_any(${keysOf('$.responseElements')}, ${sqlList(f.response)})` : null,
      f.details ? `list_has_any(${keysOf('$.serviceEventDetails')}, ${sqlList(f.details)})` : null,
      f.events ? `event_name IN ${sqlIn(f.events)}` : null,
    ].filter((x): x is string => x !== null);
    return `WHEN '${service}' THEN coalesce(${tests.join(' OR ')}, false)`;
  });
  return `CASE event_source ${cases.join(' ')} ELSE false END`;
}

const partitionOfRegion = (region: string) =>
  `CASE ${REGION_PARTITIONS.map(([prefix, partition]) => `WHEN starts_with(${region}, '${prefix}') THEN '${partition}'`).join(' ')} ELSE 'aws' END`;

/**
 * Macros bind their argument once through a one-element list_transform: DuckDB expands a macro's
 * argument at each use, and nested macros used that way grow into thousands of expression nodes
 * (each with its own vectors: the 96 MB worker ran out of memory).
 */
const SETUP = [
  // asString() of a JSON leaf: a non-empty string's value (unescaped by DuckDB only when it holds an escape).
  `CREATE OR REPLACE TEMP MACRO ct_str(v) AS
     CASE WHEN starts_with(v, '"') AND v <> '""' THEN CASE WHEN contains(v, '\\') THEN json_extract_string(v, '$') ELSE v[2:-2] END END`,
  // partitionOf(arn, region): parseArn()'s partition (`arn:`, six `:`-parts, a partition and a service), else the region's.
  `CREATE OR REPLACE TEMP MACRO ct_partition(arn, region) AS
     list_transform([{'v': arn, 'p': string_split(arn, ':')}], r ->
       CASE WHEN starts_with(r.v, 'arn:') AND len(r.p) >= 6 AND r.p[2] <> '' AND r.p[3] <> '' THEN r.p[2]
            ELSE ${partitionOfRegion('region')} END)[1]`,
  // iamIdentityKey(): an IAM user or role ARN without its path (JavaScript's \`.\` stops at line ends).
  `CREATE OR REPLACE TEMP MACRO ct_iam_key(x) AS
     list_transform([{'v': x, 'p': string_split(x, ':')}], r ->
       CASE WHEN starts_with(r.v, 'arn:') AND len(r.p) >= 6 AND r.p[2] <> '' AND r.p[3] = 'iam' AND r.p[4] = ''
             AND regexp_full_match(array_to_string(r.p[6:], ':'), '(user|role)/([^\\n\\r\\x{2028}\\x{2029}]*/)?[^/]+')
            THEN 'arn:' || r.p[2] || ':iam::' || r.p[5] || ':' || regexp_extract(array_to_string(r.p[6:], ':'), '^(user|role)', 1) || '/'
                 || regexp_extract(r.v, '[^/]+$')
            ELSE r.v END)[1]`,
  // secretKey(): a secret's ARN without Secrets Manager's six random characters.
  `CREATE OR REPLACE TEMP MACRO ct_secret_key(x) AS
     list_transform([{'v': x, 'p': string_split(x, ':')}], r ->
       CASE WHEN starts_with(r.v, 'arn:') AND len(r.p) >= 7 AND r.p[2] <> '' AND r.p[3] = 'secretsmanager' AND r.p[6] = 'secret'
            THEN regexp_replace(r.v, '-[A-Za-z0-9]{6}$', '') ELSE r.v END)[1]`,
  // The resource key of resources.ts add().
  `CREATE OR REPLACE TEMP MACRO ct_resource_key(x) AS list_transform([ct_iam_key(x)], y -> ct_secret_key(y))[1]`,
];

/** Identity types whose handler is ported below (aws-identity.ts); any other type is logged as is (asLogged). */
const PORTED_TYPES = ['Root', 'IAMUser', 'AssumedRole', 'FederatedUser', 'AWSAccount', 'AWSService', 'SAMLUser', 'WebIdentityUser'];
/** Types the parser reads: Identity Center users, and names its handler table would find on Object.prototype. */
const UNPORTED_TYPES = ['IdentityCenterUser', ...Object.getOwnPropertyNames(Object.prototype)];

function select(deps: CloudTrailSqlDeps): string {
  // parseAssumedRoleArn(): the resource after `assumed-role/` of a parseable ARN.
  const assumedRest = `list_transform([string_split(ui_arn, ':')], p ->
      CASE WHEN starts_with(ui_arn, 'arn:') AND len(p) >= 6 AND p[2] <> '' AND p[3] <> '' AND starts_with(array_to_string(p[6:], ':'), 'assumed-role/')
      THEN array_to_string(p[6:], ':')[14:] END)[1]`;
  return `
WITH ct_fields AS NOT MATERIALIZED (
            SELECT obj, n, line_ok, line, k, json_ok,
              -- What JavaScript's JSON.parse and the parser's checks accept, and what this mapping ports.
              NOT regexp_matches(line, ',[ \\t\\n\\r]*[}\\]]|[:,\\[][ \\t\\n\\r]*[-+]?(?i:nan|inf)')
                AND list_bool_and(list_transform(k, x -> x IS NULL OR len(x) = len(list_distinct(x))))
                AND coalesce(list_bool_and(list_transform(entry_keys, x -> x IS NULL OR len(x) = len(list_distinct(x)))), true)
                AND list_has_any(${keysOf('$')}, ['eventVersion', 'eventName', 'eventSource', 'eventTime', 'eventID', 'userIdentity'])
                AND NOT list_has_any(${keysOf('$')}, ['detail-type', 'digestPublicKeyFingerprint', 'logFiles', 'RequestParameters'])
                AND ${text('eventName')} IS NOT NULL AND ${text('eventSource')} IS NOT NULL
                AND (${text('eventSource')} || ' ' || ${text('eventName')}) NOT IN ${sqlIn(deps.signIns)}
                -- Sign-in results (responseElements.<eventName>, serviceEventDetails.<eventName>) are the parser's.
                AND NOT coalesce(list_contains(${keysOf('$.responseElements')}, ${text('eventName')}), false)
                AND NOT coalesce(list_contains(${keysOf('$.serviceEventDetails')}, ${text('eventName')}), false)
                AND (coalesce(${json('requestParameters')}, 'null') = 'null' OR starts_with(${json('requestParameters')}, '{'))
                -- JSON.stringify writes numbers, integer-like keys and \\u escapes its own way: such parameters are the parser's.
                AND NOT coalesce(regexp_matches(${json('requestParameters')}, '[:,\\[]-?[0-9]+[.eE]|[:,\\[]-?[0-9]{16}|[{,]"(0|[1-9][0-9]*)":|\\\\u00'), false)
                AND coalesce(${text('uiType')}, '') NOT IN ${sqlIn(UNPORTED_TYPES)}
                -- Identity Center users logged as another type (or none) are the parser's.
                AND NOT (${text('uiType')} IS NULL AND ${text('uiInvokedBy')} IS NULL AND ${text('onBehalfOfUser')} IS NOT NULL)
                AND NOT (coalesce(${text('uiType')} NOT IN ${sqlIn(PORTED_TYPES)}, false) AND ${text('onBehalfOfUser')} IS NOT NULL)
                AS valid_record,
              -- parseIsoTime() of the form CloudTrail writes (others are the parser's): milliseconds kept, a real date.
              CASE WHEN regexp_full_match(${json('eventTime')}, '"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?Z"')
                   THEN TRY_CAST(replace(${json('eventTime')}[2:20], 'T', ' ') AS TIMESTAMP)
                        + to_milliseconds(CASE WHEN ${json('eventTime')}[21] = '.' THEN CAST(rpad(${json('eventTime')}[22:24], 3, '0') AS INTEGER) ELSE 0 END) END AS event_time,
              ${text('eventName')} AS event_name,
              ${text('eventSource')} AS event_source,
              ${text('eventID')} AS event_id_text,
              ${text('recipient')} AS recipient,
              ${text('region')} AS region,
              ${text('errorCode')} AS error_code,
              ${text('errorMessage')} AS error_message,
              ${text('sourceIp')} AS src_ip,
              ${text('userAgent')} AS user_agent,
              ${text('eventType')} AS event_type,
              ${json('readOnly')} AS read_only_text,
              ${text('vpcEndpoint')} AS vpc_endpoint,
              ${text('uiType')} AS ui_type,
              ${text('uiArn')} AS ui_arn,
              ${text('uiAccount')} AS ui_account,
              ${text('uiAccessKey')} AS ui_access_key,
              ${text('uiCredential')} AS ui_credential,
              ${text('uiUserName')} AS ui_user_name,
              ${text('uiPrincipal')} AS ui_principal,
              ${text('uiInvokedBy')} AS ui_invoked_by,
              ${text('uiProvider')} AS ui_provider,
              ${text('issuerArn')} AS issuer_arn,
              ${text('onBehalfOfUser')} AS on_behalf_of_user,
              CASE WHEN ${json('mfaAuthenticated')} IN ('true', '"true"') THEN true WHEN ${json('mfaAuthenticated')} IN ('false', '"false"') THEN false END AS ui_mfa,
              CASE WHEN ${json('mfaUsed')} IN ('"Yes"', '"yes"', 'true') THEN true WHEN ${json('mfaUsed')} IN ('"No"', '"no"', 'false') THEN false END AS mfa_used,
              ${text('paramsRoleArn')} AS params_role_arn,
              ${text('federatedUserArn')} AS federated_user_arn,
              ${text('credentialsKey')} AS credentials_key,
              ${text('bucketName')} AS bucket_name,
              ${text('objectKey')} AS object_key,
              ${text('policyArn')} AS policy_arn,
              CASE WHEN starts_with(${json('requestParameters')}, '{') THEN ${json('requestParameters')} END AS request_parameters,
              list_filter(list_transform(listed_entries, r -> coalesce(ct_str(CAST(r.ARN AS VARCHAR)), ct_str(CAST(r.arn AS VARCHAR)))), x -> x IS NOT NULL) AS listed
            FROM (
              SELECT *,
                CASE WHEN starts_with(${json('requestParameters')}, '{') THEN from_json(${json('requestParameters')}, ${structure('rp')}) END AS rp,
                -- The listed resources (entries that are not objects read as empty ones), and each entry's keys.
                CASE WHEN starts_with(${json('resources')}, '[') THEN from_json(${json('resources')}, '[{"ARN":"JSON","arn":"JSON"}]') ELSE [] END AS listed_entries,
                CASE WHEN starts_with(${json('resources')}, '[') THEN json_keys(${json('resources')}, '$[*]') ELSE [] END AS entry_keys
              FROM (
                -- Each JSON function holds its parsed documents for the whole vector: as few as possible read the whole record.
                SELECT *, j IS NOT NULL AS json_ok, CASE WHEN j IS NOT NULL THEN json_keys(line, ${sqlList(KEYED)}) END AS k
                FROM (SELECT obj, n, line_ok, line, TRY(from_json(line, ${structure('j')})) AS j FROM sql_lines)
              )
            )
          ),
-- A second stage: each expression holds its strings for a whole vector, so the mapping runs in steps.
ct_actors AS NOT MATERIALIZED (
      SELECT *,
        -- awsActor(): the handler of the identity's type.
        CASE
          WHEN identity_kind = 'Root' THEN coalesce(ui_arn, CASE WHEN actor_account IS NOT NULL THEN 'arn:' || actor_partition || ':iam::' || actor_account || ':root' END)
          WHEN identity_kind = 'IAMUser' THEN CASE WHEN ui_arn IS NOT NULL THEN ct_iam_key(ui_arn)
            WHEN ui_user_name IS NOT NULL AND ui_user_name <> 'HIDDEN_DUE_TO_SECURITY_REASONS' AND actor_account IS NOT NULL
              THEN 'arn:' || actor_partition || ':iam::' || actor_account || ':user/' || ui_user_name END
          WHEN identity_kind = 'AssumedRole' THEN CASE WHEN role_arn IS NOT NULL THEN ct_iam_key(role_arn) ELSE ui_arn END
          WHEN identity_kind = 'FederatedUser' THEN ui_arn
          WHEN identity_kind = 'Anonymous' THEN 'anonymous'
          WHEN identity_kind = 'AWSAccount' THEN 'account:' || ui_account
          WHEN identity_kind = 'AWSService' THEN 'service:' || ui_invoked_by
          WHEN identity_kind = 'SAMLUser' THEN 'saml:' || ui_user_name
          WHEN identity_kind = 'WebIdentityUser' THEN 'webidentity:' || ui_provider || ':' || ui_user_name
          WHEN identity_kind = 'AsLogged' THEN ui_arn
        END AS actor_id,
        CASE identity_kind WHEN 'AWSService' THEN 'AWSService' WHEN 'Anonymous' THEN 'Anonymous' ELSE ui_type END AS actor_type,
        CASE
          WHEN identity_kind = 'Root' THEN coalesce(ui_user_name, 'root')
          WHEN identity_kind IN ('IAMUser', 'SAMLUser', 'WebIdentityUser') THEN ui_user_name
          WHEN identity_kind = 'AssumedRole' THEN assumed_session_name
          WHEN identity_kind = 'FederatedUser' THEN federated_name
          WHEN identity_kind = 'Anonymous' THEN 'anonymous'
          WHEN identity_kind = 'AWSAccount' THEN coalesce(ui_principal, ui_account)
          WHEN identity_kind = 'AWSService' THEN ui_invoked_by
          WHEN identity_kind = 'AsLogged' THEN coalesce(ui_user_name, ui_principal)
        END AS actor_name,
        CASE identity_kind WHEN 'AssumedRole' THEN coalesce(role_arn, issuer_arn) WHEN 'FederatedUser' THEN issuer_arn END AS session_issuer_arn,
        CASE identity_kind WHEN 'AssumedRole' THEN assumed_session_name WHEN 'FederatedUser' THEN federated_name END AS session_name
      FROM (
        SELECT *,
          -- parseAssumedRoleArn(), then the role: the issuer's ARN when it is an IAM role's, else built from the assumed-role ARN.
          CASE WHEN issuer_arn IS NOT NULL AND starts_with(issuer_arn, 'arn:') AND contains(issuer_arn, ':iam::') AND contains(issuer_arn, ':role/') THEN issuer_arn
               WHEN contains(assumed_rest, '/') THEN 'arn:' || string_split(ui_arn, ':')[2] || ':iam::' || string_split(ui_arn, ':')[5] || ':role/' || split_part(assumed_rest, '/', 1)
          END AS role_arn,
          CASE WHEN contains(assumed_rest, '/') THEN assumed_rest[strpos(assumed_rest, '/') + 1:]
               WHEN contains(ui_principal, ':') THEN ui_principal[strpos(ui_principal, ':') + 1:] END AS assumed_session_name,
          CASE WHEN strpos(ui_arn, ':federated-user/') > 0 THEN nullif(ui_arn[strpos(ui_arn, ':federated-user/') + 16:], '') END AS federated_name,
          ct_partition(coalesce(ui_arn, issuer_arn), region) AS actor_partition
        FROM (
          SELECT *,
            ${assumedRest} AS assumed_rest,
            CASE WHEN ui_account = 'ANONYMOUS_PRINCIPAL' THEN NULL ELSE ui_account END AS actor_account,
            ui_arn AS actor_arn,
            coalesce(ui_access_key, ui_credential) AS session_id,
            ${serviceFieldsPresent()} AS service_fields,
            CASE
              WHEN ui_type IS NULL AND ui_invoked_by IS NOT NULL THEN 'AWSService'
              WHEN ui_type = 'AWSAccount' AND ui_account = 'ANONYMOUS_PRINCIPAL' THEN 'Anonymous'
              WHEN ui_type IN ${sqlIn(PORTED_TYPES)} THEN ui_type
              WHEN ui_type IS NULL OR ui_type NOT IN ${sqlIn(UNPORTED_TYPES)} THEN CASE WHEN on_behalf_of_user IS NULL THEN 'AsLogged' END
            END AS identity_kind
          FROM ct_fields
        )
      )
    )
SELECT obj, n, line_ok,
  coalesce(json_ok AND valid_record AND NOT service_fields AND event_time IS NOT NULL, false) AS valid,
  event_time AS time,
  coalesce(event_id_text, sha1(line)) AS event_id,
  event_name AS activity,
  event_source AS service,
  CASE WHEN error_code IS NOT NULL THEN 'failure' ELSE 'success' END AS outcome,
  error_code, error_message,
  actor_id, actor_type, actor_name, actor_arn, actor_account, session_id,
  src_ip, user_agent,
  list_filter(resource_list, (x, i) -> x IS NOT NULL AND list_position(resource_list, x) = i) AS resources,
  line AS raw,
  coalesce(recipient, actor_account, 'unknown') AS account,
  coalesce(region, 'unknown') AS region,
  6003 AS class_uid,
  event_type,
  CASE WHEN read_only_text IN ('true', '"true"') THEN true WHEN read_only_text IN ('false', '"false"') THEN false END AS read_only,
  CASE WHEN ui_mfa IS true OR mfa_used IS true THEN true ELSE coalesce(ui_mfa, mfa_used) END AS mfa,
  session_issuer_arn, session_name,
  CASE WHEN event_name IN ${sqlIn(deps.credentialIssuing)} THEN credentials_key END AS issued_session_id,
  ct_iam_key(coalesce(params_role_arn, federated_user_arn)) AS issued_role_arn,
  recipient AS recipient_account,
  vpc_endpoint AS vpc_endpoint_id,
  request_parameters
FROM (
  SELECT *,
    -- resourceIds(): listed ARNs, then what any service's request names (in the record's partition).
    list_transform(listed, x -> ct_resource_key(x)) || list_transform([
      CASE WHEN bucket_name IS NOT NULL THEN 'arn:' || resource_partition || ':s3:::' || bucket_name END,
      CASE WHEN bucket_name IS NOT NULL AND object_key IS NOT NULL THEN 'arn:' || resource_partition || ':s3:::' || bucket_name || '/' || object_key END,
      CASE WHEN starts_with(params_role_arn, 'arn:') THEN params_role_arn END,
      CASE WHEN starts_with(policy_arn, 'arn:') THEN policy_arn END
    ], x -> ct_resource_key(x)) AS resource_list
  FROM (
    SELECT *,
      ct_partition(coalesce(actor_arn, list_filter(list_transform(listed, x -> ct_resource_key(x)), x -> starts_with(x, 'arn:'))[1]), region) AS resource_partition
    FROM ct_actors
  )
)`;
}

export function cloudTrailSql(deps: CloudTrailSqlDeps): SqlMapping {
  return {
    table: 'api_activity',
    // Byte-identical to the parser but slower than it on this machine (bench/README.md): opt-in until it is not.
    optIn: true,
    objectColumns: {},
    setup: SETUP,
    select: select(deps),
    plan: (text: string, _ctx: ObjectContext) => plan(text),
    recordItems: function* (records) {
      for (const record of records) yield* deps.recordItems(record.text, record.position);
    },
  };
}
