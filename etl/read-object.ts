import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { threadId } from 'node:worker_threads';
import { JsonlFile } from './lake/jsonl-file';
import type { RowSpiller, Spills } from './lake/row-spiller';
import { detectObject } from './detect';
import { IN_MEMORY_LIMIT, ObjectContent, contentInMemory, loadIntoMemory, objectFromKey, sha256Of, type ObjectRef } from './objects';
import { DEFAULT_READ_LIMITS, ObjectLimitError, ReadState, type ReadLimits } from './readers/read-state';
import { PROVIDER_LOGS_SINCE, quarantine, type LogSource, type ParsedItem, type Provider, type SqlMapping } from './sources/types';
import { SQL_MAX_OBJECT_BYTES, SQL_MAX_RECORD_CHARS, SqlBatch } from './sql-ingest';
import type { GeoIp } from '../src/core/geoip';
import { oversizeFile, quarantineFile } from '../src/core/lake-layout';
import type { SourceId } from '../src/generated/sources';

/** One object to read into the current transaction; plain data, so it can cross to a worker. */
export interface ObjectJob {
  key: string;
  size: number;
  /** The object's number in the run: its rows carry it, so publishing can drop or count them by object. */
  index: number;
  /** The source to read it with; detected from its content when absent. */
  forced?: SourceId;
  /** Options given for sources (by source id), handed to the parser that reads the object. */
  sourceOptions?: Partial<Record<SourceId, Record<string, string>>>;
  /** Limits the object is held to (default DEFAULT_READ_LIMITS). */
  limits?: ReadLimits;
  /** Staging folder of the transaction the rows belong to. */
  txnDir: string;
  txnId: string;
  /** Event times outside these bounds are quarantined; null keeps every valid time (see IngestOptions.outlierTimes). */
  timeBounds: TimeBounds | null;
  /** false: never the SQL path (etl/sql-ingest.ts), every object through its source's parser. Default true. */
  sqlIngest?: boolean | 'all';
}

/** Plausible event times: not after `notAfterMs`, and not before the provider could have logged. */
export interface TimeBounds {
  /** Epoch milliseconds: the run's start plus a day (clocks and delivery are never that far ahead). */
  notAfterMs: number;
}

/**
 * Asks the coordinator whether this content should be read: it is new to the lake and the run,
 * or the lake skipped it before and the user asked to read it again. Only one object with given
 * bytes is ever read, however many names it has.
 */
export type ClaimContent = (sha256: string) => Promise<boolean>;

export interface ObjectResult {
  /** The content hash ('' when the object could not be read at all). */
  sha256: string;
  /**
   * 'duplicate': the lake (or this run) already has these bytes; nothing was read.
   * 'quarantined': the object broke a limit or could not be read: it is quarantined whole, none of its rows is kept.
   */
  status: 'ingested' | 'skipped' | 'duplicate' | 'quarantined';
  source: SourceId | null;
  /** Why an object was skipped or quarantined (a digest, an empty or unrecognized object, a limit, a read error). */
  reason?: string;
  records: number;
  written: number;
  quarantined: number;
  filtered: number;
  /** Rows staged (a record may give more than one: a console login lands in two tables). */
  rows: number;
  /** Read errors and parser failures that cut the object short, or a whole-object quarantine. */
  damaged: number;
  /** Records that held bytes that are not UTF-8 (their rows are flagged 'invalid-utf8'). */
  invalidUtf8: number;
  /**
   * The object waits in the SQL path's batch: its counts are zero here (`rows` is an estimate, for
   * the commit's size) and its final result comes with the transaction's end (ObjectReader.endTransaction).
   */
  deferred?: true;
  /** Its records were parsed and normalized in SQL (a deferred object's final result). */
  sql?: true;
  /** How many of them DuckDB mapped (the others, when any, were read by the parser one by one). */
  sqlRecords?: number;
}

/** An object read and hashed (ObjectReader.prepare), waiting to be parsed; or why it could not be read. */
export type PreparedObject =
  { job: ObjectJob; object: ObjectRef; sha256: string; claimed: boolean } | { job: ObjectJob; unreadable: string };

/** What the SQL path needs to hand an object back to the parser. */
interface Deferred {
  job: ObjectJob;
  sha256: string;
  source: LogSource;
  object: ObjectRef;
  result: ObjectResult;
}

/**
 * Reads objects with their source into a RowSpiller, writing quarantined records and oversized
 * raw records to this thread's own files in the transaction's staging folder.
 */
export class ObjectReader {
  private txnDir = '';
  private quarantine: JsonlFile | null = null;
  private oversize: JsonlFile | null = null;
  private readonly sqlBatch: SqlBatch<Deferred>;
  /** Final results of objects the SQL path deferred, by index, until the transaction ends. */
  private finished: Array<[number, ObjectResult]> = [];

  /** `geoip`: fills the enrichment columns of every row after parsing (null: left empty). */
  constructor(
    private readonly spiller: RowSpiller,
    /** Scratch folder for records set aside while an object is read (kept only if the object is). */
    private readonly tempDir: string,
    private readonly geoip: GeoIp | null = null,
  ) {
    this.sqlBatch = new SqlBatch(spiller, geoip);
  }

  /**
   * Hashes, claims, detects and parses one object. Small objects are read from storage once and
   * kept in memory for all four steps. An object that cannot be read, or that breaks a limit, is
   * quarantined whole and the run goes on.
   */
  async read(job: ObjectJob, claim: ClaimContent): Promise<ObjectResult> {
    return this.finish(await this.prepare(job, claim));
  }

  /**
   * The first half of `read`: loads (when small) and hashes the object and asks the coordinator for
   * it. It touches no state of the reader, so a worker runs it for its next object while it still
   * parses the current one: the storage read and the claim's round trip to the main thread overlap
   * the parsing instead of leaving the worker idle.
   */
  async prepare(job: ObjectJob, claim: ClaimContent): Promise<PreparedObject> {
    let object: ObjectRef;
    let sha256: string;
    try {
      const stored = objectFromKey(job.key, job.size);
      object = job.size <= IN_MEMORY_LIMIT ? await loadIntoMemory(stored) : stored;
      sha256 = await sha256Of(object);
    } catch (err) {
      // Gone since it was listed, unreadable (EACCES, AccessDenied): named and counted, never fatal.
      return { job, unreadable: `unreadable: ${(err as Error).message}` };
    }
    return { job, object, sha256, claimed: await claim(sha256) };
  }

  /** The second half of `read`: detects and parses a prepared object (one at a time, in the order they were handed out). */
  async finish(prepared: PreparedObject): Promise<ObjectResult> {
    const job = prepared.job;
    const result: ObjectResult = {
      sha256: '',
      status: 'ingested',
      source: null,
      records: 0,
      written: 0,
      quarantined: 0,
      filtered: 0,
      rows: 0,
      damaged: 0,
      invalidUtf8: 0,
    };
    this.useTransaction(job);
    const quarantineFile = this.quarantine!;
    if ('unreadable' in prepared) {
      const reason = prepared.unreadable;
      await quarantineFile.write({ object: job.key, sha256: null, source: null, position: 'object', reason, text: '' });
      return { ...result, status: 'quarantined', reason, damaged: 1 };
    }
    const { object, sha256 } = prepared;
    result.sha256 = sha256;
    if (!prepared.claimed) return { ...result, status: 'duplicate' };

    const verdict = await detectObject(object, job.forced);
    if (verdict.kind !== 'source') {
      // A digest is skipped quietly; an object nobody recognizes is named in the quarantine.
      if (verdict.kind === 'unknown')
        await quarantineFile.write({ object: job.key, sha256, source: null, position: 'object', reason: verdict.reason, text: '' });
      return { ...result, status: 'skipped', reason: verdict.reason };
    }
    const source = verdict.source;
    result.source = source.id;
    if (source.sql && job.sqlIngest !== false && (!source.sql.optIn || job.sqlIngest === 'all')) {
      const deferred = await this.trySql(job, sha256, source, source.sql, object, result);
      if (deferred) return deferred;
    }
    return this.parse(job, sha256, source, object, result);
  }

  /**
   * Puts the object in the SQL path's batch when its source's mapping plans it: whole in memory,
   * UTF-8, within the limits. Returns its provisional result, or null (the parser reads it).
   */
  private async trySql(
    job: ObjectJob,
    sha256: string,
    source: LogSource,
    mapping: SqlMapping,
    object: ObjectRef,
    result: ObjectResult,
  ): Promise<ObjectResult | null> {
    const limits = job.limits ?? DEFAULT_READ_LIMITS;
    const content = contentInMemory(object, Math.min(limits.maxObjectBytes, SQL_MAX_OBJECT_BYTES));
    if (!content || !isUtf8(content)) return null;
    const text = content.toString('utf8');
    const options = job.sourceOptions?.[source.id];
    const plan = mapping.plan(text, { key: job.key, ...(options ? { options } : {}) });
    if (!plan) return null;
    // A record past the limit makes the parser refuse the whole object: so does this path.
    if (plan.records?.some((record) => record.text.length > limits.maxRecordBytes)) return null;
    if (plan.records && plan.records.reduce((sum, record) => sum + record.text.length, 0) > SQL_MAX_RECORD_CHARS) return null;
    const since = Date.parse(`${PROVIDER_LOGS_SINCE[source.manifest.provider]}T00:00:00Z`);
    const full = this.sqlBatch.add({
      index: job.index,
      source,
      plan,
      maxRecordChars: limits.maxRecordBytes,
      bounds: job.timeBounds ? { sinceMs: since, notAfterMs: job.timeBounds.notAfterMs } : null,
      context: { job, sha256, source, object, result },
    });
    if (full) await this.flushSql();
    let lines = plan.records?.length ?? 0;
    for (let at = plan.body.indexOf('\n'); at !== -1; at = plan.body.indexOf('\n', at + 1)) lines++;
    return { ...result, rows: lines + 1, deferred: true };
  }

  /** Runs the SQL path's batch: objects it read are done; the others are read by their parser now. */
  private async flushSql(): Promise<void> {
    for (const outcome of await this.sqlBatch.flush()) {
      const { job, sha256, source, object, result } = outcome.pending.context;
      if (outcome.kind === 'sql') {
        const n = outcome.records;
        const read: ObjectResult = { ...result, records: n, written: n, rows: n, sql: true, sqlRecords: n };
        if (outcome.rejected.length === 0) this.finished.push([job.index, read]);
        else {
          // The records the mapping did not call valid, each read by the parser alone (counts add to the SQL's).
          const records = outcome.pending.plan.records!;
          const options = job.sourceOptions?.[source.id];
          const items = source.sql!.recordItems!(
            outcome.rejected.map((number) => records[number - 1]),
            { key: job.key, ...(options ? { options } : {}) },
          );
          this.finished.push([job.index, await this.parse(job, sha256, source, object, read, items)]);
        }
      } else {
        this.finished.push([job.index, await this.parse(job, sha256, source, object, { ...result })]);
      }
    }
  }

  /**
   * Reads a detected object with its source's parser (the per-record JavaScript path); or, given
   * `items`, writes those (what the parser made of some of its records) as it would.
   */
  private async parse(
    job: ObjectJob,
    sha256: string,
    source: LogSource,
    object: ObjectRef,
    result: ObjectResult,
    items?: Iterable<ParsedItem>,
  ): Promise<ObjectResult> {
    const quarantineFile = this.quarantine!;
    const oversize = this.oversize!;
    const setAside = new SetAside(join(this.tempDir, `set-aside-t${threadId}-${job.index}.jsonl`));
    const note = (position: string, reason: string, text: string) =>
      setAside.add({ object: job.key, sha256, source: result.source, position, reason, text });
    const state = new ReadState(job.limits ?? DEFAULT_READ_LIMITS);
    const content = new ObjectContent(object, state);
    const options = job.sourceOptions?.[source.id];
    const ctx = { key: job.key, ...(options ? { options } : {}) };
    /** Stages one item; returns a promise only when it has a file to write (the common record needs none). */
    const take = (parsed: ParsedItem): Promise<void> | null => {
      result.records += 1;
      const item = checkTime(parsed, job.timeBounds, source.manifest.provider);
      const flags = state.invalidUtf8 ? INVALID_UTF8 : null;
      if (flags) result.invalidUtf8 += 1;
      if (item.kind === 'rows') {
        let writes: Promise<void> | null = null;
        for (let i = 0; i < item.rows.length; i++) {
          const row = item.rows[i];
          // Findings (GuardDuty, Security Hub) keep the product's own view; events get the enrichment columns.
          const enrichment = this.geoip && row.table !== 'findings' ? this.geoip.enrichment(row.row.src_ip) : null;
          const moved = this.spiller.append(row, source.id, job.index, i === 0, flags, enrichment);
          if (moved) writes = (writes ?? Promise.resolve()).then(() => oversize.write({ object: job.key, sha256, ...moved }));
        }
        result.rows += item.rows.length;
        result.written += 1;
        if ((result.written & 0x3ff) === 0) writes = (writes ?? Promise.resolve()).then(() => this.spiller.spillIfLarge());
        return writes;
      }
      if (item.kind === 'quarantine') {
        result.quarantined += 1;
        return note(item.position, item.reason, item.text);
      }
      result.filtered += 1;
      return null;
    };
    try {
      // Content held whole is read without an async step per record when its source can (parseWhole).
      const whole = items ? null : source.parseWhole ? content.whole() : null;
      const heldItems = items ?? (whole && source.parseWhole!(whole, state, ctx));
      if (heldItems) {
        for (const parsed of heldItems) {
          const pending = take(parsed);
          if (pending) await pending;
        }
      } else {
        for await (const parsed of source.parse(content, ctx)) {
          const pending = take(parsed);
          if (pending) await pending;
        }
      }
    } catch (err) {
      if (err instanceof ObjectLimitError) {
        // Nothing of it is kept: its rows are dropped at publish (by its index), its set-aside records here.
        await setAside.discard();
        const reason = err.message;
        await quarantineFile.write({ object: job.key, sha256, source: source.id, position: 'object', reason, text: '' });
        await this.spiller.spillIfLarge();
        return {
          ...result,
          status: 'quarantined',
          reason,
          records: 0,
          written: 0,
          quarantined: 0,
          filtered: 0,
          rows: 0,
          damaged: 1,
          invalidUtf8: 0,
        };
      }
      // A parser bug must not cost the rest of the run; the object is named with the failure.
      result.damaged += 1;
      await note('object', `parser failed: ${(err as Error).message}`, '');
    }
    const damage = content.error();
    if (damage) {
      result.damaged += 1;
      await note(`byte ${content.bytesRead} of the stored object`, damage.message, '');
    }
    await setAside.keepIn(quarantineFile);
    await this.spiller.spillIfLarge();
    return result;
  }

  /**
   * Ends the transaction: runs what waits in the SQL path's batch, closes this thread's files and
   * hands over every staged row as spill files, with the final results of the objects it deferred.
   */
  async endTransaction(): Promise<{ spills: Spills; results: Array<[number, ObjectResult]> }> {
    if (this.sqlBatch.size > 0) await this.flushSql();
    const results = this.finished;
    this.finished = [];
    await Promise.all([this.quarantine?.close(), this.oversize?.close()]);
    this.quarantine = this.oversize = null;
    this.txnDir = '';
    return { spills: await this.spiller.takeSpills(), results };
  }

  private useTransaction(job: ObjectJob): void {
    if (this.txnDir === job.txnDir) return;
    this.txnDir = job.txnDir;
    const writer = `t${threadId}`;
    this.quarantine = new JsonlFile(join(job.txnDir, quarantineFile(job.txnId, writer)));
    this.oversize = new JsonlFile(join(job.txnDir, oversizeFile(job.txnId, writer)));
  }
}

const INVALID_UTF8: readonly string[] = ['invalid-utf8'];

/** Records set aside while one object is read: kept if the object is, dropped if it is quarantined whole. */
class SetAside {
  /** Set-aside lines held in memory up to this many characters; beyond, they go to a scratch file. */
  private static readonly IN_MEMORY = 4 * 1024 * 1024;
  private lines: string[] = [];
  private length = 0;
  private overflow: JsonlFile | null = null;

  constructor(private readonly scratch: string) {}

  async add(entry: object): Promise<void> {
    const line = JSON.stringify(entry);
    if (!this.overflow && this.length + line.length <= SetAside.IN_MEMORY) {
      this.lines.push(line);
      this.length += line.length;
      return;
    }
    this.overflow ??= new JsonlFile(this.scratch);
    await this.overflow.writeLine(line);
  }

  async keepIn(target: JsonlFile): Promise<void> {
    for (const line of this.lines) await target.writeLine(line);
    this.lines = [];
    if (!this.overflow) return;
    await this.overflow.close();
    for await (const line of createInterface({ input: createReadStream(this.scratch), crlfDelay: Infinity })) {
      if (line) await target.writeLine(line);
    }
    this.overflow = null;
    await rm(this.scratch, { force: true });
  }

  async discard(): Promise<void> {
    this.lines = [];
    if (!this.overflow) return;
    await this.overflow.close();
    this.overflow = null;
    await rm(this.scratch, { force: true });
  }
}

/**
 * A row whose time is an Invalid Date cannot be placed in a day partition, and one dated after the
 * bounds (more than a day after the run began) or before its provider existed would move every
 * "latest data" window or sit alone in a day of its own: its record is quarantined with the reason.
 */
function checkTime(item: ParsedItem, bounds: TimeBounds | null, provider: Provider): ParsedItem {
  if (item.kind !== 'rows') return item;
  const bad = item.rows.find((r) => Number.isNaN(r.row.time.getTime()));
  if (bad) return quarantine('record', `normalized ${bad.table} row has no valid time`, bad.row.raw ?? '');
  if (!bounds) return item;
  const since = Date.parse(`${PROVIDER_LOGS_SINCE[provider]}T00:00:00Z`);
  for (const { row } of item.rows) {
    const time = row.time.getTime();
    if (time > bounds.notAfterMs) {
      const reason = `event time ${row.time.toISOString()} is more than a day after the ingest began (${new Date(bounds.notAfterMs - DAY_MS).toISOString()}); ingest with outlier times kept (--keep-outlier-times) to store it`;
      return quarantine('record', reason, row.raw ?? '');
    }
    if (time < since) {
      const reason = `event time ${row.time.toISOString()} is before ${provider} could have logged it (${PROVIDER_LOGS_SINCE[provider]}); ingest with outlier times kept (--keep-outlier-times) to store it`;
      return quarantine('record', reason, row.raw ?? '');
    }
  }
  return item;
}

const DAY_MS = 86_400_000;
