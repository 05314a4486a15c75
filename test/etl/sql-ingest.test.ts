/**
 * The SQL ingest path (etl/sql-ingest.ts, issue #14 item 1) against the per-record parser: the
 * same inputs ingested both ways give the same rows (every column, raw included), the same
 * quarantine records, the same manifest counts and the same summary. The inputs are VPC flow's
 * golden files (most are not S3 deliveries: the parser reads them either way), S3 deliveries the
 * SQL path reads (default, custom, Transit Gateway and time-less formats, CRLF, a byte-order
 * mark, redacted accounts, a duplicate line, a header alone) and one with malformed lines, which
 * the parser reads whole.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { TGW_FIELDS } from '../../etl/sources/vpcflow/fields';
import { sha256Hex } from '../../src/core/hash';
import { bookkeepingLines, quarantineLines, tempDir as makeTempDir, withDuckDb, type QuarantineLine } from './helpers';

const made: string[] = [];
const tempDir = (prefix: string) => {
  const dir = makeTempDir(prefix);
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

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
function partFiles(lake: string): string[] {
  const root = join(lake, 'network_activity');
  return readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => `${dirname(f)} ${sha256Hex(readFileSync(join(root, f)))}`)
    .sort();
}

async function rows(lake: string): Promise<Record<string, unknown>[]> {
  return withDuckDb((run) =>
    run(`SELECT * FROM read_parquet('${lake}/network_activity/**/*.parquet', hive_partitioning = true) ORDER BY ALL`),
  );
}

function comparable(summary: IngestSummary): Record<string, unknown> {
  const { seconds: _s, sql_objects: _q, graph: _g, ...rest } = summary;
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
