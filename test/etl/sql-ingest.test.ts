/**
 * The SQL ingest path (etl/sql-ingest.ts, issue #14 item 1) against the per-record parser: the
 * same inputs ingested both ways give the same rows (every column, raw included), the same
 * quarantine records, the same manifest counts and the same summary. The inputs are VPC flow's
 * golden files (most are not S3 deliveries: the parser reads them either way), S3 deliveries the
 * SQL path reads (default, custom, Transit Gateway and time-less formats, CRLF, a byte-order
 * mark, redacted accounts, a duplicate line, a header alone) and one with malformed lines, which
 * the parser reads whole.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { TGW_FIELDS } from '../../etl/sources/vpcflow/fields';
import { sha256Hex } from '../../src/core/hash';
import { generateSample } from '../../testkit/sample';
import { bookkeepingLines, cloudTrailRecord, quarantineLines, tempDirsRemovedAfterAll, withDuckDb, type QuarantineLine } from './helpers';

const tempDir = tempDirsRemovedAfterAll();

const NOW = new Date('2026-11-10T12:00:00Z');
const GOLDEN = join(__dirname, '..', '..', 'etl', 'sources', 'vpcflow', 'golden');
const DEFAULT_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const T0 = Date.parse('2026-11-09T10:00:00Z') / 1000;

function write(root: string, path: string, text: string, gzip = false): void {
  const file = join(root, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, gzip ? gzipSync(Buffer.from(text, 'utf8')) : text);
}

/** S3 deliveries the SQL path reads, and one it hands back to the parser. */
function writeDeliveries(root: string): { sql: number } {
  const prefix = 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/09';
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const src = i % 3 === 0 ? `52.95.110.${i}` : `10.0.${i % 4}.${i}`;
    lines.push(
      `2 123456789012 eni-0a1b2c3d${i % 5} ${src} 10.0.9.${i % 7} ${1024 + i} ${i % 2 ? 443 : 22} 6 ${i + 1} ${840 * (i + 1)} ${T0 + i * 60} ${T0 + i * 60 + 59} ${i % 4 ? 'ACCEPT' : 'REJECT'} OK`,
    );
  }
  lines.push(`2 123456789012 eni-0a1b2c3d1 - - - - - - - ${T0} ${T0 + 60} - NODATA`);
  lines.push(`2 123456789012 eni-0a1b2c3d1 - - - - - - - ${T0} ${T0 + 60} - SKIPDATA`);
  // Default format, gzip, CRLF line ends, a byte-order mark.
  write(
    root,
    `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261109T1000Z_aaaa0001.log.gz`,
    `\ufeff${[DEFAULT_HEADER, ...lines].join('\r\n')}\r\n`,
    true,
  );
  // The same record again in another object: a duplicate, dropped at publish.
  write(
    root,
    `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261109T1005Z_aaaa0002.log.gz`,
    `${DEFAULT_HEADER}\n${lines[3]}\n${lines[5].replace('ACCEPT', 'REJECT')}\n`,
    true,
  );
  // A custom format in another order; account and region from the key where a record has '-'; a
  // TCP flag beyond INTEGER; a China region (aws-cn ARNs).
  const custom =
    'account-id region vpc-id subnet-id instance-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags type pkt-srcaddr pkt-dstaddr flow-direction traffic-path version';
  write(
    root,
    'AWSLogs/210987654321/vpcflowlogs/cn-north-1/2026/11/09/210987654321_vpcflowlogs_cn-north-1_fl-0def_20261109T1000Z_bbbb0001.log',
    [
      custom,
      `- - vpc-1 subnet-1 i-0123 eni-1 203.0.113.7 10.1.0.5 55000 443 6 3 180 ${T0} ${T0 + 30} ACCEPT OK 19 IPv4 203.0.113.7 10.1.0.5 ingress 1 5`,
      `210987654321 cn-north-1 vpc-1 subnet-1 - eni-2 10.1.0.5 203.0.113.7 443 55000 6 3 180 ${T0} ${T0 + 30} ACCEPT OK 3000000000 IPv4 - - egress - 5`,
      `210987654321 cn-northwest-1 - - - - 10.1.0.6 10.1.0.7 0 0 1 1 84 - ${T0 + 90} REJECT OK - - - - - - 5`,
      '',
    ].join('\n'),
  );
  // Transit Gateway flow logs with their header (every field, in the documented order).
  const tgwValues = (i: number): string =>
    TGW_FIELDS.map((f) => {
      if (f === 'version') return '6';
      if (f === 'resource-type') return 'TransitGatewayAttachment';
      if (f === 'account-id') return '123456789012';
      if (f === 'srcport' || f === 'dstport') return String(443 + i);
      if (f === 'protocol') return '6';
      if (f === 'packets' || f === 'bytes' || f === 'tcp-flags') return String(10 + i);
      if (f === 'start') return String(T0 + i);
      if (f === 'end') return String(T0 + i + 60);
      if (f.startsWith('packets-lost')) return i === 0 ? '-' : String(i);
      if (f === 'srcaddr') return '10.2.0.1';
      if (f === 'dstaddr') return '10.3.0.1';
      if (f === 'region') return 'eu-west-1';
      if (f === 'log-status') return 'OK';
      if (f === 'type') return 'IPv4';
      if (f === 'flow-direction') return 'egress';
      if (f.includes('account')) return '123456789012';
      return `${f}-${i}`;
    }).join(' ');
  write(
    root,
    `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0aaa_20261109T1010Z_cccc0001.log`,
    `${TGW_FIELDS.join(' ')}\n${tgwValues(0)}\n${tgwValues(1)}\n`,
  );
  // No start or end in the format: the time is the delivery time in the file name.
  write(
    root,
    `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0bbb_20261109T1015Z_dddd0001.log`,
    'version account-id srcaddr dstaddr action\n2 123456789012 10.0.0.1 10.0.0.2 ACCEPT\n5 - 10.0.0.3 10.0.0.4 -\n',
  );
  // A redacted account (not twelve digits): bare resource ids; a header alone.
  write(
    root,
    'flows/64111117617_redacted.log',
    `${DEFAULT_HEADER}\n2 64111117617 eni-069xxxxxb7a490 10.4.0.1 10.4.0.2 1 2 17 1 76 ${T0} ${T0 + 1} ACCEPT OK\n`,
  );
  write(root, `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261109T1020Z_eeee0001.log`, `${DEFAULT_HEADER}\n`);
  // Malformed lines: the parser reads this object whole and quarantines them with its reasons.
  const good = `2 123456789012 eni-0f 10.0.0.1 52.95.110.9 443 49152 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`;
  write(
    root,
    `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261109T1025Z_ffff0001.log`,
    [
      DEFAULT_HEADER,
      good,
      `2 123456789012 eni-0f 10.0.0.1 10.0.0.2 443 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`,
      `2 123456789012 eni-0f 10.0.0.1 10.0.0.2 http 49152 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`,
      `2 123456789012 eni-0f 10.0.0.1 10.0.0.2 70000 49152 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`,
      `2 123456789012 eni-0f 10.0.0.1 10.0.0.2 443 49152 6 10 840 99999999999 99999999999 ACCEPT OK`,
      `2 123456789012 eni-0f "10.0.0.1 x" 10.0.0.2 443 49152 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`,
      `2  123456789012 eni-0f 10.0.0.1 10.0.0.2 444 49152 6 10 840 ${T0} ${T0 + 60} ACCEPT OK`,
      '# a comment',
      good.replace('ACCEPT', 'REJECT'),
    ].join('\n'),
  );
  return { sql: 7 };
}

/** Each partition's part files by content: sha256 per partition folder (file names hold the run's transaction id). */
function partFiles(lake: string, table = 'network_activity'): string[] {
  const root = join(lake, table);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => `${dirname(f)} ${sha256Hex(readFileSync(join(root, f)))}`)
    .sort();
}

async function rows(lake: string, table = 'network_activity'): Promise<Record<string, unknown>[]> {
  return withDuckDb((run) => run(`SELECT * FROM read_parquet('${lake}/${table}/**/*.parquet', hive_partitioning = true) ORDER BY ALL`));
}

function comparable(summary: IngestSummary): Record<string, unknown> {
  const { seconds: _s, sql_objects: _q, sql_records: _r, graph: _g, ...rest } = summary;
  return rest;
}

function manifestCounts(lake: string): unknown[] {
  return bookkeepingLines<Record<string, unknown>>(lake, '_manifest')
    .map(({ txn: _t, ingestedAt: _i, ...rest }) => rest)
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

function quarantineOf(lake: string): QuarantineLine[] {
  return quarantineLines(lake).sort((a, b) => `${a.object} ${a.position}`.localeCompare(`${b.object} ${b.position}`));
}

describe('SQL ingest path (VPC flow logs)', () => {
  let input = '';
  let expectedSql = 0;
  const lakes = { sql: '', js: '', small: '' };
  const summaries: Partial<Record<'sql' | 'js' | 'small', IngestSummary>> = {};

  beforeAll(async () => {
    input = tempDir('sql-ingest-in');
    for (const file of readdirSync(GOLDEN)) {
      if (!file.endsWith('.expected.json') && !file.endsWith('.options.json')) copyFileSync(join(GOLDEN, file), join(input, file));
    }
    expectedSql = writeDeliveries(input).sql;
    for (const path of ['sql', 'js'] as const) {
      lakes[path] = tempDir(`sql-ingest-${path}`);
      summaries[path] = await ingest({ inputs: [input], lake: lakes[path], now: NOW, graph: false, sqlIngest: path === 'sql' });
    }
    // Batches of two objects: most are flushed while objects are still being read, not at the transaction's end.
    process.env.SCOUTQL_SQL_BATCH_OBJECTS = '2';
    try {
      lakes.small = tempDir('sql-ingest-small');
      summaries.small = await ingest({ inputs: [input], lake: lakes.small, now: NOW, graph: false, workers: 1 });
    } finally {
      delete process.env.SCOUTQL_SQL_BATCH_OBJECTS;
    }
  }, 120_000);

  test('the SQL path read the S3 deliveries; the JavaScript path read everything itself', () => {
    // The golden files with a header line are S3 deliveries too.
    expect(summaries.sql!.sql_objects).toBeGreaterThanOrEqual(expectedSql);
    expect(summaries.js!.sql_objects).toBeUndefined();
  });

  test('same counts: records = written + quarantined + filtered + duplicates, both ways', () => {
    const sql = summaries.sql!;
    expect(comparable(sql)).toEqual(comparable(summaries.js!));
    expect(sql.records).toBe(sql.written + sql.quarantined + sql.filtered + sql.duplicates);
    expect(sql.quarantined).toBeGreaterThanOrEqual(4);
    expect(sql.duplicates).toBeGreaterThanOrEqual(1);
  });

  test('identical rows, every column (raw, enrichment, partitions) included', async () => {
    const [sql, js] = [await rows(lakes.sql), await rows(lakes.js)];
    expect(sql.length).toBeGreaterThan(60);
    expect(sql).toEqual(js);
    // GeoIP enrichment reached the SQL rows too (an AWS address), and the China region its partition's ARNs.
    expect(sql.some((r) => r.src_ip === '52.95.110.0' && r.src_asn !== null)).toBe(true);
    expect(sql.some((r) => String(r.resources).includes('arn:aws-cn:ec2:cn-north-1:210987654321:instance/i-0123'))).toBe(true);
  });

  test('byte-identical Parquet files, partition by partition', () => {
    const sql = partFiles(lakes.sql);
    expect(sql.length).toBeGreaterThan(10);
    expect(sql).toEqual(partFiles(lakes.js));
  });

  test('the same when batches are flushed mid-transaction', () => {
    expect(summaries.small!.sql_objects).toBe(summaries.sql!.sql_objects);
    expect(comparable(summaries.small!)).toEqual(comparable(summaries.js!));
    expect(partFiles(lakes.small)).toEqual(partFiles(lakes.js));
    expect(quarantineOf(lakes.small)).toEqual(quarantineOf(lakes.js));
  });

  test('identical quarantine records and manifest entries', () => {
    expect(quarantineOf(lakes.sql)).toEqual(quarantineOf(lakes.js));
    expect(
      quarantineOf(lakes.sql)
        .filter((q) => q.object.endsWith('ffff0001.log'))
        .map((q) => q.position),
    ).toEqual([
      'line 3',
      'line 4',
      'line 5',
      'record', // line 6: dated after the run's bounds
    ]);
    expect(manifestCounts(lakes.sql)).toEqual(manifestCounts(lakes.js));
  });
});

const ALB_GOLDEN = join(__dirname, '..', '..', 'etl', 'sources', 'alb', 'golden');
const ALB_PREFIX = 'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/09';
const ALB_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067';

/** An ALB access log line in the current documented form, with fields to vary. */
function albLine(
  i: number,
  o: Partial<
    Record<
      'type' | 'time' | 'client' | 'target' | 'times' | 'codes' | 'bytes' | 'request' | 'agent' | 'tg' | 'domain' | 'error' | 'tail',
      string
    >
  > = {},
): string {
  const time = o.time ?? `2026-11-09T10:${String(i % 60).padStart(2, '0')}:0${i % 10}.${String(123456 + i).slice(0, 6)}Z`;
  return [
    o.type ?? (i % 3 ? 'https' : 'h2'),
    time,
    'app/web-alb/50dc6c495c0c9188',
    o.client ?? (i % 4 === 0 ? `52.95.110.${i}:${40000 + i}` : `203.0.113.${i}:${30000 + i}`),
    o.target ?? `10.0.1.${i % 7}:8080`,
    o.times ?? `0.00${i % 10} 0.0${i % 10}1 0.000`,
    o.codes ?? `${i % 5 ? 200 : 404} ${i % 5 ? 200 : 404}`,
    o.bytes ?? `${100 + i} ${2000 + i}`,
    o.request ?? `"GET https://shop.example.com:443/items/${i}?q=${i} HTTP/1.1"`,
    o.agent ?? `"Mozilla/5.0 (X11; Linux x86_64) Test/${i}"`,
    'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2',
    o.tg ?? ALB_TG,
    `"Root=1-58337262-36d228ad5d99923122bb${String(i).padStart(4, '0')}"`,
    o.domain ?? '"shop.example.com"',
    '"arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"',
    `0 ${time.slice(0, 20)}000000Z "forward" "-"`,
    o.error ?? '"-"',
    `"10.0.1.${i % 7}:8080" "200" "-" "-" TID_${String(i).padStart(32, '0')}`,
    ...(o.tail ? [o.tail] : []),
  ].join(' ');
}

/** ALB deliveries: ones the SQL path reads (count returned), ones with lines it leaves to the parser, and one with a bad line. */
function writeAlbDeliveries(root: string): { sql: number } {
  const name = (n: string, minute: string) =>
    `${ALB_PREFIX}/123456789012_elasticloadbalancing_eu-west-1_app.web-alb.50dc6c495c0c9188_20261109T${minute}Z_10.0.0.1_${n}.log.gz`;
  const lines = Array.from({ length: 30 }, (_, i) => albLine(i));
  lines.push(
    // No target answered; '-' codes and times; a 2018-form line without the later fields.
    albLine(30, { target: '-', times: '-1 -1 -1', codes: '502 -', tg: '-' }),
    albLine(31, { codes: '- -', bytes: '- -', times: '- - -' }),
    albLine(32).slice(0, albLine(32).indexOf(' TLSv1.2') + ' TLSv1.2'.length),
    // Escaped quotes in the user agent and request; a backslash run before one; spaces inside the request target.
    albLine(33, { agent: '"curl \\"quoted\\" agent\\\\\\" x"', request: '"GET http://shop.example.com/a b/c?x=\\"1\\" HTTP/1.1"' }),
    // A request without version, one without target, the TCP form, an empty one, a relative target with ASCII escapes.
    albLine(34, { request: '"GET /plain"' }),
    albLine(35, { request: '"PRI"' }),
    albLine(36, { request: '"- - - "', domain: '"-"' }),
    albLine(37, { request: '""' }),
    albLine(38, { request: '"GET /a%20b/%2Fc?d=%ZZ HTTP/1.1"', domain: '"relative.example.com"' }),
    // IPv6 client and an IPv6 host; a scheme of ten characters (a host but no path) and of eleven.
    albLine(39, { client: '2001:db8::1:51000', request: '"GET http://[2001:db8::2]:8080/v6 HTTP/1.1"' }),
    albLine(40, { request: '"GET abcdefg://host:1/p HTTP/1.1"' }),
    albLine(41, { request: '"GET abcdefgh://host:1/p HTTP/1.1"' }),
    albLine(41, { request: '"GET http://user:pw@host.example.com:8080?x=1 HTTP/1.1"' }),
    // Fields AWS appends later; a non-ASCII user agent; an error reason; a China region target group (aws-cn ARNs).
    albLine(42, { tail: '"-" "new-field" 42' }),
    albLine(43, { agent: '"Mozilla/5.0 (é ü) 日本"', error: '"LambdaInvalidResponse"' }),
    albLine(44, { tg: 'arn:aws-cn:elasticloadbalancing:cn-north-1:210987654321:targetgroup/cn/1' }),
    // A target group ARN that names no account: the key's; a port that is not a number; a negative port.
    albLine(45, { tg: 'arn:aws:elasticloadbalancing:::targetgroup/x/1', client: '198.51.100.7:http', target: '10.0.1.1:-5' }),
    albLine(46, { time: '2026-11-09T10:46:00Z', times: '0.1 0.2 0.3' }),
  );
  write(root, name('aaaa', '1000'), `${lines.join('\n')}\n`, true);
  // A duplicate line in another object (dropped at publish), CRLF line ends.
  write(root, name('bbbb', '1005'), `${lines[3]}\r\n${albLine(47)}\r\n`, true);
  // Outside AWSLogs: account and region from the target group ARN, else 'unknown'.
  write(root, 'alb/plain.log', `${albLine(48)}\n${albLine(49, { tg: '-' })}\n`);
  // Lines the SQL path leaves to the parser, each in its own object: a quote that closes nowhere the
  // SQL knows, a bracketed field, runs of spaces, a non-ASCII %-escape, a tab, a 15-digit status, a
  // time with an offset, a port beyond INTEGER, a quote inside a bare token.
  const odd = [
    albLine(50, { agent: '"a"b" c"' }),
    albLine(51, { agent: '[bracketed agent]' }),
    albLine(52).replace(' 200 200 ', '  200 200 '),
    albLine(53, { request: '"GET /caf%C3%A9 HTTP/1.1"' }),
    albLine(54, { agent: '"tab\there"' }),
    albLine(55, { codes: '200 123456789012345' }),
    albLine(56, { time: '2026-11-09T10:56:00+00:00' }),
    albLine(57, { client: '198.51.100.7:12345678901' }),
    albLine(58, { agent: 'bare"quote' }),
  ];
  odd.forEach((line, i) => write(root, name(`odd${i}`, '1010'), `${albLine(60 + i)}\n${line}\n`, true));
  // A bad line among good ones: the parser reads the object whole and quarantines it with its reason.
  write(root, name('cccc', '1015'), `${albLine(70)}\n${albLine(71, { codes: 'OK 200' })}\n${albLine(72)}\n`, true);
  return { sql: 3 };
}

describe('SQL ingest path (ALB access logs)', () => {
  let input = '';
  let expectedSql = 0;
  const lakes = { sql: '', js: '', small: '' };
  const summaries: Partial<Record<'sql' | 'js' | 'small', IngestSummary>> = {};

  beforeAll(async () => {
    input = tempDir('alb-sql-in');
    for (const file of readdirSync(ALB_GOLDEN)) {
      if (!file.endsWith('.expected.json') && !file.endsWith('.options.json')) copyFileSync(join(ALB_GOLDEN, file), join(input, file));
    }
    expectedSql = writeAlbDeliveries(input).sql;
    for (const path of ['sql', 'js'] as const) {
      lakes[path] = tempDir(`alb-sql-${path}`);
      summaries[path] = await ingest({ inputs: [input], lake: lakes[path], now: NOW, graph: false, sqlIngest: path === 'sql' });
    }
    process.env.SCOUTQL_SQL_BATCH_OBJECTS = '2';
    try {
      lakes.small = tempDir('alb-sql-small');
      summaries.small = await ingest({ inputs: [input], lake: lakes.small, now: NOW, graph: false, workers: 1 });
    } finally {
      delete process.env.SCOUTQL_SQL_BATCH_OBJECTS;
    }
  }, 120_000);

  test('the SQL path read the deliveries it can; the JavaScript path read everything itself', () => {
    // Golden files of ALB access lines alone are read in SQL too (awkward-requests, docs-2018-examples, docs-current-fields); no odd one.
    expect(summaries.sql!.sql_objects).toBe(expectedSql + 3);
    expect(summaries.js!.sql_objects).toBeUndefined();
  });

  test('same counts: records = written + quarantined + filtered + duplicates, both ways', () => {
    const sql = summaries.sql!;
    expect(comparable(sql)).toEqual(comparable(summaries.js!));
    expect(sql.records).toBe(sql.written + sql.quarantined + sql.filtered + sql.duplicates);
    expect(sql.quarantined).toBeGreaterThanOrEqual(1);
    expect(sql.duplicates).toBeGreaterThanOrEqual(1);
  });

  test('identical rows, every column, both tables', async () => {
    for (const table of ['http_activity', 'network_activity']) {
      const [sql, js] = [await rows(lakes.sql, table), await rows(lakes.js, table)];
      expect(sql.length).toBeGreaterThan(table === 'http_activity' ? 80 : 5);
      expect(sql).toEqual(js);
    }
    const http = await rows(lakes.sql, 'http_activity');
    expect(http.some((r) => r.src_ip === '52.95.110.4' && r.src_asn !== null)).toBe(true);
    expect(
      http.some((r) => String(r.resources).includes('arn:aws-cn:elasticloadbalancing:cn-north-1:210987654321:loadbalancer/app/web-alb')),
    ).toBe(true);
  });

  test('byte-identical Parquet files, partition by partition', () => {
    for (const table of ['http_activity', 'network_activity']) expect(partFiles(lakes.sql, table)).toEqual(partFiles(lakes.js, table));
    expect(partFiles(lakes.sql, 'http_activity').length).toBeGreaterThan(3);
  });

  test('the same when batches are flushed mid-transaction', () => {
    expect(summaries.small!.sql_objects).toBe(summaries.sql!.sql_objects);
    expect(comparable(summaries.small!)).toEqual(comparable(summaries.js!));
    expect(partFiles(lakes.small, 'http_activity')).toEqual(partFiles(lakes.js, 'http_activity'));
    expect(quarantineOf(lakes.small)).toEqual(quarantineOf(lakes.js));
  });

  test('identical quarantine records and manifest entries', () => {
    expect(quarantineOf(lakes.sql)).toEqual(quarantineOf(lakes.js));
    expect(
      quarantineOf(lakes.sql)
        .filter((q) => q.object.includes('_cccc.'))
        .map((q) => [q.position, q.reason]),
    ).toEqual([['line 2', "elb_status_code 'OK' is not a non-negative integer"]]);
    expect(manifestCounts(lakes.sql)).toEqual(manifestCounts(lakes.js));
  });
});

/** The first line of AWS's ALB access log examples (docs-2018-examples.log), as an S3 delivery's key names it. */
const ALB_DOCS_LINE = readFileSync(join(ALB_GOLDEN, 'docs-2018-examples.log'), 'utf8').split('\n', 1)[0];
const ALB_DOCS_KEY =
  'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/07/02/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_bom.log.gz';

describe('an ALB access log object that starts with a byte-order mark', () => {
  const lakes = { sql: '', js: '', plain: '' };
  const summaries: Partial<Record<'sql' | 'js' | 'plain', IngestSummary>> = {};

  beforeAll(async () => {
    const withBom = tempDir('alb-bom-in');
    const without = tempDir('alb-bom-plain-in');
    write(withBom, ALB_DOCS_KEY, `\ufeff${ALB_DOCS_LINE}\n`, true);
    write(without, ALB_DOCS_KEY, `${ALB_DOCS_LINE}\n`, true);
    for (const path of ['sql', 'js'] as const) {
      lakes[path] = tempDir(`alb-bom-${path}`);
      summaries[path] = await ingest({ inputs: [withBom], lake: lakes[path], now: NOW, graph: false, sqlIngest: path === 'sql' });
    }
    lakes.plain = tempDir('alb-bom-plain');
    summaries.plain = await ingest({ inputs: [without], lake: lakes.plain, now: NOW, graph: false });
  }, 60_000);

  test('is detected as ALB and read by the SQL path and by the parser', () => {
    expect(quarantineOf(lakes.sql)).toEqual([]);
    expect(manifestCounts(lakes.sql)).toMatchObject([{ source: 'alb', status: 'ingested', records: 1, written: 1 }]);
    expect(summaries.sql).toMatchObject({ records: 1, written: 1, quarantined: 0, skipped_objects: 0, sql_objects: 1, sql_records: 1 });
    expect(summaries.js).toMatchObject({ records: 1, written: 1, quarantined: 0, skipped_objects: 0 });
    expect(summaries.js!.sql_objects).toBeUndefined();
    expect(comparable(summaries.sql!)).toEqual(comparable(summaries.js!));
  });

  test('byte-identical rows both ways, the same as the line without the mark', async () => {
    const [sql, js, plain] = [
      await rows(lakes.sql, 'http_activity'),
      await rows(lakes.js, 'http_activity'),
      await rows(lakes.plain, 'http_activity'),
    ];
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatchObject({ src_ip: '192.168.131.39', account: '123456789012', region: 'us-east-2', raw: ALB_DOCS_LINE });
    expect(sql).toEqual(js);
    expect(sql).toEqual(plain);
    expect(partFiles(lakes.sql, 'http_activity')).toEqual(partFiles(lakes.js, 'http_activity'));
    expect(partFiles(lakes.sql, 'http_activity')).toEqual(partFiles(lakes.plain, 'http_activity'));
  });
});

const CT_GOLDEN = join(__dirname, '..', '..', 'etl', 'sources', 'cloudtrail', 'golden');
const CT_NOW = new Date('2026-11-10T12:00:00Z');
const CT_TABLES = ['api_activity', 'authentication'] as const;

/** Trail log files the SQL path reads (records it maps, and records it hands to the parser one by one), and some it does not. */
function writeTrailFiles(root: string): void {
  const prefix = 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/09';
  const t = (i: number) => `2026-11-09T10:${String(i % 60).padStart(2, '0')}:0${i % 10}Z`;
  const assumed = (i: number) => ({
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE:session-${i}`,
    arn: `arn:aws:sts::123456789012:assumed-role/Deploy${i % 3}/session-${i}`,
    accountId: '123456789012',
    accessKeyId: `ASIAEXAMPLE${i}`,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLE',
        arn: `arn:aws:iam::123456789012:role/team/ci/Deploy${i % 3}`,
        accountId: '123456789012',
        userName: `Deploy${i % 3}`,
      },
      webIdFederationData: {},
      attributes: { creationDate: t(i), mfaAuthenticated: i % 2 ? 'true' : 'false' },
    },
  });
  const mapped: Record<string, unknown>[] = [];
  for (let i = 0; i < 30; i++) {
    mapped.push(
      cloudTrailRecord(i, {
        eventTime: t(i),
        userIdentity: i % 2 ? assumed(i) : cloudTrailRecord(i).userIdentity,
        eventSource: i % 3 === 0 ? 's3.amazonaws.com' : 'kms.amazonaws.com',
        eventName: i % 3 === 0 ? 'GetObject' : 'Decrypt',
        requestParameters:
          i % 3 === 0
            ? { bucketName: `bucket-${i % 4}`, key: `path/to/obj-${i}.txt`, Host: 'x.s3.amazonaws.com' }
            : i % 5 === 0
              ? null
              : { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', n: i },
        resources: [{ ARN: `arn:aws:kms:eu-west-1:123456789012:key/k-${i % 3}`, accountId: '123456789012', type: 'AWS::KMS::Key' }],
        ...(i % 7 === 0 ? { errorCode: 'AccessDenied', errorMessage: 'not allowed' } : {}),
        ...(i % 11 === 0 ? { eventID: undefined } : {}),
      }),
    );
  }
  const other = (i: number, overrides: Record<string, unknown>) => cloudTrailRecord(100 + i, { eventTime: t(i), ...overrides });
  const special: Record<string, unknown>[] = [
    // Identity types the mapping ports.
    other(1, {
      userIdentity: { type: 'Root', principalId: '123456789012', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' },
    }),
    other(2, { userIdentity: { type: 'Root', accountId: '123456789012' }, awsRegion: 'cn-north-1' }),
    other(3, { userIdentity: { type: 'IAMUser', accountId: '123456789012', userName: 'bob' }, awsRegion: 'us-gov-west-1' }),
    other(4, {
      userIdentity: { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' },
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      requestParameters: { roleArn: 'arn:aws:iam::123456789012:role/path/Target', roleSessionName: 's' },
      responseElements: { credentials: { accessKeyId: 'ASIANEW', expiration: 'x' } },
    }),
    other(5, { userIdentity: { accountId: '123456789012', invokedBy: 'ec2.amazonaws.com' } }),
    other(6, { userIdentity: { type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' } }),
    other(7, { userIdentity: { type: 'AWSAccount', principalId: 'AIDAX', accountId: '210987654321' } }),
    other(8, {
      userIdentity: {
        type: 'FederatedUser',
        principalId: '1:alice',
        arn: 'arn:aws:sts::123456789012:federated-user/alice',
        accountId: '123456789012',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:user/fed' } },
      },
    }),
    other(9, { userIdentity: { type: 'SAMLUser', principalId: 'x', userName: 'carol@example.com', identityProvider: 'idp' } }),
    other(10, {
      userIdentity: { type: 'WebIdentityUser', principalId: 'x', userName: 'sub', identityProvider: 'token.actions.githubusercontent.com' },
    }),
    other(11, { userIdentity: { type: 'Unknown', principalId: 'p', userName: 'u' } }),
    other(12, { userIdentity: 'not an object' }),
    other(13, { userIdentity: undefined, readOnly: 'true' }),
    other(14, {
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROA:s',
        arn: 'arn:aws-cn:sts::123456789012:assumed-role/R/',
        accountId: '123456789012',
      },
    }),
    other(15, {
      requestParameters: { secretId: 'x' },
      eventSource: 'kms.amazonaws.com',
      resources: [
        { ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC123' },
        { arn: 'arn:aws:iam::123456789012:role/a/b/R' },
        { ARN: '' },
        'x',
        { ARN: 'arn:aws:iam::123456789012:role/R' },
      ],
    }),
    other(16, {
      requestParameters: { policyArn: 'arn:aws:iam::aws:policy/Admin', roleArn: 'not-an-arn' },
      eventSource: 'organizations.amazonaws.com',
    }),
    other(17, { awsRegion: undefined, recipientAccountId: undefined }),
    other(18, { eventTime: '2026-11-09T10:00:00.123456Z' }),
    other(19, { additionalEventData: { MFAUsed: 'Yes' } }),
    other(20, { additionalEventData: { MFAUsed: 'true' }, vpcEndpointId: 'vpce-1' }),
    other(21, { requestParameters: { nested: { list: [1, 'a', { b: null }], s: 'quote " slash / tab \t é' } } }),
    // Records the parser reads alone: service resource fields, sign-ins, Identity Center, number forms, odd times.
    other(30, {}), // ec2 StartInstances with instancesSet
    other(31, {
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      responseElements: { ConsoleLogin: 'Failure' },
      additionalEventData: { MFAUsed: 'No', LoginTo: 'https://console.aws.amazon.com' },
    }),
    other(32, {
      userIdentity: {
        type: 'IdentityCenterUser',
        accountId: '123456789012',
        onBehalfOf: { userId: 'u-1', identityStoreArn: 'arn' },
        credentialId: 'c',
      },
    }),
    other(33, { userIdentity: { type: 'Unknown', onBehalfOf: { userId: 'u-2' } } }),
    other(34, { requestParameters: { ratio: 1.5 } }),
    other(35, { requestParameters: { big: 2 ** 60 } }),
    other(36, { requestParameters: { '10': 'a', b: 'c' } }),
    other(37, { eventTime: '2026-11-09 10:00:00Z' }),
    other(38, { eventTime: '2026-02-30T10:00:00Z' }),
    other(39, { eventTime: undefined }),
    other(40, { eventTime: 12345 }),
    other(41, { eventName: '' }),
    other(42, { eventTime: '2027-11-09T10:00:00Z' }), // after the run's bounds
    other(43, {
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventVersion: '1', eventTime: t(1), eventName: 'X', eventSource: 'y.amazonaws.com' },
    }),
    other(44, { RequestParameters: { a: 1 }, requestParameters: undefined }),
    other(45, { responseElements: { CheckMfa: 'Failure' }, eventName: 'CheckMfa', eventSource: 'signin.amazonaws.com' }),
    other(46, { userIdentity: { type: 'constructor' } }),
    // String fields holding something else (asString() reads null), and a \u escape: the parser's.
    other(48, { errorCode: 404, userAgent: { name: 'sdk' } }),
    other(49, { userIdentity: { type: 'IAMUser', principalId: 'AIDA', userName: true, accountId: 123456789012 } }),
    other(50, { sourceIPAddress: null, userAgent: 'bell \u0007', requestParameters: { bucketName: ['b'], key: 7 } }),
    { message: JSON.stringify(other(47, {})) },
    { notARecord: true },
  ];
  const envelope = (records: unknown[]) => JSON.stringify({ Records: records });
  write(root, `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1000Z_a1.json.gz`, envelope(mapped), true);
  write(root, `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1005Z_a2.json.gz`, envelope(special), true);
  // The same records again in another object: duplicates, dropped at publish.
  write(root, `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1010Z_a3.json.gz`, envelope(mapped.slice(0, 3)), true);
  // Pretty-printed with CRLF and a byte-order mark; records on later lines (positions name them).
  write(
    root,
    `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1015Z_a4.json`,
    `\ufeff${JSON.stringify({ Records: special.slice(0, 12).concat(special.slice(25, 30)) }, null, 2).replace(/\n/g, '\r\n')}\r\n`,
  );
  // Elements JavaScript does not read as JSON (DuckDB would): trailing commas, NaN; a duplicate key; an empty array.
  const one = JSON.stringify(other(50, {}));
  write(
    root,
    `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1020Z_a5.json`,
    `{"Records":[${one.replace(/}$/, ',}')},${one.replace('"readOnly":false', '"readOnly":NaN')},${one.replace('"eventName":"StartInstances"', '"eventName":"A","eventName":"B"')},${JSON.stringify(other(51, {}))}]}`,
  );
  write(root, `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1025Z_a6.json`, '{"Records":[]}');
  // Not for the SQL path: a second envelope key after the records; a top-level array; a truncated file.
  write(
    root,
    `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1030Z_a7.json`,
    `{"Records":[${JSON.stringify(other(52, {}))}],"extra":1}`,
  );
  write(root, `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1035Z_a8.json`, `[${JSON.stringify(other(53, {}))}]`);
  write(
    root,
    `${prefix}/123456789012_CloudTrail_eu-west-1_20261109T1040Z_a9.json`,
    `{"Records":[${JSON.stringify(other(54, {}))},{"eventVersion":`,
  );
}

describe('SQL ingest path (CloudTrail)', () => {
  const lakes = { sql: '', js: '', small: '' };
  const summaries: Partial<Record<'sql' | 'js' | 'small', IngestSummary>> = {};

  beforeAll(async () => {
    const input = tempDir('sql-ingest-ct-in');
    for (const file of readdirSync(CT_GOLDEN)) {
      if (!file.endsWith('.expected.json') && !file.endsWith('.options.json')) copyFileSync(join(CT_GOLDEN, file), join(input, file));
    }
    writeTrailFiles(input);
    generateSample({ out: join(input, 'sample'), days: 1, scale: 1, sources: ['cloudtrail'], seed: 'sql-ingest', start: '2026-11-08' });
    for (const path of ['sql', 'js'] as const) {
      lakes[path] = tempDir(`sql-ingest-ct-${path}`);
      summaries[path] = await ingest({
        inputs: [input],
        lake: lakes[path],
        now: CT_NOW,
        graph: false,
        sqlIngest: path === 'sql' ? 'all' : false,
      });
    }
    // Batches of 40 objects: most flushes happen while objects are still being read (the sample alone has ≈800 objects).
    process.env.SCOUTQL_SQL_BATCH_OBJECTS = '40';
    try {
      lakes.small = tempDir('sql-ingest-ct-small');
      summaries.small = await ingest({ inputs: [input], lake: lakes.small, now: CT_NOW, graph: false, workers: 1, sqlIngest: 'all' });
    } finally {
      delete process.env.SCOUTQL_SQL_BATCH_OBJECTS;
    }
  }, 180_000);

  test('the SQL path read the trail files; the JavaScript path read everything itself', () => {
    expect(summaries.sql!.sql_objects).toBeGreaterThanOrEqual(6);
    expect(summaries.js!.sql_objects).toBeUndefined();
    // Most records were mapped by DuckDB; the rest of those objects were read by the parser one by one.
    expect(summaries.sql!.sql_records).toBeGreaterThan(summaries.sql!.records / 3);
    expect(summaries.sql!.sql_records).toBeLessThan(summaries.sql!.records);
  });

  test('same counts both ways', () => {
    const sql = summaries.sql!;
    expect(comparable(sql)).toEqual(comparable(summaries.js!));
    expect(sql.records).toBe(sql.written + sql.quarantined + sql.filtered + sql.duplicates);
    expect(sql.quarantined).toBeGreaterThanOrEqual(8);
    expect(sql.duplicates).toBeGreaterThanOrEqual(3);
  });

  test.each(CT_TABLES)('identical %s rows, every column included', async (table) => {
    const [sql, js] = [await rows(lakes.sql, table), await rows(lakes.js, table)];
    expect(sql.length).toBeGreaterThan(table === 'api_activity' ? 100 : 1);
    expect(sql).toEqual(js);
  });

  test('byte-identical Parquet files, partition by partition', () => {
    for (const table of CT_TABLES) {
      const sql = partFiles(lakes.sql, table);
      expect(sql.length).toBeGreaterThan(0);
      expect(sql).toEqual(partFiles(lakes.js, table));
    }
  });

  test('the same when batches are flushed mid-transaction', () => {
    expect(summaries.small!.sql_objects).toBe(summaries.sql!.sql_objects);
    expect(comparable(summaries.small!)).toEqual(comparable(summaries.js!));
    for (const table of CT_TABLES) expect(partFiles(lakes.small, table)).toEqual(partFiles(lakes.js, table));
    expect(quarantineOf(lakes.small)).toEqual(quarantineOf(lakes.js));
  });

  test('identical quarantine records and manifest entries', () => {
    expect(quarantineOf(lakes.sql)).toEqual(quarantineOf(lakes.js));
    expect(
      quarantineOf(lakes.sql)
        .filter((q) => q.object.endsWith('_a5.json'))
        .map((q) => q.position),
    ).toEqual(['record 1 (line 1)', 'record 2 (line 1)']);
    expect(manifestCounts(lakes.sql)).toEqual(manifestCounts(lakes.js));
  });
});

describe('SQL ingest path (VPC flow logs without a header line, read with --vpcflow-format)', () => {
  const FORMAT =
    '${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${version}';
  const prefix = 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/09';
  const record = (i: number) =>
    `123456789012 eni-0f${i % 3} 10.0.0.${i} 52.95.110.${i} ${40000 + i} 443 6 ${i + 1} ${100 * (i + 1)} ${T0 + i} ${T0 + i + 60} ${i % 4 ? 'ACCEPT' : 'REJECT'} OK 2`;
  const lakes = { sql: '', js: '' };
  const summaries: Partial<Record<'sql' | 'js', IngestSummary>> = {};

  beforeAll(async () => {
    const input = tempDir('vpc-format-in');
    const name = (n: string) => `${prefix}/123456789012_vpcflowlogs_eu-west-1_fl-0fmt_20261109T1000Z_${n}.log.gz`;
    // Header-less, CRLF line ends: the given format reads them in SQL.
    write(input, name('a'), `${Array.from({ length: 12 }, (_, i) => record(i)).join('\r\n')}\r\n`, true);
    write(input, name('b'), `${record(20)}\n${record(21)}\n`, true);
    // A header line wins over the format (another layout).
    write(input, name('c'), `${DEFAULT_HEADER}\n2 123456789012 eni-0c 10.0.0.1 10.0.0.2 1 2 6 1 40 ${T0} ${T0 + 1} ACCEPT OK\n`, true);
    // A record of another length, and a header in the middle: the parser reads these objects whole.
    write(input, name('d'), `${record(30)}\n${record(31)} extra\n${record(32)}\n`, true);
    write(
      input,
      name('e'),
      `${record(40)}\n${DEFAULT_HEADER}\n2 123456789012 eni-0e 10.0.0.1 10.0.0.2 1 2 6 1 40 ${T0} ${T0 + 1} ACCEPT OK\n`,
      true,
    );
    for (const path of ['sql', 'js'] as const) {
      lakes[path] = tempDir(`vpc-format-${path}`);
      summaries[path] = await ingest({
        inputs: [input],
        lake: lakes[path],
        now: NOW,
        graph: false,
        sqlIngest: path === 'sql',
        // Header-less records of a custom format are not detected: the user names the source with the format.
        source: 'vpcflow',
        sourceOptions: { vpcflow: { format: FORMAT } },
      });
    }
  }, 120_000);

  test('header-less objects read in SQL; the same counts, rows, files, quarantine and manifest both ways', async () => {
    expect(summaries.sql!.sql_objects).toBe(3);
    expect(comparable(summaries.sql!)).toEqual(comparable(summaries.js!));
    const [sql, js] = [await rows(lakes.sql), await rows(lakes.js)];
    expect(sql.length).toBe(12 + 2 + 1 + 2 + 2);
    expect(sql).toEqual(js);
    expect(partFiles(lakes.sql)).toEqual(partFiles(lakes.js));
    expect(quarantineOf(lakes.sql)).toEqual(quarantineOf(lakes.js));
    expect(quarantineOf(lakes.sql).map((q) => q.reason)).toEqual(['expected 14 fields (per --vpcflow-format), found 15']);
    expect(manifestCounts(lakes.sql)).toEqual(manifestCounts(lakes.js));
  });
});
