/**
 * The key lookup index of the event tables: for each part file, the distinct keys a pivot filters
 * on (identity = actor_id, session = session_id, ip = src_ip or dst_ip) that the file holds, as a
 * small Parquet file `(kind, key)` beside it (LOOKUP_INDEX_DIR, src/core/lake-layout.ts).
 *
 * Files are sorted by their table's pivot keys (actor, session, time for API calls), so a session
 * or address filter skips almost no row group: without the index a keyed read scans every file of
 * its days. With it, the engine opens only the files whose index holds the key. The index is only
 * ever trusted for the file it names: a part file without one (an older lake, a restore) is read.
 *
 * The writer (etl/lake/row-spiller.ts, etl/compact.ts) and the reader (src/engine/duckdb.ts) share
 * the SQL here.
 */
import { sqlString } from './sql';
import { hasColumn, type TableName } from './tables';

/** What a keyed statement filters on, and the columns of a row that hold it. */
export const LOOKUP_KEYS = {
  identity: ['actor_id'],
  session: ['session_id'],
  ip: ['src_ip', 'dst_ip'],
} as const;

export type LookupKind = keyof typeof LOOKUP_KEYS;

export const LOOKUP_KINDS = Object.keys(LOOKUP_KEYS) as LookupKind[];

/**
 * The statement keeps, in every read of each of `tables`, only rows whose `kind` column(s) hold one
 * of `values` (so a file whose index lacks them all holds none of its rows).
 */
export interface KeyedRead {
  kind: LookupKind;
  values: readonly string[];
  tables: readonly TableName[];
}

/** The index of one part file: its distinct (kind, key), sorted, for `COPY (…) TO`. */
export function lookupIndexSelect(table: TableName, partFile: string): string {
  const legs: string[] = [];
  for (const kind of LOOKUP_KINDS)
    for (const column of LOOKUP_KEYS[kind])
      if (hasColumn(table, column)) legs.push(`SELECT '${kind}' AS kind, CAST("${column}" AS VARCHAR) AS key FROM f`);
  return `WITH f AS (SELECT * FROM read_parquet(${sqlString(partFile)}, hive_partitioning = false))
SELECT DISTINCT kind, key FROM (${legs.join(' UNION ALL ')}) WHERE key IS NOT NULL ORDER BY kind, key`;
}

/** `COPY` of a part file's index to `target` (ZSTD, one small file). */
export function lookupIndexCopy(table: TableName, partFile: string, target: string): string {
  return `COPY (${lookupIndexSelect(table, partFile)}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`;
}

/** One entry of a loaded index, as the engine keeps it in memory. */
export function lookupEntry(kind: string, key: string): string {
  return `${kind}\u0000${key}`;
}
