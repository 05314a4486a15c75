/**
 * The incremental graph step on an S3 lake (the local S3 server): ingests of the objects in
 * batches give, row for row, the graph one ingest of them all gives, findings included, and each
 * merge downloads only the files the day's graph state does not hold yet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { graphObjects, graphTables, inBatches } from '../graph/batches';
import { tempDir } from '../etl/helpers';
import { downloadLake, startS3Env, type S3Env } from './helpers';

let s3env: S3Env;
beforeAll(async () => {
  s3env = await startS3Env(['graph-lake']);
});
afterAll(async () => {
  await s3env.close();
});

test('on S3, the graph of 4 batches equals the graph of one ingest, and merges download only the new files', async () => {
  const objects = graphObjects(tempDir('graph-s3-objects'), {
    sample: false,
    // The local S3 server is slow per object, and each day costs a graph step per ingest: the findings, the golden files
    // whose rows meet them on the findings' days (API Gateway), and Route 53 Resolver's, one of whose days two batches
    // share. Six days, 59 entities, six merges on three days. (CloudTrail's and VPC flow's golden files add 36 days,
    // most of them read by one batch and so rebuilt whole as in the single ingest; the graph of every source's
    // objects, batched and whole, is test/graph/incremental.test.ts's.)
    sources: ['route53resolver', 'apigateway', 'guardduty', 'securityhub'],
  });
  const once = 's3://graph-lake/once';
  await ingest({ inputs: objects, lake: once, outlierTimes: 'keep', workers: 1 });
  const batched = 's3://graph-lake/batches';
  const steps: { day: string; mode: string; files_read: number }[] = [];
  for (const batch of inBatches(objects, 4))
    steps.push(...((await ingest({ inputs: batch, lake: batched, outlierTimes: 'keep', workers: 1 })).graph ?? []));
  const merged = steps.filter((s) => s.mode === 'merge');
  expect(merged.map((s) => s.day)).toContain('2024-03-05');
  const [onceDir, batchedDir] = [await downloadLake(once), await downloadLake(batched)];
  // Each file of a day was read once over all the batches: merges never downloaded the day's earlier files.
  for (const day of new Set(merged.map((s) => s.day))) {
    const held = JSON.parse(readFileSync(join(batchedDir, '_graph_state', `day=${day}`, 'inputs.json'), 'utf8')) as unknown[];
    expect(steps.filter((s) => s.day === day).reduce((sum, s) => sum + s.files_read, 0)).toBe(held.length);
  }
  const [a, b] = [await graphTables(onceDir), await graphTables(batchedDir)];
  expect(a.entities.length).toBeGreaterThan(50);
  expect(a.edges.some((e) => e[0] === 'Finding')).toBe(true);
  expect(b).toEqual(a);
}, 900_000);
