/**
 * The graph step for any lake store. A local lake is materialized in place (etl/graph.ts). An S3
 * lake cannot be read by DuckDB without its httpfs extension (not available offline), so the
 * touched days are rebuilt locally instead: every event file of those days is downloaded into a
 * scratch mirror of the lake (only those days: the graph of a day reads that day's events only),
 * the graph is materialized there, and its day files are published to S3 in one transaction.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { materializeGraph, type MaterializeGraphSummary } from '../graph';
import { GRAPH_PENDING_DIR, dayOfGraphPendingMarker, graphDayFile, graphPendingMarker } from '../../src/core/lake-layout';
import { GRAPH_TABLES, TABLE_NAMES, type GraphTableName } from '../../src/core/tables';
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
  if (store instanceof LocalLakeStore) return materializeGraph({ lake: store.root, days });
  const mirror = join(scratch, 'graph-mirror');
  await rm(mirror, { recursive: true, force: true });
  try {
    for (const path of await eventFilesOfDays(store, days)) await store.localCopy(path, mirror);
    const summary = await materializeGraph({ lake: mirror, days });
    const txn = await Transaction.begin(store, scratch, fence);
    for (const day of days) {
      for (const graph of Object.keys(GRAPH_TABLES) as GraphTableName[]) {
        const path = graphDayFile(graph, day);
        const staged = txn.staged(path);
        await mkdir(dirname(staged), { recursive: true });
        await copyFile(join(mirror, ...path.split('/')), staged);
      }
    }
    await txn.commit();
    return summary;
  } finally {
    await rm(mirror, { recursive: true, force: true });
  }
}

/** Event Parquet files of the given days, found by walking the partition folders (no full-table listing). */
async function eventFilesOfDays(store: LakeStore, days: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const table of TABLE_NAMES) {
    for (const partition of await partitionFolders(store, table, days)) files.push(...(await partFiles(store, partition)));
  }
  return files;
}

/** Days whose graph a committed run still owes (its graph step did not finish). */
export async function pendingGraphDays(store: LakeStore): Promise<string[]> {
  return (await store.listFiles(GRAPH_PENDING_DIR)).map(dayOfGraphPendingMarker).filter((d): d is string => d !== null);
}

export async function clearPendingGraphDays(store: LakeStore, days: readonly string[]): Promise<void> {
  await store.remove(days.map(graphPendingMarker));
}
