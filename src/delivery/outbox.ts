/**
 * The outbox in the lake (`_outbox/`, src/core/lake-layout.ts): what each destination still owes,
 * kept on disk so a crash anywhere between detection and delivery loses nothing.
 *
 *   _outbox/<destination>/since            findings first reported before this time are not sent (set up time)
 *   _outbox/<destination>/ledger.jsonl     ids of every finding ever queued for it (never queued twice)
 *   _outbox/<destination>/pending/<k>.json one per finding still to send: payload, attempts, next attempt
 *   _outbox/<destination>/failed/<k>.json  given up on (refused, or out of attempts), with the last error
 *   _outbox/<destination>/delivered.jsonl  one line per finding sent (id, time, attempts)
 *   _outbox/<destination>/lock             the process delivering now (pid), so two never send at once
 *
 * The findings table is the source of truth: `queue` compares it with the ledger, so a run that
 * crashed after detection and before queueing queues on the next run. A pending file is deleted
 * only after the destination accepted it: a crash mid-send sends it again (at least once; the
 * idempotency key, the finding id, lets the receiver drop the repeat). Local lakes only.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../core/hash';
import { outboxDestinationPath } from '../core/lake-layout';
import type { OcsfDetectionFinding } from './ocsf';

export interface OutboxEntry {
  /** The idempotency key sent with every attempt: the finding id. */
  key: string;
  destination: string;
  payload: OcsfDetectionFinding;
  queuedAt: string;
  attempts: number;
  /** ISO time of the next attempt. */
  nextAttemptAt: string;
  lastError?: string;
}

export class DestinationOutbox {
  readonly dir: string;

  constructor(
    lake: string,
    readonly destination: string,
  ) {
    if (lake.startsWith('s3://')) throw new Error('delivery keeps its outbox in a local lake; s3:// lakes are not supported yet');
    this.dir = join(lake, ...outboxDestinationPath(destination).split('/'));
  }

  /** When this destination was set up (its `since` file, written now if missing). */
  since(now: Date): Date {
    const file = join(this.dir, 'since');
    if (!existsSync(file)) {
      mkdirSync(this.dir, { recursive: true });
      atomicWrite(file, now.toISOString() + '\n');
    }
    const since = new Date(readFileSync(file, 'utf8').trim());
    if (Number.isNaN(since.getTime())) throw new Error(`${file} does not hold a time`);
    return since;
  }

  ledger(): Set<string> {
    const file = join(this.dir, 'ledger.jsonl');
    if (!existsSync(file)) return new Set();
    const ids = new Set<string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      // A crash mid-append can leave a torn last line: that id is simply queued again.
      try {
        const id = (JSON.parse(line) as { id?: unknown }).id;
        if (typeof id === 'string') ids.add(id);
      } catch {
        continue;
      }
    }
    return ids;
  }

  /** Writes the entries' pending files, then records their ids in the ledger (in that order: see the header). */
  queue(entries: readonly OutboxEntry[]): void {
    if (entries.length === 0) return;
    mkdirSync(join(this.dir, 'pending'), { recursive: true });
    for (const entry of entries) atomicWrite(this.pendingFile(entry.key), JSON.stringify(entry));
    appendFileSync(join(this.dir, 'ledger.jsonl'), entries.map((e) => JSON.stringify({ id: e.key, queuedAt: e.queuedAt }) + '\n').join(''));
  }

  pending(): OutboxEntry[] {
    const dir = join(this.dir, 'pending');
    if (!existsSync(dir)) return [];
    const entries: OutboxEntry[] = [];
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.json')) continue;
      try {
        entries.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as OutboxEntry);
      } catch (err) {
        // Files are replaced by rename, so a damaged one was damaged from outside: set it aside, named.
        this.setAsideUnreadable(name, (err as Error).message);
      }
    }
    // Oldest finding first, whatever the file names (hashes) sort as.
    return entries.sort((a, b) => a.payload.time - b.payload.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  failed(): OutboxEntry[] {
    const dir = join(this.dir, 'failed');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as OutboxEntry);
  }

  delivered(): { id: string; at: string; attempts: number }[] {
    const file = join(this.dir, 'delivered.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; at: string; attempts: number });
  }

  /** Records the next attempt of an entry (the pending file is replaced whole). */
  reschedule(entry: OutboxEntry): void {
    atomicWrite(this.pendingFile(entry.key), JSON.stringify(entry));
  }

  /** The destination accepted it: logged, then the pending file goes. */
  markDelivered(entry: OutboxEntry, at: Date): void {
    appendFileSync(
      join(this.dir, 'delivered.jsonl'),
      JSON.stringify({ id: entry.key, at: at.toISOString(), attempts: entry.attempts }) + '\n',
    );
    rmSync(this.pendingFile(entry.key), { force: true });
  }

  /** Given up on: moved to failed/ with its last error. */
  markFailed(entry: OutboxEntry): void {
    mkdirSync(join(this.dir, 'failed'), { recursive: true });
    atomicWrite(join(this.dir, 'failed', fileName(entry.key)), JSON.stringify(entry));
    rmSync(this.pendingFile(entry.key), { force: true });
  }

  /**
   * Takes the destination's lock for this process. A lock whose process is gone (a crash) is taken
   * over; one held by a live process is refused.
   */
  lock(): () => void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, 'lock');
    for (let tries = 0; tries < 2; tries++) {
      try {
        const fd = openSync(file, 'wx');
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(file, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
          throw new Error(`the outbox of destination '${this.destination}' is being delivered by process ${holder}`);
        rmSync(file, { force: true });
      }
    }
    throw new Error(`could not lock the outbox of destination '${this.destination}'`);
  }

  private pendingFile(key: string): string {
    return join(this.dir, 'pending', fileName(key));
  }

  private setAsideUnreadable(name: string, reason: string): void {
    mkdirSync(join(this.dir, 'failed'), { recursive: true });
    renameSync(join(this.dir, 'pending', name), join(this.dir, 'failed', `${name}.unreadable`));
    appendFileSync(join(this.dir, 'failed', 'unreadable.log'), `${name}: ${reason}\n`);
  }
}

/** Finding ids can hold any character: files are named by their hash. */
function fileName(key: string): string {
  return `${sha256Hex(key).slice(0, 40)}.json`;
}

function atomicWrite(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
