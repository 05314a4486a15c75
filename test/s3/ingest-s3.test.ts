import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ingest } from '../../etl/ingest';
import { loadManifest } from '../../etl/lake/manifest';
import { lakeStoreFor } from '../../etl/lake/store';
import { listS3 } from '../../etl/s3';
import { cloudTrailRecord, lakeRows, tempDir, withDuckDb } from '../etl/helpers';
import { cloudTrailInputs, downloadLake, envelope, startS3Env, type S3Env } from './helpers';

let s3env: S3Env;
beforeAll(async () => {
  s3env = await startS3Env(['raw-logs', 'lake-bucket']);
});
afterAll(async () => {
  await s3env.close();
});

describe('s3:// inputs', () => {
  let input: string;
  beforeAll(async () => {
    input = cloudTrailInputs();
    await s3env.s3.uploadDir(input, 'raw-logs', 'org-trail');
    // A neighbour whose key shares the prefix's first characters: not under s3://raw-logs/org-trail/.
    await s3env.s3.client.send(
      new PutObjectCommand({ Bucket: 'raw-logs', Key: 'org-trail-old/stray.json', Body: envelope([cloudTrailRecord(7777)]) }),
    );
    await s3env.s3.client.send(new PutObjectCommand({ Bucket: 'raw-logs', Key: 'org-trail/AWSLogs/', Body: new Uint8Array(0) })); // a console "folder"
  });

  test('listing is recursive, stays under the prefix and skips folder markers', async () => {
    const keys: string[] = [];
    for await (const object of listS3('s3://raw-logs/org-trail')) keys.push(object.key);
    expect(keys).toHaveLength(4);
    expect(keys.every((k) => k.startsWith('org-trail/'))).toBe(true);
    expect(keys).toContain(
      'org-trail/AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/02/123456789012_CloudTrail_us-east-2_2024 03 02.json.gz',
    );
  });

  test('ingesting from S3 gives the same lake rows as ingesting the same files from disk', async () => {
    const fromS3 = tempDir('s3in-lake');
    const fromDisk = tempDir('diskin-lake');
    const summary = await ingest({ inputs: ['s3://raw-logs/org-trail/'], lake: fromS3 });
    await ingest({ inputs: [input], lake: fromDisk });
    expect(summary).toMatchObject({ objects: 4, records: 123, written: 122, quarantined: 1 });
    expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered);
    const rows = await lakeRows(fromS3);
    expect(rows).toHaveLength(122);
    expect(rows).toEqual(await lakeRows(fromDisk));
    // The manifest and the quarantine name the objects by their s3:// URL.
    const keys = [...(await loadManifest(fromS3)).entries.values()].map((e) => e.key).sort();
    expect(keys[0]).toBe(
      's3://raw-logs/org-trail/AWSLogs/123456789012/CloudTrail/us-east-2/2024/03/01/123456789012_CloudTrail_us-east-2_part0.json.gz',
    );
    const quarantine = readdirSync(join(fromS3, '_quarantine')).flatMap((f) =>
      readFileSync(join(fromS3, '_quarantine', f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    expect(quarantine).toEqual([expect.objectContaining({ object: 's3://raw-logs/org-trail/exports/siem.jsonl', position: 'line 2' })]);
    // Idempotent: the same objects again change nothing.
    const again = await ingest({ inputs: ['s3://raw-logs/org-trail'], lake: fromS3 });
    expect(again).toMatchObject({ objects: 4, already_ingested: 4, written: 0 });
  });

  test('a prefix with nothing under it is a clear error, before the lake is touched', async () => {
    const lake = join(tempDir('s3in-missing'), 'lake');
    await expect(ingest({ inputs: ['s3://raw-logs/no-such-prefix/'], lake })).rejects.toThrow(
      'input not found: s3://raw-logs/no-such-prefix/',
    );
    expect(existsSync(lake)).toBe(false);
  });
});

describe('an s3:// lake', () => {
  const lake = 's3://lake-bucket/security/lake';
  let input: string;
  let localLake: string;
  beforeAll(async () => {
    input = cloudTrailInputs();
    localLake = tempDir('s3lake-local');
    await ingest({ inputs: [input], lake: localLake });
  });

  test('ingest publishes Parquet, manifest and graph to S3, leaving no staging behind', async () => {
    const summary = await ingest({ inputs: [input], lake });
    expect(summary).toMatchObject({ objects: 4, written: 122, quarantined: 1 });
    expect(summary.days).toEqual(['2024-03-01', '2024-03-02', '2024-03-03']);
    expect(summary.bytes_out).toBeGreaterThan(0);
    const files = await lakeStoreFor(lake).listFiles('');
    expect(files.filter((f) => f.startsWith('_staging/') || f === '_lock' || f.startsWith('_graph_pending/'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('graph/entities/'))).toEqual(summary.days.map((d) => `graph/entities/day=${d}/part-0.parquet`));
    expect(files.filter((f) => f.startsWith('_manifest/'))).toHaveLength(1);
    // Every event file of the S3 lake holds what the local lake holds.
    const copy = await downloadLake(lake);
    expect(await lakeRows(copy)).toEqual(await lakeRows(localLake));
    const graphCount = (dir: string) =>
      withDuckDb((run) => run(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM read_parquet('${dir}/graph/entities/*/*.parquet')`));
    expect(await graphCount(copy)).toEqual(await graphCount(localLake));
  });

  test('a second run over the same objects writes nothing to S3', async () => {
    // The writer lock is the one thing a run always writes: the next fencing token, released.
    const lakeFiles = async () => (await lakeStoreFor(lake).listFiles('')).filter((f) => !f.startsWith('_locks/'));
    const lockFiles = async () => (await lakeStoreFor(lake).listFiles('')).filter((f) => f.startsWith('_locks/'));
    const before = await lakeFiles();
    const [lockBefore] = await lockFiles();
    const again = await ingest({ inputs: [input], lake });
    expect(again).toMatchObject({ already_ingested: 4, written: 0 });
    expect(await lakeFiles()).toEqual(before);
    const locks = await lockFiles();
    expect(locks).toHaveLength(1);
    expect(locks[0] > lockBefore).toBe(true);
    expect(JSON.parse((await lakeStoreFor(lake).readText(locks[0])) ?? '{}')).toHaveProperty('released');
  });

  test('new objects add a day: only that day is rebuilt and the lake holds both runs', async () => {
    const more = tempDir('s3lake-more');
    const records = Array.from({ length: 5 }, (_, i) => cloudTrailRecord(5000 + i, { eventTime: `2024-03-09T10:0${i}:00Z` }));
    writeFileSync(join(more, 'later.json'), envelope(records));
    const summary = await ingest({ inputs: [more], lake });
    expect(summary.days).toEqual(['2024-03-09']);
    const copy = await downloadLake(lake);
    expect(await lakeRows(copy)).toHaveLength(127);
    const days = await withDuckDb((run) =>
      run(
        `SELECT DISTINCT CAST(day AS VARCHAR) AS day FROM read_parquet('${copy}/graph/entities/*/*.parquet', hive_partitioning = true) ORDER BY 1`,
      ),
    );
    expect(days.map((d) => d.day)).toEqual(['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-09']);
  });
});
