/**
 * `readOnly` on event lists (issue 12): a console sign-in is kept twice (an API call in api_activity,
 * a sign-in in authentication) and listed once, as the sign-in. Asking for writes
 * (`readOnly: false`) without a class must not silently lose it: a sign-in is not read-only, so it
 * is a write, listed once; asking for reads never lists it. Over CloudTrail's documented console
 * sign-in records (which carry no readOnly flag) and current-format records that do; both engines.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { sourceFolder } from '../../etl/sources';
import { ENGINES, apiForDescribe } from './helpers';

const ACCOUNT = '111122223333';
const USER = `arn:aws:iam::${ACCOUNT}:user/anaya`;
const identity = { type: 'IAMUser', principalId: 'AIDACKCEVSQ6C2EXAMPLE', arn: USER, accountId: ACCOUNT, userName: 'anaya' };
const common = {
  eventVersion: '1.08',
  userIdentity: identity,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  recipientAccountId: ACCOUNT,
};

/** Current CloudTrail records: a console sign-in flagged readOnly false, a read and a write. */
const RECORDS = [
  {
    ...common,
    eventTime: '2018-07-24T19:00:00Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
    requestParameters: null,
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { MFAUsed: 'No', MobileVersion: 'No' },
    eventID: '0f7e6d5c-4b3a-4291-8877-665544332211',
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    managementEvent: true,
    eventCategory: 'Management',
  },
  {
    ...common,
    eventTime: '2018-07-24T19:05:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: null,
    responseElements: null,
    eventID: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
  },
  {
    ...common,
    eventTime: '2018-07-24T19:06:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'DeleteBucket',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { bucketName: 'amzn-s3-demo-bucket', Host: 'amzn-s3-demo-bucket.s3.amazonaws.com' },
    responseElements: null,
    eventID: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
  },
];

const WINDOW = { from: '2018-07-24T00:00:00Z', to: '2018-07-25T00:00:00Z' };
let root: string;
let lake: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-read-only-'));
  const logs = join(root, 'logs');
  mkdirSync(logs);
  copyFileSync(join(sourceFolder('cloudtrail'), 'golden', 'console-sign-in.json'), join(logs, 'console-sign-in.json'));
  writeFileSync(join(logs, 'current-format.json'), JSON.stringify({ Records: RECORDS }));
  lake = join(root, 'lake');
  await ingest({ inputs: [logs], lake, workers: 1, geoip: false });
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const LIST = `query($w: TimeWindow!, $f: EventFilter) {
  events(window: $w, filter: $f, first: 100) { totalCount edges { node { eventId class activity } } }
}`;

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(() => lake, engine);
  type Row = { eventId: string; class: string; activity: string };
  const list = async (filter: Record<string, unknown> | null): Promise<{ total: number; rows: Row[] }> => {
    const data = await api().data(LIST, { w: WINDOW, f: filter });
    return { total: data.events.totalCount, rows: data.events.edges.map((e: { node: Row }) => e.node) };
  };

  test('asking for writes lists every sign-in once, as a sign-in, beside the API calls that write', async () => {
    const all = await list(null);
    const signIns = all.rows.filter((r) => r.class === 'AUTHENTICATION');
    // The documented records' two ConsoleLogins of that day and the current-format one.
    expect(signIns.map((r) => r.activity)).toEqual(['ConsoleLogin', 'ConsoleLogin', 'ConsoleLogin']);
    const writes = await list({ readOnly: false });
    expect(writes.total).toBe(writes.rows.length);
    expect(new Set(writes.rows.map((r) => r.eventId)).size).toBe(writes.rows.length);
    for (const s of signIns) expect(writes.rows).toContainEqual(s);
    expect(writes.rows.filter((r) => r.class === 'API_ACTIVITY').map((r) => r.activity)).toEqual(['DeleteBucket']);
  });

  test('asking for reads lists no sign-in; with a class, the flag of that class', async () => {
    const reads = await list({ readOnly: true });
    expect(reads.rows.map((r) => [r.class, r.activity])).toEqual([['API_ACTIVITY', 'ListBuckets']]);
    const apiWrites = await list({ readOnly: false, classes: ['API_ACTIVITY'] });
    // As an API call, a console sign-in has the flag CloudTrail gave it: only current records carry one.
    expect(apiWrites.rows.map((r) => r.activity).sort()).toEqual(['ConsoleLogin', 'DeleteBucket']);
    const signInWrites = await list({ readOnly: false, classes: ['AUTHENTICATION'] });
    expect(signInWrites.total).toBe((await list({ classes: ['AUTHENTICATION'] })).total);
    expect((await list({ readOnly: true, classes: ['AUTHENTICATION'] })).total).toBe(0);
  });
});
