import { availableParallelism } from 'node:os';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JsonlFile } from './lake/jsonl-file';
import { acquireLakeLock } from './lake/lock';
import { LakeManifest, lostManifestFiles, type ManifestEntry, type PublishedFile } from './lake/manifest';
import { IdentityIndexes } from './lake/identity-index';
import { FINDING_IDENTITY, publishPartitions, type Spills } from './lake/row-spiller';
import { LostRows } from './lake/restore';
import { lakeStoreFor, type LakeStore } from './lake/store';
import { materializeGraphInStore, pendingGraphDays } from './lake/store-graph';
import { Transaction, recoverLake } from './lake/transaction';
import { listObjects, type ListingNotes, type ObjectRef } from './objects';
import type { ObjectJob, ObjectResult, TimeBounds } from './read-object';
import { DEFAULT_READ_LIMITS, type ReadLimits } from './readers/read-state';
import { LISTED_SOURCE_IDS, manifestById } from './sources/manifests';
import { DEFAULT_IDENTITY, identityColumns } from './sources/types';
import { GeoIp, type GeoIpOptions } from '../src/core/geoip';
import {
  dayOfPartition,
  findingsTablePath,
  graphPendingMarker,
  isPartFileName,
  manifestFile,
  partFileName,
  quarantineFile,
} from '../src/core/lake-layout';
import type { SourceId } from '../src/generated/sources';
import { WorkerPool } from './worker/pool';
import { PublishGate, memoryBudgetBytes } from './worker/memory-budget';

export interface IngestOptions {
  /** Files or folders (read recursively), or s3://bucket/prefix URLs (an object or everything under a prefix). */
  inputs: readonly string[];
  /** Lake folder or s3://bucket/prefix. */
  lake: string;
  /** Force one source for every object; 'auto' (default) detects per object. */
  source?: SourceId | 'auto';
  /** Options for sources, by source id (what each manifest's `options` declares, e.g. `{ vpcflow: { format: '${version} …' } }`). */
  sourceOptions?: Partial<Record<SourceId, Record<string, string>>>;
  /** Read again objects the lake skipped or quarantined whole before (a forced source that differs from the one recorded does too). */
  retrySkipped?: boolean;
  /** Limits each object is held to (record and line length, decompressed bytes); defaults in etl/readers/read-state.ts. */
  limits?: Partial<ReadLimits>;
  /** Rows staged before a commit (at an object boundary). Bounds the work a crash loses and the sort per partition. */
  batchRows?: number;
  /**
   * Worker threads parsing objects (default: one per core, at most two: each worker has its own
   * heap, sized from the record limit, and DuckDB instance, so the default keeps the ingest's memory
   * bounded on any machine; pass more where memory allows).
   */
  workers?: number;
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Called once every object has been read (the workers are done), before the last publish and the
   * graph step: work on the inputs that needs nothing from the lake (the CLI's digest check) can run
   * beside those instead of after them.
   */
  onInputsRead?: () => void;
  /** Rebuild the graph of the days this run touched (default true). */
  graph?: boolean;
  /** Inputs that no longer exist are counted in `missing_inputs` instead of failing the run (event-driven callers). */
  skipMissingInputs?: boolean;
  /** How long to wait for another writer's lake lock before failing (default 0). */
  lockWaitMs?: number;
  /** Where local staging and scratch files go (default: the OS temp folder; /tmp on Lambda). */
  tempRoot?: string;
  /**
   * GeoIP / ASN enrichment of every row's src_ip (src/core/geoip.ts): options, an already loaded
   * GeoIp, or false for none. Default: the bundled offline data.
   */
  geoip?: GeoIpOptions | GeoIp | false;
  /**
   * Event times more than a day after the run began, or before the record's provider existed:
   * 'quarantine' (the default) sets the record aside with its reason; 'keep' stores it as dated.
   */
  outlierTimes?: 'quarantine' | 'keep';
  /** The run's clock (default: now); the future bound is this plus a day. */
  now?: Date;
  /**
   * Parse and normalize in SQL, in batches, the objects of sources with a SQL mapping (VPC flow logs
   * delivered to S3: etl/sql-ingest.ts); false reads every object with its source's parser, record
   * by record. The rows are the same either way. Default true; 'all' also uses the mappings that are
   * opt-in (SqlMapping.optIn: CloudTrail, slower than its parser today, see bench/README.md).
   */
  sqlIngest?: boolean | 'all';
  /**
   * MiB of resident memory the run aims to stay within (default 768, at least 64): while a batch
   * is published, the workers read new objects only when the process's memory and what a publish
   * adds fit in it (etl/worker/memory-budget.ts). A smaller budget trades speed for memory; the
   * rows written are the same.
   */
  memoryBudgetMb?: number;
}

export interface IngestProgress {
  objectsDone: number;
  objectsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  records: number;
  /** Objects whose reading waited for a publish to finish, to keep within the memory budget. */
  publishWaits: number;
}

export interface IngestSummary {
  /** Objects found in the inputs. */
  objects: number;
  /** Records read from objects ingested in this run: always written + quarantined + filtered + duplicates. */
  records: number;
  written: number;
  quarantined: number;
  /** Records a source dropped on purpose and declared (none of today's sources do). */
  filtered: number;
  /** Records whose event the lake (or this run) already held, by their source's identity: dropped, never doubled. */
  duplicates: number;
  /** Objects with no records to read: digests, empty or unrecognized objects (the last two are quarantined). */
  skipped_objects: number;
  /** Objects whose bytes the lake already holds (by sha256): read again, they change nothing. */
  already_ingested: number;
  /**
   * Objects cut short (a corrupt gzip, a read error, a parser failure: what was read before is
   * kept) or quarantined whole (a limit broken, unreadable, gone, a FIFO or other special file:
   * none of it is kept). Each is named with its reason in the quarantine and the manifest.
   */
  damaged_objects: number;
  /** Records that held bytes that are not UTF-8 (read as U+FFFD; their rows are flagged 'invalid-utf8'). */
  invalid_utf8: number;
  /** Folders reached again through a symbolic link (cycles): walked once. */
  link_cycles: number;
  /** Objects whose records DuckDB parsed and normalized in batches (IngestOptions.sqlIngest); absent when none. */
  sql_objects?: number;
  /** Records of those objects DuckDB mapped (the rest were read by the parser, one by one); absent when none. */
  sql_records?: number;
  /** Partition folders written to. */
  partitions: number;
  bytes_in: number;
  bytes_out: number;
  seconds: number;
  /** Days (YYYY-MM-DD) that received rows: the graph step rebuilds these. */
  days: string[];
  /**
   * The graph step, per day it ran for: `merge` when only files new since the day's graph state
   * were read and merged into it, `rebuild` when every file of the day was; `files_read` counts
   * the event and findings files it read (on S3, downloaded). Absent when the step did not run.
   */
  graph?: Array<{ day: string; mode: 'merge' | 'rebuild'; files_read: number }>;
  /** Inputs that were gone when listed (only with skipMissingInputs). */
  missing_inputs?: string[];
  /** What the run noticed but went on past (manifest lines that are not entries). */
  warnings: string[];
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
 * objects changes nothing; the same events read again by any other way are dropped as duplicates.
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = process.hrtime.bigint();
  const store = lakeStoreFor(options.lake);
  const batchRows = options.batchRows ?? 40_000;
  const gate = new PublishGate(memoryBudgetBytes(options.memoryBudgetMb));
  const forced = options.source && options.source !== 'auto' ? options.source : undefined;
  const limits: ReadLimits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  const timeBounds: TimeBounds | null =
    options.outlierTimes === 'keep' ? null : { notAfterMs: (options.now ?? new Date()).getTime() + 86_400_000 };
  // List the inputs before touching the lake, so a wrong path fails without side effects.
  const objects: ObjectRef[] = [];
  const missing: string[] = [];
  const notes: ListingNotes = { linkCycles: [] };
  for (const input of options.inputs) {
    try {
      for await (const object of listObjects([input], notes)) objects.push(object);
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
    duplicates: 0,
    skipped_objects: 0,
    already_ingested: 0,
    damaged_objects: 0,
    invalid_utf8: 0,
    link_cycles: notes.linkCycles.length,
    partitions: 0,
    bytes_in: 0,
    bytes_out: 0,
    seconds: 0,
    days: [],
    ...(options.skipMissingInputs ? { missing_inputs: missing } : {}),
    warnings: notes.linkCycles.map((dir) => `${dir}: reached again through a symbolic link (a cycle), walked once`),
  };
  const progress: IngestProgress = {
    objectsDone: 0,
    objectsTotal: objects.length,
    bytesDone: 0,
    bytesTotal: objects.reduce((sum, o) => sum + o.size, 0),
    records: 0,
    publishWaits: 0,
  };
  const partitions = new Set<string>();

  // Loaded before the lake is touched: a wrong GeoIP file fails the run without side effects.
  const geoip = options.geoip === false ? null : options.geoip instanceof GeoIp ? options.geoip : GeoIp.load(options.geoip);

  const lock = await acquireLakeLock(store, { waitMs: options.lockWaitMs });
  const fence = () => lock.check();
  let tempDir = '';
  let pool: WorkerPool | null = null;
  try {
    await mkdir(options.tempRoot ?? tmpdir(), { recursive: true });
    tempDir = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'scoutql-ingest-'));
    await recoverLake(store);
    // A few objects on an S3 lake are looked up one by one in the manifest index; otherwise the manifest is read whole.
    const manifest = await LakeManifest.open(store, objects.length);
    const problemsAtOpen = manifest.problems.length;
    summary.warnings.push(...manifest.problems);
    const claimed = new Set<string>();
    /** Whether content the lake has an entry for is read again: skipped or quarantined before, and asked to be. */
    const readAgain = (entry: ManifestEntry) =>
      entry.status !== 'ingested' && (options.retrySkipped === true || (forced !== undefined && entry.source !== forced));
    // Objects the lake knows whose rows it has lost since (deleted or damaged event files) are read again.
    const lost = new LostRows(store, async () => (await manifest.all()).entries);
    // Days a committed run touched but whose graph step never finished (a crash) are owed a rebuild.
    const owedGraphDays = await pendingGraphDays(store);
    // No more workers than objects: each costs its thread about a second and a half to start.
    const workers = options.workers ?? Math.min(2, availableParallelism(), Math.max(1, objects.length));
    pool = await WorkerPool.start(workers, tempDir, limits, geoip?.share() ?? null);
    let batch = await Batch.begin(store, tempDir, fence, manifest);
    let stagedRows = 0;
    let committing: Promise<void> = Promise.resolve();

    /** The final results of objects the SQL path deferred (their entries were added with zero counts). */
    const settle = (target: Batch, results: Array<[number, ObjectResult]>) => {
      for (const [index, result] of results) {
        target.settle(index, result);
        if (result.status === 'quarantined') target.reject(index);
        addCounts(summary, result);
        if (result.sql) summary.sql_objects = (summary.sql_objects ?? 0) + 1;
        if (result.sqlRecords) summary.sql_records = (summary.sql_records ?? 0) + result.sqlRecords;
      }
    };

    const advance = (object: ObjectRef) => {
      progress.objectsDone += 1;
      progress.bytesDone += object.size;
      progress.records = summary.records;
      progress.publishWaits = gate.waits;
      options.onProgress?.(progress);
    };

    for (const [index, object] of objects.entries()) {
      if (object.unreadable) {
        // Found while listing (a FIFO, a dangling link): named and counted, never opened.
        summary.damaged_objects += 1;
        batch.add(index, { ...newEntry(object, '', batch.txn.id), status: 'quarantined', reason: object.unreadable });
        await batch.setAside({ object: object.key, sha256: null, source: null, position: 'object', reason: object.unreadable, text: '' });
        advance(object);
        continue;
      }
      // Workers hash, detect and parse; the main thread only decides which content is new.
      const claim = async (sha256: string) => {
        if (claimed.has(sha256)) return false;
        // Claimed before the lookup answers: the same content twice in this run is read once.
        claimed.add(sha256);
        const entry = await manifest.get(sha256);
        if (entry && !readAgain(entry)) {
          await lost.claim(entry, object);
          return false;
        }
        return true;
      };
      const job: ObjectJob = {
        key: object.key,
        size: object.size,
        index,
        forced,
        ...(options.sourceOptions ? { sourceOptions: options.sourceOptions } : {}),
        limits,
        txnDir: batch.txn.dir,
        txnId: batch.txn.id,
        timeBounds,
        ...(options.sqlIngest === false || options.sqlIngest === 'all' ? { sqlIngest: options.sqlIngest } : {}),
      };
      const current = batch;
      await gate.beforeRead();
      await pool.submit(job, claim, async (result: ObjectResult) => {
        if (result.status === 'duplicate') {
          summary.already_ingested += 1;
          return advance(object);
        }
        current.add(index, {
          ...newEntry(object, result.sha256, current.txn.id),
          source: result.source,
          ...entryCounts(result),
          duplicates: 0,
        });
        if (result.status === 'quarantined') current.reject(index);
        summary.bytes_in += object.size;
        if (result.status === 'skipped') summary.skipped_objects += 1;
        addCounts(summary, result);
        stagedRows += result.rows;
        advance(object);
      });

      if (stagedRows >= batchRows) {
        // Hand the batch's rows to a background commit and keep the workers parsing the next one:
        // publishing (DuckDB sorting and compressing) would otherwise leave them idle. Commits still
        // happen one at a time, in order.
        const { spills, results } = await pool.endTransaction();
        settle(batch, results);
        await committing;
        committing = gate.track(batch.commit(spills, tempDir, partitions, summary));
        committing.catch(() => undefined); // a failure surfaces at the next await, not as an unhandled rejection
        batch = await Batch.begin(store, tempDir, fence, manifest);
        stagedRows = 0;
      }
    }
    const { spills, results } = await pool.endTransaction();
    settle(batch, results);
    // The workers are done: their memory goes before the last publish, which then has the cores to itself.
    await pool.close();
    pool = null;
    options.onInputsRead?.();
    await committing;
    await batch.commit(spills, tempDir, partitions, summary, availableParallelism());
    summary.warnings.push(...manifest.problems.slice(problemsAtOpen));
    if (summary.duplicates > 0 && manifest.mode === 'whole') {
      // Rows the lake already held came from objects the manifest did not know: say so when it lost files.
      // (Looked up one by one, a lost entry is named per object at commit: the chain is not read.)
      for (const gone of await lostManifestFiles(store)) {
        summary.warnings.push(
          `${gone.path} (published by ${gone.commit}) is gone: the objects it listed were read again and their rows dropped as duplicates, not written twice`,
        );
      }
    }
    const restored = await lost.restore(
      tempDir,
      (inputs, lake) => ingest({ inputs, lake, graph: false, workers: 1, tempRoot: tempDir, source: options.source }),
      fence,
    );
    if (restored) {
      summary.restored = { files: restored.restored, rows: restored.rows, unrestored: restored.unrestored };
      for (const p of restored.partitions) partitions.add(p);
    }
    // The graph step: each day that received rows merges its new files into the day's graph state.
    if (options.graph !== false) {
      const graphDays = [...new Set([...daysOf(partitions), ...owedGraphDays])].sort();
      // One commit: the days' graphs, the event files they were built from, and their pending markers cleared.
      await fence();
      const step = await materializeGraphInStore(store, graphDays, tempDir, fence, { memoryBudgetMb: options.memoryBudgetMb });
      summary.graph = step.days.map(({ day, mode }) => ({ day, mode, files_read: step.filesRead[day] ?? 0 }));
    }
  } finally {
    await pool?.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    await lock.release();
  }
  summary.partitions = partitions.size;
  summary.days = daysOf(partitions);
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

/**
 * Days of the partitions written: event partitions, and the findings partitions of other products
 * (GuardDuty, Security Hub), whose findings name entities the day's graph links them to.
 */
function daysOf(partitions: Set<string>): string[] {
  return [...new Set([...partitions].map(dayOfPartition).filter((d): d is string => d !== null))].sort();
}

/** An object's counts added to the run's. */
function addCounts(summary: IngestSummary, result: ObjectResult): void {
  summary.records += result.records;
  summary.written += result.written;
  summary.quarantined += result.quarantined;
  summary.filtered += result.filtered;
  summary.damaged_objects += result.damaged;
  summary.invalid_utf8 += result.invalidUtf8;
}

/** What an object's manifest entry says of how it was read (its result, not a duplicate). */
function entryCounts(
  result: ObjectResult,
): Pick<ManifestEntry, 'status' | 'reason' | 'records' | 'written' | 'quarantined' | 'filtered' | 'invalid_utf8'> {
  if (result.status === 'duplicate') throw new Error('an object the lake already has gets no manifest entry');
  return {
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    records: result.records,
    written: result.written,
    quarantined: result.quarantined,
    filtered: result.filtered,
    ...(result.invalidUtf8 ? { invalid_utf8: result.invalidUtf8 } : {}),
  };
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

/** The identity columns of a source's rows; a source this build does not know is keyed by event id alone. */
function identityOf(source: string): readonly string[] {
  return (LISTED_SOURCE_IDS as readonly string[]).includes(source) ? identityColumns(manifestById(source as SourceId)) : DEFAULT_IDENTITY;
}

/** The identity columns of a partition's rows: its source's, or a finding's (FINDING_IDENTITY). */
function identityOfPartition(partition: string): readonly string[] {
  if (partition.startsWith(`${findingsTablePath()}/`)) return FINDING_IDENTITY;
  const source = /(?:^|\/)source=([^/]+)/.exec(partition)?.[1];
  if (!source) throw new Error(`identity index: '${partition}' names no source`);
  return identityOf(source);
}

/** One transaction's worth of objects: their rows, quarantine and manifest entries. */
class Batch {
  private readonly entries = new Map<number, ManifestEntry>();
  private readonly rejected = new Set<number>();
  private quarantine: JsonlFile | null = null;

  private constructor(
    readonly txn: Transaction,
    private readonly manifest: LakeManifest,
  ) {}

  static async begin(store: LakeStore, tempDir: string, fence: () => Promise<void>, manifest: LakeManifest): Promise<Batch> {
    return new Batch(await Transaction.begin(store, tempDir, fence), manifest);
  }

  /** Records what the lake will remember of an object (written at commit, with its duplicates counted). */
  add(index: number, entry: ManifestEntry): void {
    this.entries.set(index, entry);
  }

  /** The final result of an object whose entry was added before its records were read (the SQL path's batch). */
  settle(index: number, result: ObjectResult): void {
    const entry = this.entries.get(index);
    if (!entry) throw new Error(`no manifest entry for object ${index} of the transaction`);
    if (result.status === 'duplicate') throw new Error(`object ${index} of the transaction: a deferred result cannot be a duplicate`);
    const { reason: _reason, invalid_utf8: _invalid, ...rest } = entry;
    this.entries.set(index, { ...rest, ...entryCounts(result) });
  }

  /** An object quarantined whole: none of its rows is published. */
  reject(index: number): void {
    this.rejected.add(index);
  }

  /** A quarantine line written by the coordinator itself (objects no worker opened). */
  async setAside(line: object): Promise<void> {
    this.quarantine ??= new JsonlFile(this.txn.staged(quarantineFile(this.txn.id, 'main')));
    await this.quarantine.write(line);
  }

  /** `threads`: DuckDB threads for the publish (1 beside parsing workers). */
  async commit(spills: Spills, tempDir: string, partitions: Set<string>, summary: IngestSummary, threads = 1): Promise<void> {
    const scratch = await mkdtemp(join(tempDir, 'lake-files-'));
    // An S3 lake checks duplicates against each partition's identity index, not its downloaded files.
    const indexes = this.txn.store.kind === 's3' ? new IdentityIndexes(this.txn.store, scratch, identityOfPartition) : null;
    let published;
    try {
      published = await publishPartitions(spills, this.txn.dir, this.txn.id, tempDir, {
        rejectedObjects: this.rejected,
        identityOf,
        threads,
        lakeFiles: (partition) => (indexes ? indexes.lakeFiles(partition) : existingPartFiles(this.txn.store, partition, scratch)),
      });
      await indexes?.stage(
        published.partitions,
        (partition) => `${partition}/${partFileName(this.txn.id)}`,
        (path) => this.txn.staged(path),
      );
    } finally {
      indexes?.close();
      await rm(scratch, { recursive: true, force: true });
    }
    // Records whose event the lake already held are not written: they are duplicates, in the summary and their entries.
    for (const [index, dropped] of published.duplicates) {
      const entry = this.entries.get(index);
      if (entry) {
        entry.duplicates = (entry.duplicates ?? 0) + dropped.records;
        entry.written -= dropped.records;
      }
      summary.duplicates += dropped.records;
      summary.written -= dropped.records;
    }
    await this.quarantine?.close();
    const manifest = new JsonlFile(this.txn.staged(manifestFile(this.txn.id)));
    for (const index of [...this.entries.keys()].sort((a, b) => a - b)) await manifest.write(this.entries.get(index));
    await manifest.close();
    if (manifest.lines === 0) {
      await this.txn.abort();
      return;
    }
    const written = published.partitions;
    // Each day that gets rows is marked as owing a graph rebuild, in the same commit as the rows.
    for (const day of daysOf(new Set(written))) {
      const marker = this.txn.staged(graphPendingMarker(day));
      await mkdir(dirname(marker), { recursive: true });
      await writeFile(marker, this.txn.id);
    }
    const parquet = written.map((p) => `${p}/${partFileName(this.txn.id)}`);
    const files: PublishedFile[] = [];
    for (const path of parquet) files.push({ path, size: (await stat(this.txn.staged(path))).size });
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    const entries = [...this.entries.values()];
    await this.manifest.stage(entries, files, (path) => this.txn.staged(path));
    if (this.manifest.mode === 'lookup') {
      // The index had no entry for these bytes, yet the lake held every row: another delivery of the
      // same events, or an index entry the lake lost (verify lake names lost files). Nothing was doubled.
      for (const entry of entries)
        if (entry.status === 'ingested' && entry.written === 0 && (entry.duplicates ?? 0) > 0)
          summary.warnings.push(
            `${entry.key}: every row was already in the lake (the same events in another object, or a manifest entry the lake lost): none was written twice`,
          );
    }
    await this.txn.commit();
    for (const p of written) partitions.add(p);
    summary.bytes_out += bytes;
  }
}

/** Local copies of the part files the lake holds in a partition: the files themselves for a local lake, downloads for S3. */
async function existingPartFiles(store: LakeStore, partition: string, scratch: string): Promise<string[]> {
  const files = (await store.listFiles(partition)).filter((f) => isPartFileName(f.slice(f.lastIndexOf('/') + 1)));
  const local: string[] = [];
  for (const file of files) local.push(await store.localCopy(file, scratch));
  return local;
}
