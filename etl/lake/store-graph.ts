/**
 * The graph step for any lake store, published as one commit: the days' graph files, their graph
 * state, the removal of their graph-pending markers, and (in the commit manifest) the SHA-256 of
 * every event file each day's graph was built from, so `verify lake` can tell whether a day's graph
 * still matches the events in the lake.
 *
 * Incremental (issue #14): a day's graph state (`_graph_state/day=D/`, see etl/graph.ts) records
 * the event files merged into it. The step lists the day's event and findings files (a listing, no
 * download), reads only those the state does not hold yet, and merges their entities and edges
 * into the state: the cost of an object is its own files plus the day's state, however many
 * objects the day already has. A day is rebuilt from all its files instead when it has no state
 * yet, when a file its state holds has left the lake (a restore or compaction rewrote it, or it was
 * deleted), or when asked (`scoutql graph rebuild`). A local lake is read in place; an S3 lake's
 * files are downloaded into a scratch mirror (DuckDB has no httpfs offline), only those the step reads.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GRAPH_STATE_PARTS, materializeGraph, type GraphBatch, type MaterializeGraphSummary } from '../graph';
import {
  GRAPH_PENDING_DIR,
  GRAPH_STATE_DIR,
  dayOfGraphPendingMarker,
  dayOfPartition,
  findingsTablePath,
  graphPendingMarker,
  graphStateFile,
  graphStateInputs,
  tablePath,
} from '../../src/core/lake-layout';
import type { GraphInput } from '../../src/core/lake-commits';
import { FINDING_PRODUCTS, TABLE_NAMES, type TableName } from '../../src/core/tables';
import { hashFile } from './commit-manifest';
import { partFiles, partitionFolders } from './partitions';
import { acquireLakeLock } from './lock';
import { Transaction, recoverLake } from './transaction';
import { lakeStoreFor, type LakeStore } from './store';
import { graphMemoryLimitMb, memoryBudgetBytes } from '../worker/memory-budget';

export interface GraphStepOptions {
  /** Rebuild every day from all its files, whatever its state holds (repair). */
  rebuild?: boolean;
  /**
   * MiB of resident memory the step stays within (default: the ingest's default budget): each day's
   * DuckDB gets what the process does not already hold (etl/worker/memory-budget.ts, graphMemoryLimitMb).
   */
  memoryBudgetMb?: number;
  /** Parquet bytes of a day's files read in one pass (default GRAPH_PASS_BYTES). */
  passBytes?: number;
}

/**
 * A day's files are merged into its state in passes of about this many Parquet bytes: one pass
 * of a 4M-event run's day (≈ 570k events, 53 MB) held DuckDB at its 400 MB limit; a pass of 8 MB
 * is ≈ 85k events.
 */
export const GRAPH_PASS_BYTES = 8 * 1024 * 1024;

export interface GraphStepSummary extends MaterializeGraphSummary {
  /** Event and findings files the step read (downloaded, on S3), per day. */
  filesRead: Record<string, number>;
}

export async function materializeGraphInStore(
  store: LakeStore,
  days: readonly string[],
  scratch: string,
  fence?: () => Promise<void>,
  options: GraphStepOptions = {},
): Promise<GraphStepSummary> {
  const summary: GraphStepSummary = { days: [], filesRead: {} };
  if (days.length === 0) return summary;
  const budget = memoryBudgetBytes(options.memoryBudgetMb);
  const mirror = join(scratch, 'graph-mirror');
  const txn = await Transaction.begin(store, scratch, fence);
  txn.notes.kind = 'graph';
  try {
    for (const day of [...new Set(days)].sort()) {
      await rm(mirror, { recursive: true, force: true });
      const files = await eventFilesOfDays(store, [day]);
      const held = options.rebuild ? null : await stateOf(store, day, files);
      const toRead = held ? files.filter((path) => !held.paths.has(path)) : files;
      summary.filesRead[day] = toRead.length;
      // Nothing new since the state was written (a commit whose rows were all duplicates): the graph stands.
      if (held && toRead.length === 0) continue;
      const inputs: GraphInput[] = held ? [...held.inputs] : [];
      // The day's files in passes of about GRAPH_PASS_BYTES each, merged one after the other into the
      // day's state (partial aggregates merge exactly): the step holds one pass's events, not the day's.
      const passes: Array<{ batch: { tables: Partial<Record<TableName, string[]>>; findings: string[] }; bytes: number }> = [];
      for (const path of toRead) {
        const local = await store.localCopy(path, mirror);
        inputs.push({ path, sha256: await hashFile(local) });
        const bytes = (await stat(local)).size;
        let pass = passes.at(-1);
        if (!pass || (pass.bytes > 0 && pass.bytes + bytes > (options.passBytes ?? GRAPH_PASS_BYTES)))
          passes.push((pass = { batch: { tables: {}, findings: [] }, bytes: 0 }));
        pass.bytes += bytes;
        const table = tableOf(path);
        if (table === 'findings') pass.batch.findings.push(local);
        else (pass.batch.tables[table] ??= []).push(local);
      }
      let priorState: string | null = null;
      if (held) {
        // Local copies of the state's parts, side by side (a local lake's own folder; on S3, downloads).
        for (const part of GRAPH_STATE_PARTS) priorState = dirname(await store.localCopy(graphStateFile(day, part), mirror));
      }
      let done: MaterializeGraphSummary = { days: [] };
      for (const [i, { batch }] of passes.entries()) {
        // Every file is named in `batch`: the lake root only matters for tables the batch has no file of (none read).
        done = await materializeGraph({
          lake: mirror,
          days: [day],
          out: txn.dir,
          merge: new Map([[day, { batch: batch satisfies GraphBatch, priorState }]]),
          memoryLimitMb: graphMemoryLimitMb(budget, process.memoryUsage.rss()),
          stateOnly: i < passes.length - 1,
        });
        // The next pass merges into the state this one staged.
        priorState = dirname(join(txn.dir, ...graphStateFile(day, GRAPH_STATE_PARTS[0]).split('/')));
      }
      summary.days.push(...done.days.map((d) => ({ ...d, mode: held ? ('merge' as const) : ('rebuild' as const) })));
      inputs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      txn.notes.graphInputs.set(day, inputs);
      const inputsFile = txn.staged(graphStateInputs(day));
      await mkdir(dirname(inputsFile), { recursive: true });
      await writeFile(inputsFile, `${JSON.stringify(inputs)}\n`);
    }
    // The days' graphs are owed no more: the markers go in the same commit as the graphs.
    const owed = new Set(await pendingGraphDays(store));
    txn.remove(days.filter((day) => owed.has(day)).map(graphPendingMarker));
    await txn.commit();
    return summary;
  } catch (err) {
    await txn.abort();
    throw err;
  } finally {
    await rm(mirror, { recursive: true, force: true });
  }
}

/**
 * What a day's stored graph state holds, when it can be merged into: its inputs.json and every
 * state part present, and every file it holds still in the lake. Else null (the day is rebuilt).
 */
async function stateOf(
  store: LakeStore,
  day: string,
  files: readonly string[],
): Promise<{ inputs: GraphInput[]; paths: Set<string> } | null> {
  const text = await store.readText(graphStateInputs(day));
  if (text === null) return null;
  let inputs: GraphInput[];
  try {
    inputs = JSON.parse(text) as GraphInput[];
    if (!Array.isArray(inputs) || !inputs.every((i) => typeof i?.path === 'string' && typeof i?.sha256 === 'string')) return null;
  } catch {
    return null;
  }
  const present = new Set(files);
  if (!inputs.every((i) => present.has(i.path))) return null;
  const stateFiles = new Set(await store.listFiles(`${GRAPH_STATE_DIR}/day=${day}`));
  if (!GRAPH_STATE_PARTS.every((part) => stateFiles.has(graphStateFile(day, part)))) return null;
  return { inputs, paths: new Set(inputs.map((i) => i.path)) };
}

/** The table a lake file belongs to: an event table, or the findings. */
function tableOf(path: string): TableName | 'findings' {
  if (path.startsWith(`${findingsTablePath()}/`)) return 'findings';
  const table = TABLE_NAMES.find((t) => path.startsWith(`${tablePath(t)}/`));
  if (!table) throw new Error(`graph step: ${path} is neither an event table's nor the findings' file`);
  return table;
}

/**
 * Parquet files of the given days the graph reads, found by walking the partition folders (no
 * full-table listing): every event table's, and the findings of other products (GuardDuty, Security
 * Hub; ScoutQL's own findings name only what the events hold).
 */
async function eventFilesOfDays(store: LakeStore, days: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const table of TABLE_NAMES) {
    for (const partition of await partitionFolders(store, table, days)) files.push(...(await partFiles(store, partition)));
  }
  const wanted = new Set(days.map((day) => `day=${day}`));
  for (const product of FINDING_PRODUCTS.filter((p) => p !== 'scoutql')) {
    const productDir = `${findingsTablePath()}/product=${product}`;
    for (const account of await store.listDirs(productDir)) {
      for (const day of await store.listDirs(`${productDir}/${account}`))
        if (wanted.has(day)) files.push(...(await partFiles(store, `${productDir}/${account}/${day}`)));
    }
  }
  return files;
}

/** Days whose graph a committed run still owes (its graph step did not finish). */
export async function pendingGraphDays(store: LakeStore): Promise<string[]> {
  return (await store.listFiles(GRAPH_PENDING_DIR)).map(dayOfGraphPendingMarker).filter((d): d is string => d !== null);
}

/** Every day the lake holds event or findings files of: what a full graph rebuild covers. */
export async function lakeDays(store: LakeStore): Promise<string[]> {
  const days = new Set<string>();
  for (const table of TABLE_NAMES) for (const partition of await partitionFolders(store, table)) days.add(dayOfPartition(partition)!);
  for (const product of FINDING_PRODUCTS.filter((p) => p !== 'scoutql')) {
    const productDir = `${findingsTablePath()}/product=${product}`;
    for (const account of await store.listDirs(productDir))
      for (const day of await store.listDirs(`${productDir}/${account}`)) {
        const d = dayOfPartition(day);
        if (d) days.add(d);
      }
  }
  return [...days].sort();
}

export interface RebuildGraphOptions {
  lake: string;
  /** Days to rebuild (YYYY-MM-DD); default: every day the lake holds events or findings of. */
  days?: readonly string[];
  /** How long to wait for another writer's lake lock (default 0). */
  lockWaitMs?: number;
  /** MiB of resident memory the rebuild stays within (GraphStepOptions.memoryBudgetMb; default the ingest's). */
  memoryBudgetMb?: number;
}

/**
 * Repair: rebuilds the graph and graph state of days from every event and findings file they hold
 * (`scoutql graph rebuild`), under the lake lock, in one commit. The incremental step does this by
 * itself when a day's state no longer matches its files; this is for when the state is in doubt.
 */
export async function rebuildGraph(options: RebuildGraphOptions): Promise<GraphStepSummary> {
  const store = lakeStoreFor(options.lake);
  const lock = await acquireLakeLock(store, { waitMs: options.lockWaitMs });
  const scratch = await mkdtemp(join(tmpdir(), 'scoutql-graph-rebuild-'));
  try {
    await recoverLake(store);
    const days = options.days ? [...options.days] : await lakeDays(store);
    return await materializeGraphInStore(store, days, scratch, () => lock.check(), {
      rebuild: true,
      memoryBudgetMb: options.memoryBudgetMb,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await lock.release();
  }
}
