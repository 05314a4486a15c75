/**
 * The lake's tables: one per OCSF class, each with the shared core columns and its own.
 *
 * This is the single source of truth for column names and types. The ETL writes these
 * columns, the DuckDB views and the Athena DDL are generated from them, and the API's
 * SQL names them. Types are written in the subset both DuckDB and Athena (Trino) accept.
 */

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP' | 'VARCHAR[]';

export interface Column {
  name: string;
  type: ColumnType;
  doc: string;
}

/** Partition columns live in the hive path (`source=…/account=…/region=…/day=…`), not inside the files. */
export const PARTITION_COLUMNS = ['source', 'account', 'region', 'day'] as const;
export type PartitionColumn = (typeof PARTITION_COLUMNS)[number];

const col = (name: string, type: ColumnType, doc: string): Column => ({ name, type, doc });

/** Columns every event table has, so identities, sessions and IPs join across sources. */
export const CORE_COLUMNS: readonly Column[] = [
  col('time', 'TIMESTAMP', 'When the event happened (UTC).'),
  col('event_id', 'VARCHAR', 'Provider event id, or a stable hash of the raw record when the provider has none.'),
  col('class_uid', 'INTEGER', 'OCSF class: 6003 API activity, 3002 authentication, 4001 network, 4002 HTTP, 4003 DNS.'),
  col('activity', 'VARCHAR', 'What was done: API name (eventName), operation, sign-in, flow, request method, query.'),
  col('service', 'VARCHAR', 'Which service handled it (eventSource, Azure resource provider, GCP service name).'),
  col('outcome', 'VARCHAR', "'success', 'failure' or 'unknown'."),
  col('error_code', 'VARCHAR', 'Provider error code when the event failed.'),
  col('error_message', 'VARCHAR', 'Provider error message when the event failed.'),
  col(
    'actor_id',
    'VARCHAR',
    'Stable identity id (see etl/identity-ids.ts): IAM ARN, role ARN, azuread:upn, gcp:email, service name, anonymous.',
  ),
  col(
    'actor_type',
    'VARCHAR',
    'Provider identity type: IAMUser, AssumedRole, Root, FederatedUser, AWSService, Anonymous, AzureADUser, ServiceAccount…',
  ),
  col('actor_name', 'VARCHAR', 'Human-readable name: user name, role session name, UPN, email.'),
  col('actor_arn', 'VARCHAR', 'ARN or provider id exactly as logged.'),
  col('actor_account', 'VARCHAR', 'Account, tenant or project the actor belongs to.'),
  col('session_id', 'VARCHAR', 'Credential or session used: AWS access key id, Azure sign-in correlation id, GCP delegation chain head.'),
  col('src_ip', 'VARCHAR', 'Source IP address (or service hostname when AWS acts on its own behalf).'),
  col('user_agent', 'VARCHAR', 'User agent string as logged.'),
  col('resources', 'VARCHAR[]', 'Ids (ARNs where known) of the resources the event touched.'),
  col('raw', 'VARCHAR', 'The original record (JSON text or log line) for the timeline.'),
];

export const TABLE_NAMES = ['api_activity', 'authentication', 'network_activity', 'http_activity', 'dns_activity'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export interface TableDef {
  name: TableName;
  classUid: number;
  doc: string;
  /** Columns stored in the Parquet files, in order (core first). Partition columns are not among them. */
  columns: readonly Column[];
  /** Sort keys within a file: what pivots filter on, so min/max statistics skip row groups. */
  sortBy: readonly string[];
}

function table(name: TableName, classUid: number, doc: string, own: Column[], sortBy: string[]): TableDef {
  return { name, classUid, doc, columns: [...CORE_COLUMNS, ...own], sortBy };
}

export const TABLES: Record<TableName, TableDef> = {
  api_activity: table(
    'api_activity',
    6003,
    'Control- and data-plane API calls (CloudTrail, Azure Activity, Azure AD audit, GCP audit).',
    [
      col('event_type', 'VARCHAR', 'AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, Administrative, ADMIN_ACTIVITY, DATA_ACCESS…'),
      col('read_only', 'BOOLEAN', 'True when the call only reads.'),
      col('mfa', 'BOOLEAN', 'Whether the session was MFA-authenticated.'),
      col('session_issuer_arn', 'VARCHAR', 'For temporary credentials: the role or user that issued them.'),
      col('session_name', 'VARCHAR', 'Role session name or equivalent.'),
      col(
        'issued_session_id',
        'VARCHAR',
        'Credentials this call issued (AssumeRole*, GetSessionToken, GetFederationToken): the new access key id.',
      ),
      col('issued_role_arn', 'VARCHAR', 'The role or federated user the issued credentials act as.'),
      col('recipient_account', 'VARCHAR', 'Account that received the event (cross-account calls).'),
      col('vpc_endpoint_id', 'VARCHAR', 'VPC endpoint the call came through, if any.'),
      col('request_parameters', 'VARCHAR', 'Request parameters as JSON text.'),
    ],
    ['actor_id', 'session_id', 'time'],
  ),
  authentication: table(
    'authentication',
    3002,
    'Sign-ins: AWS console logins and federation, Azure AD sign-ins.',
    [
      col('mfa', 'BOOLEAN', 'Whether MFA was used.'),
      col('auth_protocol', 'VARCHAR', 'Password, SAML, OIDC, IdentityCenter…'),
      col('is_interactive', 'BOOLEAN', 'Interactive (a person) or not (a token refresh, a service).'),
      col('app', 'VARCHAR', 'Application signed in to.'),
      col('country', 'VARCHAR', 'Country code of the source, where the provider gives one.'),
      col('city', 'VARCHAR', 'City of the source, where the provider gives one.'),
      col('device', 'VARCHAR', 'Device or operating system, where the provider gives one.'),
      col('conditional_access', 'VARCHAR', 'Conditional access status (Azure AD).'),
      col('result_detail', 'VARCHAR', 'Provider detail on the result (failure reason).'),
    ],
    ['actor_id', 'src_ip', 'time'],
  ),
  network_activity: table(
    'network_activity',
    4001,
    'Flow records: VPC Flow Logs, NSG flow logs.',
    [
      col('dst_ip', 'VARCHAR', 'Destination address.'),
      col('src_port', 'INTEGER', 'Source port.'),
      col('dst_port', 'INTEGER', 'Destination port.'),
      col('protocol', 'INTEGER', 'IANA protocol number (6 TCP, 17 UDP, 1 ICMP).'),
      col('packets', 'BIGINT', 'Packets in the flow window.'),
      col('bytes', 'BIGINT', 'Bytes in the flow window.'),
      col('start_time', 'TIMESTAMP', 'Start of the aggregation window.'),
      col('end_time', 'TIMESTAMP', 'End of the aggregation window.'),
      col('disposition', 'VARCHAR', 'ACCEPT or REJECT (null for NODATA / SKIPDATA).'),
      col('log_status', 'VARCHAR', 'OK, NODATA or SKIPDATA.'),
      col('direction', 'VARCHAR', 'ingress or egress.'),
      col('interface_id', 'VARCHAR', 'Network interface (ENI) or NSG rule target.'),
      col('vpc_id', 'VARCHAR', 'VPC or virtual network.'),
      col('subnet_id', 'VARCHAR', 'Subnet.'),
      col('instance_id', 'VARCHAR', 'Instance or VM.'),
      col('tcp_flags', 'INTEGER', 'Bitmask of TCP flags seen.'),
      col('traffic_type', 'VARCHAR', 'IPv4, IPv6 or EFA.'),
      col('pkt_src_ip', 'VARCHAR', 'Packet-level source (differs behind NAT).'),
      col('pkt_dst_ip', 'VARCHAR', 'Packet-level destination.'),
      col('rule', 'VARCHAR', 'Rule that decided the flow (NSG).'),
    ],
    ['src_ip', 'dst_ip', 'time'],
  ),
  http_activity: table(
    'http_activity',
    4002,
    'HTTP requests: S3 server access, ALB / Classic ELB, CloudFront.',
    [
      col('http_method', 'VARCHAR', 'GET, PUT…'),
      col('url', 'VARCHAR', 'Request URL or URI as logged.'),
      col('host', 'VARCHAR', 'Host header or distribution domain.'),
      col('path', 'VARCHAR', 'URL path (decoded).'),
      col('status', 'INTEGER', 'HTTP status code.'),
      col('bytes_out', 'BIGINT', 'Bytes sent to the client.'),
      col('bytes_in', 'BIGINT', 'Bytes received from the client.'),
      col('duration_ms', 'DOUBLE', 'Time taken.'),
      col('referrer', 'VARCHAR', 'Referer header.'),
      col('bucket', 'VARCHAR', 'S3 bucket.'),
      col('object_key', 'VARCHAR', 'S3 object key.'),
      col('dst_ip', 'VARCHAR', 'Target / edge address.'),
      col('dst_port', 'INTEGER', 'Target port.'),
      col('tls_protocol', 'VARCHAR', 'TLS version.'),
    ],
    ['src_ip', 'actor_id', 'time'],
  ),
  dns_activity: table(
    'dns_activity',
    4003,
    'DNS queries: Route 53 Resolver query logs.',
    [
      col('query_name', 'VARCHAR', 'Name queried, without trailing dot, lower case.'),
      col('query_type', 'VARCHAR', 'A, AAAA, TXT…'),
      col('rcode', 'VARCHAR', 'NOERROR, NXDOMAIN…'),
      col('answers', 'VARCHAR[]', 'Answer data.'),
      col('vpc_id', 'VARCHAR', 'VPC the query came from.'),
      col('instance_id', 'VARCHAR', 'Instance that asked, where known.'),
      col('src_port', 'INTEGER', 'Source port.'),
    ],
    ['src_ip', 'query_name', 'time'],
  ),
};

/** Source ids, used as the `source=` partition and in `--source`. */
export const SOURCE_IDS = [
  'cloudtrail',
  'vpcflow',
  's3access',
  'alb',
  'cloudfront',
  'route53resolver',
  'azuread',
  'azureactivity',
  'nsgflow',
  'gcpaudit',
] as const;
export type SourceId = (typeof SOURCE_IDS)[number];

export function columnNames(table: TableName): string[] {
  return TABLES[table].columns.map((c) => c.name);
}
