/**
 * Athena DDL for the lake: one CREATE EXTERNAL TABLE per table of src/core/tables.ts plus the graph
 * tables, Parquet, hive-partitioned, with partition projection so no crawler or MSCK REPAIR is
 * ever needed: a new partition folder is queryable the moment it is written.
 *
 * Projection per partition column:
 *  - source: enum of the source ids (a closed set known to the code).
 *  - account: enum when the accounts are given (or discovered from a local copy of the lake);
 *    otherwise injected, which makes Athena REQUIRE `account = '…'` (or IN) in every query's WHERE
 *    clause: right for per-account deployments, wrong for cross-account hunting.
 *  - region: enum of AWS regions plus 'global' and 'unknown' and any extra values given (Azure
 *    locations, GCP regions). A value missing from an enum is invisible to Athena: list them all.
 *  - product (findings only): enum of the products that report findings (scoutql, guardduty, securityhub).
 *  - day: date, format yyyy-MM-dd, from `since` to NOW, one-day interval; a `date` column, as the
 *    DuckDB views type it, so the same SQL compares `day` to DATE values on both engines.
 * Every identifier and value written here is checked against a strict pattern first.
 */
import {
  findingsPartitionPath,
  findingsTablePath,
  graphTablePath,
  partitionPath,
  tablePath,
  type PartitionValues,
} from '../core/lake-layout';
import {
  FINDING_PRODUCTS,
  FINDINGS_PARTITION_COLUMNS,
  FINDINGS_TABLE,
  GRAPH_TABLES,
  PARTITION_COLUMNS,
  TABLES,
  TABLE_NAMES,
  type ColumnType,
  type GraphTableName,
} from '../core/tables';
import { SOURCE_IDS } from '../generated/sources';

export const AWS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
] as const;

export interface CatalogOptions {
  /** Where the lake lives: s3://bucket/prefix (tables under <lake>/<table>/, graph under <lake>/graph/). */
  lake: string;
  database: string;
  /** Account / tenant / project ids: enum projection. Omitted → injected projection (queries must pin account). */
  accounts?: readonly string[];
  /** Region values beyond the AWS regions, 'global' and 'unknown' (e.g. Azure and GCP locations). */
  extraRegions?: readonly string[];
  /** First day the day projection covers (YYYY-MM-DD); default 2015-01-01. */
  since?: string;
}

export interface CatalogStatement {
  /** Table name, or the database for the CREATE DATABASE statement. */
  name: string;
  sql: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,254}$/;
const PARTITION_VALUE = /^[A-Za-z0-9._-]{1,128}$/;
const LAKE_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!_.*()/=+-]*)?$/;

/** Partition values as Athena's projection placeholders: `source=${source}/account=${account}/…`. */
const PROJECTED_PARTITION: PartitionValues = { source: '${source}', account: '${account}', region: '${region}', day: '${day}' };

export function hiveType(type: ColumnType): string {
  const types: Record<ColumnType, string> = {
    VARCHAR: 'string',
    BIGINT: 'bigint',
    INTEGER: 'int',
    DOUBLE: 'double',
    BOOLEAN: 'boolean',
    TIMESTAMP: 'timestamp',
    'VARCHAR[]': 'array<string>',
  };
  return types[type];
}

function checkName(kind: string, name: string): string {
  if (!NAME.test(name))
    throw new Error(`${kind} '${name}' is not a valid Athena name (lower-case letters, digits and _; starting with a letter or _)`);
  return name;
}

function checkValues(kind: string, values: readonly string[]): string[] {
  const bad = values.filter((v) => !PARTITION_VALUE.test(v));
  if (bad.length > 0)
    throw new Error(`${kind} value(s) ${bad.map((v) => `'${v}'`).join(', ')} are not valid partition values (letters, digits, . _ -)`);
  return [...new Set(values)];
}

/**
 * A Hive DDL string literal. Hive escapes with backslashes, not by doubling quotes, and the two
 * dialects disagree; so values are kept free of both: properties are validated above, and comments
 * have ' turned into " and backslashes dropped.
 */
function literal(text: string): string {
  return `'${text.replace(/'/g, '"').replace(/\\/g, '')}'`;
}

/** The lake URI without a trailing slash, after checking it is a plain s3:// URI. */
export function normalizeLake(lake: string): string {
  const trimmed = lake.replace(/\/+$/, '');
  if (!LAKE_URI.test(trimmed) || trimmed.includes('//', 5)) {
    throw new Error(`lake '${lake}' must be an s3:// URI such as s3://my-bucket/lake (bucket name rules; no quotes or spaces)`);
  }
  return trimmed;
}

export function catalogStatements(options: CatalogOptions): CatalogStatement[] {
  const database = checkName('database', options.database);
  const lake = normalizeLake(options.lake);
  const accounts = options.accounts && options.accounts.length > 0 ? checkValues('account', options.accounts) : undefined;
  const regions = checkValues('region', [...AWS_REGIONS, 'global', 'unknown', ...(options.extraRegions ?? [])]);
  const since = options.since ?? '2015-01-01';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since) || Number.isNaN(Date.parse(since))) throw new Error(`since '${since}' is not a date (YYYY-MM-DD)`);

  const dayProjection = {
    'projection.day.type': 'date',
    'projection.day.format': 'yyyy-MM-dd',
    'projection.day.range': `${since},NOW`,
    'projection.day.interval': '1',
    'projection.day.interval.unit': 'DAYS',
  };
  const statements: CatalogStatement[] = [
    { name: database, sql: `CREATE DATABASE IF NOT EXISTS \`${database}\`\nCOMMENT 'ScoutQL lake at ${lake}'` },
  ];

  for (const name of TABLE_NAMES) {
    const table = TABLES[name];
    checkName('table', name);
    const location = `${lake}/${tablePath(name)}/`;
    const properties: Record<string, string> = {
      'projection.enabled': 'true',
      'projection.source.type': 'enum',
      'projection.source.values': SOURCE_IDS.join(','),
      ...(accounts
        ? { 'projection.account.type': 'enum', 'projection.account.values': accounts.join(',') }
        : { 'projection.account.type': 'injected' }),
      'projection.region.type': 'enum',
      'projection.region.values': regions.join(','),
      ...dayProjection,
      // The layout's partition folder with Athena's `${column}` placeholders for the values.
      'storage.location.template': `${lake}/${partitionPath(name, PROJECTED_PARTITION)}/`,
      classification: 'parquet',
    };
    statements.push({
      name,
      sql: createTable(
        database,
        name,
        table.doc,
        table.columns,
        PARTITION_COLUMNS.map((c) => ({ name: c, type: c === 'day' ? 'date' : 'string' })),
        location,
        properties,
      ),
    });
  }
  for (const name of Object.keys(GRAPH_TABLES) as GraphTableName[]) {
    const graph = GRAPH_TABLES[name];
    for (const folder of graph.dir) checkName('folder', folder);
    const location = `${lake}/${graphTablePath(name)}/`;
    const properties = {
      'projection.enabled': 'true',
      ...dayProjection,
      'storage.location.template': `${location}day=\${day}/`,
      classification: 'parquet',
    };
    statements.push({
      name,
      sql: createTable(
        database,
        checkName('table', name),
        `ScoutQL entity graph: ${name.replace('graph_', '')}, one folder per day.`,
        graph.columns,
        [{ name: 'day', type: 'date' }],
        location,
        properties,
      ),
    });
  }
  const findingsLocation = `${lake}/${findingsTablePath()}/`;
  const projectedFindings = findingsPartitionPath({ product: '${product}', account: '${account}', day: '${day}' });
  statements.push({
    name: FINDINGS_TABLE.name,
    sql: createTable(
      database,
      checkName('table', FINDINGS_TABLE.name),
      FINDINGS_TABLE.doc,
      FINDINGS_TABLE.columns,
      FINDINGS_PARTITION_COLUMNS.map((c) => ({ name: c, type: c === 'day' ? 'date' : 'string' })),
      findingsLocation,
      {
        'projection.enabled': 'true',
        'projection.product.type': 'enum',
        'projection.product.values': checkValues('product', FINDING_PRODUCTS).join(','),
        ...(accounts
          ? { 'projection.account.type': 'enum', 'projection.account.values': accounts.join(',') }
          : { 'projection.account.type': 'injected' }),
        ...dayProjection,
        'storage.location.template': `${lake}/${projectedFindings}/`,
        classification: 'parquet',
      },
    ),
  });
  return statements;
}

function createTable(
  database: string,
  table: string,
  doc: string,
  columns: readonly { name: string; type: ColumnType; doc?: string }[],
  partitions: readonly { name: string; type: string }[],
  location: string,
  properties: Record<string, string>,
): string {
  const columnLines = columns.map(
    (c) => `  \`${checkName('column', c.name)}\` ${hiveType(c.type)}${c.doc ? ` COMMENT ${literal(c.doc)}` : ''}`,
  );
  const partitionLines = partitions.map((p) => `  \`${checkName('column', p.name)}\` ${p.type}`);
  const propertyLines = Object.entries(properties).map(([k, v]) => `  ${literal(k)} = ${literal(v)}`);
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${database}\`.\`${table}\` (`,
    columnLines.join(',\n'),
    `)`,
    `COMMENT ${literal(doc)}`,
    `PARTITIONED BY (`,
    partitionLines.join(',\n'),
    `)`,
    `STORED AS PARQUET`,
    `LOCATION ${literal(location)}`,
    `TBLPROPERTIES (`,
    propertyLines.join(',\n'),
    `)`,
  ].join('\n');
}
