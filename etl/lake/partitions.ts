/**
 * The event tables' partition folders as a lake store lists them
 * (`<table>/source=…/account=…/region=…/day=…`, see src/core/lake-layout.ts), walked one level at a
 * time so a store is never asked to list a whole table.
 */
import { dayFolder, dayOfPartition, isPartFileName, tablePath } from '../../src/core/lake-layout';
import type { TableName } from '../../src/core/tables';
import type { LakeStore } from './store';

/** Partition folders of a table, optionally only those of some days (YYYY-MM-DD). */
export async function partitionFolders(store: LakeStore, table: TableName, days?: readonly string[]): Promise<string[]> {
  const wanted = days ? new Set(days.map(dayFolder)) : null;
  const out: string[] = [];
  const root = tablePath(table);
  for (const source of await store.listDirs(root)) {
    for (const account of await store.listDirs(`${root}/${source}`)) {
      for (const region of await store.listDirs(`${root}/${source}/${account}`)) {
        const regionDir = `${root}/${source}/${account}/${region}`;
        for (const day of await store.listDirs(regionDir)) {
          if (dayOfPartition(day) === null || (wanted && !wanted.has(day))) continue;
          out.push(`${regionDir}/${day}`);
        }
      }
    }
  }
  return out;
}

/** The published data files directly in a partition folder (what readers glob). */
export async function partFiles(store: LakeStore, partition: string): Promise<string[]> {
  return (await store.listFiles(partition)).filter((path) => {
    const name = path.slice(partition.length + 1);
    return !name.includes('/') && isPartFileName(name);
  });
}
