/**
 * Application Load Balancer access logs in SQL: the rows parser.ts makes for them, written once in
 * DuckDB's dialect. The JavaScript parser stays the reference. One regular expression (LINE)
 * accepts only lines whose tokens the parser's tokenizer reads the way TOKENS does and whose values
 * it reads without a quarantine reason. Any other line (another load balancer
 * line type, a bracketed or oddly quoted field, a control or JavaScript-whitespace character, a
 * number out of range, a time with another form, a path with a non-ASCII %-escape) makes `valid`
 * false, and the ingest reads that object with the parser instead, so its rows and quarantine
 * records are the parser's own.
 */
import { REGION_PARTITIONS } from '../../../src/core/arn';
import { awsLogsPathHints } from '../../fields/aws-path';
import type { SqlMapping, SqlPlan } from '../types';

/**
 * Characters no accepted line holds: controls, what JavaScript's String.prototype.trim removes
 * besides the space (requestLine() trims the request target; DuckDB's trim() removes spaces only),
 * and characters beyond the BMP (so DuckDB's positions, in code points, are the parser's UTF-16 ones).
 */
const EXCLUDED =
  '\\x00-\\x1f\\x7f\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}\\x{10000}-\\x{10ffff}';
/**
 * A bare token (tokenize() in etl/fields/text.ts): not starting with a bracket, up to the next space;
 * here without any quote (the tokenizer allows one after the first character), so that every quote
 * of an accepted line is a quoted token's delimiter or escaped inside one (see TOKENS).
 */
const BARE = `[^ "\\[${EXCLUDED}][^ "${EXCLUDED}]*`;
/**
 * A quoted token where every quote inside follows a backslash and the closing one does not: the
 * tokenizer ends a quoted field at the first quote followed by a space (or the line's end) that
 * does not follow a backslash, which is then exactly the closing one (the line's form puts a space
 * or the end after it).
 */
const QUOTED = `"(?:[^"\\\\${EXCLUDED}]|\\\\+[^"\\\\${EXCLUDED}]|\\\\+")*"`;
const TOKEN = `(?:${QUOTED}|${BARE})`;
/** Integers the parser reads (integer()) and the columns hold exactly: '-' (none) or digits. */
const STATUS = '(-|[0-9]{1,9})';
const BYTES = '(-|[0-9]{1,15})';
/** Processing times: '-' / -1 (no duration) or a plain decimal, which Number() and DuckDB read to the same double. */
const SECONDS = '(-|-1|[0-9]{1,9}(?:\\.[0-9]{1,9})?)';
/** What parseIsoTime() reads the same way as the SQL below: UTC, seconds, any fraction (truncated to ms), an hour below 24. */
const TIME = '((?:19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?Z)';

/** The fields the row reads, in the documented order (parser.ts `A`): LINE's groups, and positions in TOKENS' list. */
const FIELDS = [
  'f_type',
  'f_time',
  'f_elb',
  'f_client',
  'f_target',
  'f_request_seconds',
  'f_target_seconds',
  'f_response_seconds',
  'f_status',
  'f_target_status',
  'f_received',
  'f_sent',
  'f_request',
  'f_user_agent',
  'f_ssl_cipher',
  'f_ssl_protocol',
  'f_target_group_arn',
  'f_trace_id',
  'f_domain_name',
  'f_cert_arn',
  'f_rule_priority',
  'f_request_created',
  'f_actions',
  'f_redirect_url',
  'f_error_reason',
] as const;
/** The oldest lines end after ssl_protocol (parser.ts ALB_MIN_FIELDS); the fields after it are optional, in order. */
const REQUIRED = FIELDS.indexOf('f_ssl_protocol') + 1;

const LINE = (() => {
  const required = [
    '([a-z][a-z0-9]*)',
    TIME,
    `(app/[^ "${EXCLUDED}]*)`,
    `(${BARE})`,
    `(${BARE})`,
    SECONDS,
    SECONDS,
    SECONDS,
    STATUS,
    STATUS,
    BYTES,
    BYTES,
    `(${TOKEN})`,
    `(${TOKEN})`,
    `(${TOKEN})`,
    `(${TOKEN})`,
  ];
  if (required.length !== REQUIRED) throw new Error('ALB SQL: groups and line form disagree');
  let optional = '';
  for (let i = FIELDS.length - 1; i >= REQUIRED; i--) optional = `(?: (${TOKEN})${optional})?`;
  // Fields after error_reason (target lists, classification, conn_trace_id, ones AWS adds later) are read by no column.
  return `^${required.join(' ')}${optional}(?: ${TOKEN})*$`;
})();

/**
 * An accepted line's tokens, as the tokenizer reads them, without a regular expression with
 * groups (RE2 extracting 25 groups cost ≈50 µs a line; see bench/README.md): with each escaped
 * quote masked (a control character no accepted line holds), the quotes left delimit the quoted
 * tokens, so splitting on them leaves quoted contents at even positions and runs of bare tokens,
 * separated by spaces, at odd ones.
 */
const TOKENS = `flatten(list_transform(string_split(replace(line, '\\"', chr(1)), '"'),
  (piece, i) -> CASE WHEN i % 2 = 0 THEN [replace(piece, chr(1), '\\"')] ELSE list_filter(string_split(piece, ' '), x -> x <> '') END))`;

/** A field of the line: its token (NULL past the line's end). */
const field = (name: (typeof FIELDS)[number]) => `t[${FIELDS.indexOf(name) + 1}]`;

const partitionOfRegion = `CASE ${REGION_PARTITIONS.map(([prefix, partition]) => `WHEN starts_with(region, '${prefix}') THEN '${partition}'`).join(' ')} ELSE 'aws' END`;

/** The parser's durationMs(): the three times summed (in order, as doubles) into ms, null when one is '-' or negative. */
const DURATION = `CASE WHEN ${field('f_request_seconds')} NOT IN ('-', '-1') AND ${field('f_target_seconds')} NOT IN ('-', '-1') AND ${field('f_response_seconds')} NOT IN ('-', '-1')
  THEN round((TRY_CAST(${field('f_request_seconds')} AS DOUBLE) + TRY_CAST(${field('f_target_seconds')} AS DOUBLE) + TRY_CAST(${field('f_response_seconds')} AS DOUBLE)) * 1e6) / 1e3 END`;

const SELECT = `
SELECT obj, line_ok, valid, time, event_id, class_uid, activity, service,
  CASE WHEN status IS NULL OR status <= 0 THEN 'unknown' WHEN status < 400 THEN 'success' ELSE 'failure' END AS outcome,
  error_code, src_ip, user_agent,
  list_filter([
    CASE WHEN regexp_full_match(account, '[0-9]{12}') AND region <> 'unknown'
      THEN 'arn:' || (${partitionOfRegion}) || ':elasticloadbalancing:' || region || ':' || account || ':loadbalancer/' || elb
      ELSE elb END,
    target_group_arn], x -> x IS NOT NULL) AS resources,
  raw, account, region, method AS http_method, target AS url,
  coalesce(alb_url_host(target), domain_name) AS host,
  CASE WHEN url_path IS NULL OR url_path = '' THEN NULL WHEN contains(url_path, '%') THEN url_decode(url_path) ELSE url_path END AS path,
  status, bytes_out, bytes_in, duration_ms, dst_ip, dst_port, tls_protocol
FROM (
  SELECT *, alb_url_path(target) AS url_path,
    -- A path's %-escapes must be ones url_decode() reads as decodeURIComponent() does (printable ASCII).
    coalesce(form_ok AND (alb_url_path(target) IS NULL OR NOT contains(alb_url_path(target), '%')
      OR regexp_full_match(alb_url_path(target), '(?:[^%]|%[2-7][0-9A-Fa-f])*')), false) AS valid
  FROM (
    SELECT obj, line_ok, line AS raw,
      -- The line has the form, is not a Network Load Balancer's, and its ports and path read as the parser reads them.
      t IS NOT NULL AND NOT (${field('f_type')} = 'tls' AND starts_with(${field('f_client')}, 'net/'))
        AND alb_port_ok(${field('f_client')}) AND alb_port_ok(${field('f_target')}) AS form_ok,
      TRY_CAST(substr(${field('f_time')}, 1, 19) AS TIMESTAMP)
        + to_milliseconds(CAST(rpad(coalesce(substr(regexp_extract(${field('f_time')}, '\\.([0-9]+)', 1), 1, 3), ''), 3, '0') AS INTEGER)) AS time,
      sha1(line) AS event_id,
      4002 AS class_uid,
      request.method AS activity,
      'elasticloadbalancing.amazonaws.com' AS service,
      TRY_CAST(alb_text(${field('f_status')}) AS INTEGER) AS status,
      alb_text(${field('f_error_reason')}) AS error_code,
      alb_host(${field('f_client')}) AS src_ip,
      alb_text(${field('f_user_agent')}) AS user_agent,
      ${field('f_elb')} AS elb,
      arn AS target_group_arn,
      CASE WHEN arn_ok AND regexp_full_match(arn_parts[5], '[0-9]{12}') THEN arn_parts[5] ELSE coalesce(path_account, 'unknown') END AS account,
      CASE WHEN arn_ok AND regexp_full_match(arn_parts[4], '[a-z]{2}(-[a-z]+)+-[0-9]{1,2}') THEN arn_parts[4] ELSE coalesce(path_region, 'unknown') END AS region,
      request.method AS method,
      request.target AS target,
      alb_text(${field('f_domain_name')}) AS domain_name,
      TRY_CAST(alb_text(${field('f_sent')}) AS BIGINT) AS bytes_out,
      TRY_CAST(alb_text(${field('f_received')}) AS BIGINT) AS bytes_in,
      ${DURATION} AS duration_ms,
      alb_host(${field('f_target')}) AS dst_ip,
      alb_port(${field('f_target')}) AS dst_port,
      alb_text(${field('f_ssl_protocol')}) AS tls_protocol
    FROM (
      SELECT *, alb_request(alb_text(${field('f_request')})) AS request,
        starts_with(arn, 'arn:') AND len(arn_parts) >= 6 AND arn_parts[2] <> '' AND arn_parts[3] <> '' AS arn_ok
      FROM (
        SELECT *, alb_text(${field('f_target_group_arn')}) AS arn, string_split(alb_text(${field('f_target_group_arn')}), ':') AS arn_parts
        FROM (SELECT *, CASE WHEN regexp_full_match(line, '${LINE}') THEN ${TOKENS} END AS t FROM sql_lines)
      )
    )
  )
)`;

/** An object is for the SQL path when its first line looks like an ALB access log line (others: the parser, whole). */
const FIRST_LINE = /^[a-z][a-z0-9]* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z app\//;

function plan(text: string, ctx: { key: string }): SqlPlan | null {
  // readLines() drops a byte-order mark; a NUL is not a character the SQL path hands DuckDB.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!FIRST_LINE.test(body) || body.includes('\0')) return null;
  const hints = awsLogsPathHints(ctx.key, 'elasticloadbalancing');
  return { body, firstLine: 1, values: { path_account: hints.account, path_region: hints.region } };
}

export const albSql: SqlMapping = {
  table: 'http_activity',
  objectColumns: { path_account: 'VARCHAR', path_region: 'VARCHAR' },
  setup: [
    // text(): '-' and the empty string (also a group the line did not reach) are no value.
    `CREATE OR REPLACE TEMP MACRO alb_text(v) AS CASE WHEN v <> '-' AND v <> '' THEN v END`,
    // hostPort(): the address before the last ':' (the whole value without one), the port after it when it is an integer.
    `CREATE OR REPLACE TEMP MACRO alb_host(v) AS CASE WHEN v = '-' THEN NULL WHEN NOT contains(v, ':') THEN v
       ELSE nullif(regexp_extract(v, '^(.*):', 1), '') END`,
    `CREATE OR REPLACE TEMP MACRO alb_port(v) AS TRY_CAST(nullif(regexp_extract(v, ':(-?[0-9]{1,9})$', 1), '') AS INTEGER)`,
    // A port of ten digits or more is a number the writer would not hold as INTEGER: the parser's to read.
    `CREATE OR REPLACE TEMP MACRO alb_port_ok(v) AS NOT regexp_matches(v, ':-?[0-9]{10,}$')`,
    // requestLine(): method before the first space, version after the last, the target (trimmed) between.
    `CREATE OR REPLACE TEMP MACRO alb_request_target(rest) AS
       CASE WHEN contains(rest, ' ') THEN alb_text(trim(regexp_extract(rest, '^(.*) ', 1))) ELSE alb_text(rest) END`,
    `CREATE OR REPLACE TEMP MACRO alb_request(v) AS CASE
       WHEN v IS NULL THEN {'method': NULL, 'target': NULL}
       WHEN NOT contains(v, ' ') THEN {'method': v, 'target': NULL}
       ELSE {'method': alb_text(regexp_extract(v, '^([^ ]*) ', 1)), 'target': alb_request_target(regexp_extract(v, '^[^ ]* (.*)$', 1))} END`,
    // urlHost(): the authority of `scheme://` (the scheme within 10 characters) without its port.
    `CREATE OR REPLACE TEMP MACRO alb_authority_host(a) AS CASE
       WHEN starts_with(a, '[') THEN CASE WHEN contains(a, ']') THEN a[:strpos(a, ']')] ELSE a END
       WHEN contains(a, ':') THEN nullif(regexp_extract(a, '^(.*):', 1), '') ELSE nullif(a, '') END`,
    `CREATE OR REPLACE TEMP MACRO alb_url_host(t) AS CASE WHEN strpos(t, '://') BETWEEN 1 AND 11
       THEN alb_authority_host(regexp_extract(t[strpos(t, '://') + 3:], '^[^/?]*')) END`,
    // urlPath() before decoding: from the first '/' after `scheme://` (a scheme within 9), else the start, to the first '?'.
    `CREATE OR REPLACE TEMP MACRO alb_url_path(t) AS CASE
       WHEN t IS NULL THEN NULL
       WHEN strpos(t, '://') BETWEEN 1 AND 10 THEN
         CASE WHEN contains(t[strpos(t, '://') + 3:], '/') THEN regexp_extract(t[strpos(t, '://') + 3:], '/[^?]*') ELSE '/' END
       ELSE regexp_extract(t, '^[^?]*') END`,
  ],
  select: SELECT,
  plan,
};
