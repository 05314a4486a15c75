import { join } from 'node:path';
import { source as route53resolver } from '../../etl/sources/route53resolver/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(route53resolver);

function rowsOf(items: ParsedItem[]): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.map((r) => r.row) : []));
}

describe('route53resolver', () => {
  test('the AWS documentation example: name normalized, firewall block is a failure', async () => {
    const [row] = rowsOf(await parseFile(route53resolver, join(dir, 'aws-docs-firewall-block.json')));
    expect(row).toMatchObject({
      query_name: '15.3.4.32.in-addr.arpa',
      query_type: 'PTR',
      rcode: 'NOERROR',
      outcome: 'failure',
      src_ip: '4.5.64.102',
      src_port: 56067,
      account: '111122223333',
      region: 'us-east-1',
      instance_id: 'i-0d15cd0d3example',
      resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-0d15cd0d3example'],
    });
    expect((row['time'] as Date).toISOString()).toBe('2021-02-04T17:51:55.000Z');
  });

  test('gzip S3 delivery: one row per line, NXDOMAIN fails, answers keep order without trailing dots', async () => {
    const items = await parseFile(route53resolver, join(dir, 's3-delivery.log.gz'));
    expect(items.every((i) => i.kind === 'rows')).toBe(true);
    const rows = rowsOf(items);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ outcome: 'failure', error_code: 'NXDOMAIN', answers: [] });
    expect(rows[2]['answers']).toEqual([
      's3-r-w.dualstack.us-east-1.amazonaws.com',
      '2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6',
    ]);
    // A name logged without its trailing dot is kept whole.
    expect(rows[4]['query_name']).toBe('6.c.f.6.a.9.0.e.2.b.9.a.2.f.1.9.2.0.0.4.d.d.a.0.0.4.f.c.2.0.a.2.ip6.arpa');
  });

  test('CloudWatch events are unwrapped: raw and event id come from the query log itself', async () => {
    const rows = rowsOf(await parseFile(route53resolver, join(dir, 'cloudwatch-events.jsonl')));
    expect(rows.map((r) => r['query_name'])).toEqual(['test.example.com', '0.amazon.pool.ntp.org']);
    expect(JSON.parse(rows[0]['raw'] as string)).toMatchObject({ query_name: 'test.example.com.', srcport: '38200' });
  });

  test('CloudWatch subscription envelopes: control messages hold no rows; a bad event quarantines its envelope', async () => {
    const items = await parseFile(route53resolver, join(dir, 'cloudwatch-subscription-firehose.json'));
    expect(items.map((i) => (i.kind === 'rows' ? i.rows.length : i.kind))).toEqual([0, 2, 'quarantine']);
    const quarantined = items[2];
    expect(quarantined.kind === 'quarantine' && quarantined.reason).toMatch(/^log event 2: message is not JSON/);
  });

  test('bad records are quarantined with a position and reason; good ones survive', async () => {
    const items = await parseFile(route53resolver, join(dir, 'bad-records.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const quarantined = items.filter((i) => i.kind === 'quarantine');
    expect(quarantined.map((q) => q.position)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(quarantined[0].reason).toMatch(/invalid JSON/);
    expect(quarantined[1].reason).toBe('missing query_timestamp');
    expect(quarantined[2].reason).toMatch(/unparseable query_timestamp/);
  });

  test('detection: resolver logs yes, CloudTrail and Azure no', () => {
    const resolverHead = '{"version":"1.100000","account_id":"626345947581","query_timestamp":"2021-12-11T22:46:23Z","query_name":"a.","srcids":{}}';
    expect(route53resolver.detect({ key: 's3://b/AWSLogs/1/vpcdnsquerylogs/vpc-1/x.log.gz', head: resolverHead })).toEqual({ confidence: 1 });
    // Query logs quoted inside other JSON (as in a golden file's expected rows) are not CloudWatch events.
    expect(route53resolver.detect({ key: '/x.json', head: JSON.stringify([{ raw: resolverHead }]) })).toEqual({ confidence: 0 });
    expect(route53resolver.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com"}]}' })).toEqual({ confidence: 0 });
    expect(route53resolver.detect({ key: '/x.json', head: '{"records":[{"category":"SignInLogs"}]}' })).toEqual({ confidence: 0 });
  });
});
