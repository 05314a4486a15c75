/**
 * `verify lake` over a lake ingest wrote: the commit chain vouches for every file, and tampering
 * (a flipped byte, a deleted partition file, a file no commit published, a deleted or edited commit
 * manifest) is named exactly. Re-ingesting restores rows the lake lost. The API refuses a tampered
 * lake with LAKE_TAMPERED, or answers with a warning when allowed to.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest } from '../../etl/ingest';
import { lakeIntegrityPlugin } from '../../src/api/lake-integrity';
import { ScoutApi } from '../../src/api/server';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { verifyLake } from '../../src/evidence/lake';
import { LakeGuard, NO_CHAIN } from '../../src/evidence/lake-guard';
import type { VerifyReport } from '../../src/evidence/report';
import { cloudTrailRecord, lakeRows } from '../etl/helpers';
import { removeTempDirs, tempDir } from './helpers';

const ACCOUNT = '123456789012';
let input: string;
let pristine: string;
let eventFiles: string[];
let rowCount: number;

/** The event Parquet files of a lake, relative to it, sorted. */
function partFiles(lake: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), path);
      else if (path.startsWith('api_activity/') && entry.name.endsWith('.parquet')) found.push(path);
    }
  };
  walk(lake, '');
  return found.sort();
}

function copyLake(): string {
  const lake = join(tempDir('lake-copy'), 'lake');
  cpSync(pristine, lake, { recursive: true });
  return lake;
}

function statusesOf(report: VerifyReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [...report.chains.flatMap((c) => c.files), ...report.outside]) if (f.status !== 'valid') out[f.path] = f.status;
  return out;
}

beforeAll(async () => {
  input = tempDir('lake-input');
  // Three delivered CloudTrail objects, as they sit in a trail's bucket; 90 records over three days.
  const folder = join(input, 'AWSLogs', ACCOUNT, 'CloudTrail', 'us-east-2', '2024', '03', '01');
  mkdirSync(folder, { recursive: true });
  for (let f = 0; f < 3; f++) {
    const records = Array.from({ length: 30 }, (_, i) => cloudTrailRecord(f * 30 + i));
    writeFileSync(
      join(folder, `${ACCOUNT}_CloudTrail_us-east-2_20240301T20${f}5Z_object${f}.json.gz`),
      gzipSync(JSON.stringify({ Records: records })),
    );
  }
  pristine = join(tempDir('lake'), 'lake');
  const summary = await ingest({ inputs: [input], lake: pristine });
  expect(summary.written).toBe(90);
  eventFiles = partFiles(pristine);
  expect(eventFiles).toHaveLength(3); // one per day
  rowCount = (await lakeRows(pristine)).length;
  expect(rowCount).toBe(90);
});

afterAll(() => removeTempDirs());

test('an untouched lake is verified: every file re-hashed against its commit, each day’s graph built from its files', async () => {
  const report = await verifyLake({ root: pristine });
  expect(report.outcome).toBe('verified');
  expect(statusesOf(report)).toEqual({});
  const files = report.chains[0].files.map((f) => f.path);
  for (const path of eventFiles) expect(files).toContain(path);
  expect(report.chains[0].breaks).toEqual([]);
  expect(report.graphs?.map((g) => [g.day, g.status])).toEqual([
    ['2024-03-01', 'consistent'],
    ['2024-03-02', 'consistent'],
    ['2024-03-03', 'consistent'],
  ]);
  expect(report.rehashed).toBe(true);
  expect(report.bytesHashed).toBeGreaterThan(0);
});

test('coverage: the hours a stream fell silent inside its covered range are named per source, account and region', async () => {
  // The records are three days' 20:00–20:59 UTC: each night is a silence of 23 h 04 min.
  const report = await verifyLake({ root: pristine, gapMinutes: 60 });
  const stream = { source: 'cloudtrail', account: ACCOUNT, region: 'us-east-2' };
  expect(report.coverage?.streams.map((s) => [s.source, s.account, s.region, s.first, s.last, s.count])).toEqual([
    ['cloudtrail', ACCOUNT, 'us-east-2', '2024-03-01T20:00:07Z', '2024-03-03T20:59:07Z', 90],
  ]);
  expect(report.coverage?.gaps).toEqual([
    { ...stream, from: '2024-03-01T20:57:07Z', to: '2024-03-02T20:01:07Z', minutes: 1384 },
    { ...stream, from: '2024-03-02T20:58:07Z', to: '2024-03-03T20:02:07Z', minutes: 1384 },
  ]);
  // A silence shorter than the threshold is ordinary quiet.
  expect((await verifyLake({ root: pristine, gapMinutes: 24 * 60 })).coverage?.gaps).toEqual([]);
});

test('a flipped byte, a deleted partition file and a file no commit published are each named; the graphs built from them are stale', async () => {
  const lake = copyLake();
  const [flipped, deleted] = eventFiles;
  const bytes = readFileSync(join(lake, flipped));
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(join(lake, flipped), bytes);
  unlinkSync(join(lake, deleted));
  const planted = eventFiles[2].replace(/part-[^/]+$/, 'part-20240301T000000-deadbeef.parquet');
  cpSync(join(lake, eventFiles[2]), join(lake, planted));

  const report = await verifyLake({ root: lake });
  expect(report.outcome).toBe('failed');
  expect(statusesOf(report)).toEqual({ [flipped]: 'modified', [deleted]: 'missing', [planted]: 'unlisted' });
  const modified = report.chains[0].files.find((f) => f.path === flipped)!;
  expect(modified.actualSha256).not.toBe(modified.expectedSha256);
  expect(report.outside[0].detail).toBe('unknown: no commit published it');
  expect(report.graphs?.map((g) => g.status)).toEqual(['stale', 'stale', 'stale']);
  // A damaged file never stops the rest: coverage is computed from the files proven intact.
  expect(report.notes).toContain('coverage leaves out 2 event files not proven intact');
  expect(report.coverage?.streams[0].count).toBe(30);

  // The quick check (what the API runs) compares sizes: it sees the deletion and the planted file without re-hashing.
  const quick = await verifyLake({ root: lake, rehash: false, gapMinutes: false });
  expect(quick.outcome).toBe('failed');
  expect(quick.bytesHashed).toBe(0);
  expect(statusesOf(quick)[deleted]).toBe('missing');
  expect(statusesOf(quick)[planted]).toBe('unlisted');
});

test('a deleted commit manifest is a gap in the chain; an edited one is named by its successor', async () => {
  const lake = copyLake();
  const manifests = readdirSync(join(lake, '_commits'))
    .filter((n) => n.endsWith('.json'))
    .sort();
  expect(manifests.length).toBeGreaterThanOrEqual(2); // the ingest's commit and the graph step's
  const first = `_commits/${manifests[0]}`;
  const edited = readFileSync(join(lake, first), 'utf8').replace('"seq":1', '"seq":1 ');
  writeFileSync(join(lake, first), edited);
  let report = await verifyLake({ root: lake, gapMinutes: false });
  expect(report.outcome).toBe('failed');
  const link = report.chains[0].links.find((l) => l.path === first)!;
  expect(link.status).toBe('modified');
  expect(link.problems[0].detail).toContain(`_commits/${manifests[1]} recorded`);

  unlinkSync(join(lake, first));
  report = await verifyLake({ root: lake, gapMinutes: false });
  expect(report.outcome).toBe('failed');
  expect(report.chains[0].breaks.map((b) => [b.kind, b.missing])).toEqual([['gap', [first]]]);
  // What the deleted commit published is no longer vouched for.
  for (const path of eventFiles) expect(statusesOf(report)[path]).toBe('unlisted');
});

test('re-ingesting the same objects restores the rows of a deleted partition file, and the lake verifies again', async () => {
  const lake = copyLake();
  unlinkSync(join(lake, eventFiles[1]));
  expect((await lakeRows(lake)).length).toBeLessThan(rowCount);

  await ingest({ inputs: [input], lake });
  expect((await lakeRows(lake)).length).toBe(rowCount);
  const report = await verifyLake({ root: lake, gapMinutes: false });
  expect(statusesOf(report)).toEqual({});
  expect(report.outcome).toBe('verified');
  expect(report.graphs?.every((g) => g.status === 'consistent')).toBe(true);
});

describe('the API over a tampered lake', () => {
  const QUERY = `{ events(window: { from: "2024-03-01T00:00:00Z", to: "2024-03-04T00:00:00Z" }, first: 1) { totalCount } }`;

  async function withApi<T>(lake: string, allowUnverified: boolean, fn: (api: ScoutApi) => Promise<T>): Promise<T> {
    const engine = await DuckDbEngine.open({ lake });
    const api = new ScoutApi({ engine, plugins: [lakeIntegrityPlugin(new LakeGuard(lake), { allowUnverified })] });
    try {
      return await fn(api);
    } finally {
      await api.stop();
      await engine.close();
    }
  }

  test('answers from a verified lake; refuses with LAKE_TAMPERED (503) once a file is deleted; warns in extensions when allowed', async () => {
    const lake = copyLake();
    await withApi(lake, false, async (api) => {
      const ok = await api.execute(QUERY);
      expect(ok.errors).toBeUndefined();
      expect(ok.data).toEqual({ events: { totalCount: rowCount } });
      expect(ok.extensions?.lakeIntegrity).toBeUndefined();
    });

    rmSync(join(lake, eventFiles[0]));
    await withApi(lake, false, async (api) => {
      const refused = await api.execute(QUERY);
      expect(refused.data).toBeUndefined();
      expect(refused.errors?.[0].extensions?.code).toBe('LAKE_TAMPERED');
      expect(refused.errors?.[0].message).toContain(eventFiles[0]);
      expect(refused.http?.status).toBe(503);
    });
    await withApi(lake, true, async (api) => {
      const warned = await api.execute(QUERY);
      expect(warned.errors).toBeUndefined();
      expect((warned.data as { events: { totalCount: number } }).events.totalCount).toBeLessThan(rowCount);
      const integrity = warned.extensions?.lakeIntegrity as { state: string; findings: string[] };
      expect(integrity.state).toBe('tampered');
      expect(integrity.findings.join('\n')).toContain(eventFiles[0]);
    });
  });

  test('a lake with no commit chain at all (written before ScoutQL kept one) is served, every answer warned', async () => {
    const lake = copyLake();
    rmSync(join(lake, '_commits'), { recursive: true });
    await withApi(lake, false, async (api) => {
      const answer = await api.execute(QUERY);
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ events: { totalCount: rowCount } });
      expect(answer.extensions?.lakeIntegrity).toMatchObject({ state: 'unverified', findings: [NO_CHAIN] });
    });
  });
});
