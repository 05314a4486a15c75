/**
 * Rows a lake lost come back when the objects they were read from are ingested again.
 *
 * The manifest remembers every object by its bytes, so re-ingesting an object whose rows were
 * deleted from the lake used to say "already ingested" and change nothing. The commit chain says
 * which event files the lake must hold (src/core/lake-commits.ts): a file that is gone, or whose
 * size differs from its commit, is lost; its lineage gives the transactions whose rows it held,
 * and the manifest the objects those transactions read. When a run meets such an object again,
 * the object is read once more into a scratch lake, and the lost partitions (only those: the same
 * objects' rows in partitions that are whole are not written twice) are published from there in
 * one commit that records the new file as derived from the lost one and removes a damaged one.
 *
 * A partition is restored only when every object behind its lost files is among the run's
 * inputs, so a restored file is whole, never half a partition.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  LOOKUP_INDEX_DIR,
  dayOfPartition,
  graphPendingMarker,
  isPartFileName,
  lookupIndexFile,
  partFileName,
} from '../../src/core/lake-layout';
import { sqlString } from '../../src/core/sql';
import { TABLES, TABLE_NAMES, type TableName } from '../../src/core/tables';
import type { ObjectRef } from '../objects';
import { listS3, s3Url } from '../s3';
import { replayCommitChain } from './commit-manifest';
import type { IndexedManifestEntry, ManifestEntry, PublishedFile } from './manifest';
import { ROW_GROUP_ROWS, ZSTD_LEVEL, writeLookupIndex } from './row-spiller';
import { LocalLakeStore, S3LakeStore, type LakeStore } from './store';
import { Transaction } from './transaction';

export interface RestoreSummary {
  /** Lost event files whose rows were written again. */
  restored: string[];
  rows: number;
  /** Partition folders written to. */
  partitions: string[];
  /** Lost event files this run could not restore, with the reason. */
  unrestored: Array<{ path: string; reason: string }>;
}

interface LostFile {
  path: string;
  partition: string;
  /** Objects (by sha256) whose rows it held. */
  objects: Set<string>;
}

interface Plan {
  lost: LostFile[];
  /** Object sha256 → the lost files holding its rows. */
  bySha: Map<string, LostFile[]>;
}

/** Reads the lake's lost rows plan on first need, queues the objects a run meets again, restores at the end. */
export class LostRows {
  private plan: Promise<Plan> | null = null;
  private manifest: ReadonlyMap<string, ManifestEntry> = new Map();
  private readonly queued = new Map<string, ObjectRef>();

  constructor(
    private readonly store: LakeStore,
    /** Every manifest entry, asked for only when a plan is needed. */
    private readonly entries: () => Promise<ReadonlyMap<string, ManifestEntry>>,
  ) {}

  /**
   * For an object the lake already has (its entry): true (and queued) when some of its rows were
   * lost. An index entry that names its commit's part files answers first, with a HEAD of each:
   * all there at their size, nothing is lost, and the commit chain is not read.
   */
  async claim(entry: IndexedManifestEntry, object: ObjectRef): Promise<boolean> {
    if (!this.plan && entry.files && (await this.intact(entry.files))) return false;
    this.plan ??= this.entries().then((manifest) => {
      this.manifest = manifest;
      return planRestore(this.store, manifest);
    });
    const plan = await this.plan;
    if (!this.manifest.has(entry.sha256) || !plan.bySha.has(entry.sha256)) return false;
    if (!this.queued.has(entry.sha256)) this.queued.set(entry.sha256, object);
    return true;
  }

  private async intact(files: readonly PublishedFile[]): Promise<boolean> {
    const sizes = await Promise.all(files.map((f) => this.store.fileSize(f.path)));
    return files.every((f, i) => sizes[i] === f.size);
  }

  /**
   * Restores what the queued objects can make whole again. `readInto` ingests objects into a
   * scratch lake (the caller's own ingest, without a graph step).
   */
  async restore(
    scratch: string,
    readInto: (inputs: string[], lake: string) => Promise<unknown>,
    fence?: () => Promise<void>,
  ): Promise<RestoreSummary | null> {
    if (!this.plan || this.queued.size === 0) return null;
    const plan = await this.plan;
    const summary: RestoreSummary = { restored: [], rows: 0, partitions: [], unrestored: [] };
    // A partition is restored only when every lost file in it can be rebuilt from this run's inputs.
    const byPartition = new Map<string, LostFile[]>();
    for (const lost of plan.lost) {
      const list = byPartition.get(lost.partition) ?? [];
      byPartition.set(lost.partition, [...list, lost]);
    }
    const partitions: string[] = [];
    for (const [partition, files] of [...byPartition].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const absent = files.flatMap((f) => [...f.objects].filter((sha) => !this.queued.has(sha)));
      if (absent.length === 0) {
        partitions.push(partition);
        continue;
      }
      const reason = `${new Set(absent).size} of the objects its rows were read from are not among this run's inputs (${[...new Set(absent)]
        .slice(0, 3)
        .map((sha) => this.manifest.get(sha)?.key ?? sha)
        .join(', ')}${absent.length > 3 ? ', …' : ''})`;
      for (const f of files) if ([...f.objects].some((sha) => this.queued.has(sha))) summary.unrestored.push({ path: f.path, reason });
    }
    if (partitions.length === 0) return summary;

    // Objects that share the same set of partitions to restore are read together.
    const wanted = new Set(partitions);
    const groups = new Map<string, { partitions: string[]; objects: ObjectRef[] }>();
    for (const [sha, object] of this.queued) {
      const own = [...new Set((plan.bySha.get(sha) ?? []).map((f) => f.partition).filter((p) => wanted.has(p)))].sort();
      if (own.length === 0) continue;
      const key = own.join('\n');
      const group = groups.get(key) ?? { partitions: own, objects: [] };
      group.objects.push(object);
      groups.set(key, group);
    }
    const lakes: Array<{ lake: string; partitions: Set<string> }> = [];
    let n = 0;
    for (const group of groups.values()) {
      const lake = join(scratch, `restore-${n++}`);
      await readInto(
        group.objects.map((o) => o.key),
        lake,
      );
      lakes.push({ lake, partitions: new Set(group.partitions) });
    }

    const txn = await Transaction.begin(this.store, scratch, fence);
    txn.notes.kind = 'restore';
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: '400MB',
      threads: '2',
      temp_directory: join(scratch, 'restore-duckdb'),
    });
    const connection = await instance.connect();
    try {
      for (const partition of partitions) {
        const sources = lakes.filter((l) => l.partitions.has(partition)).map((l) => join(l.lake, ...partition.split('/'), '*.parquet'));
        const lostHere = byPartition.get(partition)!;
        const table = partition.split('/')[0] as TableName;
        const target = `${partition}/${partFileName(txn.id)}`;
        const staged = txn.staged(target);
        await mkdir(dirname(staged), { recursive: true });
        const inputs = `read_parquet([${sources.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
        let rows = 0;
        try {
          rows = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${inputs}`)).getRowObjects()[0].n);
        } catch {
          rows = 0; // no file matched: reading the objects again gave no rows for this partition
        }
        if (rows === 0) {
          for (const f of lostHere)
            summary.unrestored.push({ path: f.path, reason: 'reading its objects again gave no rows for its partition' });
          continue;
        }
        const sortBy = TABLES[table].sortBy.map((c) => `"${c}"`).join(', ');
        await connection.run(
          `COPY (SELECT * FROM ${inputs} ORDER BY ${sortBy}) TO ${sqlString(staged)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
        );
        txn.notes.derivedFrom.set(
          target,
          lostHere.map((f) => f.path),
        );
        // The new file's lookup index, in the same commit; the lost files' indexes go with them.
        await writeLookupIndex(connection, table, staged, txn.dir, target);
        const indexes = new Set(await this.store.listFiles(`${LOOKUP_INDEX_DIR}/${partition}`));
        const lostIndexes = lostHere.map((f) => lookupIndexFile(f.path)).filter((index) => indexes.has(index));
        // The lost files leave the chain (a damaged one leaves the lake too): the new file holds their rows.
        txn.remove([...lostHere.map((f) => f.path), ...lostIndexes]);
        // The day's graph was built from the lost rows' files: it is owed a rebuild, in the same commit.
        const day = dayOfPartition(partition)!;
        const marker = txn.staged(graphPendingMarker(day));
        await mkdir(dirname(marker), { recursive: true });
        await writeFile(marker, txn.id);
        summary.restored.push(...lostHere.map((f) => f.path));
        summary.partitions.push(partition);
        summary.rows += rows;
      }
      if (summary.partitions.length) await txn.commit();
      else await txn.abort();
    } catch (err) {
      await txn.abort();
      throw err;
    } finally {
      connection.closeSync();
      instance.closeSync();
      for (const { lake } of lakes) await rm(lake, { recursive: true, force: true });
    }
    return summary;
  }
}

/** Which event files the chain says the lake holds and it does not (or not whole), and which objects fed them. */
async function planRestore(store: LakeStore, manifest: ReadonlyMap<string, ManifestEntry>): Promise<Plan> {
  const state = await replayCommitChain(store);
  const sizes = await eventFileSizes(store);
  const objectsOfTxn = new Map<string, string[]>();
  for (const entry of manifest.values()) {
    if (entry.status !== 'ingested') continue;
    const list = objectsOfTxn.get(entry.txn) ?? [];
    objectsOfTxn.set(entry.txn, [...list, entry.sha256]);
  }
  const lost: LostFile[] = [];
  const bySha = new Map<string, LostFile[]>();
  for (const file of state.live.values()) {
    if (!isEventFilePath(file.path)) continue;
    const size = sizes.get(file.path);
    if (size === file.size) continue;
    const objects = new Set([...state.originTransactions(file.path)].flatMap((txn) => objectsOfTxn.get(txn) ?? []));
    const entry: LostFile = { path: file.path, partition: file.path.slice(0, file.path.lastIndexOf('/')), objects };
    lost.push(entry);
    for (const sha of objects) bySha.set(sha, [...(bySha.get(sha) ?? []), entry]);
  }
  return { lost, bySha };
}

function isEventFilePath(path: string): boolean {
  const parts = path.split('/');
  return parts.length === 6 && (TABLE_NAMES as readonly string[]).includes(parts[0]) && isPartFileName(parts[5]);
}

/** Sizes of the event tables' files as the store lists them. */
async function eventFileSizes(store: LakeStore): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const table of TABLE_NAMES) {
    if (store instanceof LocalLakeStore) {
      for (const path of await store.listFiles(table)) sizes.set(path, await store.size(path));
    } else if (store instanceof S3LakeStore) {
      for await (const object of listS3(s3Url(store.bucket, `${store.prefix}${table}/`)))
        sizes.set(object.key.slice(store.prefix.length), object.size);
    }
  }
  return sizes;
}
