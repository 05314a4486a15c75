/**
 * How many bytes of Parquet an event table holds per day: what a statement reading those days can
 * scan at most (Athena bills by bytes scanned, and reads no more than the files of the partitions a
 * query names). Walks the partition folders of the days asked for only, never a whole table.
 */
import { stat } from 'node:fs/promises';
import type { TableName } from '../../src/core/tables';
import { dayOfPartition, isPartFileName } from '../../src/core/lake-layout';
import { listS3, parseS3Url } from '../s3';
import { partFiles, partitionFolders } from './partitions';
import { LocalLakeStore, type LakeStore } from './store';

/** Bytes of the table's part files per day (YYYY-MM-DD), for the given days; days without files are left out. */
export async function tableBytesByDay(store: LakeStore, table: TableName, days: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const partition of await partitionFolders(store, table, days)) {
    const day = dayOfPartition(partition);
    if (day === null) continue;
    let bytes = 0;
    if (store instanceof LocalLakeStore) {
      for (const file of await partFiles(store, partition)) bytes += (await stat(store.url(file))).size;
    } else {
      // One listing gives names and sizes: the part files directly in the folder count.
      const folder = parseS3Url(store.url(partition)).key;
      for await (const object of listS3(store.url(partition))) {
        const name = object.key.slice(folder.length + 1);
        if (!name.includes('/') && isPartFileName(name)) bytes += object.size;
      }
    }
    out.set(day, (out.get(day) ?? 0) + bytes);
  }
  return out;
}
