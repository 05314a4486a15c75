/**
 * Issue 13 on the local S3 server: damaged, oversized and vanished objects under an s3:// prefix,
 * writers racing for an s3:// lake (the lock is a conditional PUT, If-None-Match: *), and an
 * s3:// lake whose manifest is lost.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { loadManifest } from '../../etl/lake/manifest';
import { lakeStoreFor } from '../../etl/lake/store';
import { lockTokenFile } from '../../src/core/lake-layout';
import type { IngestOutcome, LockTurn } from '../etl/fixtures/lake-contenders';
import { cloudTrailRecord, lakeContenders, lakeRows, quarantineLines, tempDir } from '../etl/helpers';
import { downloadLake, envelope, startS3Env, type S3Env } from './helpers';

let s3env: S3Env;
beforeAll(async () => {
  s3env = await startS3Env(['fault-logs', 'fault-lake']);
});
afterAll(async () => {
  await s3env.close();
});

const records = (from: number, count: number) => Array.from({ length: count }, (_, i) => cloudTrailRecord(from + i));
const ids = (from: number, count: number) => records(from, count).map((r) => r.eventID as string);
const jsonLines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const RUN = { workers: 1, geoip: false, graph: false } as const;

function reconciles(summary: IngestSummary): void {
  expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered + summary.duplicates);
}

async function eventIdsOf(lake: string): Promise<string[]> {
  return (await lakeRows(await downloadLake(lake))).map((r) => r.event_id as string).sort();
}

describe('s3:// objects that are too big, damaged or gone: quarantined with their reason, the rest lands', () => {
  const lake = 's3://fault-lake/faults/lake';
  let summary: IngestSummary;
  let copy: string;

  beforeAll(async () => {
    const put = (key: string, body: string | Buffer) =>
      s3env.s3.client.send(new PutObjectCommand({ Bucket: 'fault-logs', Key: `in/${key}`, Body: body }));
    await put('a-good.json.gz', gzipSync(envelope(records(0, 40))));
    await put('b-bomb.json.gz', gzipSync(envelope(Array.from({ length: 3000 }, () => cloudTrailRecord(10_000)))));
    await put('c-long-line.jsonl', jsonLines([cloudTrailRecord(20_000), cloudTrailRecord(20_001, { userAgent: 'x'.repeat(100_000) })]));
    const [before, after] = JSON.stringify(cloudTrailRecord(40_000, { userAgent: 'agent-@@-end' })).split('@@');
    await put('e-invalid-utf8.jsonl', Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe]), Buffer.from(after + '\n')]));
    const whole = envelope(records(50_000, 10));
    await put('f-truncated.json', whole.slice(0, whole.indexOf(cloudTrailRecord(50_007).eventID as string)));
    await put('g-vanishing.json', envelope(records(60_000, 5)));
    summary = await ingest({
      ...RUN,
      inputs: ['s3://fault-logs/in/'],
      lake,
      limits: { maxObjectBytes: 512 * 1024, maxRecordBytes: 64 * 1024 },
      // Listed, then deleted before its read (the first object done): a lifecycle rule or a mover got there first.
      onProgress: (p) =>
        void (p.objectsDone === 1 && s3env.s3.client.send(new DeleteObjectCommand({ Bucket: 'fault-logs', Key: 'in/g-vanishing.json' }))),
    });
    copy = await downloadLake(lake);
  });

  test('counts reconcile; every good record lands once, nothing of an object quarantined whole does', async () => {
    reconciles(summary);
    expect(summary).toMatchObject({ objects: 6, damaged_objects: 3, invalid_utf8: 1 });
    const landed = (await lakeRows(copy)).map((r) => r.event_id as string).sort();
    expect(landed).toEqual([...ids(0, 40), ...ids(40_000, 1), ...ids(50_000, 7)].sort());
  });

  test('each is named by its s3:// URL with its reason', () => {
    const reasonOf = (name: string) =>
      quarantineLines(copy)
        .filter((q) => q.object === `s3://fault-logs/in/${name}`)
        .map((q) => q.reason)
        .join(' | ');
    expect(reasonOf('b-bomb.json.gz')).toMatch(/\(limit: maxObjectBytes\)$/);
    expect(reasonOf('c-long-line.jsonl')).toMatch(/\(limit: maxRecordBytes\)$/);
    expect(reasonOf('g-vanishing.json')).toMatch(/^unreadable: /);
    expect(reasonOf('f-truncated.json')).not.toBe('');
  });
});

describe('an s3:// lake raced by writers in several processes', () => {
  // 10 writers (2 processes) for the lock's turns over HTTP; test/etl/lake-race.test.ts runs 20 on a local lake.
  test('the lock: one writer at a time, a new token each turn, no update lost, a dead writer’s expired lease taken over', async () => {
    const lake = 's3://fault-lake/race-lock/lake';
    const store = lakeStoreFor(lake);
    // A writer on another machine (a Lambda) that died holding the lake: its lease has run out.
    const expired = new Date(Date.now() - 1000).toISOString();
    await store.writeText(
      lockTokenFile(1),
      JSON.stringify({ token: 1, owner: 'gone', host: 'lambda-sandbox-1', pid: 8, expires: expired }),
    );
    const turns = (await Promise.all(Array.from({ length: 2 }, () => lakeContenders<LockTurn>(['lock', lake, '5'], s3env.env)))).flat();
    expect(turns).toHaveLength(10);
    expect(await store.readText('race-counter.txt')).toBe('10');
    const byTime = [...turns].sort((a, b) => a.from - b.from);
    for (let i = 1; i < byTime.length; i++) expect(byTime[i].from).toBeGreaterThanOrEqual(byTime[i - 1].to);
    expect(byTime.map((t) => t.token)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    expect(await store.listFiles('_locks')).toEqual([lockTokenFile(11)]);
  });

  test('20 ingests in 4 processes with overlapping inputs: each runs or is refused; with one more run the lake holds every record once', async () => {
    const lake = 's3://fault-lake/race-ingest/lake';
    const input = tempDir('s3-race-in');
    const files = Array.from({ length: 5 }, (_, f) => join(input, `part${f}.json`));
    files.forEach((file, f) => writeFileSync(file, envelope(records(f * 100, 10))));
    const inputsOf = (n: number) => [files[n % 5], files[(n + 1) % 5]];
    const outcomes = (
      await Promise.all(
        Array.from({ length: 4 }, (_, p) =>
          lakeContenders<IngestOutcome>(
            ['ingest', lake, JSON.stringify(Array.from({ length: 5 }, (_, i) => inputsOf(p * 5 + i)))],
            s3env.env,
          ),
        ),
      )
    ).flat();
    const ran = outcomes.filter((o) => !('error' in o));
    expect(ran.length).toBeGreaterThanOrEqual(1);
    for (const o of outcomes)
      if ('error' in o) expect(o.error).toMatch(/is being written by|took the lock at the same moment|kept taking the lock/);
    const read = new Set(ran.flatMap((r) => r.inputs));
    expect(await eventIdsOf(lake)).toEqual(files.flatMap((file, f) => (read.has(file) ? ids(f * 100, 10) : [])).sort());

    expect(await ingest({ ...RUN, inputs: [input], lake })).toMatchObject({ duplicates: 0 });
    expect(await eventIdsOf(lake)).toEqual(files.flatMap((_, f) => ids(f * 100, 10)).sort());
    expect((await loadManifest(lake)).problems).toEqual([]);
  });
});

test('an s3:// lake whose manifest is lost: objects are read again, no row is written twice, the run says why', async () => {
  const lake = 's3://fault-lake/lost-manifest/lake';
  const input = tempDir('s3-lost-manifest-in');
  writeFileSync(join(input, 'a.json'), envelope(records(0, 12)));
  await ingest({ ...RUN, inputs: [input], lake });
  const store = lakeStoreFor(lake);
  // The manifest files alone: a run over a few objects looks them up in the manifest index instead.
  const manifestFiles = await store.listFiles('_manifest');
  await store.remove(manifestFiles);
  expect(await ingest({ ...RUN, inputs: [input], lake })).toMatchObject({ already_ingested: 1, records: 0, warnings: [] });
  // The index entry too: the object is read again, its rows all dropped as duplicates, and the run says so.
  const [indexEntry] = (await store.listFiles('_manifest_index')).filter((f) => f.endsWith('.json'));
  await store.remove([indexEntry]);
  const lookedUp = await ingest({ ...RUN, inputs: [input], lake });
  reconciles(lookedUp);
  expect(lookedUp).toMatchObject({ records: 12, written: 0, duplicates: 12 });
  expect(lookedUp.warnings).toEqual([expect.stringMatching(/a\.json: every row was already in the lake .*none was written twice$/)]);
  // The whole manifest and index: the manifest is read whole (the index is not complete), and the commit chain names what was lost.
  const allManifest = [...(await store.listFiles('_manifest')), ...(await store.listFiles('_manifest_index'))];
  await store.remove(allManifest);
  const again = await ingest({ ...RUN, inputs: [input], lake });
  reconciles(again);
  expect(again).toMatchObject({ records: 12, written: 0, duplicates: 12 });
  expect(again.warnings).toEqual(
    [...manifestFiles, ...allManifest.filter((f) => f.startsWith('_manifest/'))].map((f) =>
      expect.stringContaining(`${f} (published by _commits/`),
    ),
  );
  expect(await eventIdsOf(lake)).toEqual(ids(0, 12).sort());
  // That run wrote the index again, whole: the next looks the object up.
  expect(await ingest({ ...RUN, inputs: [input], lake })).toMatchObject({ already_ingested: 1, records: 0, warnings: [] });
});
