/**
 * The graph step for any lake store, published as one commit: the days' graph files, the removal
 * of their graph-pending markers, and (in the commit manifest) the SHA-256 of every event file
 * each day's graph was built from, so `verify lake` can tell whether a day's graph still matches
 * the events in the lake.
 *
 * A local lake is read in place (etl/graph.ts) and the graph written into the transaction's
 * staging folder. An S3 lake cannot be read by DuckDB without its httpfs extension (not available
 * offline), so the touched days are rebuilt locally instead: every event file of those days is
 * downloaded into a scratch mirror of the lake (only those days: the graph of a day reads that
 * day's events only), and the graph is materialized from there.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { materializeGraph, type MaterializeGraphSummary } from '../graph';
import {
  GRAPH_PENDING_DIR,
  dayOfGraphPendingMarker,
  dayOfPartition,
  findingsTablePath,
  graphPendingMarker,
} from '../../src/core/lake-layout';
import { FINDING_PRODUCTS, TABLE_NAMES } from '../../src/core/tables';
import { hashFile } from './commit-manifest';
import { partFiles, partitionFolders } from './partitions';
import { Transaction } from './transaction';
import type { LakeStore } from './store';
import { LocalLakeStore } from './store';

export async function materializeGraphInStore(
  store: LakeStore,
  days: readonly string[],
  scratch: string,
  fence?: () => Promise<void>,
): Promise<MaterializeGraphSummary> {
  if (days.length === 0) return { days: [] };
  const mirror = join(scratch, 'graph-mirror');
  const txn = await Transaction.begin(store, scratch, fence);
  txn.notes.kind = 'graph';
  try {
    const inputs = await eventFilesOfDays(store, days);
    let lakeDir: string;
    if (store instanceof LocalLakeStore) lakeDir = store.root;
    else {
      await rm(mirror, { recursive: true, force: true });
      for (const path of inputs) await store.localCopy(path, mirror);
      lakeDir = mirror;
    }
    for (const day of days) txn.notes.graphInputs.set(day, []);
    for (const path of inputs) {
      const day = dayOfPartition(path)!;
      txn.notes.graphInputs.get(day)!.push({ path, sha256: await hashFile(join(lakeDir, ...path.split('/'))) });
    }
    const summary = await materializeGraph({ lake: lakeDir, days, out: txn.dir });
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
