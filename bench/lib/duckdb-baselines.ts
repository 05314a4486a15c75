/**
 * DuckDB's own readers the ETL bench compares ScoutQL against, one per format a source manifest
 * can name (`bench.duckdb`, etl/sources/types.ts DuckDbBaseline). Each is a whole COPY statement
 * over the source's files; the bench times it in bench/lib/duckdb-child.ts.
 */
import type { DuckDbBaseline } from '../../etl/sources/types';

export interface BaselineRun {
  /** What the row in the results table calls it. */
  variant: string;
  notes: string;
  /** The COPY statement over a SQL list literal of the input files, writing to `out`. */
  sql(files: string, out: string): string;
  /** Where it writes: one Parquet file, or a folder of partitions. */
  output: 'file' | 'folder';
}

/** Only for paths this bench chose itself. */
export const lit = (path: string) => `'${path.replace(/'/g, "''")}'`;

const JSON_READ = 'sample_size = -1, maximum_sample_files = 1000000, maximum_object_size = 67108864';

const nativeReader = (note: string, select: (files: string) => string): BaselineRun => ({
  variant: `${note} → Parquet ZSTD`,
  notes: 'typed by DuckDB auto-detection, no raw',
  sql: (files, out) => `COPY (${select(files)}) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`,
  output: 'file',
});

const CSV_QUOTED_SPACE = (f: string) =>
  `SELECT * FROM read_csv(${f}, delim = ' ', quote = '"', escape = '"', header = false, null_padding = true, strict_mode = false, union_by_name = true)`;

/**
 * The ScoutQL api_activity columns computed by DuckDB from the same JSON (JSON[] then JSON paths),
 * with the same partitioning, sort keys, ZSTD level and row-group size as the lake: the closest
 * pure-SQL equivalent of what the ScoutQL ETL writes for CloudTrail.
 */
function cloudTrailSameShapeSql(files: string, out: string): string {
  const s = (path: string) => `(r->>'${path}')`;
  return `COPY (
    WITH recs AS (SELECT unnest(Records) AS r FROM read_json(${files}, columns = {Records: 'JSON[]'}, maximum_object_size = 67108864))
    SELECT coalesce(${s('$.recipientAccountId')}, 'unknown') AS account, coalesce(${s('$.awsRegion')}, 'unknown') AS region,
      strftime(try_cast(${s('$.eventTime')} AS TIMESTAMP), '%Y-%m-%d') AS day,
      try_cast(${s('$.eventTime')} AS TIMESTAMP) AS "time", ${s('$.eventID')} AS event_id, 6003 AS class_uid,
      ${s('$.eventName')} AS activity, ${s('$.eventSource')} AS service,
      CASE WHEN ${s('$.errorCode')} IS NULL THEN 'success' ELSE 'failure' END AS outcome,
      ${s('$.errorCode')} AS error_code, ${s('$.errorMessage')} AS error_message,
      coalesce(${s('$.userIdentity.sessionContext.sessionIssuer.arn')}, ${s('$.userIdentity.arn')}, 'service:' || ${s('$.userIdentity.invokedBy')}) AS actor_id,
      ${s('$.userIdentity.type')} AS actor_type,
      coalesce(${s('$.userIdentity.userName')}, ${s('$.userIdentity.principalId')}) AS actor_name,
      ${s('$.userIdentity.arn')} AS actor_arn, ${s('$.userIdentity.accountId')} AS actor_account,
      ${s('$.userIdentity.accessKeyId')} AS session_id, ${s('$.sourceIPAddress')} AS src_ip, ${s('$.userAgent')} AS user_agent,
      json_extract_string(r, '$.resources[*].ARN') AS resources, r::VARCHAR AS raw,
      ${s('$.eventType')} AS event_type, try_cast(${s('$.readOnly')} AS BOOLEAN) AS read_only,
      try_cast(${s('$.userIdentity.sessionContext.attributes.mfaAuthenticated')} AS BOOLEAN) AS mfa,
      ${s('$.userIdentity.sessionContext.sessionIssuer.arn')} AS session_issuer_arn,
      ${s('$.userIdentity.sessionContext.sessionIssuer.userName')} AS session_name,
      ${s('$.responseElements.credentials.accessKeyId')} AS issued_session_id,
      ${s('$.responseElements.assumedRoleUser.arn')} AS issued_role_arn,
      ${s('$.recipientAccountId')} AS recipient_account, ${s('$.vpcEndpointId')} AS vpc_endpoint_id,
      (r->'$.requestParameters')::VARCHAR AS request_parameters
    FROM recs
    ORDER BY account, region, day, actor_id, session_id, "time"
  ) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 20000, PARTITION_BY (account, region, day))`;
}

export const DUCKDB_BASELINES: Record<DuckDbBaseline, BaselineRun> = {
  'cloudtrail-records-same-shape': {
    variant: 'JSON[] → same columns + raw, partitioned, sorted, ZSTD 9',
    notes:
      "the lake's api_activity columns by JSON path (identity rules simplified), raw kept, PARTITION_BY account/region/day, ORDER BY the lake sort keys",
    sql: cloudTrailSameShapeSql,
    output: 'folder',
  },
  'cloudtrail-records-auto': {
    variant: 'read_json auto schema → 1 Parquet (ZSTD default level)',
    notes: 'DuckDB infers one struct schema over every record (full sample: two passes), no raw, no partitions, no sort',
    sql: (files, out) =>
      `COPY (SELECT unnest(Records, recursive := true) FROM read_json(${files}, ${JSON_READ})) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`,
    output: 'file',
  },
  'csv-space-header': nativeReader(
    'read_csv (space, header, "-" as NULL)',
    (f) => `SELECT * FROM read_csv(${f}, delim = ' ', header = true, nullstr = '-', union_by_name = true)`,
  ),
  'csv-space-quoted': nativeReader(`read_csv (space, quote '"')`, CSV_QUOTED_SPACE),
  'csv-tab-comments': nativeReader(
    "read_csv (tab, comment '#')",
    (f) => `SELECT * FROM read_csv(${f}, delim = '\t', comment = '#', header = false, quote = '', null_padding = true)`,
  ),
  'json-lines': nativeReader(
    'read_json (JSON lines)',
    (f) => `SELECT * FROM read_json(${f}, format = 'newline_delimited', union_by_name = true, ${JSON_READ})`,
  ),
  'json-records-envelope': nativeReader(
    'read_json + unnest(records)',
    (f) => `SELECT unnest(records, recursive := true) FROM read_json(${f}, union_by_name = true, ${JSON_READ})`,
  ),
};
