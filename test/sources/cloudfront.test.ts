import { join } from 'node:path';
import { Readable } from 'node:stream';
import { source as cloudfront } from '../../etl/sources/cloudfront/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

async function parse(text: string, key = '/tmp/EMLARXS9EXAMPLE.2019-12-04-21.a1b2c3d4'): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of cloudfront.parse(Readable.from([Buffer.from(text)]), { key })) items.push(item);
  return items;
}

function rows(items: ParsedItem[]): Row[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => r.row) : []));
}

const HEADER =
  '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end\n';
const HIT = [
  '2019-12-04', '21:02:31', 'LAX1', '392', '192.0.2.100', 'GET', 'd111111abcdef8.cloudfront.net', '/index.html', '200', '-',
  'Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36',
  '-', '-', 'Hit', 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==', 'd111111abcdef8.cloudfront.net', 'https', '23', '0.001', '-',
  'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', 'Hit', 'HTTP/2.0', '-', '-', '11040', '0.001', 'Hit', 'text/html', '78', '-', '-',
].join('\t');

describe('cloudfront records', () => {
  test('header lines are not records; values are decoded and typed', async () => {
    const items = await parse(`${HEADER}${HIT}\n`);
    expect(items).toHaveLength(1);
    const [row] = rows(items);
    expect(row).toMatchObject({
      time: new Date('2019-12-04T21:02:31Z'),
      event_id: 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
      src_ip: '192.0.2.100',
      http_method: 'GET',
      user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36',
      status: 200,
      bytes_out: 392,
      bytes_in: 23,
      duration_ms: 1,
      referrer: null,
      tls_protocol: 'TLSv1.2',
      region: 'global',
      account: 'unknown',
      resources: [],
    });
  });

  test('columns are mapped by #Fields, so a reordered or shorter header still reads right', async () => {
    const header = '#Version: 1.0\n#Fields: time date c-ip cs-uri-stem sc-status cs-uri-query x-edge-request-id\n';
    const [row] = rows(await parse(`${header}01:13:12\t2014-05-23\t192.0.2.202\t/soundtrack/happy%20days.mp3\t304\ta=b&c=d\tabc==\n`));
    expect(row).toMatchObject({ time: new Date('2014-05-23T01:13:12Z'), src_ip: '192.0.2.202', status: 304, url: '/soundtrack/happy%20days.mp3?a=b&c=d', path: '/soundtrack/happy days.mp3', event_id: 'abc==' });
  });

  test('an edge error is a failure carrying the detailed result type', async () => {
    const error = HIT.replace('\t200\t', '\t502\t').replace('\tHit\ttext/html', '\tOriginDnsError\ttext/html').split('\t');
    error[13] = 'Error';
    const [row] = rows(await parse(`${HEADER}${error.join('\t')}\n`));
    expect(row).toMatchObject({ status: 502, outcome: 'failure', error_code: 'OriginDnsError' });
  });

  test('a user agent encoded twice (older logs) is decoded fully', async () => {
    const [row] = rows(await parse(`${HEADER}${HIT.replace(/%20/g, '%2520')}\n`));
    expect(row['user_agent']).toBe('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36');
  });

  test('status 000 (viewer went away) is no status, not a success', async () => {
    const [row] = rows(await parse(`${HEADER}${HIT.replace('\t200\t', '\t000\t')}\n`));
    expect(row).toMatchObject({ status: null, outcome: 'unknown' });
  });

  test('under AWSLogs/<account>/ the account is known and the distribution becomes a resource', async () => {
    const key = 's3://cf-logs/AWSLogs/123456789012/CloudFront/EMLARXS9EXAMPLE.2019-12-04-21.a1b2c3d4.gz';
    const [row] = rows(await parse(`${HEADER}${HIT}\n`, key));
    expect(row).toMatchObject({ account: '123456789012', region: 'global', resources: ['arn:aws:cloudfront::123456789012:distribution/EMLARXS9EXAMPLE'] });
  });

  test('without a #Fields header the documented order is assumed', async () => {
    const [row] = rows(await parse(`${HIT}\n`));
    expect(row).toMatchObject({ status: 200, src_ip: '192.0.2.100' });
  });

  test('bad lines are quarantined with line and reason; good lines survive', async () => {
    const items = await parseFile(cloudfront, join(goldenDir(cloudfront), 'bad-lines.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'rows', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []));
    expect(reasons).toEqual([
      "line 5: date/time '13/12/2019 22:36:27' is not a UTC timestamp",
      "line 6: sc-status 'BAD' is not a non-negative integer",
      "line 7: date/time 'not a cloudfront line ' is not a UTC timestamp",
    ]);
  });

  test('a line with fewer fields than its #Fields header is read, its missing trailing fields empty; more fields or a cut time is quarantined', async () => {
    // AWS's documented example lines under the 33-field header: one ending after fle-encrypted-fields
    // (26, as lines did before CloudFront added c-port and the rest), one after cs-uri-query (12),
    // one with a trailing tab, one with two fields more than the header, one cut inside its time.
    const items = await parseFile(cloudfront, join(goldenDir(cloudfront), 'docs-lines-shorter-than-header.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'rows', 'rows', 'quarantine', 'quarantine']);
    const [favicon, short, trailingTab] = rows(items);
    expect(favicon).toMatchObject({
      event_id: '1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==',
      status: 502,
      outcome: 'failure',
      // x-edge-detailed-result-type is among the missing fields: the result type stands in.
      error_code: 'Error',
      bytes_in: 675,
      duration_ms: 102,
    });
    // No x-edge-request-id: the event id is the line's hash, and every later column is empty.
    expect(short).toMatchObject({ time: new Date('2019-12-13T22:36:26Z'), status: 502, src_ip: '192.0.2.200', url: '/', bytes_in: null, tls_protocol: null });
    expect(short['event_id']).toMatch(/^[0-9a-f]{40}$/);
    expect(trailingTab).toMatchObject({ event_id: 'kBkDzGnceVtWHqSCqBUqtA_cEs2T3tFUBbnBNkB9El_uVRhHgcZfcw==', bytes_in: 387 });
    expect(items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []))).toEqual([
      'line 6: 35 tab-separated fields, more than the 33 its #Fields header names',
      "line 7: date/time '2019-12-13 22:3' is not a UTC timestamp",
    ]);
  });
});

describe('cloudfront detection', () => {
  const detect = (head: string) => {
    const d = cloudfront.detect({ key: '/x', head });
    return 'confidence' in d ? d.confidence : -1;
  };
  test('the #Version/#Fields header is recognized; IIS W3C files and other formats are not', () => {
    expect(detect(`${HEADER}${HIT}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect('#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Fields: date time s-ip cs-method\n')).toBe(0);
    expect(detect('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n')).toBe(0);
    expect(detect('{"Records":[]}')).toBe(0);
  });
});
