/**
 * Issue 13, "never doubled": writers racing for one lake, in several processes and several per
 * process (the lock is a file in the lake, so both kinds contend the same way). One writer holds
 * the lake at a time, each turn's token is new, and racing ingests leave the lake one clean run leaves.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { loadManifest } from '../../etl/lake/manifest';
import { lakeStoreFor } from '../../etl/lake/store';
import { lockTokenFile } from '../../src/core/lake-layout';
import { verifyLake } from '../../src/evidence/lake';
import type { IngestOutcome, LockTurn } from './fixtures/lake-contenders';
import { cloudTrailRecord, lakeContenders, lakeRows, tempDir } from './helpers';

const PROCESSES = 4;
const PER_PROCESS = 5; // 20 contenders in all

/** A lock left behind by a writer on this machine that was killed (its process is gone), its lease still running. */
async function staleLock(lake: string, token: number): Promise<void> {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  const expires = new Date(Date.now() + 3_600_000).toISOString();
  const record = { token, owner: 'killed', host: hostname(), pid: gone, acquired: new Date().toISOString(), expires };
  await lakeStoreFor(lake).writeText(lockTokenFile(token), JSON.stringify(record));
}

test('the lake lock: 20 writers in 4 processes take turns, one at a time, a new token each turn, no update lost', async () => {
  const lake = tempDir('race-lock');
  await staleLock(lake, 1);
  const turns = (
    await Promise.all(Array.from({ length: PROCESSES }, () => lakeContenders<LockTurn>(['lock', lake, String(PER_PROCESS)])))
  ).flat();
  expect(turns).toHaveLength(PROCESSES * PER_PROCESS);
  expect(new Set(turns.map((t) => t.pid)).size).toBe(PROCESSES);
  // Every read-modify-write of the counter happened alone: none lost.
  expect(readFileSync(join(lake, 'race-counter.txt'), 'utf8')).toBe(String(turns.length));
  // Turns never overlap, and tokens grow with time: 2…21 after the killed writer's 1.
  const byTime = [...turns].sort((a, b) => a.from - b.from);
  for (let i = 1; i < byTime.length; i++) expect(byTime[i].from).toBeGreaterThanOrEqual(byTime[i - 1].to);
  expect(byTime.map((t) => t.token)).toEqual(Array.from({ length: turns.length }, (_, i) => i + 2));
  // Only the latest token's file is kept, released.
  const locks = readdirSync(join(lake, '_locks'));
  expect(locks).toEqual([lockTokenFile(21).slice('_locks/'.length)]);
  expect(JSON.parse(readFileSync(join(lake, '_locks', locks[0]), 'utf8'))).toHaveProperty('released');
});

describe('20 ingests racing on one lake with overlapping inputs', () => {
  const input = tempDir('race-in');
  const lake = tempDir('race-lake');
  const files = Array.from({ length: 5 }, (_, f) => join(input, `part${f}.json`));
  const idsOf = (f: number) => Array.from({ length: 10 }, (_, i) => cloudTrailRecord(f * 100 + i).eventID as string);
  let outcomes: IngestOutcome[];

  beforeAll(async () => {
    files.forEach((file, f) =>
      writeFileSync(file, JSON.stringify({ Records: Array.from({ length: 10 }, (_, i) => cloudTrailRecord(f * 100 + i)) })),
    );
    await staleLock(lake, 1);
    // Contender n reads files n and n+1 (mod 5): every file is in four contenders' inputs.
    const inputsOf = (n: number) => [files[n % 5], files[(n + 1) % 5]];
    outcomes = (
      await Promise.all(
        Array.from({ length: PROCESSES }, (_, p) =>
          lakeContenders<IngestOutcome>([
            'ingest',
            lake,
            JSON.stringify(Array.from({ length: PER_PROCESS }, (_, i) => inputsOf(p * PER_PROCESS + i))),
          ]),
        ),
      )
    ).flat();
  });

  test('a contender either runs or is refused with the lock holder named; the lake holds what the runs read, each record once', async () => {
    expect(outcomes).toHaveLength(20);
    const ran = outcomes.filter((o): o is Extract<IngestOutcome, { written: number }> => !('error' in o));
    const refused = outcomes.filter((o): o is Extract<IngestOutcome, { error: string }> => 'error' in o);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.error).toMatch(
        /is being written by .* pid \d+ \(lock token \d+|another writer took the lock at the same moment|other writers kept taking the lock/,
      );
    }
    const read = new Set(ran.flatMap((r) => r.inputs));
    const expected = files.flatMap((file, f) => (read.has(file) ? idsOf(f) : [])).sort();
    const landed = (await lakeRows(lake)).map((r) => r.event_id as string).sort();
    expect(landed).toEqual(expected);
    expect(ran.reduce((sum, r) => sum + r.written, 0)).toBe(expected.length);
  });

  test('after one more run over everything the lake equals one clean run: manifest whole, commit chain unbroken', async () => {
    const last = await ingest({ inputs: [input], lake, workers: 1, geoip: false });
    expect(last.duplicates).toBe(0);
    const landed = (await lakeRows(lake)).map((r) => r.event_id as string).sort();
    expect(landed).toEqual(files.flatMap((_, f) => idsOf(f)).sort());

    const clean = tempDir('race-clean');
    await ingest({ inputs: [input], lake: clean, workers: 1, geoip: false });
    expect(await lakeRows(lake)).toEqual(await lakeRows(clean));

    const manifest = await loadManifest(lake);
    expect(manifest.problems).toEqual([]);
    expect([...manifest.entries.values()].map((e) => e.key).sort()).toEqual([...files].sort());
    const report = await verifyLake({ root: lake, gapMinutes: false });
    expect(report.chains.flatMap((c) => c.breaks)).toEqual([]);
    expect(report.outcome).toBe('verified');
  });
});
