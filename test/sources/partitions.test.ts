/**
 * ARNs the sources build take the AWS partition from the data (an ARN in the record, its host
 * name, or its region), never a fixed `arn:aws:`: the same records from China (aws-cn) or
 * GovCloud (aws-us-gov) name their resources as AWS does there.
 */
import { Readable } from 'node:stream';
import { source as cloudfront } from '../../etl/sources/cloudfront/parser';
import { source as cloudtrail } from '../../etl/sources/cloudtrail/parser';
import { source as route53resolver } from '../../etl/sources/route53resolver/parser';
import type { LogSource } from '../../etl/sources/types';

async function rows(source: LogSource, text: string, key = 'inline.log'): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const item of source.parse(Readable.from([Buffer.from(text)]), { key })) {
    if (item.kind !== 'rows') throw new Error(`expected rows, got ${JSON.stringify(item)}`);
    for (const { row } of item.rows) out.push(row);
  }
  return out;
}

const trailRecord = (region: string, extra: Record<string, unknown>) =>
  JSON.stringify({
    eventVersion: '1.08',
    eventTime: '2024-05-01T10:00:00Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: region,
    sourceIPAddress: '192.0.2.10',
    eventID: `id-${region}`,
    recipientAccountId: '111122223333',
    ...extra,
  });

describe('CloudTrail', () => {
  test('resources derived from request parameters are in the region partition', async () => {
    const [row] = await rows(
      cloudtrail,
      trailRecord('cn-north-1', {
        userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'ops' },
        requestParameters: { instanceId: 'i-0abc', bucketName: 'logs' },
      }),
    );
    expect(row.resources).toEqual(['arn:aws-cn:s3:::logs', 'arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0abc']);
    // A failed sign-in logs no ARN: the user's id is built in the record's partition too.
    expect(row.actor_id).toBe('arn:aws-cn:iam::111122223333:user/ops');
  });

  test('a root caller that logged no ARN is named in its region\'s partition (GovCloud)', async () => {
    const [row] = await rows(
      cloudtrail,
      trailRecord('us-gov-west-1', {
        userIdentity: { type: 'Root', accountId: '111122223333' },
        requestParameters: { groupId: 'sg-0abc' },
      }),
    );
    expect(row.actor_id).toBe('arn:aws-us-gov:iam::111122223333:root');
    expect(row.resources).toEqual(['arn:aws-us-gov:ec2:us-gov-west-1:111122223333:security-group/sg-0abc']);
  });

  test("without a region, the caller's ARN names the partition", async () => {
    const [row] = await rows(
      cloudtrail,
      trailRecord('', {
        awsRegion: undefined,
        userIdentity: { type: 'IAMUser', accountId: '111122223333', arn: 'arn:aws-cn:iam::111122223333:user/ops', userName: 'ops' },
        requestParameters: { bucketName: 'logs', key: 'a.txt' },
      }),
    );
    expect(row.resources).toEqual(['arn:aws-cn:s3:::logs', 'arn:aws-cn:s3:::logs/a.txt']);
  });
});

test('Route 53 Resolver: instance and endpoint ARNs in the partition of the logged region', async () => {
  const [row] = await rows(
    route53resolver,
    JSON.stringify({
      account_id: '111122223333',
      region: 'cn-northwest-1',
      query_timestamp: '2024-05-01T10:00:00Z',
      query_name: 'example.cn.',
      rcode: 'NOERROR',
      srcaddr: '10.0.0.5',
      srcids: { instance: 'i-0abc', resolver_endpoint: 'rslvr-in-1' },
    }),
  );
  expect(row.resources).toEqual([
    'arn:aws-cn:ec2:cn-northwest-1:111122223333:instance/i-0abc',
    'arn:aws-cn:route53resolver:cn-northwest-1:111122223333:resolver-endpoint/rslvr-in-1',
  ]);
});

test('CloudFront: a distribution served from cloudfront.cn is in aws-cn', async () => {
  const fields = '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status\n';
  const line = (host: string) => ['2024-05-01', '10:00:00', 'PEK50-C1', '100', '192.0.2.1', 'GET', host, '/', '200'].join('\t');
  const key = '/logs/AWSLogs/111122223333/CloudFront/E2EXAMPLE12345.2024-05-01-10.abcd1234.gz';
  const [china, global] = await rows(cloudfront, fields + line('d111.cloudfront.cn') + '\n' + line('d222.cloudfront.net') + '\n', key);
  expect(china.resources).toEqual(['arn:aws-cn:cloudfront::111122223333:distribution/E2EXAMPLE12345']);
  expect(global.resources).toEqual(['arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE12345']);
});
