/**
 * The Lambda handler, invoked with events shaped as AWS delivers them (S3 notification v2.1 as in
 * the S3 user guide's "Event message structure", its SQS and SNS wrappings, and EventBridge
 * "Object Created"), against the local S3 server.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { lakeStoreFor } from '../../etl/lake/store';
import { applyCatalog, catalogStatements } from '../../src/catalog';
import { findingsTableSelect } from '../../src/core/duckdb';
import { AthenaEngine } from '../../src/engine/athena';
import { PROJECT_RULES_DIR } from '../../src/rules/load';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { S3_LOCAL_CREDENTIALS } from '../../testkit/s3-local';
import { decodeNotificationKey, objectsFromEvent } from '../../src/lambda/events';
import { handler, lambdaWorkers } from '../../src/lambda/handler';
import { cloudTrailRecord, lakeRows, tempDir, withDuckDb } from '../etl/helpers';
import { downloadLake, envelope, startS3Env, type S3Env } from '../s3/helpers';

const LAKE = 's3://scoutql-lake/lake';

/** Keys as S3 writes them into notifications: URL-encoded, '+' for a space, '/' kept. */
function notificationKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An S3 event notification record (eventVersion 2.1), field for field as the S3 user guide shows it. */
function s3Record(bucket: string, key: string, size: number, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2024-03-01T20:10:12.345Z',
    eventName,
    userIdentity: { principalId: 'AWS:AROAEXAMPLEID:regionalDeliverySession' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'scoutql-ingest',
      bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
      object: { key: notificationKey(key), size, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
    },
  };
}

describe('event shapes', () => {
  test('notification keys are URL-decoded, + being a space', () => {
    expect(decodeNotificationKey('AWSLogs/2024/03/01/a+b%28copy%29%3A1.json.gz')).toBe('AWSLogs/2024/03/01/a b(copy):1.json.gz');
    expect(decodeNotificationKey('c%2B%2B.json')).toBe('c++.json');
  });

  test('S3, SQS-wrapped, SNS-wrapped and EventBridge events all name their objects; the rest is ignored with a reason', () => {
    const direct = { Records: [s3Record('logs', 'a b.json', 10), s3Record('logs', 'gone.json', 1, 'ObjectRemoved:Delete')] };
    const viaSqs = {
      Records: [{ messageId: '1', eventSource: 'aws:sqs', body: JSON.stringify({ Records: [s3Record('logs', 'q.json', 5)] }) }],
    };
    const testEvent = {
      Records: [
        {
          eventSource: 'aws:sqs',
          body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2024-03-01T00:00:00.000Z', Bucket: 'logs' }),
        },
      ],
    };
    const viaSnsInSqs = {
      Records: [
        {
          eventSource: 'aws:sqs',
          body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Records: [s3Record('logs', 'n.json', 7)] }) }),
        },
      ],
    };
    const eventBridge = {
      version: '0',
      id: '17793124-05d4-b198-2fde-7ededc63b103',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '111122223333',
      time: '2021-11-12T00:00:00Z',
      region: 'ca-central-1',
      resources: ['arn:aws:s3:::logs'],
      detail: {
        version: '0',
        bucket: { name: 'logs' },
        object: {
          key: 'raw/2023-08-08T14:03:40.json',
          size: 99,
          etag: 'b1946ac92492d2347c6235b4d2611184',
          sequencer: '00617F08299329D189',
        },
        'request-id': 'N4N7GDK58NMKJ12R',
        requester: '123456789012',
        'source-ip-address': '1.2.3.4',
        reason: 'PutObject',
      },
    };
    expect(objectsFromEvent(direct)).toEqual({
      objects: [{ bucket: 'logs', key: 'a b.json', size: 10 }],
      ignored: [{ what: 'ObjectRemoved:Delete', reason: 'not an object creation' }],
    });
    expect(objectsFromEvent(viaSqs).objects).toEqual([{ bucket: 'logs', key: 'q.json', size: 5 }]);
    expect(objectsFromEvent(testEvent)).toEqual({ objects: [], ignored: [expect.objectContaining({ what: 's3:TestEvent' })] });
    expect(objectsFromEvent(viaSnsInSqs).objects).toEqual([{ bucket: 'logs', key: 'n.json', size: 7 }]);
    // EventBridge keys are not URL-encoded: the colons stay as they are.
    expect(objectsFromEvent(eventBridge).objects).toEqual([{ bucket: 'logs', key: 'raw/2023-08-08T14:03:40.json', size: 99 }]);
    expect(objectsFromEvent({ hello: 'world' }).ignored).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/no Records/) }),
    ]);
    expect(objectsFromEvent({ Records: [s3Record('logs', 'x.json', 1), s3Record('logs', 'x.json', 1)] }).objects).toHaveLength(1);
  });

  test('the JavaScript entry point Lambda loads exports the handler', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(typeof require('../../src/lambda/index.js').handler).toBe('function');
  });

  test('parser threads follow the vCPUs Lambda gives the memory size', () => {
    expect(lambdaWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' })).toBe(1);
    expect(lambdaWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538' })).toBe(2);
    expect(lambdaWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' })).toBe(6);
    expect(lambdaWorkers({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240', SCOUTQL_WORKERS: '2' })).toBe(2);
  });
});

describe('handler against the local S3 server', () => {
  let s3env: S3Env;
  const key = 'AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/01/123456789012_CloudTrail_us-east-2_20240301T2005Z_Ab3 (copy).json.gz';
  const records = Array.from({ length: 25 }, (_, i) => cloudTrailRecord(i));

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined); // the handler's one CloudWatch line per invocation
    s3env = await startS3Env(['raw-logs', 'scoutql-lake']);
    process.env.SCOUTQL_LAKE = LAKE;
    process.env.SCOUTQL_WORKERS = '1';
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'raw-logs', Key: key, Body: gzipSync(envelope(records)) }));
  });
  afterAll(async () => {
    delete process.env.SCOUTQL_LAKE;
    delete process.env.SCOUTQL_WORKERS;
    await s3env.close();
  });

  test('a notification for a new CloudTrail object puts its records (and the graph of their days) in the lake', async () => {
    const result = await handler({ Records: [s3Record('raw-logs', key, 1234)] });
    expect(result.objects).toEqual([`s3://raw-logs/${key}`]);
    expect(result.summary).toMatchObject({ objects: 1, records: 25, written: 25, quarantined: 0, missing_inputs: [] });
    const rows = await lakeRows(await downloadLake(LAKE));
    expect(rows.map((r) => r.event_id).sort()).toEqual(records.map((r) => r.eventID).sort());
    const files = await lakeStoreFor(LAKE).listFiles('');
    expect(files.filter((f) => f.startsWith('graph/entities/'))).toHaveLength(result.summary!.days.length);
    expect(files.filter((f) => f.startsWith('_staging/') || f === '_lock')).toEqual([]);
  });

  test('redelivery of the same event adds nothing', async () => {
    // The writer lock is the one thing a run always writes: the next fencing token, released.
    const lakeFiles = async () => (await lakeStoreFor(LAKE).listFiles('')).filter((f) => !f.startsWith('_locks/'));
    const lockFiles = async () => (await lakeStoreFor(LAKE).listFiles('')).filter((f) => f.startsWith('_locks/'));
    const before = await lakeFiles();
    const [lockBefore] = await lockFiles();
    const again = await handler({ Records: [s3Record('raw-logs', key, 1234)] });
    expect(again.summary).toMatchObject({ objects: 1, already_ingested: 1, records: 0, written: 0 });
    expect(await lakeFiles()).toEqual(before);
    const locks = await lockFiles();
    expect(locks).toHaveLength(1);
    expect(locks[0] > lockBefore).toBe(true);
    expect(JSON.parse((await lakeStoreFor(LAKE).readText(locks[0])) ?? '{}')).toHaveProperty('released');
  });

  test("an SQS batch: new objects are read, deleted ones reported, the lake's own files and removals ignored", async () => {
    const later = Array.from({ length: 4 }, (_, i) => cloudTrailRecord(300 + i, { eventTime: '2024-03-05T08:00:00Z' }));
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'raw-logs', Key: 'AWSLogs/later.json', Body: envelope(later) }));
    await s3env.s3.client.send(
      new PutObjectCommand({ Bucket: 'raw-logs', Key: 'AWSLogs/deleted.json', Body: envelope([cloudTrailRecord(999)]) }),
    );
    await s3env.s3.client.send(new DeleteObjectCommand({ Bucket: 'raw-logs', Key: 'AWSLogs/deleted.json' }));
    const lakeFile = (await lakeStoreFor(LAKE).listFiles('_manifest'))[0];
    const body = {
      Records: [
        s3Record('raw-logs', 'AWSLogs/later.json', 500),
        s3Record('raw-logs', 'AWSLogs/deleted.json', 80),
        s3Record('scoutql-lake', `lake/${lakeFile}`, 300),
        s3Record('raw-logs', 'AWSLogs/', 0),
        s3Record('raw-logs', key, 1234, 'ObjectRemoved:Delete'),
      ],
    };
    const result = await handler({ Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: JSON.stringify(body) }] });
    expect(result.objects).toEqual(['s3://raw-logs/AWSLogs/later.json', 's3://raw-logs/AWSLogs/deleted.json']);
    expect(result.ignored.map((i) => i.reason)).toEqual([
      'not an object creation',
      'inside the lake itself (would loop)',
      'a folder marker, not a log object',
    ]);
    expect(result.summary).toMatchObject({
      objects: 1,
      written: 4,
      missing_inputs: ['s3://raw-logs/AWSLogs/deleted.json'],
      days: ['2024-03-05'],
    });
    expect(await lakeRows(await downloadLake(LAKE))).toHaveLength(29);
  });

  test('with SCOUTQL_GRAPH=off the graph is owed, and a scheduled invocation builds it', async () => {
    const store = lakeStoreFor(LAKE);
    const late = Array.from({ length: 3 }, (_, i) => cloudTrailRecord(700 + i, { eventTime: '2024-03-07T09:00:00Z' }));
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'raw-logs', Key: 'AWSLogs/late.json', Body: envelope(late) }));
    process.env.SCOUTQL_GRAPH = 'off';
    try {
      const result = await handler({ Records: [s3Record('raw-logs', 'AWSLogs/late.json', 300)] });
      expect(result.summary).toMatchObject({ written: 3, days: ['2024-03-07'] });
    } finally {
      delete process.env.SCOUTQL_GRAPH;
    }
    expect(await store.listFiles('graph/entities/day=2024-03-07')).toEqual([]);
    expect(await store.listFiles('_graph_pending')).toEqual(['_graph_pending/2024-03-07']);

    const schedule = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2024-03-07T10:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/scoutql-graph'],
      detail: {},
    };
    const upkeep = await handler(schedule);
    expect(upkeep.summary).toMatchObject({ objects: 0, written: 0 });
    expect(await store.listFiles('graph/entities/day=2024-03-07')).toEqual(['graph/entities/day=2024-03-07/part-0.parquet']);
    expect(await store.listFiles('_graph_pending')).toEqual([]);
  });

  test('without SCOUTQL_LAKE (or with a local path) the handler refuses to run', async () => {
    const saved = process.env.SCOUTQL_LAKE;
    process.env.SCOUTQL_LAKE = tempDir('lambda-local');
    await expect(handler({ Records: [] })).rejects.toThrow(/SCOUTQL_LAKE must name the lake as s3:\/\//);
    process.env.SCOUTQL_LAKE = saved;
  });
});

describe('detection on the Lambda path (SCOUTQL_DETECT=on): the rules over the new days, on Athena over the S3 lake', () => {
  const DETECT_LAKE = 's3://detect-lake/lake';
  const RULES = join(PROJECT_RULES_DIR, 'aws', 'cloudtrail');
  const STOP_LOGGING_ID = '00000000-0000-4000-8000-00000000b001';
  // The CloudTrail user guide's StopLogging example beside an ordinary read of the trails, on 2024-03-02.
  const trail = [
    cloudTrailRecord(1, {
      eventTime: '2024-03-02T20:01:07Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      requestParameters: { name: 'arn:aws:cloudtrail:us-east-2:123456789012:trail/My-First-Trail' },
      eventID: STOP_LOGGING_ID,
    }),
    cloudTrailRecord(2, {
      eventTime: '2024-03-02T20:02:07Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'DescribeTrails',
      readOnly: true,
      requestParameters: null,
      eventID: '00000000-0000-4000-8000-00000000b002',
    }),
  ];
  let s3env: S3Env;
  let athena: AthenaLocalServer;
  const saved = { ...process.env };

  /** The findings the lake holds, read from its files as any reader of the lake would. */
  const findingsOf = async () => {
    const lake = await downloadLake(DETECT_LAKE);
    return withDuckDb((run) =>
      run(`SELECT rule_id, title, evidence_event_ids, CAST(day AS VARCHAR) AS day FROM (${findingsTableSelect(lake)})
           WHERE product = 'scoutql' ORDER BY finding_id`),
    );
  };

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    s3env = await startS3Env(['trail-logs', 'detect-lake']);
    athena = await startAthenaLocal({ s3Client: s3env.s3.client });
    const admin = new AthenaEngine({
      database: 'default',
      region: 'us-east-1',
      endpoint: athena.endpoint,
      credentials: S3_LOCAL_CREDENTIALS,
      maxBytesScanned: 0,
      pollMinMs: 5,
      pollMaxMs: 20,
    });
    await applyCatalog(admin, catalogStatements({ lake: DETECT_LAKE, database: 'scoutql', accounts: ['123456789012'] }));
    await admin.close();
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'trail-logs', Key: 'AWSLogs/trail.json', Body: envelope(trail) }));
    Object.assign(process.env, {
      SCOUTQL_LAKE: DETECT_LAKE,
      SCOUTQL_WORKERS: '1',
      SCOUTQL_DETECT: 'on',
      // The CloudTrail rules only (the trail stopped among them): the whole set is run by test/rules.
      SCOUTQL_RULES: RULES,
      // As a deployment sets them for the function: the database the catalog made, the scan limit.
      SCOUTQL_ATHENA_DATABASE: 'scoutql',
      SCOUTQL_ATHENA_REGION: 'us-east-1',
      SCOUTQL_ATHENA_ENDPOINT: athena.endpoint,
      SCOUTQL_ATHENA_MAX_BYTES_SCANNED: '1GB',
      SCOUTQL_ATHENA_POLL_MIN_MS: '5',
      SCOUTQL_ATHENA_POLL_MAX_MS: '20',
    });
  }, 120_000);
  afterAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('SCOUTQL_') && !(name in saved)) delete process.env[name];
    await athena?.close();
    await s3env?.close();
  });

  test('a SCOUTQL_DETECT that is neither on nor off is refused before anything is read', async () => {
    process.env.SCOUTQL_DETECT = 'yes please';
    try {
      await expect(handler({ Records: [s3Record('trail-logs', 'AWSLogs/trail.json', 500)] })).rejects.toThrow(
        /SCOUTQL_DETECT must be on or off/,
      );
    } finally {
      process.env.SCOUTQL_DETECT = 'on';
    }
    expect(await lakeStoreFor(DETECT_LAKE).listFiles('_manifest')).toEqual([]);
  });

  test('after the ingest, the rules search the day it touched and their findings land in the lake', async () => {
    const result = await handler({ Records: [s3Record('trail-logs', 'AWSLogs/trail.json', 500)] });
    expect(result.summary).toMatchObject({ written: 2, days: ['2024-03-02'] });
    expect(result.detect).toMatchObject({
      windows: [{ from: '2024-03-02T00:00:00.000Z', to: '2024-03-03T00:00:00.000Z', refused: [], failed: [] }],
    });
    const findings = await findingsOf();
    expect(findings.length).toBeGreaterThan(0);
    expect(result.detect).toMatchObject({ windows: [{ findings: findings.length }] });
    // The trail stopped is found, with the StopLogging call as its evidence; the read of the trails is not.
    const stopped = findings.filter((f) => JSON.stringify(f.evidence_event_ids).includes(STOP_LOGGING_ID));
    expect(stopped.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.day === '2024-03-02')).toBe(true);
    expect(JSON.stringify(findings)).not.toContain('00000000-0000-4000-8000-00000000b002');
  }, 120_000);

  test('redelivery reads nothing new, so searches nothing, and the findings stay as they are', async () => {
    const before = await findingsOf();
    const again = await handler({ Records: [s3Record('trail-logs', 'AWSLogs/trail.json', 500)] });
    expect(again.summary).toMatchObject({ already_ingested: 1, written: 0 });
    expect(again.detect).toEqual({ skipped: 'no new events' });
    expect(await findingsOf()).toEqual(before);
  });

  test('without the Athena settings the ingest still runs and the detection says why it was skipped', async () => {
    const later = [cloudTrailRecord(3, { eventTime: '2024-03-04T08:00:00Z' })];
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'trail-logs', Key: 'AWSLogs/later.json', Body: envelope(later) }));
    delete process.env.SCOUTQL_ATHENA_DATABASE;
    try {
      const result = await handler({ Records: [s3Record('trail-logs', 'AWSLogs/later.json', 300)] });
      expect(result.summary).toMatchObject({ written: 1, days: ['2024-03-04'] });
      expect(result.detect).toEqual({ skipped: expect.stringMatching(/SCOUTQL_ATHENA_DATABASE/) });
    } finally {
      process.env.SCOUTQL_ATHENA_DATABASE = 'scoutql';
    }
  });
});
