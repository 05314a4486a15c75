/**
 * The lake's table contract: every table and column is declared once, here, with its type.
 *
 * From these declarations come the row type each log source must produce (`RowOf<'api_activity'>`:
 * a missing or misspelt column is a compile error), the Parquet column order the writer uses, the
 * DuckDB views and the Athena DDL, the GraphQL event types (generated SDL, see src/codegen), and
 * the graph tables with their relation names. Types are the subset both DuckDB and Athena (Trino)
 * accept.
 */

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP' | 'VARCHAR[]';

/** The JavaScript value a source hands the writer for a column of each type. */
export interface CellTypes {
  VARCHAR: string;
  BIGINT: number | bigint;
  INTEGER: number;
  DOUBLE: number;
  BOOLEAN: boolean;
  TIMESTAMP: Date;
  'VARCHAR[]': readonly string[];
}

interface ColumnSpec<T extends ColumnType = ColumnType> {
  readonly type: T;
  readonly doc: string;
  /** Never null: every row carries it (the row type says so). */
  readonly required?: true;
  /** Filled by the ingest itself, not by a log source (sources' rows leave it out: SourceRowOf). */
  readonly byIngest?: true;
}

export interface Column {
  name: string;
  type: ColumnType;
  doc: string;
  /** Never null (the row type says so too). */
  required: boolean;
  /** Filled by the ingest, not by a source. */
  byIngest: boolean;
}

const col = <T extends ColumnType>(type: T, doc: string): ColumnSpec<T> => ({ type, doc });
const req = <T extends ColumnType>(type: T, doc: string): ColumnSpec<T> & { required: true } => ({ type, doc, required: true });
const byIngest = <T extends ColumnType>(type: T, doc: string): ColumnSpec<T> & { byIngest: true } => ({ type, doc, byIngest: true });

/** Partition columns live in the hive path (`source=…/account=…/region=…/day=…`), not inside the files. */
export const PARTITION_COLUMNS = ['source', 'account', 'region', 'day'] as const;
export type PartitionColumn = (typeof PARTITION_COLUMNS)[number];

/** Columns every event table has, so identities, sessions and IPs join across sources. In file order. */
const CORE = {
  time: req('TIMESTAMP', 'When the event happened (UTC).'),
  event_id: req('VARCHAR', 'Provider event id, or a stable hash of the raw record when the provider has none.'),
  class_uid: req('INTEGER', 'OCSF class: 6003 API activity, 3002 authentication, 4001 network, 4002 HTTP, 4003 DNS.'),
  activity: col('VARCHAR', 'What was done: API name (eventName), operation, sign-in, flow, request method, query.'),
  service: col('VARCHAR', 'Which service handled it (eventSource, Azure resource provider, GCP service name).'),
  outcome: col('VARCHAR', "'success', 'failure' or 'unknown'."),
  error_code: col('VARCHAR', 'Provider error code when the event failed.'),
  error_message: col('VARCHAR', 'Provider error message when the event failed.'),
  actor_id: col(
    'VARCHAR',
    'Stable identity id: IAM user or role ARN without its path, root ARN, azuread:<upn>, gcp:<email>, service:<principal>, anonymous (see etl/fields/aws-identity.ts).',
  ),
  actor_type: col(
    'VARCHAR',
    'Provider identity type: IAMUser, AssumedRole, Root, FederatedUser, AWSService, Anonymous, AzureADUser, ServiceAccount…',
  ),
  actor_name: col('VARCHAR', 'Human-readable name: user name, role session name, UPN, email.'),
  actor_arn: col('VARCHAR', 'ARN or provider id exactly as logged.'),
  actor_account: col('VARCHAR', 'Account, tenant or project the actor belongs to.'),
  session_id: col('VARCHAR', 'Credential or session used: AWS access key id, Azure sign-in correlation id, GCP delegation chain head.'),
  src_ip: col('VARCHAR', 'Source IP address (or service hostname when AWS acts on its own behalf).'),
  user_agent: col('VARCHAR', 'User agent string as logged.'),
  resources: col('VARCHAR[]', 'Ids (ARNs where known) of the resources the event touched.'),
  raw: col('VARCHAR', 'The original record (JSON text or log line) for the timeline.'),
  flags: byIngest(
    'VARCHAR[]',
    "What the ingest noticed reading the record: 'invalid-utf8' (bytes that are not UTF-8, read as U+FFFD); null when nothing.",
  ),
} as const satisfies Record<string, ColumnSpec>;

/**
 * Columns the ingest pipeline fills for every table after a source has parsed the record (not the
 * source: its rows and golden files do not carry them): where `src_ip` is, from the offline GeoIP /
 * ASN data (src/core/geoip.ts). Null when the address is private, special-purpose or unknown to the
 * data, or the ingest ran without GeoIP. Appended after each table's own columns.
 */
const ENRICHMENT = {
  src_country: col('VARCHAR', 'Country of src_ip (ISO 3166-1 alpha-2), from the offline GeoIP data or the overrides file.'),
  src_asn: col('BIGINT', 'Autonomous system number of src_ip.'),
  src_as_org: col('VARCHAR', "Organization of src_ip's autonomous system."),
  src_is_cloud: col('BOOLEAN', "Whether src_ip is in a cloud provider's network (by ASN: AWS, Azure, GCP, Oracle…; see CLOUD_ASNS)."),
} as const satisfies Record<string, ColumnSpec>;

interface TableSpec {
  readonly classUid: number;
  readonly doc: string;
  /** The table's own columns, after the core ones, in file order. */
  readonly columns: Record<string, ColumnSpec>;
  /** Sort keys within a file: what pivots filter on, so min/max statistics skip row groups. */
  readonly sortBy: readonly string[];
}

/** Every event table (one per OCSF class), in the order they are written and listed. */
const TABLE_SPECS = {
  api_activity: {
    classUid: 6003,
    doc: 'Control- and data-plane API calls (CloudTrail, Azure Activity, Azure AD audit, GCP audit).',
    columns: {
      event_type: col('VARCHAR', 'AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, Administrative, ADMIN_ACTIVITY, DATA_ACCESS…'),
      read_only: col('BOOLEAN', 'True when the call only reads.'),
      mfa: col('BOOLEAN', 'Whether the session was MFA-authenticated.'),
      session_issuer_arn: col('VARCHAR', 'For temporary credentials: the role or user that issued them.'),
      session_name: col('VARCHAR', 'Role session name or equivalent.'),
      issued_session_id: col(
        'VARCHAR',
        'Credentials this call issued (AssumeRole*, GetSessionToken, GetFederationToken): the new access key id.',
      ),
      issued_role_arn: col('VARCHAR', 'The role or federated user the issued credentials act as.'),
      recipient_account: col('VARCHAR', 'Account that received the event (cross-account calls).'),
      vpc_endpoint_id: col('VARCHAR', 'VPC endpoint the call came through, if any.'),
      request_parameters: col('VARCHAR', 'Request parameters as JSON text.'),
    },
    sortBy: ['actor_id', 'session_id', 'time'],
  },
  authentication: {
    classUid: 3002,
    doc: 'Sign-ins: AWS console logins and federation, Azure AD sign-ins.',
    columns: {
      mfa: col('BOOLEAN', 'Whether MFA was used.'),
      auth_protocol: col('VARCHAR', 'Password, SAML, OIDC, IdentityCenter…'),
      is_interactive: col('BOOLEAN', 'Interactive (a person) or not (a token refresh, a service).'),
      app: col('VARCHAR', 'Application signed in to.'),
      country: col('VARCHAR', 'Country code of the source, where the provider gives one.'),
      city: col('VARCHAR', 'City of the source, where the provider gives one.'),
      device: col('VARCHAR', 'Device or operating system, where the provider gives one.'),
      conditional_access: col('VARCHAR', 'Conditional access status (Azure AD).'),
      result_detail: col('VARCHAR', 'Provider detail on the result (failure reason).'),
    },
    sortBy: ['actor_id', 'src_ip', 'time'],
  },
  network_activity: {
    classUid: 4001,
    doc: 'Flow and connection records: VPC Flow Logs (and Transit Gateway flow logs), NSG flow logs, load balancer TLS connections (NLB access logs, ALB connection logs).',
    columns: {
      dst_ip: col('VARCHAR', 'Destination address.'),
      src_port: col('INTEGER', 'Source port.'),
      dst_port: col('INTEGER', 'Destination port.'),
      protocol: col('INTEGER', 'IANA protocol number (6 TCP, 17 UDP, 1 ICMP).'),
      packets: col('BIGINT', 'Packets in the flow window.'),
      bytes: col('BIGINT', 'Bytes in the flow window.'),
      start_time: col('TIMESTAMP', 'Start of the aggregation window.'),
      end_time: col('TIMESTAMP', 'End of the aggregation window.'),
      disposition: col('VARCHAR', 'ACCEPT or REJECT (null for NODATA / SKIPDATA).'),
      log_status: col('VARCHAR', 'OK, NODATA or SKIPDATA.'),
      direction: col('VARCHAR', 'ingress or egress.'),
      interface_id: col('VARCHAR', 'Network interface (ENI) or NSG rule target.'),
      vpc_id: col('VARCHAR', 'VPC or virtual network.'),
      subnet_id: col('VARCHAR', 'Subnet.'),
      instance_id: col('VARCHAR', 'Instance or VM.'),
      tcp_flags: col('INTEGER', 'Bitmask of TCP flags seen.'),
      traffic_type: col('VARCHAR', 'IPv4, IPv6 or EFA.'),
      pkt_src_ip: col('VARCHAR', 'Packet-level source (differs behind NAT).'),
      pkt_dst_ip: col('VARCHAR', 'Packet-level destination.'),
      rule: col('VARCHAR', 'Rule that decided the flow (NSG).'),
      transit_gateway_id: col('VARCHAR', 'Transit gateway the flow crossed (Transit Gateway flow logs).'),
      attachment_id: col('VARCHAR', 'Transit gateway attachment the traffic was recorded for.'),
      pair_attachment_id: col('VARCHAR', "The flow's other transit gateway attachment (its egress or ingress one, by direction)."),
      src_vpc_account: col('VARCHAR', 'Account of the source VPC (Transit Gateway flow logs).'),
      dst_vpc_account: col('VARCHAR', 'Account of the destination VPC (Transit Gateway flow logs).'),
      dst_vpc_id: col('VARCHAR', 'Destination VPC (Transit Gateway flow logs; vpc_id is the source VPC).'),
      dst_subnet_id: col('VARCHAR', 'Destination subnet (Transit Gateway flow logs; subnet_id is the source subnet).'),
      dst_interface_id: col('VARCHAR', 'Destination attachment ENI (Transit Gateway flow logs; interface_id is the source ENI).'),
      packets_lost: col('BIGINT', 'Packets the transit gateway dropped (no route, blackhole, MTU exceeded, TTL expired), summed.'),
      tls_protocol: col('VARCHAR', 'TLS version of the connection (load balancer TLS listeners and connection logs), as TLSv1.2.'),
      tls_cipher: col('VARCHAR', 'TLS cipher suite negotiated (OpenSSL name, as the load balancer logs it).'),
      server_name: col('VARCHAR', 'Server name the client asked for in its TLS handshake (SNI).'),
      client_cert_subject: col('VARCHAR', "Subject of the client's certificate (mutual TLS), as an RFC 2253 string."),
      client_cert_serial: col('VARCHAR', "Serial number of the client's certificate (mutual TLS), in hexadecimal."),
    },
    sortBy: ['src_ip', 'dst_ip', 'time'],
  },
  http_activity: {
    classUid: 4002,
    doc: 'HTTP requests: S3 server access, ALB / Classic ELB, CloudFront.',
    columns: {
      http_method: col('VARCHAR', 'GET, PUT…'),
      url: col('VARCHAR', 'Request URL or URI as logged.'),
      host: col('VARCHAR', 'Host header or distribution domain.'),
      path: col('VARCHAR', 'URL path (decoded).'),
      status: col('INTEGER', 'HTTP status code.'),
      bytes_out: col('BIGINT', 'Bytes sent to the client.'),
      bytes_in: col('BIGINT', 'Bytes received from the client.'),
      duration_ms: col('DOUBLE', 'Time taken.'),
      referrer: col('VARCHAR', 'Referer header.'),
      bucket: col('VARCHAR', 'S3 bucket.'),
      object_key: col('VARCHAR', 'S3 object key.'),
      dst_ip: col('VARCHAR', 'Target / edge address.'),
      dst_port: col('INTEGER', 'Target port.'),
      tls_protocol: col('VARCHAR', 'TLS version.'),
    },
    sortBy: ['src_ip', 'actor_id', 'time'],
  },
  dns_activity: {
    classUid: 4003,
    doc: 'DNS queries: Route 53 Resolver query logs.',
    columns: {
      query_name: col('VARCHAR', 'Name queried, without trailing dot, lower case.'),
      query_type: col('VARCHAR', 'A, AAAA, TXT…'),
      rcode: col('VARCHAR', 'NOERROR, NXDOMAIN…'),
      answers: col('VARCHAR[]', 'Answer data.'),
      vpc_id: col('VARCHAR', 'VPC the query came from.'),
      instance_id: col('VARCHAR', 'Instance that asked, where known.'),
      src_port: col('INTEGER', 'Source port.'),
    },
    sortBy: ['src_ip', 'query_name', 'time'],
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLE_SPECS;
export const TABLE_NAMES = Object.keys(TABLE_SPECS) as TableName[];

type Specs<T extends TableName> = typeof CORE & (typeof TABLE_SPECS)[T]['columns'];
type Cell<S> = S extends ColumnSpec<infer C> ? (S extends { required: true } ? CellTypes[C] : CellTypes[C] | null) : never;

/** Columns the ingest fills itself (`flags`): no source writes them. */
export type IngestColumnName = { [K in keyof typeof CORE]: (typeof CORE)[K] extends { byIngest: true } ? K : never }[keyof typeof CORE];

/**
 * One row of `table` as it is stored: every column (null where the log says nothing), `class_uid`
 * fixed to the table's class, plus the `account` and `region` partition values (the writer derives
 * `source` and `day`).
 */
export type StoredRowOf<T extends TableName> = {
  [K in keyof Specs<T>]: K extends 'class_uid' ? (typeof TABLE_SPECS)[T]['classUid'] : Cell<Specs<T>[K]>;
} & { account: string; region: string };

/** One row of `table` as a log source produces it: every column but those the ingest fills (`flags`). */
export type RowOf<T extends TableName> = Omit<StoredRowOf<T>, IngestColumnName>;

/** A source's row together with the table it belongs to; narrowing on `table` types the row. */
export type TableRow = { [T in TableName]: { table: T; row: RowOf<T> } }[TableName];

/** The core columns every table shares, and a row's core part (as a source produces it). */
export type CoreColumnName = Exclude<keyof typeof CORE, IngestColumnName>;
export type CoreRow = { [K in CoreColumnName]: K extends 'class_uid' ? number : Cell<(typeof CORE)[K]> } & {
  account: string;
  region: string;
};

export interface TableDef {
  name: TableName;
  classUid: number;
  doc: string;
  /** Columns stored in the Parquet files, in order: core, the table's own, enrichment. Partition columns are not among them. */
  columns: readonly Column[];
  sortBy: readonly string[];
}

function columnsOf(specs: Record<string, ColumnSpec>): Column[] {
  return Object.entries(specs).map(([name, spec]) => ({
    name,
    type: spec.type,
    doc: spec.doc,
    required: spec.required === true,
    byIngest: spec.byIngest === true,
  }));
}

export const CORE_COLUMNS: readonly Column[] = columnsOf(CORE);
/** The enrichment columns (after each table's own), filled at ingest rather than by sources. */
export const ENRICHMENT_COLUMNS: readonly Column[] = columnsOf(ENRICHMENT);
export type EnrichmentColumnName = keyof typeof ENRICHMENT;
/** A row's enrichment part, as the ingest pipeline computes it. */
export type EnrichmentRow = { [K in EnrichmentColumnName]: Cell<(typeof ENRICHMENT)[K]> };

export const TABLES = Object.fromEntries(
  TABLE_NAMES.map((name) => {
    const spec: TableSpec = TABLE_SPECS[name];
    const def: TableDef = {
      name,
      classUid: spec.classUid,
      doc: spec.doc,
      columns: [...CORE_COLUMNS, ...columnsOf(spec.columns), ...ENRICHMENT_COLUMNS],
      sortBy: spec.sortBy,
    };
    return [name, def];
  }),
) as Record<TableName, TableDef>;

export function columnNames(table: TableName): string[] {
  return TABLES[table].columns.map((c) => c.name);
}

export function hasColumn(table: TableName, column: string): boolean {
  return TABLES[table].columns.some((c) => c.name === column);
}

// ---------------------------------------------------------------------------------------------
// The graph: entities and edges materialized per day by the ingest's graph step, and the lake's own
// map (records per source, account, region and hour), which lets the API say what the lake holds
// without scanning it.

/** Entity types of the graph. `Region` and `Domain` appear only as edge ends (no entity rows). */
export const ENTITY_TYPES = ['Identity', 'Session', 'Resource', 'IPAddress', 'Account', 'UserAgent'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
export type NodeType = EntityType | 'Region' | 'Domain';

export const GRAPH_TABLES = {
  graph_entities: {
    dir: ['graph', 'entities'],
    columns: columnsOf({
      type: col('VARCHAR', 'Entity type (ENTITY_TYPES).'),
      id: col('VARCHAR', 'Stable id: ARN, access key id, address, account id, user agent text.'),
      kind: col('VARCHAR', 'Sub-kind: identity type, session kind, resource type, private / public address.'),
      provider: col('VARCHAR', 'aws, azure or gcp.'),
      account: col('VARCHAR', 'Account, tenant or project.'),
      name: col('VARCHAR', 'Human-readable name.'),
      arn: col('VARCHAR', 'ARN where there is one.'),
      first_seen: col('TIMESTAMP', 'First event of the day.'),
      last_seen: col('TIMESTAMP', 'Last event of the day.'),
      event_count: col('BIGINT', 'Events of the day.'),
      attrs: col('VARCHAR', 'Type-specific facts as JSON text.'),
    }),
  },
  graph_edges: {
    dir: ['graph', 'edges'],
    columns: columnsOf({
      src_type: col('VARCHAR', 'Type of the source node.'),
      src_id: col('VARCHAR', 'Id of the source node.'),
      rel: col('VARCHAR', 'A relation of RELATIONS, or the action (API name) for resource access.'),
      dst_type: col('VARCHAR', 'Type of the destination node.'),
      dst_id: col('VARCHAR', 'Id of the destination node.'),
      first_seen: col('TIMESTAMP', 'First event of the day that links them.'),
      last_seen: col('TIMESTAMP', 'Last event of the day that links them.'),
      event_count: col('BIGINT', 'Events of the day that link them.'),
      bytes: col('BIGINT', 'Flow edges only: bytes the flows carried (null for other relations).'),
      packets: col('BIGINT', 'Flow edges only: packets the flows carried.'),
      source: col(
        'VARCHAR',
        'Source id of the log the linking events came from: the same link seen by two logs is two rows, one per source.',
      ),
    }),
  },
  graph_coverage: {
    dir: ['graph', 'coverage'],
    columns: columnsOf({
      source: col('VARCHAR', 'Source id of the log.'),
      account: col('VARCHAR', 'Account, tenant or project the records belong to.'),
      region: col('VARCHAR', 'Region or location the records were logged in.'),
      hour: col('TIMESTAMP', 'The hour the records fall in (UTC, truncated).'),
      records: col('BIGINT', 'Log records of that hour (a console sign-in in two tables counts once).'),
      first_seen: col('TIMESTAMP', 'First record of the hour.'),
      last_seen: col('TIMESTAMP', 'Last record of the hour.'),
    }),
  },
} as const satisfies Record<string, { dir: readonly string[]; columns: readonly Column[] }>;
export type GraphTableName = keyof typeof GRAPH_TABLES;

/**
 * The named relations of the graph, each between fixed node types. Resource access is the one open
 * relation: its edges (Identity, Session or IPAddress → Resource) carry the action as `rel`.
 */
export const RELATIONS = {
  from_ip: { from: ['Identity', 'Session'], to: 'IPAddress', doc: 'Calls or sign-ins from the address.' },
  uses: { from: ['Identity'], to: 'Session', doc: 'The identity used the credentials.' },
  user_agent: { from: ['Identity', 'Session'], to: 'UserAgent', doc: 'Calls with this user agent.' },
  in_region: { from: ['Identity'], to: 'Region', doc: 'Calls in the region.' },
  in_account: { from: ['Identity'], to: 'Account', doc: 'Calls in the account.' },
  queried: { from: ['IPAddress', 'Resource'], to: 'Domain', doc: 'DNS queries for the name.' },
  issued: { from: ['Identity'], to: 'Session', doc: 'The identity obtained the credentials (AssumeRole*, GetSessionToken…).' },
  issued_by: { from: ['Session'], to: 'Session', doc: 'Credentials obtained with other credentials (role chaining).' },
  issued_from_ip: { from: ['Session'], to: 'IPAddress', doc: 'Where the credentials were obtained from.' },
  flow: { from: ['IPAddress'], to: 'IPAddress', doc: 'Network flows between the addresses (bytes, packets).' },
  federated_into: { from: ['Identity'], to: ['Session', 'Identity'], doc: 'An Entra ID user federated into the AWS session or role.' },
  federated_as: { from: ['Identity'], to: 'Identity', doc: 'The SAML subject CloudTrail names for the Entra ID user.' },
  has_interface: { from: ['Resource'], to: 'Resource', doc: 'An instance to its network interfaces.' },
  has_address: { from: ['Resource'], to: 'IPAddress', doc: 'An instance to the private addresses it used.' },
  resolves_to: { from: ['Domain'], to: 'IPAddress', doc: 'DNS answers.' },
} as const satisfies Record<string, { from: readonly NodeType[]; to: NodeType | readonly NodeType[]; doc: string }>;
export type Relation = keyof typeof RELATIONS;
export const RELATION_NAMES = Object.keys(RELATIONS) as Relation[];

/** Node types whose edges to a Resource are resource access (rel = the action). */
export const ACCESS_SOURCE_TYPES = ['Identity', 'Session', 'IPAddress'] as const satisfies readonly EntityType[];

// ---------------------------------------------------------------------------------------------
// Findings: what detections found, one row per hit. ScoutQL's own rules (`scoutql detect`, src/rules)
// and AWS's detectors (GuardDuty, Security Hub, read by the ETL) write the same table, so one list
// holds all of them and links to the same identities, sessions, addresses and resources.

/** Who reported a finding: the `product=` partition of its row. */
export const FINDING_PRODUCTS = ['scoutql', 'guardduty', 'securityhub'] as const;
export type FindingProduct = (typeof FINDING_PRODUCTS)[number];

/** Severity words of a finding (Sigma's levels; GuardDuty and Security Hub severities map onto them). */
export const FINDING_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type FindingLevel = (typeof FINDING_LEVELS)[number];

/** OCSF severity_id of each level (1 Informational … 5 Critical): the `severity` column. */
export const FINDING_SEVERITY_ID: Readonly<Record<FindingLevel, number>> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** Partition columns of the findings table (in the path `product=…/account=…/day=…`, not inside the files). */
export const FINDINGS_PARTITION_COLUMNS = ['product', 'account', 'day'] as const;

const FINDING_COLUMNS = {
  finding_id: req(
    'VARCHAR',
    "Stable id: the same finding gets the same id on every run (ScoutQL: a hash of rule, account, group and start; GuardDuty / Security Hub: the product's own id).",
  ),
  time: req(
    'TIMESTAMP',
    'When this version of the finding was observed (ScoutQL: its last evidence event; GuardDuty / Security Hub: updatedAt). The partition day is its day; a finding seen again later gets a newer row with the same finding_id, and readers take the latest.',
  ),
  rule_id: req('VARCHAR', 'What fired: the ScoutQL rule id, the GuardDuty finding type, the Security Hub GeneratorId.'),
  rule_kind: col(
    'VARCHAR',
    "ScoutQL: 'detection', 'correlation' or 'baseline'; the products: their finding category, where they give one.",
  ),
  title: req('VARCHAR', "The rule's or the product's title."),
  description: col('VARCHAR', 'What the finding means, where the rule or product says.'),
  level: req('VARCHAR', 'informational, low, medium, high or critical (FINDING_LEVELS).'),
  severity: req('INTEGER', 'OCSF severity_id of the level: 1 informational, 2 low, 3 medium, 4 high, 5 critical.'),
  product_severity: col('DOUBLE', "The product's own score: GuardDuty 1.0–8.9, Security Hub Severity.Normalized 0–100; null for ScoutQL."),
  techniques: col('VARCHAR[]', 'MITRE ATT&CK technique ids, upper case (T1562.008).'),
  tactics: col('VARCHAR[]', 'MITRE ATT&CK tactics, as Sigma tags name them (defense-evasion, credential-access).'),
  first_seen: req('TIMESTAMP', 'First event of the finding (its evidence, or the activity the product saw).'),
  last_seen: req('TIMESTAMP', 'Last event of the finding.'),
  actor_id: col(
    'VARCHAR',
    'The identity it concerns, as the event tables name it (actor_id: IAM ARN, role ARN, azuread:<upn>, gcp:<email>).',
  ),
  session_id: col('VARCHAR', 'The credentials or session it concerns (access key id, sign-in correlation id).'),
  src_ip: col('VARCHAR', 'The address the activity came from.'),
  resources: col('VARCHAR[]', 'Ids (ARNs where known) of the resources it concerns.'),
  region: col('VARCHAR', 'Region of the evidence or of the product finding.'),
  evidence_event_ids: col(
    'VARCHAR[]',
    'event_id of the events that are its evidence, in time order (at most 100; evidence_count says how many).',
  ),
  evidence_tables: col('VARCHAR[]', 'Event tables the evidence events are in.'),
  evidence_count: col(
    'BIGINT',
    'How many events are its evidence (ScoutQL), or how often the product saw the activity (GuardDuty service.count).',
  ),
  group_key: col(
    'VARCHAR',
    "What the hit is about: the event id (one-event rules), the correlation's group, the baseline's entity and new value.",
  ),
  created_at: req(
    'TIMESTAMP',
    'When it was first reported: the detect run that first wrote it (ScoutQL), createdAt (GuardDuty, Security Hub).',
  ),
  raw: col('VARCHAR', 'The original finding JSON (GuardDuty, Security Hub ASFF); null for ScoutQL findings, whose evidence is the events.'),
} as const satisfies Record<string, ColumnSpec>;

export type FindingColumnName = keyof typeof FINDING_COLUMNS;

/**
 * The findings table: one row per finding version, partitioned by product, account and the day of
 * `time`. Sort keys are what the API filters findings on.
 */
export const FINDINGS_TABLE = {
  name: 'findings',
  dir: ['findings'],
  doc: 'Findings: hits of ScoutQL rules and GuardDuty / Security Hub findings, one row per finding version.',
  columns: columnsOf(FINDING_COLUMNS),
  sortBy: ['rule_id', 'actor_id', 'time'],
} as const;

/**
 * One findings row as a writer hands it over: every column (null where unknown), plus the `product`
 * and `account` partition values (the writer derives `day` from `time`).
 */
export type FindingRow = { [K in FindingColumnName]: Cell<(typeof FINDING_COLUMNS)[K]> } & { product: FindingProduct; account: string };
