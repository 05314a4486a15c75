/**
 * The duplicate check of an S3 lake, without downloading a partition's event files (issue #14, item 5).
 *
 * Publishing drops every row whose identity (its source's identity columns; a finding's id and
 * time) the lake already holds in the partition (etl/lake/row-spiller.ts, dropDuplicates). On a
 * local lake it reads the partition's part files in place; on S3 they used to be downloaded whole
 * on every commit, so a Lambda invocation for one object read every earlier object's rows of its day.
 *
 * Instead each partition of an S3 lake has an identity index, `_identity/<partition>/index.parquet`
 * (src/core/lake-layout.ts): the identity columns of every row its part files hold, and the lake
 * path of the file holding each (`file`). A commit reads the index (one GET), hands it to the
 * duplicate check in place of the files (the check reads only the identity columns), and publishes
 * the index extended with its new part file's rows, in the same commit as the file. The index is
 * exact, never trusted beyond what the lake holds: the partition is listed (a listing, no download)
 * and the index's rows of files no longer listed are left out (a compaction, restore or deletion
 * removed them), and files the index does not name (written by a writer that keeps no index:
 * compaction, restore, an older version) are downloaded and added. An index missing an identity
 * column (the source's identity changed) is rebuilt from the files the same way.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { identityIndexFile, isPartFileName } from '../../src/core/lake-layout';
import { sqlString } from '../../src/core/sql';
import { isNotFound } from '../s3';
import type { LakeStore } from './store';

/** The column naming the lake file a row of the index is held by. */
const FILE_COLUMN = 'file';

/** What a commit prepared for one partition: the current index (local), if the partition holds any file. */
interface Prepared {
  identity: readonly string[];
  /** Local index of every row the partition's part files hold now; null when it holds none. */
  current: string | null;
}

export interface IdentityIndexReads {
  /** Index objects read. */
  indexes: number;
  /** Part files downloaded because the index did not name them. */
  files: number;
}

/** One commit's identity indexes: prepared per partition at the duplicate check, staged with the commit. */
export class IdentityIndexes {
  private readonly prepared = new Map<string, Prepared>();
  private db: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;
  readonly reads: IdentityIndexReads = { indexes: 0, files: 0 };

  constructor(
    private readonly store: LakeStore,
    private readonly scratch: string,
    /** The identity columns of a partition's rows. */
    private readonly identityOf: (partition: string) => readonly string[],
  ) {}

  private async connection(): Promise<DuckDBConnection> {
    if (!this.db) {
      const instance = await DuckDBInstance.create(':memory:', {
        memory_limit: '128MB',
        threads: '1',
        temp_directory: join(this.scratch, 'duckdb-identity'),
        preserve_insertion_order: 'false',
      });
      this.db = { instance, connection: await instance.connect() };
    }
    return this.db.connection;
  }

  /**
   * For the duplicate check (PublishOptions.lakeFiles): local Parquet files holding the identity of
   * every row the lake holds in the partition, here one file, the partition's index brought up to date.
   */
  async lakeFiles(partition: string): Promise<string[]> {
    const identity = this.identityOf(partition);
    const listed = (await this.store.listFiles(partition)).filter((f) => isPartFileName(f.slice(f.lastIndexOf('/') + 1)));
    if (listed.length === 0) {
      this.prepared.set(partition, { identity, current: null });
      return [];
    }
    const db = await this.connection();
    const dir = join(this.scratch, 'identity', ...partition.split('/'));
    await mkdir(dir, { recursive: true });
    const stored = await this.download(identityIndexFile(partition));
    let covered = new Set<string>();
    let usable = false;
    if (stored) {
      this.reads.indexes += 1;
      const columns = new Set(
        (await db.runAndReadAll(`SELECT name FROM parquet_schema(${sqlString(stored)})`)).getRows().map(([name]) => String(name)),
      );
      usable = columns.has(FILE_COLUMN) && identity.every((c) => columns.has(c));
      if (usable)
        covered = new Set(
          (await db.runAndReadAll(`SELECT DISTINCT ${FILE_COLUMN} FROM read_parquet(${sqlString(stored)})`))
            .getRows()
            .map(([file]) => String(file)),
        );
    }
    const present = new Set(listed);
    const missing = listed.filter((f) => !covered.has(f));
    const gone = [...covered].some((f) => !present.has(f));
    if (usable && stored && missing.length === 0 && !gone) {
      this.prepared.set(partition, { identity, current: stored });
      return [stored];
    }
    const parts: string[] = [];
    if (usable && stored)
      parts.push(
        `SELECT ${FILE_COLUMN}, ${columnList(identity)} FROM read_parquet(${sqlString(stored)}) WHERE ${FILE_COLUMN} IN (${listed.map(sqlString).join(', ')})`,
      );
    for (const path of missing) {
      const local = await this.store.localCopy(path, join(this.scratch, 'identity-files'));
      this.reads.files += 1;
      parts.push(`SELECT ${sqlString(path)} AS ${FILE_COLUMN}, ${columnList(identity)} FROM read_parquet(${sqlString(local)})`);
    }
    const current = join(dir, 'current.parquet');
    await writeIndex(db, parts, current);
    this.prepared.set(partition, { identity, current });
    return [current];
  }

  /**
   * Stages, in the commit, the index of each partition the commit writes a part file to: the
   * partition's current index and the new file's rows. `partPath(partition)` is the lake path of
   * the part file the commit publishes there, `staged(path)` the local (staged) file of a lake path.
   */
  async stage(partitions: readonly string[], partPath: (partition: string) => string, staged: (lakePath: string) => string): Promise<void> {
    for (const partition of partitions) {
      const prepared = this.prepared.get(partition);
      const identity = prepared?.identity ?? this.identityOf(partition);
      const path = partPath(partition);
      const parts = [`SELECT ${sqlString(path)} AS ${FILE_COLUMN}, ${columnList(identity)} FROM read_parquet(${sqlString(staged(path))})`];
      if (prepared?.current)
        parts.unshift(`SELECT ${FILE_COLUMN}, ${columnList(identity)} FROM read_parquet(${sqlString(prepared.current)})`);
      const target = staged(identityIndexFile(partition));
      await mkdir(dirname(target), { recursive: true });
      await writeIndex(await this.connection(), parts, target);
    }
  }

  close(): void {
    if (!this.db) return;
    this.db.connection.closeSync();
    this.db.instance.closeSync();
    this.db = null;
  }

  /** A local copy of a lake file, or null when the lake has none there. */
  private async download(path: string): Promise<string | null> {
    try {
      return await this.store.localCopy(path, join(this.scratch, 'identity-stored'));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

function columnList(identity: readonly string[]): string {
  return identity.map((c) => `"${c}"`).join(', ');
}

/** The index file: small (identity columns only), sorted by file so each file's rows sit together. */
async function writeIndex(db: DuckDBConnection, parts: readonly string[], target: string): Promise<void> {
  await db.run(
    `COPY (${parts.join(' UNION ALL ')} ORDER BY ${FILE_COLUMN}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`,
  );
}
