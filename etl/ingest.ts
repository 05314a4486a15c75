import { availableParallelism } from 'node:os';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JsonlFile } from './lake/jsonl-file';
import { acquireLakeLock } from './lake/lock';
import { loadManifest, type ManifestEntry } from './lake/manifest';
import { publishPartitions, type Spills } from './lake/row-spiller';
import { LostRows } from './lake/restore';
import { lakeStoreFor, type LakeStore } from './lake/store';
import { materializeGraphInStore, pendingGraphDays } from './lake/store-graph';
import { Transaction, recoverLake, totalSize } from './lake/transaction';
import { listObjects, type ObjectRef } from './objects';
import type { ObjectResult } from './read-object';
import { dayOfPartition, graphPendingMarker, manifestFile, partFileName } from '../src/core/lake-layout';
import type { SourceId } from '../src/generated/sources';
import { WorkerPool } from './worker/pool';

export interface IngestOptions {
  /** Files or folders (read recursively), or s3://bucket/prefix URLs (an object or everything under a prefix). */
  inputs: readonly string[];
  /** Lake folder or s3://bucket/prefix. */
  lake: string;
  /** Force one source for every object; 'auto' (default) detects per object. */
  source?: SourceId | 'auto';
  /** Rows staged before a commit (at an object boundary). Bounds the work a crash loses and the sort per partition. */
  batchRows?: number;
  /**
   * Worker threads parsing objects (default: one per core, at most two: each worker has its own
   * heap, up to 384 MB, and DuckDB instance, so the default keeps the ingest's memory bounded on any
   * machine; pass more where memory allows).
   */
  workers?: number;
  onProgress?: (progress: IngestProgress) => void;
  /** Rebuild the graph of the days this run touched (default true). */
  graph?: boolean;
  /** Inputs that no longer exist are counted in `missing_inputs` instead of failing the run (event-driven callers). */
  skipMissingInputs?: boolean;
  /** How long to wait for another writer's lake lock before failing (default 0). */
  lockWaitMs?: number;
  /** Where local staging and scratch files go (default: the OS temp folder; /tmp on Lambda). */
  tempRoot?: string;
}

export interface IngestProgress {
  objectsDone: number;
  objectsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  records: number;
}

export interface IngestSummary {
  /** Objects found in the inputs. */
  objects: number;
  /** Records read from objects ingested in this run: always written + quarantined + filtered. */
  records: number;
  written: number;
  quarantined: number;
  /** Records a source dropped on purpose and declared (none of today's sources do). */
  filtered: number;
  /** Objects with no records to read: digests, empty or unrecognized objects (the last two are quarantined). */
  skipped_objects: number;
  /** Objects whose bytes the lake already holds (by sha256): read again, they change nothing. */
  already_ingested: number;
  /** Objects cut short by a corrupt gzip, a read error or a parser failure (what was read before is kept). */
  damaged_objects: number;
  /** Partition folders written to. */
  partitions: number;
  bytes_in: number;
  bytes_out: number;
  seconds: number;
  /** Days (YYYY-MM-DD) that received rows: the graph step rebuilds these. */
  days: string[];
  /** Inputs that were gone when listed (only with skipMissingInputs). */
  missing_inputs?: string[];
  /**
   * Present when objects this run met again had rows the lake lost (an event file deleted or
   * changed since its commit): the lost files written again from them, the rows, and what could
   * not be restored with the reason. Their objects also count in `already_ingested`.
   */
  restored?: { files: string[]; rows: number; unrestored: Array<{ path: string; reason: string }> };
}

/**
 * The ETL: raw objects → detect → parse and normalize on worker threads (streaming) → Parquet
 * partitions, published atomically with their manifest and quarantine. Re-running over the same
 * objects changes nothing.
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = process.hrtime.bigint();
  const store = lakeStoreFor(options.lake);
  const batchRows = options.batchRows ?? 40_000;
  const forced = options.source && options.source !== 'auto' ? options.source : undefined;
  // List the inputs before touching the lake, so a wrong path fails without side effects.
  const objects: ObjectRef[] = [];
  const missing: string[] = [];
  for (const input of options.inputs) {
    try {
      for await (const object of listObjects([input])) objects.push(object);
    } catch (err) {
      if (!options.skipMissingInputs || !(err as Error).message.startsWith('input not found')) throw err;
      missing.push(input);
    }
  }

  const summary: IngestSummary = {
    objects: objects.length,
    records: 0,
    written: 0,
    quarantined: 0,
    filtered: 0,
    skipped_objects: 0,
    already_ingested: 0,
    damaged_objects: 0,
    partitions: 0,
    bytes_in: 0,
    bytes_out: 0,
    seconds: 0,
    days: [],
    ...(options.skipMissingInputs ? { missing_inputs: missing } : {}),
  };
  const progress: IngestProgress = {
    objectsDone: 0,
    objectsTotal: objects.length,
    bytesDone: 0,
    bytesTotal: objects.reduce((sum, o) => sum + o.size, 0),
    records: 0,
  };
  const partitions = new Set<string>();

  const release = await acquireLakeLock(store, { waitMs: options.lockWaitMs });
  let tempDir = '';
  let pool: WorkerPool | null = null;
  try {
    await mkdir(options.tempRoot ?? tmpdir(), { recursive: true });
    tempDir = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'scoutql-ingest-'));
    await recoverLake(store);
    const entries = await loadManifest(store);
    const known = new Set(entries.keys());
    // Objects the lake knows whose rows it has lost since (deleted or damaged event files) are read again.
    const lost = new LostRows(store, entries);
    // Days a committed run touched but whose graph step never finished (a crash) are owed a rebuild.
    const owedGraphDays = await pendingGraphDays(store);
    pool = await WorkerPool.start(options.workers ?? Math.min(2, availableParallelism()), tempDir);
    let batch = await Batch.begin(store, tempDir);
    let stagedRows = 0;
    let committing: Promise<void> = Promise.resolve();

    const advance = (object: ObjectRef) => {
      progress.objectsDone += 1;
      progress.bytesDone += object.size;
      progress.records = summary.records;
      options.onProgress?.(progress);
    };

    for (const object of objects) {
      // Workers hash, detect and parse; the main thread only decides which content is new.
      const claim = async (sha256: string) => {
        if (known.has(sha256)) {
          await lost.claim(sha256, object);
          return false;
        }
        known.add(sha256);
        return true;
      };
      const job = { key: object.key, size: object.size, forced, txnDir: batch.txn.dir, txnId: batch.txn.id };
      const txnId = batch.txn.id;
      await pool.submit(job, claim, async (result: ObjectResult) => {
        if (result.status === 'duplicate') {
          summary.already_ingested += 1;
          return advance(object);
        }
        const entry: ManifestEntry = {
          ...newEntry(object, result.sha256, txnId),
          source: result.source,
          status: result.status,
          ...(result.reason ? { reason: result.reason } : {}),
          records: result.records,
          written: result.written,
          quarantined: result.quarantined,
          filtered: result.filtered,
        };
        summary.bytes_in += object.size;
        if (result.status === 'skipped') summary.skipped_objects += 1;
        summary.records += result.records;
        summary.written += result.written;
        summary.quarantined += result.quarantined;
        summary.filtered += result.filtered;
        summary.damaged_objects += result.damaged;
        stagedRows += result.rows;
        await batch.manifest.write(entry);
        advance(object);
      });

      if (stagedRows >= batchRows) {
        // Hand the batch's rows to a background commit and keep the workers parsing the next one:
        // publishing (DuckDB sorting and compressing) would otherwise leave them idle. Commits still
        // happen one at a time, in order.
        const spills = await pool.endTransaction();
        await committing;
        committing = batch.commit(spills, tempDir, partitions, summary);
        committing.catch(() => undefined); // a failure surfaces at the next await, not as an unhandled rejection
        batch = await Batch.begin(store, tempDir);
        stagedRows = 0;
      }
    }
    const spills = await pool.endTransaction();
    await committing;
    await batch.commit(spills, tempDir, partitions, summary);
    await pool.close();
    pool = null;
    const restored = await lost.restore(tempDir, (inputs, lake) =>
      ingest({ inputs, lake, graph: false, workers: 1, tempRoot: tempDir, source: options.source }),
    );
    if (restored) {
      summary.restored = { files: restored.restored, rows: restored.rows, unrestored: restored.unrestored };
      for (const p of restored.partitions) partitions.add(p);
    }
    // The graph step: entities and edges of every day that received rows, rebuilt from its events.
    if (options.graph !== false) {
      const graphDays = [...new Set([...daysOf(partitions), ...owedGraphDays])].sort();
      // One commit: the days' graphs, the event files they were built from, and their pending markers cleared.
      await materializeGraphInStore(store, graphDays, tempDir);
    }
  } finally {
    await pool?.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    await release();
  }
  summary.partitions = partitions.size;
  summary.days = daysOf(partitions);
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

function daysOf(partitions: Set<string>): string[] {
  return [...new Set([...partitions].map(dayOfPartition).filter((d): d is string => d !== null))].sort();
}

function newEntry(object: ObjectRef, sha256: string, txn: string): ManifestEntry {
  return {
    key: object.key,
    sha256,
    size: object.size,
    source: null,
    status: 'ingested',
    records: 0,
    written: 0,
    quarantined: 0,
    filtered: 0,
    txn,
    ingestedAt: new Date().toISOString(),
  };
}

/** One transaction's worth of objects: their rows, quarantine and manifest entries. */
class Batch {
  readonly manifest: JsonlFile;

  private constructor(readonly txn: Transaction) {
    this.manifest = new JsonlFile(txn.staged(manifestFile(txn.id)));
  }

  static async begin(store: LakeStore, tempDir: string): Promise<Batch> {
    return new Batch(await Transaction.begin(store, tempDir));
  }

  async commit(spills: Spills, tempDir: string, partitions: Set<string>, summary: IngestSummary): Promise<void> {
    const written = await publishPartitions(spills, this.txn.dir, this.txn.id, tempDir);
    await this.manifest.close();
    if (this.manifest.lines === 0) {
      await this.txn.abort();
      return;
    }
    // Each day that gets rows is marked as owing a graph rebuild, in the same commit as the rows.
    for (const day of daysOf(new Set(written))) {
      const marker = this.txn.staged(graphPendingMarker(day));
      await mkdir(dirname(marker), { recursive: true });
      await writeFile(marker, this.txn.id);
    }
    const parquet = written.map((p) => this.txn.staged(`${p}/${partFileName(this.txn.id)}`));
    const bytes = await totalSize(parquet);
    await this.txn.commit();
    for (const p of written) partitions.add(p);
    summary.bytes_out += bytes;
  }
}
