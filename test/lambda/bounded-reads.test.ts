/**
 * The Lambda path reads a bounded number of the lake's data objects per notification (issue #14,
 * item 5): as one day fills with objects, each invocation reads the same few (the partition's
 * identity index for the duplicate check, the day's graph state, its own new part file), never the
 * day's earlier event files. Counted on the local S3 server: every GET it answered.
 *
 * Not yet bounded, and counted apart: the lake's bookkeeping, read whole by every ingest (one
 * `_manifest/*.jsonl` per earlier commit, to know the objects already read; with duplicates, every
 * `_commits/` manifest, to say whether manifest files were lost). See bench/README.md.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { compactLake } from '../../etl/compact';
import { handler } from '../../src/lambda/handler';
import { cloudTrailRecord, lakeRows } from '../etl/helpers';
import { downloadLake, envelope, startS3Env, type S3Env } from '../s3/helpers';

const LAKE_BUCKET = 'bounded-lake';
const LAKE = `s3://${LAKE_BUCKET}/lake`;
const OBJECTS = 10;
const PER_OBJECT = 30;

let s3env: S3Env;
beforeAll(async () => {
  s3env = await startS3Env(['bounded-raw', LAKE_BUCKET]);
  process.env.SCOUTQL_LAKE = LAKE;
  process.env.SCOUTQL_WORKERS = '1';
});
afterAll(async () => {
  delete process.env.SCOUTQL_LAKE;
  delete process.env.SCOUTQL_WORKERS;
  await s3env.close();
});

/** Record j of object k: every one on 2024-03-01 (cloudTrailRecord puts i ≡ 0 mod 3 there). */
const recordOf = (k: number, j: number) => cloudTrailRecord(3 * (k * 1000 + j));

function notification(key: string) {
  return {
    Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'bounded-raw' }, object: { key, size: 1 } } }],
  };
}

interface Reads {
  /** GETs of the lake's objects other than its bookkeeping (the manifest files and commit manifests). */
  gets: number;
  bytes: number;
  bookkeepingGets: number;
  /** Lake-relative keys of the event part files read. */
  partFiles: string[];
}

test('each notification on a growing day reads the same few lake objects, and duplicates are still dropped', async () => {
  const perObject: Reads[] = [];
  let published: string[] = [];
  for (let k = 0; k < OBJECTS; k++) {
    const records = Array.from({ length: PER_OBJECT }, (_, j) => recordOf(k, j));
    // From the third object on, each repeats an event of the object before it (another trail delivering it).
    if (k >= 2) records.push(recordOf(k - 1, 0));
    const key = `AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/01/object-${k}.json.gz`;
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'bounded-raw', Key: key, Body: gzipSync(envelope(records)) }));
    s3env.s3.requests.length = 0;
    const result = await handler(notification(key));
    expect(result.summary?.records).toBe(records.length);
    expect(result.summary?.duplicates).toBe(k >= 2 ? 1 : 0);
    const all = s3env.s3.requests.filter((r) => r.method === 'GET' && r.bucket === LAKE_BUCKET && r.key !== '' && r.status === 200);
    const bookkeeping = (key: string) => /^lake\/(_manifest\/[^/]+\.jsonl|_commits\/\d{12}-[^/]+\.json)$/.test(key);
    const gets = all.filter((r) => !bookkeeping(r.key));
    const partFiles = gets.map((r) => r.key.slice('lake/'.length)).filter((p) => p.startsWith('api_activity/'));
    perObject.push({
      gets: gets.length,
      bytes: gets.reduce((n, r) => n + r.bytes, 0),
      bookkeepingGets: all.length - gets.length,
      partFiles,
    });
    // The only event file an invocation reads is one it wrote itself (the graph step's input), never an earlier one.
    for (const file of partFiles) expect(published).not.toContain(file);
    published = [...published, ...partFiles];
  }
  // eslint-disable-next-line no-console -- the figures the test is about, for the bench note
  console.log(
    perObject
      .map(
        (r, k) => `object ${k + 1}: ${r.gets} GETs (${r.bytes} bytes; part files ${r.partFiles.length}) + ${r.bookkeepingGets} bookkeeping`,
      )
      .join('\n'),
  );
  // From the third object on (the first has no index or graph state to read, the second no duplicate), the same GETs per object.
  const steady = perObject.slice(2).map((r) => r.gets);
  expect(Math.max(...steady)).toBe(Math.min(...steady));
  // Bytes: the index and the graph state grow with the day's keys (here ≈10 bytes a row), not by a
  // part file (≈9 KB for 30 rows) per earlier object as when the check downloaded the day's files.
  const growth = (perObject[OBJECTS - 1].bytes - perObject[2].bytes) / (OBJECTS - 3);
  expect(growth).toBeLessThan(1000);

  const rows = await lakeRows(await downloadLake(LAKE));
  expect(rows).toHaveLength(OBJECTS * PER_OBJECT);
  expect(new Set(rows.map((r) => r.event_id)).size).toBe(OBJECTS * PER_OBJECT);
}, 600_000);

test('after a compaction rewrote the day, the index drops the old files, reads the new one once, and still finds duplicates', async () => {
  const compacted = await compactLake({ lake: LAKE, day: '2024-03-01' });
  expect(compacted.partitions_compacted).toBe(1);
  const put = async (k: number, records: unknown[]) => {
    const key = `AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/01/after-${k}.json.gz`;
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'bounded-raw', Key: key, Body: gzipSync(envelope(records)) }));
    s3env.s3.requests.length = 0;
    const result = await handler(notification(key));
    const read = s3env.s3.requests
      .filter((r) => r.method === 'GET' && r.bucket === LAKE_BUCKET && r.status === 200 && r.key.startsWith('lake/api_activity/'))
      .map((r) => r.key);
    return { result, read };
  };
  // A repeat of the first object's event, and a new one: the compacted file is read (the index does not
  // name it; the graph state does not hold it either, so the day's graph is rebuilt from it and the new file).
  const first = await put(1, [recordOf(0, 5), recordOf(100, 0)]);
  expect(first.result.summary?.duplicates).toBe(1);
  expect(first.result.summary?.written).toBe(1);
  expect(first.read.length).toBeLessThanOrEqual(3);
  // The next object reads no earlier event file again: only its own new file, for the graph.
  const second = await put(2, [recordOf(100, 0), recordOf(101, 0)]);
  expect(second.result.summary?.duplicates).toBe(1);
  expect(second.read).toHaveLength(1);
  const rows = await lakeRows(await downloadLake(LAKE));
  expect(rows).toHaveLength(OBJECTS * PER_OBJECT + 2);
}, 600_000);
