/**
 * Graph materialization: per day, entities (identities, sessions, resources, IPs, accounts,
 * user agents), the edges between them and the day's coverage (records per source, account, region
 * and hour), computed from that day's event tables and published atomically as
 * lake/graph/{entities,edges,coverage}/day=D/part-0.parquet.
 *
 * A pivot then reads these small tables instead of raw events (as Amazon Detective's behavior
 * graph does). The SQL is Trino (Athena engine v3) SQL that DuckDB also runs, given the macros
 * of src/core/trino-compat.ts: `ev`, `iss` and `fnd` are relations of one day's events, issued
 * credentials and other products' findings; on Athena they become CTEs (see graphSqlForAthena).
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { LocalDuckDb, eventTableSelect, findingsTableSelect } from '../src/core/duckdb';
import { REGION_PARTITIONS } from '../src/core/arn';
import { graphDayFile, graphStateFile } from '../src/core/lake-layout';
import { sqlString } from '../src/core/sql';
import { FINDINGS_TABLE, TABLE_NAMES, hasColumn, type TableName } from '../src/core/tables';
import { MANIFESTS } from './sources/manifests';
import { identityColumns } from './sources/types';
import { GRAPH_LIMIT_MAX_MB } from './worker/memory-budget';

export interface MaterializeGraphOptions {
  lake: string;
  /** Days to recompute, YYYY-MM-DD. */
  days: readonly string[];
  /** Folder the graph files are written into, laid out as in the lake (a transaction's staging folder); default: the lake itself. */
  out?: string;
  /**
   * Days to update rather than rebuild: only the batch's files are read, and their state is merged
   * into the day's stored state (`priorState`: a local folder holding its parts, null for none).
   */
  merge?: ReadonlyMap<string, { batch: GraphBatch; priorState: string | null }>;
  /** DuckDB's memory limit for the step, MiB (default GRAPH_LIMIT_MAX_MB, etl/worker/memory-budget.ts); past it, the day's tables spill to disk. */
  memoryLimitMb?: number;
  /** Only update the days' graph state (a pass of several over a day's files): the finished graph files are left to the last. */
  stateOnly?: boolean;
}

export interface MaterializeGraphSummary {
  /** Per day: rows published, and whether the day was rebuilt from all its events or a batch merged into its state. */
  days: { day: string; entities: number; edges: number; mode: 'rebuild' | 'merge' }[];
}

/** A SQL expression rendering `expr` (VARCHAR) as a JSON string literal, or null. Portable: no JSON functions. */
export function jsonString(expr: string): string {
  return `CASE WHEN ${expr} IS NULL THEN 'null' ELSE '"' || replace(replace(${expr}, '\\', '\\\\'), '"', '\\"') || '"' END`;
}
function jsonNumber(expr: string): string {
  return `COALESCE(CAST(${expr} AS VARCHAR), 'null')`;
}
function jsonBool(expr: string): string {
  return `CASE WHEN ${expr} THEN 'true' WHEN NOT ${expr} THEN 'false' ELSE 'null' END`;
}
/** A JSON object text from [key, already-JSON SQL expression] pairs. Keys are constants. */
function jsonObject(fields: [string, string][]): string {
  return `'{' || ${fields.map(([k, v], i) => `'${i ? ',' : ''}"${k}":' || ${v}`).join(' || ')} || '}'`;
}

const IP_PATTERN = `'^([0-9]{1,3}\\.){3}[0-9]{1,3}$|^[0-9a-fA-F]{0,4}:[0-9a-fA-F:.]*$'`;
/** RFC 1918, loopback, link-local, CGNAT, IPv6 ULA / link-local / loopback. */
export const PRIVATE_IP_PATTERN = `'^(10\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|127\\.|169\\.254\\.|100\\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.|[fF][cCdD]|[fF][eE]80:|::1$)'`;

/** Each source's provider (aws, azure, gcp) as its manifest declares it; null for a source this build does not know. */
const PROVIDER = `CASE source ${MANIFESTS.map((m) => `WHEN ${sqlString(m.id)} THEN ${sqlString(m.provider)}`).join(' ')} END`;

/**
 * The API action an event's activity stands for (manifest `actions`: S3 server access `REST.GET.OBJECT`
 * is `GetObject`), else the activity as logged: resource access links are filed under the action,
 * so one request seen by CloudTrail and by the server access log is one link with two sources.
 */
const API_ACTION = (() => {
  const renaming = MANIFESTS.filter((m) => m.actions && Object.keys(m.actions).length > 0);
  if (renaming.length === 0) return 'activity';
  const perSource = renaming.map(
    (m) =>
      `WHEN ${sqlString(m.id)} THEN CASE activity ${Object.entries(m.actions ?? {})
        .map(([logged, action]) => `WHEN ${sqlString(logged)} THEN ${sqlString(action)}`)
        .join(' ')} ELSE activity END`,
  );
  return `CASE source ${perSource.join(' ')} ELSE activity END`;
})();

const has = hasColumn;
/** A typed NULL list both dialects accept (Trino has no `VARCHAR[]` cast). */
const NULL_LIST = 'CASE WHEN false THEN ARRAY[CAST(NULL AS VARCHAR)] END';
function colOrNull(table: TableName, column: string, type: string): string {
  return has(table, column) ? column : `CAST(NULL AS ${type})`;
}

/**
 * The columns that say two rows of the two tables are the same event: the partition and the
 * identity columns of every source writing both (CloudTrail: eventID and time in its account and
 * region). An event id alone is not enough: a dataset whose records share one eventID would have
 * every call of a day with a sign-in hidden from the graph.
 */
const SIGN_IN_IDENTITY = [
  'source',
  'account',
  'region',
  ...new Set(
    MANIFESTS.filter((m) => m.tables.some((t) => t === 'api_activity') && m.tables.some((t) => t === 'authentication')).flatMap((m) =>
      identityColumns(m),
    ),
  ),
].map((c) => `a."${c}" = api_activity."${c}"`);

/**
 * A console sign-in lands in both api_activity and authentication; the graph counts it once
 * (as the authentication row). The anti-join binds the day once more.
 */
const DEDUPE_SIGN_INS = `
    AND NOT EXISTS (SELECT 1 FROM authentication a WHERE a.day = CAST(? AS DATE) AND ${SIGN_IN_IDENTITY.join(' AND ')})`;

/** One day's events of every class, reduced to the columns the graph needs. Every `?` is the day (GRAPH_EVENTS_PARAMS of them). */
export const GRAPH_EVENTS_SQL = TABLE_NAMES.map(
  (t) => `SELECT source, account, region, time, event_id, COALESCE(${API_ACTION}, 'unknown') AS activity, actor_id, actor_type, actor_name,
    actor_arn, actor_account, session_id, src_ip, ${colOrNull(t, 'dst_ip', 'VARCHAR')} AS dst_ip, user_agent, resources,
    ${colOrNull(t, 'session_name', 'VARCHAR')} AS session_name, ${colOrNull(t, 'mfa', 'BOOLEAN')} AS mfa,
    ${colOrNull(t, 'issued_session_id', 'VARCHAR')} AS issued_session_id,
    ${colOrNull(t, 'query_name', 'VARCHAR')} AS query_name, ${t === 'network_activity' ? 'true' : 'false'} AS is_flow,
    ${colOrNull(t, 'bytes', 'BIGINT')} AS bytes, ${colOrNull(t, 'packets', 'BIGINT')} AS packets,
    ${colOrNull(t, 'interface_id', 'VARCHAR')} AS interface_id, ${colOrNull(t, 'instance_id', 'VARCHAR')} AS instance_id,
    ${has(t, 'answers') ? 'answers' : NULL_LIST} AS answers,
    ${PROVIDER} AS provider, src_country, src_asn, src_as_org, src_is_cloud,
    COALESCE(regexp_like(src_ip, ${IP_PATTERN}), false) AS src_is_ip,
    COALESCE(regexp_like(${colOrNull(t, 'dst_ip', 'VARCHAR')}, ${IP_PATTERN}), false) AS dst_is_ip
  FROM ${t} WHERE day = CAST(? AS DATE)${t === 'api_activity' ? DEDUPE_SIGN_INS : ''}`,
).join('\nUNION ALL\n');

export const GRAPH_EVENTS_PARAMS = TABLE_NAMES.length + 1;

/** Credentials issued that day (AssumeRole*, GetSessionToken, GetFederationToken…). One `?`: the day. */
export const GRAPH_ISSUED_SQL = `SELECT issued_session_id, max(issued_role_arn) AS issued_role_arn, max(actor_id) AS issuer_id,
    max(session_id) AS issuer_session, max(src_ip) AS src_ip, max(mfa) AS issuer_mfa, min(time) AS time,
    max(event_id) AS event_id, max(activity) AS activity, max(source) AS source,
    -- session_name is the caller's; the new session's name is in the request.
    max(json_extract_scalar(request_parameters, '$.roleSessionName')) AS issued_session_name,
    max(COALESCE(recipient_account, account)) AS account, max(${PROVIDER}) AS provider,
    -- Who vouched for a SAML federation (Entra ID: https://sts.windows.net/<tenant>/); only read for those calls.
    max(CASE WHEN activity = 'AssumeRoleWithSAML' THEN json_extract_scalar(raw, '$.responseElements.issuer') END) AS saml_issuer
  FROM api_activity WHERE day = CAST(? AS DATE) AND issued_session_id IS NOT NULL
  GROUP BY issued_session_id`;

/**
 * Other products' findings (GuardDuty, Security Hub) of the day: they name identities, access keys,
 * addresses, resources and accounts that the day's events may never show (a scanner probing an
 * instance, a key used from outside while CloudTrail is not ingested). The graph gives each an entity
 * (no events of its own: event_count 0) and links the finding to them, so a pivot reaches the finding
 * and the finding its entities. ScoutQL's own findings name only what the events already hold. One `?`: the day.
 */
export const GRAPH_FINDINGS_SQL = `SELECT source, account, region, finding_key, first_seen, last_seen, actor_id, session_id, src_ip, resources,
    ${PROVIDER} AS provider, COALESCE(regexp_like(src_ip, ${IP_PATTERN}), false) AS src_is_ip
  FROM (
    SELECT product AS source, account, region, product || ':' || finding_id AS finding_key, first_seen, last_seen,
      actor_id, session_id, src_ip, resources
    FROM findings WHERE day = CAST(? AS DATE) AND product <> 'scoutql'
  ) product_findings`;

/** A resource's kind from its id (service:type of an ARN; S3 buckets and objects told apart). */
const RESOURCE_KIND = `CASE WHEN regexp_like(id, '^arn:[^:]+:s3:::.*/') THEN 's3:object'
              WHEN regexp_like(id, '^arn:[^:]+:s3:::') THEN 's3:bucket'
              WHEN id LIKE 'arn:%' THEN regexp_extract(id, '^arn:[^:]*:([^:]*):', 1) || ':' || regexp_extract(id, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:([^/:]*)', 1)
              ELSE 'other' END`;

const ROLE_OR_USER_NAME = `nullif(regexp_extract(id, '^arn:[^:]*:iam::[0-9]*:(user|role)/(.*/)?([^/]+)$', 3), '')`;

/**
 * List attributes (an identity's `names`, an address's `sources`) keep their first GRAPH_ATTR_VALUES
 * distinct values in sort order, on every path: the full-day SQL (Athena) and the mergeable state (DuckDB).
 */
export const GRAPH_ATTR_VALUES = 100;

/**
 * A list attribute in the full-day SQL: the first GRAPH_ATTR_VALUES distinct JSON strings of `expr`
 * in sort order, as JSON array text ('[]' for none). The same values the state's BOUNDED_VALUES keeps.
 */
const BOUNDED_JSON_LIST = (expr: string) =>
  `COALESCE('[' || array_join(slice(array_agg(DISTINCT ${jsonString(expr)} ORDER BY ${jsonString(expr)}) FILTER (WHERE ${expr} IS NOT NULL), 1, ${GRAPH_ATTR_VALUES}), ',') || ']', '[]')`;

/** Entities of the day, over relations `ev` (GRAPH_EVENTS_SQL), `iss` (GRAPH_ISSUED_SQL) and `fnd` (GRAPH_FINDINGS_SQL). */
export const GRAPH_ENTITIES_SQL = `
WITH finding_times AS (
  -- A finding's entities were seen from its first to its last activity.
  SELECT f.*, t FROM fnd f CROSS JOIN UNNEST(ARRAY[f.first_seen, f.last_seen]) AS s(t)
),
identity_rows AS (
  SELECT actor_id AS id, actor_type AS kind, provider, COALESCE(actor_account, account) AS account, actor_name AS name,
         actor_arn AS arn, time, 1 AS n FROM ev WHERE actor_id IS NOT NULL
  UNION ALL
  SELECT issued_role_arn, CASE WHEN issued_role_arn LIKE '%:role/%' THEN 'AssumedRole' ELSE NULL END, provider,
         regexp_extract(issued_role_arn, '^arn:[^:]*:[^:]*:[^:]*:([0-9]*):', 1), NULL, issued_role_arn, time, 0
  FROM iss WHERE issued_role_arn IS NOT NULL
  UNION ALL
  SELECT actor_id,
         CASE WHEN actor_id LIKE '%:user/%' THEN 'IAMUser' WHEN actor_id LIKE '%:role/%' THEN 'AssumedRole' WHEN actor_id LIKE '%:root' THEN 'Root' END,
         provider, COALESCE(nullif(regexp_extract(actor_id, '^arn:[^:]*:[^:]*:[^:]*:([0-9]*):', 1), ''), account), NULL,
         CASE WHEN actor_id LIKE 'arn:%' THEN actor_id END, t, 0
  FROM finding_times WHERE actor_id IS NOT NULL
),
identities AS (
  SELECT 'Identity' AS type, id, max(kind) AS kind, max(provider) AS provider, max(account) AS account,
         COALESCE(${ROLE_OR_USER_NAME}, max(name)) AS name,
         CASE WHEN id LIKE 'arn:%' THEN id ELSE max(arn) END AS arn,
         min(time) AS first_seen, max(time) AS last_seen, sum(n) AS event_count,
         ${jsonObject([['names', BOUNDED_JSON_LIST('name')]])} AS attrs
  FROM identity_rows GROUP BY id
),
used AS (
  SELECT session_id AS id, max(actor_id) AS identity, max(provider) AS provider, max(COALESCE(actor_account, account)) AS account,
         max(session_name) AS session_name,
         max(mfa) AS mfa, min(time) AS first_seen, max(time) AS last_seen, count(*) AS n
  FROM ev WHERE session_id IS NOT NULL GROUP BY session_id
),
named_sessions AS (
  SELECT session_id AS id, max(actor_id) AS identity, max(provider) AS provider, max(account) AS account,
         min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM fnd WHERE session_id IS NOT NULL GROUP BY session_id
),
session_keys AS (SELECT id FROM used UNION SELECT issued_session_id FROM iss UNION SELECT id FROM named_sessions),
sessions AS (
  SELECT 'Session' AS type, k.id,
         CASE WHEN k.id LIKE 'ASIA%' THEN 'temporary' WHEN k.id LIKE 'AKIA%' THEN 'access-key' ELSE 'session' END AS kind,
         COALESCE(i.provider, u.provider, f.provider) AS provider, COALESCE(u.account, i.account, f.account) AS account,
         COALESCE(u.session_name, i.issued_session_name) AS name, COALESCE(i.issued_role_arn, u.identity, f.identity) AS arn,
         -- Seen in events, else in the findings that name it.
         COALESCE(CASE WHEN i.time IS NOT NULL AND (u.first_seen IS NULL OR i.time < u.first_seen) THEN i.time ELSE u.first_seen END, f.first_seen) AS first_seen,
         COALESCE(CASE WHEN i.time IS NOT NULL AND (u.last_seen IS NULL OR i.time > u.last_seen) THEN i.time ELSE u.last_seen END, f.last_seen) AS last_seen,
         COALESCE(u.n, 0) AS event_count,
         ${jsonObject([
           ['identity', jsonString('COALESCE(u.identity, i.issued_role_arn, f.identity)')],
           ['mfa', jsonBool('u.mfa')],
           ['issued', jsonBool('i.issued_session_id IS NOT NULL')],
           ['issuer_identity', jsonString('i.issuer_id')],
           ['issuer_session', jsonString('i.issuer_session')],
           ['role_arn', jsonString('i.issued_role_arn')],
           ['source_ip', jsonString('i.src_ip')],
           ['issuer_mfa', jsonBool('i.issuer_mfa')],
           ['issued_at', jsonString('CAST(i.time AS VARCHAR)')],
           ['issued_event_id', jsonString('i.event_id')],
           ['issued_by_action', jsonString('i.activity')],
         ])} AS attrs
  FROM session_keys k LEFT JOIN used u ON u.id = k.id LEFT JOIN iss i ON i.issued_session_id = k.id LEFT JOIN named_sessions f ON f.id = k.id
),
ip_rows AS (
  SELECT src_ip AS ip, time, source, src_country AS country, src_asn AS asn, src_as_org AS as_org, src_is_cloud AS is_cloud, 1 AS n FROM ev WHERE src_is_ip
  -- An address's events: each record once, though it be both ends of a flow.
  UNION ALL SELECT dst_ip, time, source, NULL, NULL, NULL, NULL, 1 FROM ev WHERE dst_is_ip AND NOT (src_is_ip AND src_ip = dst_ip)
  -- The issuing call is already one of the address's events (in ev): it counts once.
  UNION ALL SELECT src_ip, time, CAST(NULL AS VARCHAR), NULL, NULL, NULL, NULL, 0 FROM iss WHERE regexp_like(src_ip, ${IP_PATTERN})
  UNION ALL SELECT src_ip, t, source, NULL, NULL, NULL, NULL, 0 FROM finding_times WHERE src_is_ip
),
ips AS (
  SELECT 'IPAddress' AS type, ip AS id, CASE WHEN regexp_like(ip, ${PRIVATE_IP_PATTERN}) THEN 'private' ELSE 'public' END AS kind,
         CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS account, ip AS name, CAST(NULL AS VARCHAR) AS arn,
         min(time) AS first_seen, max(time) AS last_seen, sum(n) AS event_count,
         ${jsonObject([
           ['private', jsonBool(`regexp_like(ip, ${PRIVATE_IP_PATTERN})`)],
           // Which logs saw the address (API calls, sign-ins, flows, DNS…): the days' lists are merged.
           ['sources', BOUNDED_JSON_LIST('source')],
           // Where the address is (the ingest's GeoIP / ASN enrichment of the rows it was the source of).
           ['country', jsonString('max(country)')],
           ['asn', jsonNumber('max(asn)')],
           ['as_org', jsonString('max(as_org)')],
           ['cloud', jsonBool('bool_or(is_cloud)')],
         ])} AS attrs
  FROM ip_rows GROUP BY ip
),
resource_rows AS (
  SELECT r AS id, provider, account, time, 1 AS n FROM ev CROSS JOIN UNNEST(resources) AS u(r)
  UNION ALL SELECT r, provider, account, t, 0 FROM finding_times CROSS JOIN UNNEST(resources) AS u(r)
),
resources AS (
  SELECT 'Resource' AS type, id, ${RESOURCE_KIND} AS kind,
         max(provider) AS provider,
         COALESCE(nullif(regexp_extract(id, '^arn:[^:]*:[^:]*:[^:]*:([0-9]+):', 1), ''), max(account)) AS account,
         regexp_extract(id, '([^/:]+)/?$', 1) AS name,
         CASE WHEN id LIKE 'arn:%' THEN id ELSE NULL END AS arn,
         min(time) AS first_seen, max(time) AS last_seen, sum(n) AS event_count, '{}' AS attrs
  FROM resource_rows GROUP BY id
),
account_rows AS (
  SELECT account AS id, provider, time, 1 AS n FROM ev WHERE account IS NOT NULL
  UNION ALL SELECT actor_account, provider, time, 1 FROM ev WHERE actor_account IS NOT NULL AND actor_account <> account
  UNION ALL SELECT account, provider, t, 0 FROM finding_times WHERE account IS NOT NULL
),
accounts AS (
  SELECT 'Account' AS type, id, CAST(NULL AS VARCHAR) AS kind, max(provider) AS provider, id AS account, id AS name,
         CAST(NULL AS VARCHAR) AS arn, min(time) AS first_seen, max(time) AS last_seen, sum(n) AS event_count, '{}' AS attrs
  FROM account_rows GROUP BY id
),
agents AS (
  SELECT 'UserAgent' AS type, user_agent AS id, CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS provider,
         CAST(NULL AS VARCHAR) AS account, user_agent AS name, CAST(NULL AS VARCHAR) AS arn,
         min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count, '{}' AS attrs
  FROM ev WHERE user_agent IS NOT NULL GROUP BY user_agent
)
SELECT type, id, kind, provider, account, name, arn, first_seen, last_seen, CAST(event_count AS BIGINT) AS event_count, attrs FROM (
  SELECT * FROM identities UNION ALL SELECT * FROM sessions UNION ALL SELECT * FROM ips
  UNION ALL SELECT * FROM resources UNION ALL SELECT * FROM accounts UNION ALL SELECT * FROM agents
) all_entities
ORDER BY type, id`;

/** The AWS partition of a region (src/core/arn.ts's table) as SQL: the ARNs built here follow the data's partition. */
const PARTITION_OF = (region: string) =>
  `CASE ${REGION_PARTITIONS.map(([prefix, partition]) => `WHEN ${region} LIKE ${sqlString(`${prefix}%`)} THEN ${sqlString(partition)}`).join(' ')} ELSE 'aws' END`;
const INSTANCE_ARN = (region: string, account: string, instanceId: string) =>
  `'arn:' || ${PARTITION_OF(region)} || ':ec2:' || ${region} || ':' || ${account} || ':instance/' || ${instanceId}`;
const ENI_ARN = (region: string, account: string, interfaceId: string) =>
  `'arn:' || ${PARTITION_OF(region)} || ':ec2:' || ${region} || ':' || ${account} || ':network-interface/' || ${interfaceId}`;
const ENTRA_SAML_ISSUER = `'^https://(sts\\.windows\\.net|login\\.microsoftonline\\.com)/'`;

/**
 * Edges that join sources (over `ev` and `iss`):
 * - federated_into / federated_as: an Entra ID user (`azuread:<upn>`) to the AWS session and role an
 *   AssumeRoleWithSAML issued for them, and to the SAML subject CloudTrail names. The UPN matches the
 *   SAML subject or the role session name, case-insensitively; the call counts when Entra ID issued the
 *   assertion or the Entra user is in that day's events.
 * - has_interface: an instance to its network interfaces (ENIs), so an instance reaches its flows. Flow
 *   records that name the instance say so directly; default-format VPC flow logs do not, so an ENI is
 *   tied to the instance whose DNS queries (Resolver logs name the instance) come from the one private
 *   address every flow record of that ENI carries. Ambiguous ties are left out rather than guessed.
 * - has_address: an instance to the private addresses it used (Resolver queries, tied ENIs).
 * - queried (instance → domain) and resolves_to (domain → address, from the answers).
 */
const CROSS_SOURCE_EDGES = `
saml AS (
  SELECT issued_session_id, issued_role_arn, issuer_id, time, saml_issuer, source,
         lower(substr(issuer_id, 6)) AS subject, lower(issued_session_name) AS session_name
  FROM iss WHERE activity = 'AssumeRoleWithSAML' AND issuer_id LIKE 'saml:%'
),
entra_seen AS (SELECT DISTINCT actor_id AS id FROM ev WHERE actor_id LIKE 'azuread:%'),
federations AS (
  SELECT 'azuread:' || subject AS person, issued_session_id, issued_role_arn, issuer_id, time, source
  FROM saml WHERE COALESCE(regexp_like(saml_issuer, ${ENTRA_SAML_ISSUER}), false) AND subject <> ''
  UNION
  SELECT e.id, s.issued_session_id, s.issued_role_arn, s.issuer_id, s.time, s.source
  FROM saml s JOIN entra_seen e ON e.id = 'azuread:' || s.subject OR e.id = 'azuread:' || s.session_name
),
aws_flows AS (
  SELECT account, region, interface_id, instance_id, src_ip, dst_ip, time, event_id, source
  FROM ev WHERE is_flow AND provider = 'aws' AND interface_id LIKE 'eni-%'
),
eni_records AS (
  SELECT account, region, interface_id, count(*) AS n FROM aws_flows WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL
  GROUP BY account, region, interface_id
),
eni_address_hits AS (
  SELECT account, region, interface_id, ip, count(*) AS n FROM (
    SELECT account, region, interface_id, src_ip AS ip FROM aws_flows WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL
    UNION ALL
    SELECT account, region, interface_id, dst_ip FROM aws_flows WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND dst_ip <> src_ip
  ) a GROUP BY account, region, interface_id, ip
),
eni_own_candidates AS (
  SELECT h.account, h.region, h.interface_id, h.ip
  FROM eni_address_hits h JOIN eni_records r ON r.account = h.account AND r.region = h.region AND r.interface_id = h.interface_id
  WHERE h.n = r.n AND regexp_like(h.ip, ${PRIVATE_IP_PATTERN})
),
eni_address AS (
  SELECT account, region, interface_id, max(ip) AS ip FROM eni_own_candidates
  GROUP BY account, region, interface_id HAVING count(*) = 1
),
instance_addresses AS (
  SELECT DISTINCT account, region, instance_id, src_ip AS ip FROM ev
  WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND src_is_ip AND provider = 'aws'
),
eni_instance_by_address AS (
  SELECT e.account, e.region, e.interface_id, max(i.instance_id) AS instance_id
  FROM eni_address e JOIN instance_addresses i ON i.account = e.account AND i.region = e.region AND i.ip = e.ip
  GROUP BY e.account, e.region, e.interface_id HAVING count(DISTINCT i.instance_id) = 1
),
eni_instance AS (
  SELECT DISTINCT account, region, interface_id, instance_id FROM aws_flows WHERE instance_id LIKE 'i-%'
  UNION
  SELECT account, region, interface_id, instance_id FROM eni_instance_by_address
),
cross_pairs AS (
  SELECT 'Identity' AS src_type, person AS src_id, 'federated_into' AS rel, 'Session' AS dst_type, issued_session_id AS dst_id, time, source FROM federations
  UNION ALL SELECT 'Identity', person, 'federated_into', 'Identity', issued_role_arn, time, source FROM federations WHERE issued_role_arn IS NOT NULL
  UNION ALL SELECT 'Identity', person, 'federated_as', 'Identity', issuer_id, time, source FROM federations
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('m.region', 'm.account', 'm.instance_id')}, 'has_interface', 'Resource', ${ENI_ARN('f.region', 'f.account', 'f.interface_id')}, f.time, f.source
    FROM aws_flows f JOIN eni_instance m ON m.account = f.account AND m.region = f.region AND m.interface_id = f.interface_id
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('m.region', 'm.account', 'm.instance_id')}, 'has_address', 'IPAddress', a.ip, f.time, f.source
    FROM aws_flows f JOIN eni_instance m ON m.account = f.account AND m.region = f.region AND m.interface_id = f.interface_id
    JOIN eni_address a ON a.account = f.account AND a.region = f.region AND a.interface_id = f.interface_id
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('region', 'account', 'instance_id')}, 'has_address', 'IPAddress', src_ip, time, source FROM ev
    WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND src_is_ip AND provider = 'aws'
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('region', 'account', 'instance_id')}, 'queried', 'Domain', query_name, time, source FROM ev
    WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND provider = 'aws'
  UNION ALL SELECT 'Domain', query_name, 'resolves_to', 'IPAddress', answer, time, source FROM ev CROSS JOIN UNNEST(answers) AS u(answer)
    WHERE query_name IS NOT NULL AND regexp_like(answer, ${IP_PATTERN})
)`;

/**
 * Edges of other products' findings (over `fnd`), with the product as their source and no events
 * (event_count 0): the finding (`Finding`, id `<product>:<finding_id>`) `names` each entity it is
 * about, and what the finding says of them links them as events would (the key's principal `uses`
 * it; the principal and the key called `from_ip` the remote address of an API-call finding).
 */
const FINDING_EDGES = `
finding_pairs AS (
  SELECT 'Finding' AS src_type, finding_key AS src_id, 'names' AS rel, 'Identity' AS dst_type, actor_id AS dst_id, first_seen, last_seen, source
    FROM fnd WHERE actor_id IS NOT NULL
  UNION ALL SELECT 'Finding', finding_key, 'names', 'Session', session_id, first_seen, last_seen, source FROM fnd WHERE session_id IS NOT NULL
  UNION ALL SELECT 'Finding', finding_key, 'names', 'IPAddress', src_ip, first_seen, last_seen, source FROM fnd WHERE src_is_ip
  UNION ALL SELECT 'Finding', finding_key, 'names', 'Resource', r, first_seen, last_seen, source FROM fnd CROSS JOIN UNNEST(resources) AS u(r)
  UNION ALL SELECT 'Finding', finding_key, 'names', 'Account', account, first_seen, last_seen, source FROM fnd WHERE account IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, 'uses', 'Session', session_id, first_seen, last_seen, source FROM fnd
    WHERE actor_id IS NOT NULL AND session_id IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, 'from_ip', 'IPAddress', src_ip, first_seen, last_seen, source FROM fnd WHERE actor_id IS NOT NULL AND src_is_ip
  UNION ALL SELECT 'Session', session_id, 'from_ip', 'IPAddress', src_ip, first_seen, last_seen, source FROM fnd WHERE session_id IS NOT NULL AND src_is_ip
)`;

/** What one event links by itself (identity, session, address, resources, agent, region, account, domain): one row per pair. */
const EVENT_PAIRS = `
  SELECT 'Identity' AS src_type, actor_id AS src_id, 'from_ip' AS rel, 'IPAddress' AS dst_type, src_ip AS dst_id, time, source FROM ev WHERE actor_id IS NOT NULL AND src_is_ip
  UNION ALL SELECT 'Identity', actor_id, 'uses', 'Session', session_id, time, source FROM ev WHERE actor_id IS NOT NULL AND session_id IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, 'user_agent', 'UserAgent', user_agent, time, source FROM ev WHERE actor_id IS NOT NULL AND user_agent IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, 'in_region', 'Region', region, time, source FROM ev WHERE actor_id IS NOT NULL AND region IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, 'in_account', 'Account', account, time, source FROM ev WHERE actor_id IS NOT NULL AND account IS NOT NULL
  UNION ALL SELECT 'Identity', actor_id, activity, 'Resource', r, time, source FROM ev CROSS JOIN UNNEST(resources) AS u(r) WHERE actor_id IS NOT NULL
  UNION ALL SELECT 'Session', session_id, activity, 'Resource', r, time, source FROM ev CROSS JOIN UNNEST(resources) AS u(r) WHERE session_id IS NOT NULL
  UNION ALL SELECT 'IPAddress', src_ip, activity, 'Resource', r, time, source FROM ev CROSS JOIN UNNEST(resources) AS u(r) WHERE src_is_ip
  UNION ALL SELECT 'Session', session_id, 'from_ip', 'IPAddress', src_ip, time, source FROM ev WHERE session_id IS NOT NULL AND src_is_ip
  UNION ALL SELECT 'Session', session_id, 'user_agent', 'UserAgent', user_agent, time, source FROM ev WHERE session_id IS NOT NULL AND user_agent IS NOT NULL
  UNION ALL SELECT 'IPAddress', src_ip, 'queried', 'Domain', query_name, time, source FROM ev WHERE src_is_ip AND query_name IS NOT NULL
`;

/** Edges of the day. `rel` names the relation; for resource access it is the action (API name). Flow edges carry bytes and packets. */
export const GRAPH_EDGES_SQL = `
WITH ${CROSS_SOURCE_EDGES.trim()},
${FINDING_EDGES.trim()},
pairs AS (
  ${EVENT_PAIRS.trim()}
  UNION ALL SELECT 'Identity', issuer_id, 'issued', 'Session', issued_session_id, time, source FROM iss WHERE issuer_id IS NOT NULL
  UNION ALL SELECT 'Session', issued_session_id, 'issued_by', 'Session', issuer_session, time, source FROM iss WHERE issuer_session IS NOT NULL
  UNION ALL SELECT 'Session', issued_session_id, 'issued_from_ip', 'IPAddress', src_ip, time, source FROM iss WHERE regexp_like(src_ip, ${IP_PATTERN})
  UNION ALL SELECT * FROM cross_pairs
)
SELECT src_type, src_id, rel, dst_type, dst_id, min(time) AS first_seen, max(time) AS last_seen, CAST(count(*) AS BIGINT) AS event_count,
       CAST(NULL AS BIGINT) AS bytes, CAST(NULL AS BIGINT) AS packets, source
FROM pairs GROUP BY src_type, src_id, rel, dst_type, dst_id, source
UNION ALL
SELECT 'IPAddress', src_ip, 'flow', 'IPAddress', dst_ip, min(time), max(time), CAST(count(*) AS BIGINT),
       CAST(sum(bytes) AS BIGINT), CAST(sum(packets) AS BIGINT), source
FROM ev WHERE is_flow AND src_is_ip AND dst_is_ip GROUP BY src_ip, dst_ip, source
UNION ALL
SELECT src_type, src_id, rel, dst_type, dst_id, min(first_seen), max(last_seen), CAST(0 AS BIGINT),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), source
FROM finding_pairs GROUP BY src_type, src_id, rel, dst_type, dst_id, source
ORDER BY src_type, src_id, rel, dst_type, dst_id, source`;

/**
 * The lake's own map for the day (over `ev`): records per source, account, region and hour, so the
 * API can say what the lake holds, and where it falls silent, without scanning the events.
 */
export const GRAPH_COVERAGE_SQL = `
WITH hours AS (SELECT source, account, region, date_trunc('hour', time) AS hour, time FROM ev)
SELECT source, account, region, hour, CAST(count(*) AS BIGINT) AS records, min(time) AS first_seen, max(time) AS last_seen
FROM hours GROUP BY source, account, region, hour
ORDER BY source, account, region, hour`;

/** The day's graph queries as single statements over the event tables, for engines without temp tables (Athena). */
export function graphSqlForAthena(): { entities: string; edges: string; coverage: string; paramsPerDay: number } {
  const withDayInputs = (body: string) =>
    `WITH ev AS (${GRAPH_EVENTS_SQL}), iss AS (${GRAPH_ISSUED_SQL}), fnd AS (${GRAPH_FINDINGS_SQL}), ${body.trim().slice('WITH '.length)}`;
  return {
    entities: withDayInputs(GRAPH_ENTITIES_SQL),
    edges: withDayInputs(GRAPH_EDGES_SQL),
    coverage: withDayInputs(GRAPH_COVERAGE_SQL),
    paramsPerDay: GRAPH_EVENTS_PARAMS + 2,
  };
}

/**
 * The graph as mergeable state (issue #14: graph maintenance at scale). A day's graph files are
 * finished from partial aggregates, and partial aggregates merge: two batches' states, merged, are
 * the state of both batches read at once. So a commit reads only its own new event files, merges
 * their state into the day's stored state (`_graph_state/day=D/`), and finishes the day's entities
 * and edges from it; a full rebuild is the same path with every event file of the day and no prior
 * state. Everything a finished row needs is kept per key in a form that merges exactly:
 *
 * - counts add; first_seen is the min and last_seen the max; other columns take the max (as the
 *   full-day SQL above does);
 * - list attributes (an identity's `names`, an address's `sources`) keep their first
 *   GRAPH_ATTR_VALUES distinct values in sort order: the first N of a union are the first N of
 *   the two sides' first N, so the bound merges exactly (the 86 KB of names a day the issue saw
 *   become at most 100);
 * - what needs a join across batches is kept as its inputs, joined when finishing: issued
 *   credentials (`st_iss`, one row per session id), the ENI / instance / address facts of flows
 *   and DNS queries (`st_link`), and sessions' three sides (used in events, issued, named in
 *   findings) as separate rows;
 * - other products' findings (GuardDuty, Security Hub) go into the same entity and edge state as
 *   events (event_count 0), not a separate pass.
 *
 * Only DuckDB runs these (the state is local); on Athena the full-day SQL above stays the way, with
 * the same bound on list attributes (GRAPH_ATTR_VALUES, BOUNDED_JSON_LIST).
 */

/** A sorted, distinct, bounded VARCHAR list from a list of lists (the merge of `vals`). */
const BOUNDED_VALUES = (lists: string) => `list_slice(list_sort(list_distinct(flatten(list(${lists})))), 1, ${GRAPH_ATTR_VALUES})`;
/** The bounded list as JSON array text (its values are already JSON strings). */
const JSON_LIST = (vals: string) => `'[' || array_to_string(${vals}, ',') || ']'`;

const NO_VALUES = 'CAST([] AS VARCHAR[])';
const ONE_VALUE = (expr: string) => `CASE WHEN ${expr} IS NULL THEN ${NO_VALUES} ELSE [${jsonString(expr)}] END`;

/**
 * Entity partials, one row per (type, id). Types are the entity types, plus `SessionUsed` (a
 * session's events: arn holds its identity, name its session name) and `SessionNamed` (a session
 * a finding names), which finishing joins with the issued credentials.
 */
const ST_ENT_COLUMNS = `type, id, kind, provider, account, name, arn, first_seen, last_seen, n, vals, country, asn, as_org, cloud, mfa`;
const ST_ENT_MERGE = (rows: string) => `SELECT type, id, max(kind) AS kind, max(provider) AS provider, max(account) AS account,
    max(name) AS name, max(arn) AS arn, min(first_seen) AS first_seen, max(last_seen) AS last_seen, CAST(sum(n) AS BIGINT) AS n,
    ${BOUNDED_VALUES('vals')} AS vals, max(country) AS country, max(asn) AS asn, max(as_org) AS as_org, bool_or(cloud) AS cloud,
    max(mfa) AS mfa
  FROM (${rows}) r GROUP BY type, id`;

/** Entity partial rows of a batch (over `ev` and `fnd`), one per event and entity: ST_ENT_MERGE groups them. */
const ST_ENT_ROWS = `
WITH finding_times AS (SELECT f.*, t FROM fnd f CROSS JOIN UNNEST(ARRAY[f.first_seen, f.last_seen]) AS s(t))
SELECT 'Identity' AS type, actor_id AS id, actor_type AS kind, provider, COALESCE(actor_account, account) AS account, actor_name AS name,
       actor_arn AS arn, time AS first_seen, time AS last_seen, 1 AS n, ${ONE_VALUE('actor_name')} AS vals,
       CAST(NULL AS VARCHAR) AS country, CAST(NULL AS BIGINT) AS asn, CAST(NULL AS VARCHAR) AS as_org, CAST(NULL AS BOOLEAN) AS cloud,
       CAST(NULL AS BOOLEAN) AS mfa
  FROM ev WHERE actor_id IS NOT NULL
UNION ALL SELECT 'Identity', actor_id,
       CASE WHEN actor_id LIKE '%:user/%' THEN 'IAMUser' WHEN actor_id LIKE '%:role/%' THEN 'AssumedRole' WHEN actor_id LIKE '%:root' THEN 'Root' END,
       provider, COALESCE(nullif(regexp_extract(actor_id, '^arn:[^:]*:[^:]*:[^:]*:([0-9]*):', 1), ''), account), NULL,
       CASE WHEN actor_id LIKE 'arn:%' THEN actor_id END, t, t, 0, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM finding_times WHERE actor_id IS NOT NULL
UNION ALL SELECT 'SessionUsed', session_id, NULL, provider, COALESCE(actor_account, account), session_name, actor_id, time, time, 1,
       ${NO_VALUES}, NULL, NULL, NULL, NULL, mfa
  FROM ev WHERE session_id IS NOT NULL
UNION ALL SELECT 'SessionNamed', session_id, NULL, provider, account, NULL, actor_id, first_seen, last_seen, 0, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM fnd WHERE session_id IS NOT NULL
UNION ALL SELECT 'IPAddress', src_ip, NULL, NULL, NULL, NULL, NULL, time, time, 1, ${ONE_VALUE('source')}, src_country, src_asn, src_as_org, src_is_cloud, NULL
  FROM ev WHERE src_is_ip
-- An address's events: each record once, though it be both ends of a flow.
UNION ALL SELECT 'IPAddress', dst_ip, NULL, NULL, NULL, NULL, NULL, time, time, 1, ${ONE_VALUE('source')}, NULL, NULL, NULL, NULL, NULL
  FROM ev WHERE dst_is_ip AND NOT (src_is_ip AND src_ip = dst_ip)
UNION ALL SELECT 'IPAddress', src_ip, NULL, NULL, NULL, NULL, NULL, t, t, 0, ${ONE_VALUE('source')}, NULL, NULL, NULL, NULL, NULL
  FROM finding_times WHERE src_is_ip
UNION ALL SELECT 'Resource', r, NULL, provider, account, NULL, NULL, time, time, 1, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM ev CROSS JOIN UNNEST(resources) AS u(r)
UNION ALL SELECT 'Resource', r, NULL, provider, account, NULL, NULL, t, t, 0, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM finding_times CROSS JOIN UNNEST(resources) AS u(r)
UNION ALL SELECT 'Account', account, NULL, provider, NULL, NULL, NULL, time, time, 1, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM ev WHERE account IS NOT NULL
UNION ALL SELECT 'Account', actor_account, NULL, provider, NULL, NULL, NULL, time, time, 1, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM ev WHERE actor_account IS NOT NULL AND actor_account <> account
UNION ALL SELECT 'Account', account, NULL, provider, NULL, NULL, NULL, t, t, 0, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM finding_times WHERE account IS NOT NULL
UNION ALL SELECT 'UserAgent', user_agent, NULL, NULL, NULL, NULL, NULL, time, time, 1, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM ev WHERE user_agent IS NOT NULL`;

/**
 * Edge partials, one row per (grp, edge key): grp 0 for links events make, 1 for flows (with
 * bytes and packets), 2 for other products' findings (no events of their own: event_count 0).
 */
const ST_EDGE_MERGE = (rows: string) => `SELECT grp, src_type, src_id, rel, dst_type, dst_id, source, min(first_seen) AS first_seen,
    max(last_seen) AS last_seen, CAST(sum(n) AS BIGINT) AS n, CAST(sum(bytes) AS BIGINT) AS bytes, CAST(sum(packets) AS BIGINT) AS packets
  FROM (${rows}) r GROUP BY grp, src_type, src_id, rel, dst_type, dst_id, source`;

/** A pair row of the edge partials: (src_type, src_id, rel, dst_type, dst_id, time, source) → state shape. */
const PAIR_ROWS = (pairs: string) =>
  `SELECT 0 AS grp, src_type, src_id, rel, dst_type, dst_id, source, time AS first_seen, time AS last_seen, 1 AS n,
    CAST(NULL AS BIGINT) AS bytes, CAST(NULL AS BIGINT) AS packets FROM (${pairs}) p`;

/** Edge partial rows of a batch (over `ev` and `fnd`): what each event links by itself, its flows, and the findings' links. */
const ST_EDGE_ROWS = `
${PAIR_ROWS(`
  ${EVENT_PAIRS.trim()}
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('region', 'account', 'instance_id')}, 'has_address', 'IPAddress', src_ip, time, source FROM ev
    WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND src_is_ip AND provider = 'aws'
  UNION ALL SELECT 'Resource', ${INSTANCE_ARN('region', 'account', 'instance_id')}, 'queried', 'Domain', query_name, time, source FROM ev
    WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND provider = 'aws'
  UNION ALL SELECT 'Domain', query_name, 'resolves_to', 'IPAddress', answer, time, source FROM ev CROSS JOIN UNNEST(answers) AS u(answer)
    WHERE query_name IS NOT NULL AND regexp_like(answer, ${IP_PATTERN})`)}
UNION ALL
SELECT 1, 'IPAddress', src_ip, 'flow', 'IPAddress', dst_ip, source, time, time, 1, bytes, packets FROM ev WHERE is_flow AND src_is_ip AND dst_is_ip
UNION ALL
SELECT 2, src_type, src_id, rel, dst_type, dst_id, source, first_seen, last_seen, 0, NULL, NULL FROM (
  WITH ${FINDING_EDGES.trim()} SELECT * FROM finding_pairs
) f`;

/** Issued credentials, merged per session id (GRAPH_ISSUED_SQL's aggregates). */
const ST_ISS_MERGE = (rows: string) => `SELECT issued_session_id, max(issued_role_arn) AS issued_role_arn, max(issuer_id) AS issuer_id,
    max(issuer_session) AS issuer_session, max(src_ip) AS src_ip, max(issuer_mfa) AS issuer_mfa, min(time) AS time,
    max(event_id) AS event_id, max(activity) AS activity, max(source) AS source, max(issued_session_name) AS issued_session_name,
    max(account) AS account, max(provider) AS provider, max(saml_issuer) AS saml_issuer
  FROM (${rows}) r GROUP BY issued_session_id`;

/**
 * What ties network interfaces, instances and addresses, as counts that add (over `ev`):
 * `flow` (an ENI's flow records per source: all, and those with both addresses), `hit` (records
 * of an ENI that carry an address), `eni_inst` (flow records naming the ENI's instance) and
 * `inst_ip` (DNS queries of an instance from an address).
 */
const ST_LINK_MERGE = (rows: string) => `SELECT kind, account, region, a, b, source, CAST(sum(n) AS BIGINT) AS n,
    CAST(sum(n_both) AS BIGINT) AS n_both, min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM (${rows}) r GROUP BY kind, account, region, a, b, source`;
const ST_LINK_ROWS = `
WITH aws_flows AS (
  SELECT account, region, interface_id, instance_id, src_ip, dst_ip, time, source
  FROM ev WHERE is_flow AND provider = 'aws' AND interface_id LIKE 'eni-%'
)
SELECT 'flow' AS kind, account, region, interface_id AS a, CAST(NULL AS VARCHAR) AS b, source, 1 AS n,
       CASE WHEN src_ip IS NOT NULL AND dst_ip IS NOT NULL THEN 1 ELSE 0 END AS n_both, time AS first_seen, time AS last_seen
  FROM aws_flows
UNION ALL SELECT 'hit', account, region, interface_id, src_ip, NULL, 1, 0, NULL, NULL FROM aws_flows WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL
UNION ALL SELECT 'hit', account, region, interface_id, dst_ip, NULL, 1, 0, NULL, NULL FROM aws_flows
  WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND dst_ip <> src_ip
UNION ALL SELECT 'eni_inst', account, region, interface_id, instance_id, NULL, 1, 0, NULL, NULL FROM aws_flows WHERE instance_id LIKE 'i-%'
UNION ALL SELECT 'inst_ip', account, region, instance_id, src_ip, NULL, 1, 0, NULL, NULL FROM ev
  WHERE query_name IS NOT NULL AND instance_id LIKE 'i-%' AND src_is_ip AND provider = 'aws'`;

/** Coverage merges as it is: records add, first and last seen are min and max. */
const ST_COV_MERGE = (rows: string) => `SELECT source, account, region, hour, CAST(sum(records) AS BIGINT) AS records,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM (${rows}) r GROUP BY source, account, region, hour`;

/** The parts of a day's state: each a table `st_<part>`, stored as `_graph_state/day=D/<part>.parquet`. */
export const GRAPH_STATE_PARTS = ['ent', 'edge', 'iss', 'link', 'cov'] as const;
export type GraphStatePart = (typeof GRAPH_STATE_PARTS)[number];

/** Per part: the batch's rows (over ev, iss, fnd) and how rows merge. */
const STATE: Record<GraphStatePart, { rows: string; merge: (rows: string) => string }> = {
  ent: { rows: ST_ENT_ROWS, merge: ST_ENT_MERGE },
  edge: { rows: ST_EDGE_ROWS, merge: ST_EDGE_MERGE },
  iss: { rows: 'SELECT * FROM iss', merge: ST_ISS_MERGE },
  link: { rows: ST_LINK_ROWS, merge: ST_LINK_MERGE },
  cov: {
    rows: `SELECT source, account, region, date_trunc('hour', time) AS hour, 1 AS records, time AS first_seen, time AS last_seen FROM ev`,
    merge: ST_COV_MERGE,
  },
};

/** The finished entities of a day, over the merged state (st_ent, st_iss): the same rows GRAPH_ENTITIES_SQL gives. */
export const GRAPH_ENTITIES_FROM_STATE_SQL = `
WITH iss AS (SELECT * FROM st_iss),
ent AS (${ST_ENT_MERGE(`
  SELECT ${ST_ENT_COLUMNS} FROM st_ent
  UNION ALL SELECT 'Identity', issued_role_arn, CASE WHEN issued_role_arn LIKE '%:role/%' THEN 'AssumedRole' ELSE NULL END, provider,
         regexp_extract(issued_role_arn, '^arn:[^:]*:[^:]*:[^:]*:([0-9]*):', 1), NULL, issued_role_arn, time, time, 0, ${NO_VALUES},
         NULL, NULL, NULL, NULL, NULL
  FROM iss WHERE issued_role_arn IS NOT NULL
  -- The issuing call is already one of the address's events: it counts once.
  UNION ALL SELECT 'IPAddress', src_ip, NULL, NULL, NULL, NULL, NULL, time, time, 0, ${NO_VALUES}, NULL, NULL, NULL, NULL, NULL
  FROM iss WHERE regexp_like(src_ip, ${IP_PATTERN})`)}),
identities AS (
  SELECT 'Identity' AS type, id, kind, provider, account, COALESCE(${ROLE_OR_USER_NAME}, name) AS name,
         CASE WHEN id LIKE 'arn:%' THEN id ELSE arn END AS arn, first_seen, last_seen, n AS event_count,
         ${jsonObject([['names', JSON_LIST('vals')]])} AS attrs
  FROM ent WHERE type = 'Identity'
),
used AS (SELECT id, arn AS identity, provider, account, name AS session_name, mfa, first_seen, last_seen, n FROM ent WHERE type = 'SessionUsed'),
named_sessions AS (SELECT id, arn AS identity, provider, account, first_seen, last_seen FROM ent WHERE type = 'SessionNamed'),
${GRAPH_ENTITIES_SQL.slice(GRAPH_ENTITIES_SQL.indexOf('session_keys AS'), GRAPH_ENTITIES_SQL.indexOf('ip_rows AS'))}
ips AS (
  SELECT 'IPAddress' AS type, id, CASE WHEN regexp_like(id, ${PRIVATE_IP_PATTERN}) THEN 'private' ELSE 'public' END AS kind,
         CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS account, id AS name, CAST(NULL AS VARCHAR) AS arn,
         first_seen, last_seen, n AS event_count,
         ${jsonObject([
           ['private', jsonBool(`regexp_like(id, ${PRIVATE_IP_PATTERN})`)],
           ['sources', JSON_LIST('vals')],
           ['country', jsonString('country')],
           ['asn', jsonNumber('asn')],
           ['as_org', jsonString('as_org')],
           ['cloud', jsonBool('cloud')],
         ])} AS attrs
  FROM ent WHERE type = 'IPAddress'
),
resources AS (
  SELECT 'Resource' AS type, id, ${RESOURCE_KIND} AS kind, provider,
         COALESCE(nullif(regexp_extract(id, '^arn:[^:]*:[^:]*:[^:]*:([0-9]+):', 1), ''), account) AS account,
         regexp_extract(id, '([^/:]+)/?$', 1) AS name, CASE WHEN id LIKE 'arn:%' THEN id ELSE NULL END AS arn,
         first_seen, last_seen, n AS event_count, '{}' AS attrs
  FROM ent WHERE type = 'Resource'
),
accounts AS (
  SELECT 'Account' AS type, id, CAST(NULL AS VARCHAR) AS kind, provider, id AS account, id AS name,
         CAST(NULL AS VARCHAR) AS arn, first_seen, last_seen, n AS event_count, '{}' AS attrs
  FROM ent WHERE type = 'Account'
),
agents AS (
  SELECT 'UserAgent' AS type, id, CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS provider,
         CAST(NULL AS VARCHAR) AS account, id AS name, CAST(NULL AS VARCHAR) AS arn, first_seen, last_seen, n AS event_count, '{}' AS attrs
  FROM ent WHERE type = 'UserAgent'
)
SELECT type, id, kind, provider, account, name, arn, first_seen, last_seen, CAST(event_count AS BIGINT) AS event_count, attrs FROM (
  SELECT * FROM identities UNION ALL SELECT * FROM sessions UNION ALL SELECT * FROM ips
  UNION ALL SELECT * FROM resources UNION ALL SELECT * FROM accounts UNION ALL SELECT * FROM agents
) all_entities
ORDER BY type, id`;

/** The finished edges of a day, over the merged state (st_edge, st_iss, st_link, st_ent): the same rows GRAPH_EDGES_SQL gives. */
export const GRAPH_EDGES_FROM_STATE_SQL = `
WITH iss AS (SELECT * FROM st_iss),
saml AS (
  SELECT issued_session_id, issued_role_arn, issuer_id, time, saml_issuer, source,
         lower(substr(issuer_id, 6)) AS subject, lower(issued_session_name) AS session_name
  FROM iss WHERE activity = 'AssumeRoleWithSAML' AND issuer_id LIKE 'saml:%'
),
-- Entra ID users in the day's events (an event row counts 1; findings and issued credentials 0).
entra_seen AS (SELECT id FROM st_ent WHERE type = 'Identity' AND n > 0 AND id LIKE 'azuread:%'),
${CROSS_SOURCE_EDGES.slice(CROSS_SOURCE_EDGES.indexOf('federations AS'), CROSS_SOURCE_EDGES.indexOf('aws_flows AS')).trim()}
eni_flows AS (SELECT account, region, a AS interface_id, source, n, n_both, first_seen, last_seen FROM st_link WHERE kind = 'flow'),
eni_records AS (
  SELECT account, region, interface_id, sum(n_both) AS n FROM eni_flows GROUP BY account, region, interface_id HAVING sum(n_both) > 0
),
eni_address_hits AS (SELECT account, region, a AS interface_id, b AS ip, n FROM st_link WHERE kind = 'hit'),
${CROSS_SOURCE_EDGES.slice(CROSS_SOURCE_EDGES.indexOf('eni_own_candidates AS'), CROSS_SOURCE_EDGES.indexOf('instance_addresses AS')).trim()}
instance_addresses AS (SELECT DISTINCT account, region, a AS instance_id, b AS ip FROM st_link WHERE kind = 'inst_ip'),
${CROSS_SOURCE_EDGES.slice(CROSS_SOURCE_EDGES.indexOf('eni_instance_by_address AS'), CROSS_SOURCE_EDGES.indexOf('eni_instance AS')).trim()}
eni_instance AS (
  SELECT DISTINCT account, region, a AS interface_id, b AS instance_id FROM st_link WHERE kind = 'eni_inst'
  UNION
  SELECT account, region, interface_id, instance_id FROM eni_instance_by_address
),
finished AS (
  SELECT * FROM st_edge
  UNION ALL ${PAIR_ROWS(`
    SELECT 'Identity' AS src_type, issuer_id AS src_id, 'issued' AS rel, 'Session' AS dst_type, issued_session_id AS dst_id, time, source FROM iss WHERE issuer_id IS NOT NULL
    UNION ALL SELECT 'Session', issued_session_id, 'issued_by', 'Session', issuer_session, time, source FROM iss WHERE issuer_session IS NOT NULL
    UNION ALL SELECT 'Session', issued_session_id, 'issued_from_ip', 'IPAddress', src_ip, time, source FROM iss WHERE regexp_like(src_ip, ${IP_PATTERN})
    UNION ALL SELECT 'Identity', person, 'federated_into', 'Session', issued_session_id, time, source FROM federations
    UNION ALL SELECT 'Identity', person, 'federated_into', 'Identity', issued_role_arn, time, source FROM federations WHERE issued_role_arn IS NOT NULL
    UNION ALL SELECT 'Identity', person, 'federated_as', 'Identity', issuer_id, time, source FROM federations`)}
  UNION ALL SELECT 0, 'Resource', ${INSTANCE_ARN('m.region', 'm.account', 'm.instance_id')}, 'has_interface', 'Resource',
    ${ENI_ARN('f.region', 'f.account', 'f.interface_id')}, f.source, f.first_seen, f.last_seen, f.n, NULL, NULL
    FROM eni_flows f JOIN eni_instance m ON m.account = f.account AND m.region = f.region AND m.interface_id = f.interface_id
  UNION ALL SELECT 0, 'Resource', ${INSTANCE_ARN('m.region', 'm.account', 'm.instance_id')}, 'has_address', 'IPAddress', a.ip,
    f.source, f.first_seen, f.last_seen, f.n, NULL, NULL
    FROM eni_flows f JOIN eni_instance m ON m.account = f.account AND m.region = f.region AND m.interface_id = f.interface_id
    JOIN eni_address a ON a.account = f.account AND a.region = f.region AND a.interface_id = f.interface_id
)
SELECT src_type, src_id, rel, dst_type, dst_id, min(first_seen) AS first_seen, max(last_seen) AS last_seen, CAST(sum(n) AS BIGINT) AS event_count,
       CAST(sum(bytes) AS BIGINT) AS bytes, CAST(sum(packets) AS BIGINT) AS packets, source
FROM finished GROUP BY grp, src_type, src_id, rel, dst_type, dst_id, source
ORDER BY src_type, src_id, rel, dst_type, dst_id, source`;

export const GRAPH_COVERAGE_FROM_STATE_SQL = `SELECT source, account, region, hour, records, first_seen, last_seen FROM st_cov
ORDER BY source, account, region, hour`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Files of one batch, as local paths in a hive-partitioned layout (`…/day=D/…`). */
export interface GraphBatch {
  /** Event files, per table. */
  tables: Partial<Record<TableName, readonly string[]>>;
  /** Other products' findings files (GuardDuty, Security Hub). */
  findings: readonly string[];
}

/** Recomputes (or, given `merge`, updates) and atomically publishes the graph partitions and graph state of the given days. */
export async function materializeGraph(options: MaterializeGraphOptions): Promise<MaterializeGraphSummary> {
  const days = [...new Set(options.days)].sort();
  for (const day of days) if (!DAY.test(day)) throw new Error(`materializeGraph: bad day '${day}' (want YYYY-MM-DD)`);
  const summary: MaterializeGraphSummary = { days: [] };
  if (days.length === 0) return summary;
  // Bounded like the rest of the ETL: a day's events spill to disk rather than grow the process.
  const tempDirectory = await mkdtemp(join(tmpdir(), 'scoutql-graph-'));
  const db = await LocalDuckDb.open({
    memoryLimit: `${options.memoryLimitMb ?? GRAPH_LIMIT_MAX_MB}MB`,
    tempDirectory,
    returnFreedMemory: true,
  });
  const out = options.out ?? options.lake;
  try {
    const viewsOf = async (batch?: GraphBatch) => {
      for (const table of TABLE_NAMES)
        await db.run(`CREATE OR REPLACE VIEW "${table}" AS ${eventTableSelect(options.lake, table, batch && (batch.tables[table] ?? []))}`);
      await db.run(`CREATE OR REPLACE VIEW ${FINDINGS_TABLE.name} AS ${findingsTableSelect(options.lake, batch?.findings)}`);
    };
    let wholeLake = false;
    for (const day of days) {
      const merge = options.merge?.get(day);
      if (merge) await viewsOf(merge.batch);
      else if (!wholeLake) await viewsOf();
      wholeLake = !merge;
      await db.run(
        `CREATE OR REPLACE TEMP TABLE ev AS ${GRAPH_EVENTS_SQL}`,
        Array.from({ length: GRAPH_EVENTS_PARAMS }, () => day),
      );
      await db.run(`CREATE OR REPLACE TEMP TABLE iss AS ${GRAPH_ISSUED_SQL}`, [day]);
      await db.run(`CREATE OR REPLACE TEMP TABLE fnd AS ${GRAPH_FINDINGS_SQL}`, [day]);
      // The day's state: the batch's partial aggregates, merged with the stored state when there is one.
      for (const part of GRAPH_STATE_PARTS) {
        const prior = merge?.priorState ? join(merge.priorState, `${part}.parquet`) : null;
        const rows = prior
          ? `SELECT * FROM (${STATE[part].rows}) b UNION ALL BY NAME SELECT * FROM read_parquet(${sqlString(prior)})`
          : STATE[part].rows;
        await db.run(`CREATE OR REPLACE TEMP TABLE st_${part} AS ${STATE[part].merge(rows)}`);
      }
      // The day's events are in the state now: their memory goes before the finished tables are built.
      for (const input of ['ev', 'iss', 'fnd']) await db.run(`DROP TABLE ${input}`);
      const lakePath = (path: string) => join(out, ...path.split('/'));
      const finished = async (table: string, sql: string, target: string) => {
        await db.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${sql}`);
        const rows = await publish(db, table, target);
        await db.run(`DROP TABLE ${table}`);
        return rows;
      };
      // A pass before a day's last updates only its state: the finished tables come from the last one.
      let entities = 0;
      let edges = 0;
      if (!options.stateOnly) {
        entities = await finished('graph_entities_out', GRAPH_ENTITIES_FROM_STATE_SQL, lakePath(graphDayFile('graph_entities', day)));
        edges = await finished('graph_edges_out', GRAPH_EDGES_FROM_STATE_SQL, lakePath(graphDayFile('graph_edges', day)));
        await finished('graph_coverage_out', GRAPH_COVERAGE_FROM_STATE_SQL, lakePath(graphDayFile('graph_coverage', day)));
      }
      for (const part of GRAPH_STATE_PARTS) {
        await publish(db, `st_${part}`, lakePath(graphStateFile(day, part)));
        await db.run(`DROP TABLE st_${part}`);
      }
      summary.days.push({ day, entities, edges, mode: merge ? 'merge' : 'rebuild' });
    }
  } finally {
    db.close();
    rmSync(tempDirectory, { recursive: true, force: true });
  }
  return summary;
}

/** Writes a temp file beside the target, then renames it into place: readers never see half a file. */
async function publish(db: LocalDuckDb, table: string, target: string): Promise<number> {
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(target)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await db.run(`COPY ${table} TO ${sqlString(temp)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  const [row] = await db.rows(`SELECT count(*) AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}
