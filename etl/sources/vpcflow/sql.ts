/**
 * VPC flow logs in SQL: the same rows parser.ts makes, written once in DuckDB's dialect, for the
 * objects AWS delivers to S3 (a header line naming the fields, then one record per line) and for
 * header-less objects read with --vpcflow-format (the format names the fields). The
 * JavaScript parser stays the reference: any line this mapping is not certain to read the way it
 * does (quotes, brackets, tabs or runs of spaces, a second header, a CloudWatch Logs form, a
 * comment, a value out of range, no time) makes `valid` false, and the ingest reads that object
 * with the parser instead, so its rows and quarantine records are the parser's own.
 */
import { REGION_PARTITIONS } from '../../../src/core/arn';
import { tokenize } from '../../fields/text';
import type { SqlMapping, SqlPlan } from '../types';
import { fieldsOfFormat } from './fields';
import { isHeader, keyHints, layoutOf, type Layout } from './parser';

/** The layout's fields as 1-based positions in a record's list of tokens (0: not in the format). */
const POSITIONS = [
  'version',
  'account',
  'interfaceId',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'logStatus',
  'vpc',
  'subnet',
  'instance',
  'tcpFlags',
  'type',
  'pktSrc',
  'pktDst',
  'region',
  'flowDirection',
  'tgw',
  'attachment',
  'pairAttachment',
  'srcVpcAccount',
  'dstVpcAccount',
  'srcVpc',
  'dstVpc',
  'srcSubnet',
  'dstSubnet',
  'srcEni',
  'dstEni',
] as const satisfies readonly (keyof Layout)[];

const LOST = ['lost1', 'lost2', 'lost3', 'lost4'] as const;

const p = (name: string) => `p_${name}`;

const OBJECT_COLUMNS: Record<string, 'INTEGER' | 'BIGINT' | 'VARCHAR'> = {
  size: 'INTEGER',
  ...Object.fromEntries([...POSITIONS, ...LOST].map((name) => [p(name), 'INTEGER'])),
  path_account: 'VARCHAR',
  path_region: 'VARCHAR',
  file_time_ms: 'BIGINT',
};

/**
 * A record's characters: printable ASCII without `"`, `[` and `{` (which the tokenizer or the
 * CloudWatch forms read otherwise), single spaces between tokens, none around them.
 */
const TOKEN = '[!#-Z\\x5c-z|}~]+';
const RECORD = `${TOKEN}( ${TOKEN})*`;
/** Lower-case words joined by `-`: what a header line looks like (parser.ts isHeader, without its known-field test). */
const WORDS = '[a-z]+(-[a-z]+)*( [a-z]+(-[a-z]+)*)*';

const partitionOfRegion = `CASE ${REGION_PARTITIONS.map(([prefix, partition]) => `WHEN starts_with(region, '${prefix}') THEN '${partition}'`).join(' ')} ELSE 'aws' END`;

/** The parser's `number(index, name, max)`: '-' or absent is null, else digits up to `max` (15 digits at most: below 2^53). */
const intOk = (name: string, max: number) =>
  `(${p(name)} = 0 OR f[${p(name)}] = '-' OR (regexp_full_match(f[${p(name)}], '[0-9]{1,15}') AND TRY_CAST(f[${p(name)}] AS BIGINT) <= ${max}))`;
/** epochSeconds(): '-' or absent is null, else digits (12 at most, so the date is valid). */
const secondsOk = (name: string) => `(${p(name)} = 0 OR f[${p(name)}] = '-' OR regexp_full_match(f[${p(name)}], '[0-9]{1,12}'))`;
/** text(): '-' or absent is null. */
const txt = (name: string) => `vpcflow_text(f, ${p(name)})`;
const int = (name: string) => `vpcflow_int(f, ${p(name)})`;
const seconds = (name: string) => `vpcflow_seconds(f, ${p(name)})`;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const SELECT = `
SELECT obj, line_ok, valid, time, event_id, class_uid, activity, service, outcome, src_ip, raw, account, region,
  CASE WHEN NOT regexp_full_match(account, '[0-9]{12}') OR region = 'unknown' THEN
    list_filter([instance_id, interface_id, transit_gateway_id, attachment_id], x -> x IS NOT NULL)
  ELSE list_filter([
    'arn:' || (${partitionOfRegion}) || ':ec2:' || region || ':' || account || ':instance/' || instance_id,
    'arn:' || (${partitionOfRegion}) || ':ec2:' || region || ':' || account || ':network-interface/' || interface_id,
    'arn:' || (${partitionOfRegion}) || ':ec2:' || region || ':' || account || ':transit-gateway/' || transit_gateway_id,
    'arn:' || (${partitionOfRegion}) || ':ec2:' || region || ':' || account || ':transit-gateway-attachment/' || attachment_id
  ], x -> x IS NOT NULL) END AS resources,
  dst_ip, src_port, dst_port, protocol, packets, bytes, start_time, end_time, disposition, log_status, direction,
  interface_id, vpc_id, subnet_id, instance_id, tcp_flags, traffic_type, pkt_src_ip, pkt_dst_ip,
  transit_gateway_id, attachment_id, pair_attachment_id, src_vpc_account, dst_vpc_account, dst_vpc_id,
  dst_subnet_id, dst_interface_id, packets_lost
FROM (
  SELECT obj, line_ok,
    regexp_full_match(line, '${RECORD}') AND NOT regexp_full_match(line, '${WORDS}')
      AND len(f) = size
      AND NOT (length(f[1]) >= 19 AND substr(f[1], 5, 1) = '-')
      AND ${intOk('version', MAX_SAFE)} AND ${intOk('srcport', 65535)} AND ${intOk('dstport', 65535)}
      AND ${intOk('protocol', 255)} AND ${intOk('packets', MAX_SAFE)} AND ${intOk('bytes', MAX_SAFE)}
      AND ${intOk('tcpFlags', MAX_SAFE)} AND ${LOST.map((l) => intOk(l, MAX_SAFE)).join(' AND ')}
      AND ${secondsOk('start')} AND ${secondsOk('end')} AS valid,
    coalesce(${seconds('start')}, ${seconds('end')}, make_timestamp(file_time_ms * 1000)) AS time,
    sha1(line) AS event_id,
    4001 AS class_uid,
    'flow' AS activity,
    'ec2.amazonaws.com' AS service,
    CASE ${txt('action')} WHEN 'ACCEPT' THEN 'success' WHEN 'REJECT' THEN 'failure' ELSE 'unknown' END AS outcome,
    ${txt('srcaddr')} AS src_ip,
    line AS raw,
    coalesce(${txt('account')}, path_account, 'unknown') AS account,
    coalesce(${txt('region')}, path_region, 'unknown') AS region,
    ${txt('dstaddr')} AS dst_ip,
    TRY_CAST(${int('srcport')} AS INTEGER) AS src_port,
    TRY_CAST(${int('dstport')} AS INTEGER) AS dst_port,
    TRY_CAST(${int('protocol')} AS INTEGER) AS protocol,
    ${int('packets')} AS packets,
    ${int('bytes')} AS bytes,
    ${seconds('start')} AS start_time,
    ${seconds('end')} AS end_time,
    ${txt('action')} AS disposition,
    ${txt('logStatus')} AS log_status,
    ${txt('flowDirection')} AS direction,
    coalesce(${txt('interfaceId')}, ${txt('srcEni')}) AS interface_id,
    coalesce(${txt('vpc')}, ${txt('srcVpc')}) AS vpc_id,
    coalesce(${txt('subnet')}, ${txt('srcSubnet')}) AS subnet_id,
    ${txt('instance')} AS instance_id,
    -- The writer leaves an INTEGER column empty for a value beyond its range.
    CASE WHEN ${int('tcpFlags')} <= 2147483647 THEN TRY_CAST(${int('tcpFlags')} AS INTEGER) END AS tcp_flags,
    ${txt('type')} AS traffic_type,
    ${txt('pktSrc')} AS pkt_src_ip,
    ${txt('pktDst')} AS pkt_dst_ip,
    ${txt('tgw')} AS transit_gateway_id,
    ${txt('attachment')} AS attachment_id,
    ${txt('pairAttachment')} AS pair_attachment_id,
    ${txt('srcVpcAccount')} AS src_vpc_account,
    ${txt('dstVpcAccount')} AS dst_vpc_account,
    ${txt('dstVpc')} AS dst_vpc_id,
    ${txt('dstSubnet')} AS dst_subnet_id,
    ${txt('dstEni')} AS dst_interface_id,
    TRY_CAST(list_sum([${LOST.map(int).join(', ')}]) AS BIGINT) AS packets_lost
  FROM (SELECT *, string_split(line, ' ') AS f FROM sql_lines)
)`;

/** S3 deliveries: a first line that is a header naming fields (as parser.ts reads it), then records. */
function plan(text: string, ctx: { key: string; options?: Readonly<Record<string, string>> }): SqlPlan | null {
  let end = text.indexOf('\n');
  if (end === -1) end = text.length;
  const from = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let first = text.slice(from, end);
  if (first.endsWith('\r')) first = first.slice(0, -1);
  first = first.trim();
  if (!first || first.charCodeAt(0) === 123 /* { */) return null;
  const tokens: string[] = [];
  if (tokenize(first, tokens)) return null;
  // A header line wins over --vpcflow-format, as in the parser; without one, the given format reads every line.
  const header = isHeader(tokens);
  const format = ctx.options?.['format'];
  const fields = header ? tokens : format === undefined ? null : fieldsOfFormat(format);
  if (!Array.isArray(fields)) return null;
  const layout = layoutOf(fields);
  const hints = keyHints(ctx.key);
  const values: Record<string, string | number | null> = {
    size: layout.size,
    path_account: hints.account,
    path_region: hints.region,
    file_time_ms: hints.fileTime ? hints.fileTime.getTime() : null,
  };
  for (const name of POSITIONS) values[p(name)] = layout[name] + 1;
  LOST.forEach((name, i) => (values[p(name)] = (layout.lost[i] ?? -1) + 1));
  if (!header) return { body: text.slice(from), firstLine: 1, values };
  return { body: end < text.length ? text.slice(end + 1) : '', firstLine: 2, values };
}

export const vpcFlowSql: SqlMapping = {
  table: 'network_activity',
  objectColumns: OBJECT_COLUMNS,
  setup: [
    `CREATE OR REPLACE TEMP MACRO vpcflow_text(f, i) AS CASE WHEN i > 0 AND f[i] <> '-' THEN f[i] END`,
    `CREATE OR REPLACE TEMP MACRO vpcflow_int(f, i) AS CASE WHEN i > 0 AND f[i] <> '-' THEN TRY_CAST(f[i] AS BIGINT) END`,
    // Epoch seconds of 12 digits at most (else not a time the parser accepts: the line is not valid).
    `CREATE OR REPLACE TEMP MACRO vpcflow_seconds(f, i) AS CASE WHEN i > 0 AND regexp_full_match(f[i], '[0-9]{1,12}') THEN make_timestamp(CAST(f[i] AS BIGINT) * 1000000) END`,
  ],
  select: SELECT,
  plan,
};
