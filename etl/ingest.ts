import { availableParallelism } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectObject } from './detect';
import { materializeGraph } from './graph';
import { JsonlFile } from './lake/jsonl-file';
import { acquireLakeLock } from './lake/lock';
import { loadManifest, manifestFileFor, type ManifestEntry } from './lake/manifest';
import { publishPartitions } from './lake/row-spiller';
import { Transaction, recoverLake, totalSize } from './lake/transaction';
import { listLocalObjects, sha256Of, type ObjectRef } from './objects';
import type { ObjectResult } from './read-object';
import type { SourceId } from './tables';
import { WorkerPool } from './worker/pool';

export interface IngestOptions {
  /** Files or folders (read recursively). */
  inputs: readonly string[];
  /** Lake folder. */
  lake: string;
  /** Force one source for every object; 'auto' (default) detects per object. */
  source?: SourceId | 'auto';
  /** Rows staged before a commit (at an object boundary). Bounds the work a crash loses and the sort per partition. */
  batchRows?: number;
  /** Worker threads parsing objects (default: one per core). */
  workers?: number;
  onProgress?: (progress: IngestProgress) => void;
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
}

/**
 * The ETL: raw objects → detect → parse and normalize on worker threads (streaming) → Parquet
 * partitions, published atomically with their manifest and quarantine. Re-running over the same
 * objects changes nothing.
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = process.hrtime.bigint();
  const lake = options.lake;
  const batchRows = options.batchRows ?? 100_000;
  const forced = options.source && options.source !== 'auto' ? options.source : undefined;
  // List the inputs before touching the lake, so a wrong path fails without side effects.
  const objects: ObjectRef[] = [];
  for await (const object of listLocalObjects(options.inputs)) objects.push(object);

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
  };
  const progress: IngestProgress = {
    objectsDone: 0,
    objectsTotal: objects.length,
    bytesDone: 0,
    bytesTotal: objects.reduce((sum, o) => sum + o.size, 0),
    records: 0,
  };
  const partitions = new Set<string>();

  const release = await acquireLakeLock(lake);
  const tempDir = await mkdtemp(join(tmpdir(), 'scoutql-ingest-'));
  let pool: WorkerPool | null = null;
  try {
    await recoverLake(lake);
    const known = await loadManifest(lake);
    pool = await WorkerPool.start(options.workers ?? Math.min(2, availableParallelism()), tempDir);
    let batch = await Batch.begin(lake);
    let stagedRows = 0;

    const finish = async (object: ObjectRef, entry: ManifestEntry) => {
      await batch.manifest.write(entry);
      progress.objectsDone += 1;
      progress.bytesDone += object.size;
      progress.records = summary.records;
      options.onProgress?.(progress);
    };

    for (const object of objects) {
      const sha256 = await sha256Of(object);
      if (known.has(sha256)) {
        summary.already_ingested += 1;
        progress.objectsDone += 1;
        progress.bytesDone += object.size;
        continue;
      }
      const entry = newEntry(object, sha256, batch.txn.id);
      known.set(sha256, entry);
      summary.bytes_in += object.size;

      const verdict = await detectObject(object, forced);
      if (verdict.kind !== 'source') {
        summary.skipped_objects += 1;
        Object.assign(entry, { status: 'skipped', reason: verdict.reason });
        if (verdict.kind === 'unknown') {
          await batch.quarantine.write({ object: object.key, sha256, source: null, position: 'object', reason: verdict.reason, text: '' });
        }
        await finish(object, entry);
        continue;
      }

      entry.source = verdict.source.id;
      const job = { key: object.key, size: object.size, sha256, source: verdict.source.id, txnDir: batch.txn.dir, txnId: batch.txn.id };
      await pool.submit(job, async (result: ObjectResult) => {
        Object.assign(entry, { records: result.records, written: result.written, quarantined: result.quarantined, filtered: result.filtered });
        summary.records += result.records;
        summary.written += result.written;
        summary.quarantined += result.quarantined;
        summary.filtered += result.filtered;
        summary.damaged_objects += result.damaged;
        stagedRows += result.rows;
        await finish(object, entry);
      });

      if (stagedRows >= batchRows) {
        await batch.commit(pool, tempDir, partitions, summary);
        batch = await Batch.begin(lake);
        stagedRows = 0;
      }
    }
    await batch.commit(pool, tempDir, partitions, summary);
    // The graph step: entities and edges of every day that received rows, rebuilt from its events.
    await materializeGraph({ lake, days: daysOf(partitions) });
  } finally {
    await pool?.close();
    await rm(tempDir, { recursive: true, force: true });
    await release();
  }
  summary.partitions = partitions.size;
  summary.days = daysOf(partitions);
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

function daysOf(partitions: Set<string>): string[] {
  return [...new Set([...partitions].map((p) => p.slice(p.lastIndexOf('day=') + 4)))].sort();
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
  /** Objects the main thread sets aside itself (unrecognized formats); workers write their own files. */
  readonly quarantine: JsonlFile;
  readonly manifest: JsonlFile;

  private constructor(
    private readonly lake: string,
    readonly txn: Transaction,
  ) {
    this.quarantine = new JsonlFile(txn.staged(`_quarantine/${txn.id}.jsonl`));
    this.manifest = new JsonlFile(txn.staged(manifestFileFor(txn.id)));
  }

  static async begin(lake: string): Promise<Batch> {
    return new Batch(lake, await Transaction.begin(lake));
  }

  async commit(pool: WorkerPool, tempDir: string, partitions: Set<string>, summary: IngestSummary): Promise<void> {
    const spills = await pool.endTransaction();
    const written = await publishPartitions(spills, this.txn.dir, this.txn.id, tempDir);
    await Promise.all([this.quarantine.close(), this.manifest.close()]);
    if (this.manifest.lines === 0) {
      await this.txn.abort();
      return;
    }
    const files = await this.txn.commit();
    for (const p of written) partitions.add(p);
    const parquet = files.filter((f) => f.endsWith('.parquet')).map((f) => join(this.lake, f));
    summary.bytes_out += await totalSize(parquet);
  }
}
