import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectObject } from './detect';
import { JsonlFile } from './lake/jsonl-file';
import { acquireLakeLock } from './lake/lock';
import { loadManifest, manifestFileFor, type ManifestEntry } from './lake/manifest';
import { ParquetWriter } from './lake/parquet-writer';
import { Transaction, recoverLake, totalSize } from './lake/transaction';
import { ObjectContent, listLocalObjects, sha256Of, type ObjectRef } from './objects';
import type { ParsedItem, TableRow } from './sources/types';
import type { SourceId } from './tables';

export interface IngestOptions {
  /** Files or folders (read recursively). */
  inputs: readonly string[];
  /** Lake folder. */
  lake: string;
  /** Force one source for every object; 'auto' (default) detects per object. */
  source?: SourceId | 'auto';
  /** Rows staged before a commit (at an object boundary). Bounds memory and the work a crash loses. */
  batchRows?: number;
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
  /** Objects cut short by a corrupt gzip or a read error (what was read before the damage is kept). */
  damaged_objects: number;
  /** Partition folders written to. */
  partitions: number;
  bytes_in: number;
  bytes_out: number;
  seconds: number;
  /** Days (YYYY-MM-DD) that received rows: the graph step rebuilds these. */
  days: string[];
}

interface QuarantineRecord {
  object: string;
  sha256: string;
  source: string | null;
  position: string;
  reason: string;
  text: string;
}

/**
 * The ETL: raw objects → detect → parse and normalize (streaming) → Parquet partitions, published
 * atomically with their manifest and quarantine. Re-running over the same objects changes nothing.
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = process.hrtime.bigint();
  const lake = options.lake;
  const batchRows = options.batchRows ?? 100_000;
  const forced = options.source && options.source !== 'auto' ? options.source : undefined;
  // List the inputs before touching the lake, so a wrong path fails without side effects.
  const objects: ObjectRef[] = [];
  for await (const object of listLocalObjects(options.inputs)) objects.push(object);
  const release = await acquireLakeLock(lake);
  const duckTemp = await mkdtemp(join(tmpdir(), 'scoutql-ingest-'));
  const writer = await ParquetWriter.open({ tempDir: duckTemp });
  const summary: IngestSummary = {
    objects: 0,
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
  const partitions = new Set<string>();
  try {
    await recoverLake(lake);
    const known = await loadManifest(lake);
    summary.objects = objects.length;
    const progress: IngestProgress = {
      objectsDone: 0,
      objectsTotal: objects.length,
      bytesDone: 0,
      bytesTotal: objects.reduce((sum, o) => sum + o.size, 0),
      records: 0,
    };

    let batch = await Batch.begin(lake);
    for (const object of objects) {
      const sha256 = await sha256Of(object);
      if (known.has(sha256)) {
        summary.already_ingested += 1;
      } else {
        known.set(sha256, await readObject(object, sha256, forced, writer, batch, summary));
        summary.bytes_in += object.size;
      }
      progress.objectsDone += 1;
      progress.bytesDone += object.size;
      progress.records = summary.records;
      options.onProgress?.(progress);
      if (writer.pendingRows >= batchRows) {
        await batch.commit(writer, partitions, summary);
        batch = await Batch.begin(lake);
      }
    }
    await batch.commit(writer, partitions, summary);
  } finally {
    await writer.close();
    await rm(duckTemp, { recursive: true, force: true });
    await release();
  }
  summary.partitions = partitions.size;
  summary.days = [...new Set([...partitions].map((p) => p.slice(p.lastIndexOf('day=') + 4)))].sort();
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

/** One transaction's worth of objects: their rows, quarantine and manifest entries. */
class Batch {
  readonly quarantine: JsonlFile;
  readonly oversize: JsonlFile;
  readonly manifest: JsonlFile;

  private constructor(
    private readonly lake: string,
    readonly txn: Transaction,
  ) {
    this.quarantine = new JsonlFile(txn.staged(`_quarantine/${txn.id}.jsonl`));
    this.oversize = new JsonlFile(txn.staged(`_oversize/${txn.id}.jsonl`));
    this.manifest = new JsonlFile(txn.staged(manifestFileFor(txn.id)));
  }

  static async begin(lake: string): Promise<Batch> {
    return new Batch(lake, await Transaction.begin(lake));
  }

  async commit(writer: ParquetWriter, partitions: Set<string>, summary: IngestSummary): Promise<void> {
    const written = await writer.flush(this.txn.dir, this.txn.id);
    await Promise.all([this.quarantine.close(), this.oversize.close(), this.manifest.close()]);
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

async function readObject(
  object: ObjectRef,
  sha256: string,
  forced: SourceId | undefined,
  writer: ParquetWriter,
  batch: Batch,
  summary: IngestSummary,
): Promise<ManifestEntry> {
  const entry: ManifestEntry = {
    key: object.key,
    sha256,
    size: object.size,
    source: null,
    status: 'ingested',
    records: 0,
    written: 0,
    quarantined: 0,
    filtered: 0,
    txn: batch.txn.id,
    ingestedAt: new Date().toISOString(),
  };
  const quarantine = (position: string, reason: string, text: string) =>
    batch.quarantine.write({ object: object.key, sha256, source: entry.source, position, reason, text } satisfies QuarantineRecord);

  const verdict = await detectObject(object, forced);
  if (verdict.kind !== 'source') {
    summary.skipped_objects += 1;
    entry.status = 'skipped';
    entry.reason = verdict.reason;
    if (verdict.kind === 'unknown') await quarantine('object', verdict.reason, '');
    await batch.manifest.write(entry);
    return entry;
  }

  const source = verdict.source;
  entry.source = source.id;
  const content = new ObjectContent(object);
  try {
    for await (const item of source.parse(content, { key: object.key })) {
      entry.records += 1;
      const accepted = acceptItem(item);
      if (accepted.kind === 'rows') {
        for (const { table, row } of accepted.rows) {
          const oversize = writer.append(table, source.id, row);
          if (oversize) await batch.oversize.write({ object: object.key, sha256, ...oversize });
        }
        entry.written += 1;
        if ((entry.written & 0x3ff) === 0) await writer.spillIfLarge();
      } else if (accepted.kind === 'quarantine') {
        await quarantine(accepted.position, accepted.reason, accepted.text);
        entry.quarantined += 1;
      } else {
        entry.filtered += 1;
      }
    }
  } catch (err) {
    // A parser bug must not cost the rest of the run; the object is named with the failure.
    summary.damaged_objects += 1;
    await quarantine('object', `parser failed: ${(err as Error).message}`, '');
  }
  const damage = content.error();
  if (damage) {
    summary.damaged_objects += 1;
    await quarantine(`byte ${content.bytesRead} of the stored object`, damage.message, '');
  }
  summary.records += entry.records;
  summary.written += entry.written;
  summary.quarantined += entry.quarantined;
  summary.filtered += entry.filtered;
  await batch.manifest.write(entry);
  return entry;
}

/** A row without a valid time cannot be placed in a day partition: its record is quarantined. */
function acceptItem(item: ParsedItem): ParsedItem {
  if (item.kind !== 'rows') return item;
  const bad = item.rows.find((r: TableRow) => !(r.row.time instanceof Date) || Number.isNaN(r.row.time.getTime()));
  if (!bad) return item;
  const raw = typeof bad.row.raw === 'string' ? bad.row.raw : '';
  return { kind: 'quarantine', position: 'record', reason: `normalized ${bad.table} row has no valid time`, text: raw };
}
