import { join } from 'node:path';
import { Readable } from 'node:stream';
import { source as vpcflow } from '../../etl/sources/vpcflow/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

async function parse(text: string, key = '/tmp/flow.log'): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of vpcflow.parse(Readable.from([Buffer.from(text)]), { key })) items.push(item);
  return items;
}

function rows(items: ParsedItem[]): Row[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => r.row) : []));
}

const ACCEPTED_SSH = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
const NODATA = '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA';
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

describe('vpcflow records', () => {
  test('ports, protocol, packets and bytes are numbers; time is the window start', async () => {
    const [row] = rows(await parse(`${ACCEPTED_SSH}\n`));
    expect(row).toMatchObject({
      src_ip: '172.31.16.139',
      dst_ip: '172.31.16.21',
      src_port: 20641,
      dst_port: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      disposition: 'ACCEPT',
      outcome: 'success',
      log_status: 'OK',
      account: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
    });
    expect(row['time']).toEqual(new Date(1418530010 * 1000));
    expect(row['end_time']).toEqual(new Date(1418530070 * 1000));
  });

  test('NODATA is written with its log status and null addresses, ports and action', async () => {
    const items = await parse(`${NODATA}\n`);
    expect(items).toHaveLength(1);
    const [row] = rows(items);
    expect(row).toMatchObject({ log_status: 'NODATA', disposition: null, outcome: 'unknown', src_ip: null, dst_ip: null, src_port: null, dst_port: null, packets: null, bytes: null });
    expect(row['time']).toEqual(new Date(1431280876 * 1000));
  });

  test('S3 delivery: the header line is not a record; account and region come from the key', async () => {
    const key = 's3://flow-bucket/prefix/AWSLogs/123456789010/vpcflowlogs/us-east-1/2018/06/20/123456789010_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz';
    const items = await parse(`${HEADER}\n${ACCEPTED_SSH}\n${NODATA}\n`, key);
    expect(items.map((i) => i.kind)).toEqual(['rows', 'rows']);
    const [first] = rows(items);
    expect(first).toMatchObject({ account: '123456789010', region: 'us-east-1' });
    expect(first['resources']).toEqual(['arn:aws:ec2:us-east-1:123456789010:network-interface/eni-1235b8ca123456789']);
  });

  test('Hive-style S3 prefixes give account and region too', async () => {
    const key = 's3://b/AWSLogs/aws-account-id=123456789010/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2018/month=06/day=20/x.log.gz';
    const [row] = rows(await parse(`${HEADER}\n${ACCEPTED_SSH}\n`, key));
    expect(row).toMatchObject({ region: 'eu-west-1', account: '123456789010' });
  });

  test('S3 file names give account, region and, for formats without start/end, a fallback time', async () => {
    const key = '/data/123456789010_vpcflowlogs_us-east-2_fl-0abc1234ef567890a_20191105T1620Z_a1b2c3d4.log.gz';
    const items = await parse('version interface-id srcaddr dstaddr action log-status\n3 eni-33333333333333333 10.20.33.164 10.40.2.236 ACCEPT OK\n', key);
    const [row] = rows(items);
    expect(row).toMatchObject({ account: '123456789010', region: 'us-east-2', src_ip: '10.20.33.164' });
    expect(row['time']).toEqual(new Date('2019-11-05T16:20:00Z'));
    const [noFallback] = await parse('version interface-id srcaddr dstaddr action log-status\n3 eni-33333333333333333 10.20.33.164 10.40.2.236 ACCEPT OK\n');
    expect(noFallback).toMatchObject({ kind: 'quarantine', position: 'line 2' });
  });

  test('without a region field or a telling key the region is unknown and resources are bare ids', async () => {
    const [row] = rows(await parse(`${ACCEPTED_SSH}\n`));
    expect(row).toMatchObject({ region: 'unknown', resources: ['eni-1235b8ca123456789'] });
  });

  test('custom format: fields in any order are mapped by the header, region from the record', async () => {
    const header = 'log-status action dstport srcport dstaddr srcaddr region start flow-direction account-id';
    const items = await parse(`${header}\nOK REJECT 443 51000 10.0.0.5 198.51.100.7 eu-central-1 1616729292 ingress 123456789012\n`);
    const [row] = rows(items);
    expect(row).toMatchObject({ src_ip: '198.51.100.7', dst_ip: '10.0.0.5', src_port: 51000, dst_port: 443, region: 'eu-central-1', direction: 'ingress', disposition: 'REJECT', outcome: 'failure' });
  });

  test('a new header line mid-object changes the layout from there on', async () => {
    const items = await parse(`${HEADER}\n${ACCEPTED_SSH}\nsrcaddr start\n192.0.2.9 1616729292\n`);
    const result = rows(items);
    expect(result).toHaveLength(2);
    expect(result[1]).toMatchObject({ src_ip: '192.0.2.9', dst_ip: null });
  });

  test('CloudWatch Logs: JSON lines, subscription envelopes and timestamp-prefixed lines', async () => {
    const json = JSON.stringify({ timestamp: 1418530010000, message: ACCEPTED_SSH, eventId: 'abc123' });
    const envelope = JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ id: 'e1', timestamp: 1, message: ACCEPTED_SSH }, { id: 'e2', timestamp: 2, message: NODATA }] });
    const items = await parse(`${json}\n${envelope}\n2014-12-14T04:07:50.000Z ${ACCEPTED_SSH}\n`);
    expect(items).toHaveLength(4);
    const result = rows(items);
    expect(result.map((r) => r['event_id']).slice(0, 3)).toEqual(['abc123', 'e1', 'e2']);
    expect(result[3]).toMatchObject({ src_port: 20641, raw: `2014-12-14T04:07:50.000Z ${ACCEPTED_SSH}` });
    expect(result[0]['raw']).toBe(json);
  });

  test('a field count that disagrees with the header is quarantined with line and reason', async () => {
    const items = await parse(`${HEADER}\n${ACCEPTED_SSH} extra\n${ACCEPTED_SSH}\n`);
    expect(items[0]).toEqual({ kind: 'quarantine', position: 'line 2', reason: 'expected 14 fields (per the header line), found 15', text: `${ACCEPTED_SSH} extra` });
    expect(items[1].kind).toBe('rows');
  });

  test('bad lines are quarantined one by one and the good lines around them survive', async () => {
    const { parseFile } = await import('./golden');
    const items = await parseFile(vpcflow, join(goldenDir(vpcflow), 'bad-lines.log'));
    const kinds = items.map((i) => (i.kind === 'quarantine' ? `${i.position}: ${i.reason.split(' ')[0]}` : i.kind));
    expect(kinds[0]).toBe('rows');
    expect(kinds[kinds.length - 1]).toBe('rows');
    // 10 lines, one blank: 9 items, 2 of them good.
    expect(items).toHaveLength(9);
    expect(items.filter((i) => i.kind === 'quarantine')).toHaveLength(7);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [i.reason] : []));
    expect(reasons).toContain("srcport 'ssh' is not a port number");
    expect(reasons).toContain("srcport '70000' is not a port number");
    expect(reasons).toContain("start 'yesterday' is not epoch seconds");
  });
});

describe('vpcflow detection', () => {
  const detect = (head: string, key = '/x/log') => {
    const d = vpcflow.detect({ key, head });
    return 'confidence' in d ? d.confidence : -1;
  };

  test('recognizes default records, header lines and CloudWatch exports', () => {
    expect(detect(`${ACCEPTED_SSH}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect(`${HEADER}\n${ACCEPTED_SSH}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect(`2014-12-14T04:07:50.000Z ${ACCEPTED_SSH}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect(`${JSON.stringify({ timestamp: 1, message: ACCEPTED_SSH })}\n`)).toBeGreaterThanOrEqual(0.9);
  });

  test('the key alone is not enough, but it breaks ties', () => {
    const key = 's3://b/AWSLogs/123456789010/vpcflowlogs/us-east-1/2018/06/20/x.log.gz';
    expect(detect(`${ACCEPTED_SSH}\n`, key)).toBeGreaterThan(detect(`${ACCEPTED_SSH}\n`));
    expect(detect('{"eventVersion":"1.08","userIdentity":{}}\n', key)).toBe(0);
  });

  test('other formats get 0', () => {
    expect(detect('79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" -\n')).toBe(0);
    expect(detect('#Version: 1.0\n#Fields: date time x-edge-location\n')).toBe(0);
    expect(detect('{"Records":[{"eventVersion":"1.08"}]}')).toBe(0);
    expect(detect('http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -\n')).toBe(0);
  });
});
