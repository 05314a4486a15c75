/**
 * Crash safety on an S3 lake: the CLI is killed with SIGKILL at each fault point of a commit
 * (SCOUTQL_TEST_CRASH), then rerun. Readers never see a partial file, and the rerun leaves
 * exactly the lake one clean run leaves.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { lakeStoreFor } from '../../etl/lake/store';
import { cloudTrailRecord, lakeRows, scoutql, tempDir, withDuckDb } from '../etl/helpers';
import { downloadLake, envelope, scoutqlAsync, startS3Env, type S3Env } from './helpers';

let s3env: S3Env;
const input = tempDir('s3-crash-in');
let cleanRows: unknown[];

beforeAll(async () => {
  s3env = await startS3Env(['crash-lake']);
  // Two objects of 300 records committed every 200 rows: several commits per run.
  for (let f = 0; f < 2; f++) {
    mkdirSync(join(input, `d${f}`), { recursive: true });
    writeFileSync(
      join(input, `d${f}`, `part${f}.json.gz`),
      gzipSync(envelope(Array.from({ length: 300 }, (_, i) => cloudTrailRecord(f * 1000 + i)))),
    );
  }
  const clean = tempDir('s3-crash-clean');
  expect(scoutql(['ingest', input, '--lake', clean, '--json', '--batch-rows', '200']).status).toBe(0);
  cleanRows = await lakeRows(clean);
});

afterAll(async () => {
  await s3env.close();
});

test.each(['mid-upload', 'before-commit-mark', 'after-commit-mark', 'mid-publish'])(
  'SIGKILL at %s, then a rerun, leaves exactly the lake of one clean run',
  async (point) => {
    const lake = `s3://crash-lake/${point}/lake`;
    const args = ['ingest', input, '--lake', lake, '--json', '--batch-rows', '200'];
    const crashed = await scoutqlAsync(args, { ...s3env.env, SCOUTQL_TEST_CRASH: point });
    expect(crashed.signal).toBe('SIGKILL');
    // A reader sees whole Parquet files only (each one reads).
    const visible = await downloadLake(lake);
    const [{ n }] = (await withDuckDb((run) =>
      run(`SELECT count(*) AS n FROM read_parquet('${visible}/api_activity/**/*.parquet', hive_partitioning = false)`).catch(() => [
        { n: 0 },
      ]),
    )) as [{ n: number }];
    // Never more than a finished run (nothing published twice); the crash left a transaction to finish or discard.
    expect(Number(n)).toBeLessThanOrEqual(600);
    expect((await lakeStoreFor(lake).listFiles('_staging')).length).toBeGreaterThan(0);

    const rerun = await scoutqlAsync(args, s3env.env);
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.status).toBe(0);
    expect(await lakeRows(await downloadLake(lake))).toEqual(cleanRows);
    const left = (await lakeStoreFor(lake).listFiles('')).filter(
      (f) => f.startsWith('_staging/') || f === '_lock' || f.startsWith('_graph_pending/'),
    );
    expect(left).toEqual([]);
  },
);
