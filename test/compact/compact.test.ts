import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compactLake } from '../../etl/compact';
import { ingest } from '../../etl/ingest';
import { loadManifest } from '../../etl/lake/manifest';
import { lakeStoreFor } from '../../etl/lake/store';
import { TABLES } from '../../src/core/tables';
import { cloudTrailRecord, scoutql, tempDir, withDuckDb } from '../etl/helpers';
import { REAL_CLI } from '../cli';
import { downloadLake, envelope, startS3Env, type S3Env } from '../s3/helpers';

/**
 * A lake as a stream of small deliveries leaves it: `runs` ingest runs of a few records each, so
 * every partition (3 days × 2 regions) holds one file per run.
 */
async function streamedLake(lake: string, runs = 4): Promise<void> {
  for (let run = 0; run < runs; run++) {
    const input = tempDir('compact-in');
    const records = Array.from({ length: 30 }, (_, i) => cloudTrailRecord(run * 100 + i, i % 2 ? { awsRegion: 'eu-west-1' } : {}));
    writeFileSync(join(input, `delivery-${run}.json`), envelope(records));
    await ingest({ inputs: [input], lake, graph: false, workers: 1 });
  }
}

/** Every row of every event table with its partition values and a digest of raw, sorted: a multiset. */
async function rowMultiset(lake: string): Promise<string[]> {
  if (!existsSync(join(lake, 'api_activity'))) return [];
  const rows = await withDuckDb((run) =>
    run(`SELECT * EXCLUDE (raw), md5(raw) AS raw_md5 FROM read_parquet('${lake}/api_activity/*/*/*/*/part-*.parquet', hive_partitioning = true,
           hive_types = {'source': VARCHAR, 'account': VARCHAR, 'region': VARCHAR, 'day': DATE})`),
  );
  return rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
}

/** Part files per partition folder. */
function filesPerPartition(lake: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.startsWith('part-')) (out[relative(lake, dir)] ??= []).push(e.name);
    }
  };
  if (existsSync(join(lake, 'api_activity'))) walk(join(lake, 'api_activity'));
  return out;
}

describe('compaction of a local lake', () => {
  const lake = tempDir('compact-lake');
  let before: string[];
  let manifestBefore: Awaited<ReturnType<typeof loadManifest>>;

  beforeAll(async () => {
    await streamedLake(lake);
    before = await rowMultiset(lake);
    manifestBefore = await loadManifest(lake);
  });

  test('the streamed lake has one small file per run in each partition', () => {
    const files = filesPerPartition(lake);
    expect(Object.keys(files)).toHaveLength(6);
    expect(Object.values(files).every((f) => f.length === 4)).toBe(true);
  });

  test('--day compacts only that day; --min-files above the count compacts nothing', async () => {
    const none = await compactLake({ lake, minFiles: 5 });
    expect(none).toMatchObject({ partitions_seen: 6, partitions_compacted: 0, files_before: 24, files_after: 24 });
    const oneDay = await compactLake({ lake, day: '2024-03-02' });
    expect(oneDay).toMatchObject({ partitions_seen: 2, partitions_compacted: 2, files_before: 8, files_after: 2, manifest_files_after: 4 });
    const files = filesPerPartition(lake);
    for (const [partition, names] of Object.entries(files)) expect(names).toHaveLength(partition.endsWith('2024-03-02') ? 1 : 4);
    expect(await rowMultiset(lake)).toEqual(before);
  });

  test('every partition ends as one sorted ZSTD file holding exactly the same rows', async () => {
    const summary = await compactLake({ lake });
    expect(summary).toMatchObject({
      partitions_seen: 6,
      partitions_compacted: 4,
      files_after: 6,
      manifest_files_before: 4,
      manifest_files_after: 1,
    });
    // The day compacted earlier is not rewritten.
    expect(summary.rows).toBe(before.filter((r) => !r.includes('"day":"2024-03-02"')).length);
    expect(summary.rows).toBeLessThan(before.length);
    const files = filesPerPartition(lake);
    expect(Object.values(files).every((f) => f.length === 1)).toBe(true);
    expect(await rowMultiset(lake)).toEqual(before);

    const [partition, [name]] = Object.entries(files)[0];
    const file = join(lake, partition, name);
    const sortBy = TABLES.api_activity.sortBy;
    const inFileOrder = await withDuckDb((run) =>
      run(`SELECT ${sortBy.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ')} FROM read_parquet('${file}')`),
    );
    const key = (r: Record<string, unknown>) => sortBy.map((c) => r[c]);
    const sorted = [...inFileOrder].sort((a, b) => compareKeys(key(a), key(b)));
    expect(inFileOrder).toEqual(sorted);
    const codecs = await withDuckDb((run) => run(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`));
    expect(codecs.map((c) => c.compression)).toEqual(['ZSTD']);
  });

  test('the whole-lake run merged the manifest into one file with the same entries, and re-ingesting still adds nothing', async () => {
    expect(readdirSync(join(lake, '_manifest'))).toHaveLength(1);
    expect(manifestBefore.entries.size).toBe(4);
    expect(await loadManifest(lake)).toEqual(manifestBefore);
    const input = tempDir('compact-reingest');
    writeFileSync(
      join(input, 'delivery-0.json'),
      envelope(Array.from({ length: 30 }, (_, i) => cloudTrailRecord(i, i % 2 ? { awsRegion: 'eu-west-1' } : {}))),
    );
    expect(await ingest({ inputs: [input], lake, graph: false, workers: 1 })).toMatchObject({ already_ingested: 1, written: 0 });
  });

  test('a second compaction finds nothing to do and changes nothing', async () => {
    const files = filesPerPartition(lake);
    const again = await compactLake({ lake });
    expect(again).toMatchObject({ partitions_compacted: 0, files_before: 6, files_after: 6 });
    expect(filesPerPartition(lake)).toEqual(files);
  });

  test('bad arguments are clear errors', async () => {
    await expect(compactLake({ lake, day: '03/02/2024' })).rejects.toThrow(/YYYY-MM-DD/);
    await expect(compactLake({ lake, table: 'users' as never })).rejects.toThrow(/unknown table 'users'/);
    const cli = scoutql(['compact', '--lake', lake, '--min-files', '1'], {}, REAL_CLI);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toMatch(/at least 2/);
  });
});

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | null;
    const y = b[i] as string | null;
    if (x === y) continue;
    if (x === null) return 1; // DuckDB sorts NULLs last
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

describe('compaction is crash-safe', () => {
  // Before COMMIT the old files are all a reader sees; after it, roll-forward moves the new file
  // in before deleting the old ones: a reader may see both for that moment, never neither.
  test.each([
    ['mid-compact', 'old'],
    ['before-commit-mark', 'old'],
    ['after-commit-mark', 'old'],
    ['mid-publish', 'old and new'],
    ['after-remove', 'new'],
  ] as const)('SIGKILL at %s: a reader sees the %s files; the next run leaves every row exactly once', async (point, visible) => {
    const lake = tempDir(`compact-crash-${point}`);
    await streamedLake(lake, 2);
    const before = await rowMultiset(lake);
    const crashed = scoutql(['compact', '--lake', lake, '--json'], { SCOUTQL_TEST_CRASH: point });
    expect(crashed.signal).toBe('SIGKILL');
    const seen = await rowMultiset(lake);
    if (visible === 'old and new') {
      // Never neither: every row is still visible (the first partition's rows twice).
      expect(seen.length).toBeGreaterThan(before.length);
      expect(new Set(seen)).toEqual(new Set(before));
    } else {
      expect(seen).toEqual(before);
    }
    const rerun = scoutql(['compact', '--lake', lake, '--json']);
    expect(rerun.status).toBe(0);
    expect(await rowMultiset(lake)).toEqual(before);
    expect(Object.values(filesPerPartition(lake)).every((f) => f.length === 1)).toBe(true);
    expect(existsSync(join(lake, '_staging')) ? readdirSync(join(lake, '_staging')) : []).toEqual([]);
  });
});

describe('compaction of an S3 lake', () => {
  let s3env: S3Env;
  beforeAll(async () => {
    s3env = await startS3Env(['compact-lake']);
  });
  afterAll(async () => {
    await s3env.close();
  });

  test('partitions on S3 become one file each, with the same rows, and no staging is left', async () => {
    const lake = 's3://compact-lake/lake';
    await streamedLake(lake, 3);
    const before = await rowMultiset(await downloadLake(lake));
    const summary = await compactLake({ lake });
    expect(summary).toMatchObject({ partitions_seen: 6, partitions_compacted: 6, files_before: 18, files_after: 6 });
    const copy = await downloadLake(lake);
    expect(await rowMultiset(copy)).toEqual(before);
    expect(Object.values(filesPerPartition(copy)).every((f) => f.length === 1)).toBe(true);
    expect((await lakeStoreFor(lake).listFiles('')).filter((f) => f.startsWith('_staging/') || f === '_lock')).toEqual([]);
  });
});
