/**
 * CloudTrail as responders get it when no trail delivered it: the event history (`lookup-events`
 * output, the console's CSV download) and records re-shipped by log pipelines (Logstash,
 * Elasticsearch, Filebeat, Splunk, a CloudWatch Logs subscription via Firehose, a CloudWatch Logs
 * export). The golden files of etl/sources/cloudtrail/golden/ hold the same documented records in
 * each shape; ingested together, from local files and from the local S3 server, every record lands
 * once and the counts reconcile.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { sourceFolder } from '../../etl/sources';
import { startS3Env, type S3Env } from '../s3/helpers';
import { lakeRows, tempDir } from './helpers';

const GOLDEN = join(sourceFolder('cloudtrail'), 'golden');
const PIPELINE_SHAPES = [
  'logstash-export.jsonl',
  'elasticsearch-hits.json',
  'filebeat-ecs.jsonl',
  'splunk-export.json',
  'cloudwatch-logs-firehose.json',
  'cloudwatch-logs-export.txt',
];

/** The shapes as a folder; Firehose's delivery gzipped under the name it gives its objects. */
function shapesFolder(): string {
  const dir = tempDir('ct-shapes');
  for (const name of [
    ...PIPELINE_SHAPES.filter((n) => n !== 'cloudwatch-logs-firehose.json'),
    'lookup-events.json',
    'event-history-download.csv',
  ])
    copyFileSync(join(GOLDEN, name), join(dir, name));
  writeFileSync(
    join(dir, 'cloudtrail-to-s3-1-2023-07-19-21-30-00-6d2c1b7e-2d6f-4bb1-9d8e-1c2f3a4b5c6d.gz'),
    gzipSync(readFileSync(join(GOLDEN, 'cloudwatch-logs-firehose.json'))),
  );
  return dir;
}

function expectReconciled(summary: IngestSummary): void {
  expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered + summary.duplicates);
}

/** What every run over the shapes must give: each event once, the one damaged lookup event quarantined. */
async function expectOneCleanCopy(summary: IngestSummary, lake: string): Promise<void> {
  expect(summary).toMatchObject({ objects: 8, skipped_objects: 0, damaged_objects: 0, quarantined: 1 });
  expectReconciled(summary);
  const api = await lakeRows(lake);
  // CreateUser and StopInstances arrive in seven and six shapes; the console CSV names no account.
  expect(api.map((r) => [r['account'], r['activity'], r['event_id']]).sort()).toEqual([
    ['123456789012', 'ConsoleLogin', '654ccbc0-ba0d-486a-9076-dbf7274677a7'],
    ['444455556666', 'CreateUser', 'ba0801a1-87ec-4d26-be87-EXAMPLE75bbb'],
    ['444455556666', 'StopInstances', '1c2a3b4d-5e6f-4a7b-8c9d-EXAMPLE22bb2'],
    ['unknown', 'ConsoleLogin', '654ccbc0-ba0d-486a-9076-dbf7274677a7'],
    ['unknown', 'CreateUser', 'ba0801a1-87ec-4d26-be87-EXAMPLE75bbb'],
    ['unknown', 'StopInstances', '1c2a3b4d-5e6f-4a7b-8c9d-EXAMPLE22bb2'],
  ]);
  // 6 + 5 records dropped as the same event (by eventID and time in the account).
  expect(summary.duplicates).toBe(11);
  const createUser = api.find((r) => r['activity'] === 'CreateUser' && r['account'] === '444455556666')!;
  expect(createUser).toMatchObject({ actor_id: 'arn:aws:iam::444455556666:user/JaneDoe', src_ip: '192.0.2.0', region: 'us-east-1' });
  expect(await lakeRows(lake, 'authentication')).toHaveLength(2);
}

describe('CloudTrail shapes from local files', () => {
  test('every shape is recognized by content and each event lands once', async () => {
    const input = shapesFolder();
    const lake = join(tempDir('ct-shapes-lake'), 'lake');
    await expectOneCleanCopy(await ingest({ inputs: [input], lake }), lake);
  });
});

describe('CloudTrail shapes from the local S3 server', () => {
  let s3env: S3Env;
  beforeAll(async () => {
    s3env = await startS3Env(['exports']);
  });
  afterAll(async () => {
    await s3env.close();
  });

  test('the same objects under an s3:// prefix give the same lake', async () => {
    await s3env.s3.uploadDir(shapesFolder(), 'exports', 'incident-42');
    const lake = join(tempDir('ct-shapes-s3-lake'), 'lake');
    await expectOneCleanCopy(await ingest({ inputs: ['s3://exports/incident-42/'], lake }), lake);
  });
});
