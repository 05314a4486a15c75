/**
 * public-bucket-exposure (T1530): a non-admin deletes the public access block, adds a `Principal: "*"` policy and an AllUsers ACL; anonymous ListObjects/GetObject from 12 unfamiliar IPs follow.
 */
import {
  ANONYMOUS_IDENTITY,
  awsCliUserAgent,
  iamUserIdentity,
  isoSeconds,
  s3AdditionalData,
  s3BucketResources,
  s3ObjectResources,
  type Caller,
  type PlannedRecord,
} from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { mustUser } from '../world';

export interface Expect {
  bucket: string;
  bucketArn: string;
  changedBy: string;
  /** The configuration changes, in order. */
  changeEventNames: string[];
  changeEventIds: string[];
  anonymousGetObjects: number;
  anonymousListObjects: number;
  anonymousIps: string[];
  firstAnonymousAccess: string;
}

/** Plans the story from its own random stream (`<seed>:story:public-bucket-exposure`). */
export const plan = storyPlanner('public-bucket-exposure', 'story', tell);

function tell(t: Teller): Story<'public-bucket-exposure'> {
  const { world, rng } = t;
  const user = mustUser(world, 'prod/tom.becker');
  const person = world.people.find((p) => p.name === 'tom.becker')!;
  const bucket = world.buckets['acme-prod-customer-exports'];
  const host = `${bucket.name}.s3.${bucket.region}.amazonaws.com`;
  const caller = (name: string): Caller => ({
    identity: iamUserIdentity(user),
    sourceIp: person.office.ip,
    userAgent: awsCliUserAgent(person.cliPlatform, 's3api', name.replace(/^Delete/, 'Delete')),
  });
  let time = anchor(world, rng, 0.45, 14, 20);
  const base = {
    account: bucket.account,
    region: bucket.region,
    service: 's3',
    readOnly: false,
    resources: s3BucketResources(bucket.account, bucket.name),
  };
  const ownerId = rng.hex(64);
  const changes: PlannedRecord[] = [];
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'DeletePublicAccessBlock',
        caller: caller('DeletePublicAccessBlock'),
        requestParameters: { publicAccessBlock: '', bucketName: bucket.name, Host: host },
      },
      user.arn,
    ),
  );
  time += rng.int(30, 90) * 1000;
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'PutBucketPolicy',
        caller: caller('PutBucketPolicy'),
        requestParameters: {
          bucketPolicy: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'PublicReadForPartners', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucket.arn}/*` },
            ],
          },
          bucketName: bucket.name,
          Host: host,
          policy: '',
        },
      },
      user.arn,
    ),
  );
  time += rng.int(30, 90) * 1000;
  changes.push(
    t.call(
      {
        ...base,
        time,
        name: 'PutBucketAcl',
        caller: caller('PutBucketAcl'),
        requestParameters: {
          bucketName: bucket.name,
          Host: host,
          acl: '',
          AccessControlPolicy: {
            AccessControlList: {
              Grant: [
                {
                  Grantee: { 'xsi:type': 'CanonicalUser', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', ID: ownerId },
                  Permission: 'FULL_CONTROL',
                },
                {
                  Grantee: {
                    'xsi:type': 'Group',
                    'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
                    URI: 'http://acs.amazonaws.com/groups/global/AllUsers',
                  },
                  Permission: 'READ',
                },
              ],
            },
            xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/',
            Owner: { ID: ownerId },
          },
        },
      },
      user.arn,
    ),
  );

  // Strangers find the bucket: anonymous listings and downloads from many addresses.
  const ips = Array.from({ length: 12 }, (_, i) => `192.0.2.${120 + i}`);
  const countries = ['NL', 'SG', 'US', 'DE', 'CN', 'FR', 'IN', 'BR', 'RU', 'UA', 'HK', 'JP'];
  const ipCountries: Record<string, string> = {};
  ips.forEach((ip, i) => (ipCountries[ip] = countries[i]!));
  const agents = [
    'curl/8.5.0',
    'python-requests/2.31.0',
    'Wget/1.21.4',
    'aws-sdk-go/1.50.0 (go1.21.6; linux; amd64)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ];
  let anonTime = time + rng.int(40, 90) * MINUTE;
  let gets = 0;
  let lists = 0;
  let first = '';
  const ipAgent = new Map(ips.map((ip) => [ip, rng.pick(agents)]));
  for (let i = 0; i < 90; i++) {
    const ip = i < 5 ? ips[0] : rng.pick(ips);
    const list = i === 0 || rng.chance(0.08);
    const anon: Caller = { identity: ANONYMOUS_IDENTITY, sourceIp: ip, userAgent: ipAgent.get(ip)! };
    if (list) {
      t.call(
        {
          time: anonTime,
          account: bucket.account,
          region: bucket.region,
          service: 's3',
          name: 'ListObjects',
          caller: anon,
          readOnly: true,
          dataEvent: true,
          requestParameters: { 'list-type': '2', bucketName: bucket.name, Host: host, prefix: '' },
          resources: s3BucketResources(bucket.account, bucket.name),
          additionalEventData: s3AdditionalData(rng, rng.int(800, 4000), 0, true),
        },
        'anonymous',
      );
      lists++;
    } else {
      const key = rng.pick(bucket.keys);
      t.call(
        {
          time: anonTime,
          account: bucket.account,
          region: bucket.region,
          service: 's3',
          name: 'GetObject',
          caller: anon,
          readOnly: true,
          dataEvent: true,
          requestParameters: { bucketName: bucket.name, Host: host, key },
          resources: s3ObjectResources(bucket.account, bucket.name, key),
          additionalEventData: s3AdditionalData(rng, rng.int(5_000_000, 250_000_000), 0, true),
        },
        'anonymous',
      );
      gets++;
    }
    if (!first) first = isoSeconds(anonTime);
    anonTime += rng.int(5, 240) * 1000;
  }
  const story = t.story(
    'public-bucket-exposure',
    {
      title: 'A developer makes the customer-exports bucket public; strangers download it',
      technique: 'T1530',
      summary: `${user.name} (not an administrator) removed the public access block of ${bucket.name}, added a bucket policy with Principal "*" and an AllUsers READ ACL. Anonymous listings and downloads from unfamiliar addresses follow.`,
      account: bucket.account,
      region: bucket.region,
      actors: [user.arn, 'anonymous'],
      resources: [bucket.arn, ...bucket.keys.map((k) => `${bucket.arn}/${k}`)],
    },
    { ...ipCountries, [person.office.ip]: person.office.country },
    {
      bucket: bucket.name,
      bucketArn: bucket.arn,
      changedBy: user.arn,
      changeEventNames: changes.map((c) => c.record.eventName as string),
      changeEventIds: changes.map((c) => c.record.eventID as string),
      anonymousGetObjects: gets,
      anonymousListObjects: lists,
      anonymousIps: [...new Set(t.steps.filter((s) => s.actor === 'anonymous').map((s) => s.ip!))].sort(),
      firstAnonymousAccess: first,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/s3/s3_bucket_made_public.yml', 'aws/s3/s3_bucket_public_then_read_anonymously.yml'];
