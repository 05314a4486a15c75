/**
 * Bytes scanned as Athena reports them (`Statistics.DataScannedInBytes`): the compressed size of
 * the Parquet column chunks a query actually read. Athena reads only the columns a query names
 * and skips files its partition filters exclude and row groups whose min/max statistics rule
 * them out, so DataScannedInBytes for a narrow SELECT on one day is a small part of the table.
 *
 * How: DuckDB logs every file read when the `FileSystem` log type is on (path, offset, length,
 * per connection). After a query, its connection's reads are matched against the column chunks'
 * byte ranges from `parquet_metadata`; each chunk a read starts in counts once, with its whole
 * `total_compressed_size` (Athena reads a needed chunk whole). A read is attributed by where it
 * starts because DuckDB reads page headers with a fixed look-ahead that may run a few hundred
 * bytes into the next column's chunk without reading that column. Reads that start in no chunk
 * (footer, page index, bloom filters) count nothing. Approximation, on purpose: real Athena (Trino) may
 * read footers and skip slightly different row groups or pages than DuckDB; the 10 MB minimum per
 * query is a billing rule, not part of the statistic, so it is not applied here.
 */
import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';

/** Settings for the server's database: log file reads, and never serve a query from another's cached bytes. */
export const SCAN_LOGGING_SETUP = [`SET enable_external_file_cache = false`, `CALL enable_logging('FileSystem')`];

interface Chunk {
  start: number;
  end: number;
  bytes: number;
}

interface FileChunks {
  /** Size and modification time the chunk list was read at: a rewritten file is read again. */
  version: string;
  /** Column chunks sorted by start offset. */
  chunks: Chunk[];
}

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;
const fileVersion = (path: string): string => {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : 'missing';
};

/** Column-chunk byte ranges per Parquet file, read once per file version. */
export class ColumnChunkIndex {
  private readonly files = new Map<string, FileChunks>();

  /** Compressed bytes of the column chunks the connection's logged reads touched. */
  async scannedBytes(connection: DuckDBConnection): Promise<number> {
    const reads = await connection.runAndReadAll(
      `SELECT path, pos, max(bytes) AS bytes FROM duckdb_logs_parsed('FileSystem')
       WHERE connection_id = current_connection_id() AND op = 'READ' AND bytes > 0 GROUP BY path, pos`,
    );
    const byPath = new Map<string, { pos: number; end: number }[]>();
    for (const [path, pos, bytes] of reads.getRowsJS() as [string, bigint, bigint][]) {
      const list = byPath.get(path) ?? [];
      list.push({ pos: Number(pos), end: Number(pos) + Number(bytes) });
      byPath.set(path, list);
    }
    await this.load(connection, [...byPath.keys()]);
    let total = 0;
    for (const [path, ranges] of byPath) {
      const chunks = this.files.get(path)?.chunks ?? [];
      const touched = new Set<Chunk>();
      for (const range of ranges) {
        const chunk = chunkHolding(chunks, range.pos);
        if (chunk) touched.add(chunk);
      }
      for (const chunk of touched) total += chunk.bytes;
    }
    return total;
  }

  private async load(connection: DuckDBConnection, paths: string[]): Promise<void> {
    const stale = paths
      .map((path) => ({ path, version: fileVersion(path) }))
      .filter((f) => f.version !== 'missing' && this.files.get(f.path)?.version !== f.version);
    if (stale.length === 0) return;
    let rows: ChunkRow[];
    try {
      rows = await chunkRows(
        connection,
        stale.map((f) => f.path),
      );
    } catch {
      // One of them is not Parquet (no column chunks to bill): read the others one by one.
      rows = [];
      for (const { path } of stale) rows.push(...(await chunkRows(connection, [path]).catch(() => [])));
    }
    const fresh = new Map<string, Chunk[]>(stale.map((f) => [f.path, []]));
    for (const [file, start, size] of rows) {
      const bytes = Number(size);
      fresh.get(file)?.push({ start: Number(start), end: Number(start) + bytes, bytes });
    }
    for (const { path, version } of stale) {
      const chunks = fresh.get(path)!.sort((a, b) => a.start - b.start);
      this.files.set(path, { version, chunks });
    }
  }
}

type ChunkRow = [file: string, start: bigint, compressedBytes: bigint];

/** Every column chunk of the files: where it starts (its dictionary page, if any) and its compressed size. */
async function chunkRows(connection: DuckDBConnection, paths: readonly string[]): Promise<ChunkRow[]> {
  const result = await connection.runAndReadAll(
    `SELECT file_name, coalesce(least(nullif(dictionary_page_offset, 0), data_page_offset), data_page_offset), total_compressed_size
     FROM parquet_metadata([${paths.map(sqlString).join(', ')}])`,
  );
  return result.getRowsJS() as ChunkRow[];
}

/** The chunk (of sorted, non-overlapping chunks) holding byte `pos`, if any. */
function chunkHolding(chunks: readonly Chunk[], pos: number): Chunk | undefined {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chunks[mid].end <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo < chunks.length && chunks[lo].start <= pos ? chunks[lo] : undefined;
}
