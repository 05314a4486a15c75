/**
 * The Lambda path reads a bounded number of the lake's objects per notification (issue #14, item 5):
 * as the lake fills with objects, each invocation reads the same few (the partition's identity
 * index for the duplicate check, the day's graph state, its own new part file, the manifest index
 * entry of its object's hash, HEAD of the commit chain), never the day's earlier event files, never
 * every `_manifest/*.jsonl` nor every `_commits/` manifest. Counted on the local S3 server: every
 * GET and HEAD it answered. See bench/README.md, "The Lambda path".
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { compactLake } from '../../etl/compact';
import { handler } from '../../src/lambda/handler';
import { cloudTrailRecord, lakeRows } from '../etl/helpers';
import { downloadLake, envelope, startS3Env, type S3Env } from '../s3/helpers';

const LAKE_BUCKET = 'bounded-lake';
const LAKE = `s3://${LAKE_BUCKET}/lake`;
const OBJECTS = 12;
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

const rawKey = (name: string) => `AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/01/${name}.json.gz`;

function notification(key: string) {
  return {
    Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'bounded-raw' }, object: { key, size: 1 } } }],
  };
}

interface Reads {
  /** GETs of the lake's data objects: part files, identity indexes, graph state, lock files, HEAD of the chain. */
  gets: number;
  bytes: number;
  /** GETs of the manifest: `_manifest/*.jsonl` files and `_manifest_index/` entries. */
  manifestGets: number;
  /** GETs of commit manifests (`_commits/<seq>-<txn>.json`). */
  commitGets: number;
  /** HEAD requests of lake objects. */
  heads: number;
  /** Lake-relative keys of the event part files read. */
  partFiles: string[];
}

/** The lake reads the server answered since `requests` was last cleared, by kind. */
function lakeReads(): Reads {
  const lake = s3env.s3.requests.filter((r) => r.bucket === LAKE_BUCKET && r.key !== '');
  // Bookkeeping GETs count whatever the answer (a lookup that finds nothing is a request too);
  // data GETs count the objects read (200), as the figures before this change did.
  const all = lake.filter((r) => r.method === 'GET');
  const manifest = all.filter((r) => /^lake\/(_manifest\/[^/]+\.jsonl|_manifest_index\/.+)$/.test(r.key));
  const commits = all.filter((r) => /^lake\/_commits\/\d{12}-[^/]+\.json$/.test(r.key));
  const data = all.filter((r) => r.status === 200 && !manifest.includes(r) && !commits.includes(r));
  return {
    gets: data.length,
    bytes: data.reduce((n, r) => n + r.bytes, 0),
    manifestGets: manifest.length,
    commitGets: commits.length,
    heads: lake.filter((r) => r.method === 'HEAD').length,
    partFiles: data.map((r) => r.key.slice('lake/'.length)).filter((p) => p.startsWith('api_activity/')),
  };
}

async function deliver(name: string, records: unknown[]) {
  const key = rawKey(name);
  await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'bounded-raw', Key: key, Body: gzipSync(envelope(records)) }));
  s3env.s3.requests.length = 0;
  const result = await handler(notification(key));
  return { result, reads: lakeReads() };
}

test('each notification on a growing lake reads the same few lake objects, and duplicates are still dropped', async () => {
  const perObject: Reads[] = [];
  let published: string[] = [];
  for (let k = 0; k < OBJECTS; k++) {
    const records = Array.from({ length: PER_OBJECT }, (_, j) => recordOf(k, j));
    // From the third object on, each repeats an event of the object before it (another trail delivering it).
    if (k >= 2) records.push(recordOf(k - 1, 0));
    const { result, reads } = await deliver(`object-${k}`, records);
    expect(result.summary?.records).toBe(records.length);
    expect(result.summary?.duplicates).toBe(k >= 2 ? 1 : 0);
    expect(result.summary?.warnings).toEqual([]);
    perObject.push(reads);
    // The only event file an invocation reads is one it wrote itself (the graph step's input), never an earlier one.
    for (const file of reads.partFiles) expect(published).not.toContain(file);
    published = [...published, ...reads.partFiles];
  }
  // eslint-disable-next-line no-console -- the figures the test is about, for the bench note
  console.log(
    perObject
      .map(
        (r, k) =>
          `object ${k + 1}: ${r.gets} GETs (${r.bytes} bytes; part files ${r.partFiles.length}) + manifest ${r.manifestGets} + commits ${r.commitGets}; ${r.heads} HEAD`,
      )
      .join('\n'),
  );
  // From the third object on (the first has no index or graph state to read, the second no duplicate), the same GETs per object.
  const steady = perObject.slice(2);
  for (const kind of ['gets', 'manifestGets', 'commitGets', 'heads'] as const) {
    expect([kind, Math.max(...steady.map((r) => r[kind]))]).toEqual([kind, Math.min(...steady.map((r) => r[kind]))]);
  }
  // The manifest: COMPLETE and this object's index entry (not found: it is new); the commit chain:
  // the invocation's own two commits (ingest, graph), hashed as HEAD advances, never an earlier one.
  expect(perObject[9]).toMatchObject({ manifestGets: 2, commitGets: 2 });
  expect(perObject[OBJECTS - 1]).toMatchObject({ manifestGets: 2, commitGets: 2 });
  // Bytes: the index and the graph state grow with the day's keys (here ≈10 bytes a row), not by a
  // part file (≈9 KB for 30 rows) per earlier object as when the check downloaded the day's files.
  const growth = (perObject[OBJECTS - 1].bytes - perObject[2].bytes) / (OBJECTS - 3);
  expect(growth).toBeLessThan(1000);

  const rows = await lakeRows(await downloadLake(LAKE));
  expect(rows).toHaveLength(OBJECTS * PER_OBJECT);
  expect(new Set(rows.map((r) => r.event_id)).size).toBe(OBJECTS * PER_OBJECT);
}, 900_000);

test('a redelivered object changes nothing, reading its index entry and HEADs of its own files, not the commit chain', async () => {
  const records = Array.from({ length: PER_OBJECT }, (_, j) => recordOf(5, j));
  records.push(recordOf(4, 0));
  const { result, reads } = await deliver('object-5', records);
  expect(result.summary).toMatchObject({ objects: 1, already_ingested: 1, records: 0, written: 0, duplicates: 0 });
  // COMPLETE and the index entry; one HEAD per file its commit published (one partition here); no commit manifest, no part file.
  expect(reads).toMatchObject({ manifestGets: 2, commitGets: 0, heads: 1, partFiles: [] });
});

test('two invocations for the same new object at once: the lock orders them, the second finds it read', async () => {
  const records = [recordOf(200, 0), recordOf(200, 1)];
  const key = rawKey('twice');
  await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'bounded-raw', Key: key, Body: gzipSync(envelope(records)) }));
  const [a, b] = await Promise.all([handler(notification(key)), handler(notification(key))]);
  const summaries = [a.summary!, b.summary!].sort((x, y) => y.written - x.written);
  expect(summaries[0]).toMatchObject({ written: 2, already_ingested: 0 });
  expect(summaries[1]).toMatchObject({ written: 0, records: 0, already_ingested: 1 });
  const rows = await lakeRows(await downloadLake(LAKE));
  expect(rows).toHaveLength(OBJECTS * PER_OBJECT + 2);
}, 120_000);

test('after a compaction rewrote the day, the index drops the old files, reads the new one once, and still finds duplicates', async () => {
  const compacted = await compactLake({ lake: LAKE, day: '2024-03-01' });
  expect(compacted.partitions_compacted).toBe(1);
  const put = async (k: number, records: unknown[]) => {
    const { result, reads } = await deliver(`after-${k}`, records);
    return { result, read: reads.partFiles };
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
  // A redelivery after the compaction: its commit's file is gone (merged), so the commit chain says
  // whether its rows were lost (they were not: the compacted file holds them). Still read once.
  const again = await deliver('object-5', [...Array.from({ length: PER_OBJECT }, (_, j) => recordOf(5, j)), recordOf(4, 0)]);
  expect(again.result.summary).toMatchObject({ already_ingested: 1, records: 0, written: 0 });
  expect(again.result.summary?.restored).toBeUndefined();
  const rows = await lakeRows(await downloadLake(LAKE));
  expect(rows).toHaveLength(OBJECTS * PER_OBJECT + 4);
}, 600_000);
