import { join } from 'node:path';
import { Readable } from 'node:stream';
import { source as s3access, requesterActor } from '../../etl/sources/s3access/parser';
import { tokenize, urlDecode } from '../../etl/fields/text';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

async function parse(text: string, key = '/tmp/2019-02-06-00-00-38-5A52831B8156E694'): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of s3access.parse(Readable.from([Buffer.from(text)]), { key })) items.push(item);
  return items;
}

function rows(items: ParsedItem[]): Row[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => r.row) : []));
}

const OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const PUT_OBJECT = `${OWNER} awsexamplebucket1 [06/Feb/2019:00:01:57 +0000] 192.0.2.3 ${OWNER} DD6CC733AEXAMPLE REST.PUT.OBJECT s3-dg.pdf "PUT /awsexamplebucket1/s3-dg.pdf HTTP/1.1" 200 - - 4406583 41754 28 "-" "S3Console/0.4" - 10S62Zv81kBW7BB6SX4XJ48o6kpcl6LPwEoizZQQxJd5qDSCTLX0TgS37kYUBKQW3+bPdrg1234= SigV4 ECDHE-RSA-AES128-SHA AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.1`;

describe('s3access records', () => {
  test('quoted and bracketed fields, numbers, bucket and object ARNs', async () => {
    const [row] = rows(await parse(`${PUT_OBJECT}\n`));
    expect(row).toMatchObject({
      time: new Date('2019-02-06T00:01:57Z'),
      event_id: 'DD6CC733AEXAMPLE',
      activity: 'REST.PUT.OBJECT',
      http_method: 'PUT',
      url: '/awsexamplebucket1/s3-dg.pdf',
      status: 200,
      outcome: 'success',
      bytes_out: 0, // `-` means zero bytes sent
      bytes_in: 4406583,
      duration_ms: 41754,
      user_agent: 'S3Console/0.4',
      referrer: null,
      bucket: 'awsexamplebucket1',
      object_key: 's3-dg.pdf',
      region: 'us-west-1',
      account: 'unknown',
      resources: ['arn:aws:s3:::awsexamplebucket1', 'arn:aws:s3:::awsexamplebucket1/s3-dg.pdf'],
      actor_id: `canonical:${OWNER}`,
      tls_protocol: 'TLSV1.1',
    });
  });

  test('object keys are URL-decoded (`+` is a space) and the key ARN uses the decoded key', async () => {
    const line = `${OWNER} test-s3-ks [19/Sep/2019:17:06:39 +0000] 89.160.20.156 arn:aws:iam::123456789012:user/alice 6CE38F1312D32BDD BATCH.DELETE.OBJECT Screen+Shot+2019-09-09+at+9.08.44+AM%281%29.png - 204 - - 57138 - - - - - LwRa4w6= SigV4 ECDHE-RSA-AES128-SHA AuthHeader s3.ap-southeast-1.amazonaws.com TLSv1.2`;
    const [row] = rows(await parse(`${line}\n`));
    expect(row).toMatchObject({
      object_key: 'Screen Shot 2019-09-09 at 9.08.44 AM(1).png',
      resources: ['arn:aws:s3:::test-s3-ks', 'arn:aws:s3:::test-s3-ks/Screen Shot 2019-09-09 at 9.08.44 AM(1).png'],
      http_method: null,
      url: null,
      status: 204,
      region: 'ap-southeast-1',
      // Batch deletes log one record per key under one request id.
      event_id: '6CE38F1312D32BDD/Screen+Shot+2019-09-09+at+9.08.44+AM%281%29.png',
      actor_id: 'arn:aws:iam::123456789012:user/alice',
      actor_type: 'IAMUser',
      actor_name: 'alice',
      actor_account: '123456789012',
    });
  });

  test('the account comes from the key when the prefix holds it (date-based partitioning)', async () => {
    const key = 's3://access-logs/logs/123456789012/us-west-1/awsexamplebucket1/2019/02/06/2019-02-06-00-00-00-E568B2907131C0C0';
    const [row] = rows(await parse(`${PUT_OBJECT}\n`, key));
    expect(row).toMatchObject({ account: '123456789012', region: 'us-west-1' });
  });

  test('a 4xx status is a failure with its error code', async () => {
    const line = `${OWNER} awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ${OWNER} A1206F460EXAMPLE REST.GET.BUCKETPOLICY - "GET /awsexamplebucket1?policy HTTP/1.1" 404 NoSuchBucketPolicy 297 - 38 - "-" "S3Console/0.4" -`;
    const [row] = rows(await parse(`${line}\n`));
    expect(row).toMatchObject({ outcome: 'failure', error_code: 'NoSuchBucketPolicy', status: 404, bytes_out: 297, path: '/awsexamplebucket1', resources: ['arn:aws:s3:::awsexamplebucket1'] });
  });

  test('bad lines are quarantined with their line and reason; good lines survive', async () => {
    const items = await parseFile(s3access, join(goldenDir(s3access), 'bad-lines.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const quarantined = items.filter((i): i is Extract<ParsedItem, { kind: 'quarantine' }> => i.kind === 'quarantine');
    expect(quarantined.map((q) => q.position)).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    expect(quarantined[0].reason).toMatch(/^unterminated quoted field/);
    expect(quarantined[1].reason).toBe('expected at least 17 fields (bucket owner … user agent), found 12');
    expect(quarantined[2].reason).toMatch(/^time '06\/02\/2019 00:01:00'/);
    expect(quarantined[3].reason).toBe("HTTP status 'OK' is not a non-negative integer");
  });
});

describe('s3access requester → actor', () => {
  test('anonymous, IAM user, root, assumed role, federated user, service, canonical id', () => {
    expect(requesterActor(null)).toMatchObject({ actor_id: 'anonymous', actor_type: 'Anonymous' });
    expect(requesterActor('arn:aws:iam::123456789012:root')).toMatchObject({ actor_id: 'arn:aws:iam::123456789012:root', actor_type: 'Root' });
    expect(requesterActor('arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com')).toMatchObject({
      actor_id: 'arn:aws:iam::123456789012:role/Admin',
      actor_type: 'AssumedRole',
      actor_name: 'alice@example.com',
      actor_arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com',
      actor_account: '123456789012',
    });
    expect(requesterActor('arn:aws-cn:sts::123456789012:assumed-role/R/s').actor_id).toBe('arn:aws-cn:iam::123456789012:role/R');
    expect(requesterActor('arn:aws:sts::123456789012:federated-user/bob')).toMatchObject({ actor_id: 'arn:aws:sts::123456789012:federated-user/bob', actor_type: 'FederatedUser', actor_name: 'bob' });
    expect(requesterActor('svc:delivery.logs.amazonaws.com')).toMatchObject({ actor_id: 'service:delivery.logs.amazonaws.com', actor_type: 'AWSService' });
    expect(requesterActor('AmazonS3')).toMatchObject({ actor_id: 'service:s3.amazonaws.com', actor_type: 'AWSService' });
    expect(requesterActor(OWNER)).toMatchObject({ actor_id: `canonical:${OWNER}`, actor_type: 'CanonicalUser' });
  });

  test('an access key id is not a requester: it is kept as the session, never as the actor', () => {
    expect(requesterActor('AKIAIOSFODNN7EXAMPLE')).toMatchObject({ actor_id: null, session_id: 'AKIAIOSFODNN7EXAMPLE' });
  });
});

describe('s3access detection', () => {
  const detect = (head: string) => {
    const d = s3access.detect({ key: '/x', head });
    return 'confidence' in d ? d.confidence : -1;
  };
  test('an access log line is recognized; other formats are not', () => {
    expect(detect(`${PUT_OBJECT}\n`)).toBeGreaterThanOrEqual(0.9);
    expect(detect('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n')).toBe(0);
    expect(detect('#Version: 1.0\n')).toBe(0);
    expect(detect('http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 200 200 34 366 "GET http://x:80/ HTTP/1.1" "curl" - -\n')).toBe(0);
  });
});

describe('line helpers shared by the text sources', () => {
  test('tokenize: runs of spaces, quoted fields with spaces and inner quotes, brackets', () => {
    const out: string[] = [];
    expect(tokenize('a  "b c" [d e] "say \\"hi\\"" "x"y" -', out)).toBeNull();
    expect(out).toEqual(['a', 'b c', 'd e', 'say \\"hi\\"', 'x"y', '-']);
    expect(tokenize('a "open', out)).toMatch(/unterminated quoted field starting at column 3/);
    expect(tokenize('a [open', out)).toMatch(/unterminated \[bracketed\] field/);
  });

  test('urlDecode never throws on a malformed escape', () => {
    expect(urlDecode('a%20b')).toBe('a b');
    expect(urlDecode('a+b', true)).toBe('a b');
    expect(urlDecode('100%')).toBe('100%');
    expect(urlDecode('%E0%A4%A')).toBe('%E0%A4%A');
  });
});
