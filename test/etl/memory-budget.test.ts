/**
 * The ingest's memory budget (issue #14 item 2; etl/worker/memory-budget.ts): a bad value is refused
 * with a clear message before the lake is touched, by the API and the CLI; a budget so small that
 * every publish makes the workers wait writes exactly what the default writes (rows with `raw`,
 * manifest counts, quarantine, summary), over many commits with duplicates across them.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestProgress, type IngestSummary } from '../../etl/ingest';
import {
  DEFAULT_MEMORY_BUDGET_MB,
  MIN_MEMORY_BUDGET_MB,
  PublishGate,
  graphMemoryLimitMb,
  memoryBudgetBytes,
} from '../../etl/worker/memory-budget';
import { graphTables } from '../graph/batches';
import { materializeGraphInStore } from '../../etl/lake/store-graph';
import { lakeStoreFor } from '../../etl/lake/store';
import { bookkeepingLines, cloudTrailRecord, quarantineLines, scoutql, tempDirsRemovedAfterAll, withDuckDb } from './helpers';

const tempDir = tempDirsRemovedAfterAll();

const NOW = new Date('2024-03-10T00:00:00Z');
const MIB = 1024 * 1024;

describe('the memory budget setting', () => {
  it('accepts whole MiB from the minimum up, and says what is wrong with anything else', () => {
    expect(memoryBudgetBytes()).toBe(DEFAULT_MEMORY_BUDGET_MB * MIB);
    expect(DEFAULT_MEMORY_BUDGET_MB).toBe(768);
    expect(memoryBudgetBytes(MIN_MEMORY_BUDGET_MB)).toBe(MIN_MEMORY_BUDGET_MB * MIB);
    for (const bad of [0, -768, MIN_MEMORY_BUDGET_MB - 1, 512.5, Number.NaN, Number.POSITIVE_INFINITY, '768' as unknown as number]) {
      expect(() => memoryBudgetBytes(bad)).toThrow(/^memory budget: .* is not a whole number of MiB of at least 64 \(default 768\)$/);
    }
  });

  it('refuses a bad budget before the lake is touched', async () => {
    const input = tempDir('budget-input');
    writeFileSync(join(input, 'one.json'), JSON.stringify({ Records: [cloudTrailRecord(1)] }));
    const lake = join(tempDir('budget-lake'), 'lake');
    await expect(ingest({ inputs: [input], lake, memoryBudgetMb: 10, geoip: false })).rejects.toThrow(
      'memory budget: 10 is not a whole number of MiB of at least 64',
    );
    expect(existsSync(lake)).toBe(false);
  });

  it('is the CLI flag --memory-budget, whose bad values fail the command with the reason', () => {
    const input = tempDir('budget-cli-input');
    writeFileSync(join(input, 'one.json'), JSON.stringify({ Records: [cloudTrailRecord(1)] }));
    const lake = join(tempDir('budget-cli-lake'), 'lake');
    const bad = scoutql(['ingest', input, '--lake', lake, '--json', '--no-geoip', '--memory-budget', '768MB']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("argument '768MB' is invalid. memory budget: '768MB' is not a whole number of MiB of at least 64");
    expect(existsSync(lake)).toBe(false);
    const ok = scoutql(['ingest', input, '--lake', lake, '--json', '--no-geoip', '--memory-budget', '512']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1)!)).toMatchObject({ records: 1, written: 1 });
  });
});

describe('the publish gate', () => {
  it('lets parsing go on beside a publish while memory and the publish fit the budget, and waits when they do not', async () => {
    let rss = 100 * MIB;
    const gate = new PublishGate(512 * MIB, () => rss);
    await gate.beforeRead(); // nothing published yet: never waits
    let finish!: () => void;
    const publish = gate.track(new Promise<void>((resolve) => (finish = resolve)));
    await gate.beforeRead(); // 100 MiB + the first publish's assumed 256 MiB fit in 512
    expect(gate.waits).toBe(0);
    rss = 300 * MIB;
    let waited = false;
    const wait = gate.beforeRead().then(() => (waited = true));
    await new Promise((r) => setImmediate(r));
    expect(waited).toBe(false); // 300 + 256 > 512: held until the publish ends
    finish();
    await publish;
    await wait;
    expect(gate.waits).toBe(1);
    await gate.beforeRead(); // no publish in flight: never waits, whatever the memory
    expect(gate.waits).toBe(1);
  });

  it('learns what a publish adds and does not hold parsing on a failed publish', async () => {
    let rss = 100 * MIB;
    const gate = new PublishGate(700 * MIB, () => rss);
    // A publish seen to add 500 MiB (read at its end): the next one is expected to add as much.
    await gate.track(Promise.resolve().then(() => void (rss = 600 * MIB)));
    rss = 250 * MIB;
    const failing = gate.track(Promise.reject(new Error('publish failed')));
    failing.catch(() => undefined);
    await gate.beforeRead(); // 250 + 500 > 700: waits, and the failure is the caller's to see
    expect(gate.waits).toBe(1);
    await expect(failing).rejects.toThrow('publish failed');
  });
});

describe("the graph step's share of the budget", () => {
  it('gives DuckDB what the process does not hold yet, over its growth per MiB of limit, within 64–400 MB', () => {
    const budget = memoryBudgetBytes(768);
    expect(graphMemoryLimitMb(budget, 100 * MIB)).toBe(400); // (768 - 100) / 1.5 = 445: the former fixed 400 at most
    expect(graphMemoryLimitMb(budget, 318 * MIB)).toBe(300); // (768 - 318) / 1.5
    expect(graphMemoryLimitMb(budget, 600 * MIB)).toBe(112);
    expect(graphMemoryLimitMb(budget, 700 * MIB)).toBe(64); // the least DuckDB runs the step with (32 MB failed)
    expect(graphMemoryLimitMb(budget, 900 * MIB)).toBe(64); // past the budget already
    expect(graphMemoryLimitMb(memoryBudgetBytes(MIN_MEMORY_BUDGET_MB), 200 * MIB)).toBe(64);
  });
});

/**
 * CloudTrail objects of `perObject` records each; from the tenth on, every fifth holds the records of
 * the object seven before it, in reverse order (new bytes, same events: duplicates across commits).
 */
function writeObjects(root: string, objects: number, perObject: number): void {
  for (let o = 0; o < objects; o++) {
    const repeats = o >= 7 && o % 5 === 4;
    const records = Array.from({ length: perObject }, (_, r) => {
      const i = repeats ? (o - 7) * perObject + (perObject - 1 - r) : o * perObject + r;
      return cloudTrailRecord(i, {
        eventTime: `2024-03-0${1 + (i % 3)}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07Z`,
      });
    });
    const file = join(root, 'AWSLogs', '123456789012', 'CloudTrail', 'us-east-2', `object-${String(o).padStart(3, '0')}.json.gz`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, gzipSync(JSON.stringify({ Records: records })));
  }
  // One object quarantined whole, to check its rows never reach the lake either way.
  writeFileSync(join(root, 'not-a-log.json'), '{"Records": [');
}

/** Every row with every column (raw too), and the partition folder of its file. */
async function everyRow(lake: string): Promise<Record<string, unknown>[]> {
  const rows = await withDuckDb((run) =>
    run(`SELECT * FROM read_parquet('${lake}/api_activity/**/*.parquet', hive_partitioning = true, filename = true)
         ORDER BY event_id, time`),
  );
  return rows.map(({ filename, ...row }) => ({
    ...row,
    folder: String(filename)
      .slice(lake.length)
      .replace(/part-[^/]+$/, ''),
  }));
}

function manifestCounts(lake: string) {
  return bookkeepingLines<Record<string, unknown>>(lake, '_manifest')
    .map(({ txn: _txn, ingestedAt: _at, ...entry }) => entry)
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

/** The graph state's parts, day by day, row by row (in no set order as written: sorted here). */
async function graphState(lake: string): Promise<Record<string, unknown[]>> {
  const root = join(lake, '_graph_state');
  const parts: Record<string, unknown[]> = {};
  for (const file of readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .sort())
    parts[file] = await withDuckDb((run) => run(`SELECT * FROM read_parquet('${join(root, file)}') ORDER BY ALL`));
  return parts;
}

function comparable(summary: IngestSummary) {
  const { seconds: _s, bytes_out: _b, ...rest } = summary;
  return rest;
}

describe('an ingest within a tiny budget', () => {
  it('writes the same rows, manifest, quarantine and summary as the default, waiting for each publish', async () => {
    const input = tempDir('budget-objects');
    writeObjects(input, 40, 30);
    const run = async (memoryBudgetMb?: number) => {
      const lake = join(tempDir('budget-run'), 'lake');
      let last: IngestProgress | null = null;
      const summary = await ingest({
        inputs: [input],
        lake,
        now: NOW,
        geoip: false,
        workers: 2,
        batchRows: 150, // a commit every five objects: eight publishes, each with objects left to read
        onProgress: (p) => (last = { ...p }),
        ...(memoryBudgetMb ? { memoryBudgetMb } : {}),
      });
      return { lake, summary, waits: (last as IngestProgress | null)?.publishWaits ?? -1 };
    };
    const roomy = await run(64 * 1024);
    const tiny = await run(MIN_MEMORY_BUDGET_MB);
    expect(roomy.waits).toBe(0);
    expect(tiny.waits).toBeGreaterThan(0); // no process fits 64 MiB: every publish made the workers wait

    const rows = await everyRow(tiny.lake);
    expect(rows.length).toBe(tiny.summary.written);
    expect(rows).toEqual(await everyRow(roomy.lake));
    expect(manifestCounts(tiny.lake)).toEqual(manifestCounts(roomy.lake));
    expect(quarantineLines(tiny.lake)).toEqual(quarantineLines(roomy.lake));
    expect(comparable(tiny.summary)).toEqual(comparable(roomy.summary));
    // The graph step ran with DuckDB at its least (64 MB: no process fits a 64 MiB budget) and wrote the same graph.
    const graph = await graphTables(tiny.lake);
    expect(graph.entities.length).toBeGreaterThan(10);
    expect(graph).toEqual(await graphTables(roomy.lake));
    const state = await graphState(tiny.lake);
    expect(Object.keys(state).length).toBeGreaterThanOrEqual(15); // five parts for each of the three days
    expect(state).toEqual(await graphState(roomy.lake));
    // Rebuilt in passes of one file each (every commit's file of a day merged into the state the previous pass staged):
    // the same graph and state again.
    const scratch = tempDir('budget-graph-passes');
    const step = await materializeGraphInStore(lakeStoreFor(tiny.lake), tiny.summary.days, scratch, undefined, {
      rebuild: true,
      passBytes: 1,
      memoryBudgetMb: MIN_MEMORY_BUDGET_MB,
    });
    expect(Math.min(...Object.values(step.filesRead))).toBeGreaterThanOrEqual(4); // eight commits: several passes every day
    expect(await graphTables(tiny.lake)).toEqual(graph);
    expect(await graphState(tiny.lake)).toEqual(state);
    // Counts reconcile: 40 objects of 30 records, 7 of them repeats of earlier objects.
    expect(tiny.summary).toMatchObject({ written: 990, duplicates: 210 });
    expect(tiny.summary.records).toBe(tiny.summary.written + tiny.summary.quarantined + tiny.summary.filtered + tiny.summary.duplicates);
  }, 120_000);
});
