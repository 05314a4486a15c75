import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { JsonlFile } from './lake/jsonl-file';
import type { RowSpiller, Spills } from './lake/row-spiller';
import { detectObject } from './detect';
import { IN_MEMORY_LIMIT, ObjectContent, loadIntoMemory, objectFromKey, sha256Of } from './objects';
import { quarantine, type ParsedItem } from './sources/types';
import { oversizeFile, quarantineFile } from '../src/core/lake-layout';
import type { SourceId } from '../src/generated/sources';

/** One object to read into the current transaction; plain data, so it can cross to a worker. */
export interface ObjectJob {
  key: string;
  size: number;
  /** The source to read it with; detected from its content when absent. */
  forced?: SourceId;
  /** Staging folder of the transaction the rows belong to. */
  txnDir: string;
  txnId: string;
}

/**
 * Asks the coordinator whether this content is new to the lake (and to this run). Only one
 * object with given bytes is ever read, however many names it has.
 */
export type ClaimContent = (sha256: string) => Promise<boolean>;

export interface ObjectResult {
  sha256: string;
  /** 'duplicate': the lake (or this run) already has these bytes; nothing was read. */
  status: 'ingested' | 'skipped' | 'duplicate';
  source: SourceId | null;
  /** Why an object was skipped (a digest, an empty or unrecognized object). */
  reason?: string;
  records: number;
  written: number;
  quarantined: number;
  filtered: number;
  /** Rows staged (a record may give more than one: a console login lands in two tables). */
  rows: number;
  /** Read errors and parser failures that cut the object short (each also quarantined). */
  damaged: number;
}

/**
 * Reads objects with their source into a RowSpiller, writing quarantined records and oversized
 * raw records to this thread's own files in the transaction's staging folder.
 */
export class ObjectReader {
  private txnDir = '';
  private quarantine: JsonlFile | null = null;
  private oversize: JsonlFile | null = null;

  constructor(private readonly spiller: RowSpiller) {}

  /**
   * Hashes, claims, detects and parses one object. Small objects are read from storage once and
   * kept in memory for all four steps.
   */
  async read(job: ObjectJob, claim: ClaimContent): Promise<ObjectResult> {
    const stored = objectFromKey(job.key, job.size);
    const object = job.size <= IN_MEMORY_LIMIT ? await loadIntoMemory(stored) : stored;
    const sha256 = await sha256Of(object);
    const result: ObjectResult = {
      sha256,
      status: 'ingested',
      source: null,
      records: 0,
      written: 0,
      quarantined: 0,
      filtered: 0,
      rows: 0,
      damaged: 0,
    };
    if (!(await claim(sha256))) return { ...result, status: 'duplicate' };

    this.useTransaction(job);
    const quarantine = this.quarantine!;
    const oversize = this.oversize!;
    const setAside = (position: string, reason: string, text: string) =>
      quarantine.write({ object: job.key, sha256, source: result.source, position, reason, text });

    const verdict = await detectObject(object, job.forced);
    if (verdict.kind !== 'source') {
      // A digest is skipped quietly; an object nobody recognizes is named in the quarantine.
      if (verdict.kind === 'unknown') await setAside('object', verdict.reason, '');
      return { ...result, status: 'skipped', reason: verdict.reason };
    }
    const source = verdict.source;
    result.source = source.id;
    const content = new ObjectContent(object);
    try {
      for await (const parsed of source.parse(content, { key: job.key })) {
        result.records += 1;
        const item = requireTime(parsed);
        if (item.kind === 'rows') {
          for (const row of item.rows) {
            const moved = this.spiller.append(row, source.id);
            if (moved) await oversize.write({ object: job.key, sha256, ...moved });
          }
          result.rows += item.rows.length;
          result.written += 1;
          if ((result.written & 0x3ff) === 0) await this.spiller.spillIfLarge();
        } else if (item.kind === 'quarantine') {
          await setAside(item.position, item.reason, item.text);
          result.quarantined += 1;
        } else {
          result.filtered += 1;
        }
      }
    } catch (err) {
      // A parser bug must not cost the rest of the run; the object is named with the failure.
      result.damaged += 1;
      await setAside('object', `parser failed: ${(err as Error).message}`, '');
    }
    const damage = content.error();
    if (damage) {
      result.damaged += 1;
      await setAside(`byte ${content.bytesRead} of the stored object`, damage.message, '');
    }
    await this.spiller.spillIfLarge();
    return result;
  }

  /** Ends the transaction: closes this thread's files and hands over every staged row as spill files. */
  async endTransaction(): Promise<Spills> {
    await Promise.all([this.quarantine?.close(), this.oversize?.close()]);
    this.quarantine = this.oversize = null;
    this.txnDir = '';
    return this.spiller.takeSpills();
  }

  private useTransaction(job: ObjectJob): void {
    if (this.txnDir === job.txnDir) return;
    this.txnDir = job.txnDir;
    const writer = `t${threadId}`;
    this.quarantine = new JsonlFile(join(job.txnDir, quarantineFile(job.txnId, writer)));
    this.oversize = new JsonlFile(join(job.txnDir, oversizeFile(job.txnId, writer)));
  }
}

/** A row whose time is an Invalid Date cannot be placed in a day partition: its record is quarantined. */
function requireTime(item: ParsedItem): ParsedItem {
  if (item.kind !== 'rows') return item;
  const bad = item.rows.find((r) => Number.isNaN(r.row.time.getTime()));
  if (!bad) return item;
  return quarantine('record', `normalized ${bad.table} row has no valid time`, bad.row.raw ?? '');
}
