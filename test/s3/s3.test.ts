import { type ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { listS3, parseS3Url, s3ConfigFromEnv } from '../../etl/s3';

describe('s3:// URLs and client configuration', () => {
  test('URLs split into bucket and key; anything else is a clear error', () => {
    expect(parseS3Url('s3://my-bucket/a/b c.json')).toEqual({ bucket: 'my-bucket', key: 'a/b c.json' });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow(/not an s3:\/\/ URL/);
    expect(() => parseS3Url('/tmp/lake')).toThrow(/not an s3:\/\/ URL/);
  });

  test('the client comes from the environment, so worker threads build the same one', () => {
    expect(s3ConfigFromEnv({})).toMatchObject({ region: 'us-east-1', forcePathStyle: false });
    expect(s3ConfigFromEnv({})).not.toHaveProperty('endpoint');
    expect(s3ConfigFromEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' })).toMatchObject({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4569',
      forcePathStyle: true,
    });
    expect(s3ConfigFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000', SCOUTQL_S3_FORCE_PATH_STYLE: '0' })).toMatchObject({
      forcePathStyle: false,
    });
    // Credentials are never read here: the SDK's default provider chain finds them.
    expect(s3ConfigFromEnv({ AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' })).not.toHaveProperty('credentials');
  });
});

describe('listS3 pagination', () => {
  // s3rver cannot truncate a ListObjectsV2 page (its continuation tokens need DES, absent from
  // Node's OpenSSL 3), so paging is checked against a client that pages like S3 does.
  const keys = ['logs/a.json', 'logs/b/', 'logs/b/c.json.gz', 'logs/d.json', 'logs2/e.json', 'logs/f.json'].sort();
  const fakeS3 = {
    requests: [] as Array<{ Prefix?: string; ContinuationToken?: string }>,
    async send(command: ListObjectsV2Command): Promise<ListObjectsV2CommandOutput> {
      const input = command.input;
      this.requests.push({ Prefix: input.Prefix, ContinuationToken: input.ContinuationToken });
      const matching = keys.filter((k) => k.startsWith(input.Prefix ?? ''));
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = matching.slice(start, start + (input.MaxKeys ?? 1000));
      const more = start + page.length < matching.length;
      return {
        $metadata: {},
        Contents: page.map((Key) => ({ Key, Size: Key.length })),
        IsTruncated: more,
        NextContinuationToken: more ? String(start + page.length) : undefined,
      };
    },
  };

  test('follows continuation tokens to the end, keeps only objects at or under the prefix', async () => {
    const found: string[] = [];
    for await (const o of listS3('s3://bucket/logs', { pageSize: 2, client: fakeS3 })) found.push(o.key);
    expect(found).toEqual(['logs/a.json', 'logs/b/c.json.gz', 'logs/d.json', 'logs/f.json']);
    expect(fakeS3.requests.length).toBe(3); // 6 keys start with "logs" (logs2/ too): three pages of 2
    expect(fakeS3.requests.slice(1).every((r) => r.ContinuationToken)).toBe(true);
  });
});
