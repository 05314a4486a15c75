/**
 * Pins and notes of an investigation, kept in the lake beside the data (`_investigations/`, a local
 * folder or an S3 prefix): every change is one small immutable JSON object, created whole and only
 * if absent, so two analysts (or two servers) writing at once never overwrite each other, and a
 * reader never sees half a change.
 *
 *   _investigations/<investigation>/<seq, 12 digits>.json
 *
 * Each change names the SHA-256 of the one before it (the first names none), like the lake's commit
 * chain and the audit trail: replaying the changes in order gives the pins, and an edited, removed
 * or inserted change breaks the chain and is reported, not silently read.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../store/object-store';

export const INVESTIGATION_FORMAT = 'scoutql-investigation/1';

/** An investigation id as it appears in URLs and object names: letters, digits, . _ - (1–64, not starting with . or -). */
export const INVESTIGATION_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** Longest note kept. */
export const MAX_NOTE_CHARS = 4000;

export type ChangeAction = 'pin' | 'note' | 'unpin';

export interface ChangeAuthor {
  subject: string;
  role: string;
  name?: string;
}

/** One change as stored. */
export interface InvestigationChange {
  format: typeof INVESTIGATION_FORMAT;
  investigation: string;
  seq: number;
  /** Hex SHA-256 of the previous change's bytes; null for the first. */
  prev: string | null;
  at: string;
  by: ChangeAuthor;
  action: ChangeAction;
  eventId: string;
  /** The pinned event's time and account (pin only; later changes keep the pin's). */
  time?: string;
  account?: string;
  /** pin (optional) and note: the note's text ('' clears it). */
  note?: string;
}

/** A pinned event as the replayed changes leave it. */
export interface Pin {
  eventId: string;
  time: string;
  account: string;
  note: string | null;
  pinnedBy: ChangeAuthor;
  pinnedAt: string;
  notedBy: ChangeAuthor | null;
  notedAt: string | null;
}

export interface StoredChange {
  /** Object name below the store root. */
  name: string;
  sha256: string;
  change: InvestigationChange;
}

export class InvestigationError extends Error {}

const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function changeName(investigation: string, seq: number): string {
  return `${investigation}/${String(seq).padStart(12, '0')}.json`;
}

/** How many times a writer that lost a race for the next sequence number (to another server) reads again and retries. */
const WRITE_ATTEMPTS = 20;

export class InvestigationStore {
  /** Changes are immutable: each is read once per process. */
  private readonly cache = new Map<string, StoredChange>();
  /** Writes of this process, one at a time per investigation: only other servers race for a sequence number. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly store: ObjectStore) {}

  /** The chain of an investigation, checked, oldest first. */
  async changes(investigation: string): Promise<StoredChange[]> {
    checkInvestigation(investigation);
    const names = (await this.store.list(investigation)).filter((n) => /^[^/]+\/\d{12}\.json$/.test(n));
    const out: StoredChange[] = [];
    let prev: string | null = null;
    for (const [i, name] of names.entries()) {
      let stored = this.cache.get(name);
      if (!stored) {
        const bytes = await this.store.read(name);
        if (!bytes) throw new InvestigationError(`investigation ${investigation}: ${name} disappeared while it was read`);
        const change = parseChange(bytes, name);
        stored = { name, sha256: sha256Hex(bytes), change };
        this.cache.set(name, stored);
      }
      const { change } = stored;
      if (change.seq !== i + 1 || change.investigation !== investigation || name !== changeName(investigation, change.seq))
        throw new InvestigationError(`investigation ${investigation}: ${name} is out of sequence (a change is missing or was added)`);
      if (change.prev !== prev)
        throw new InvestigationError(`investigation ${investigation}: ${name} does not follow the change before it (edited or replaced)`);
      prev = stored.sha256;
      out.push(stored);
    }
    return out;
  }

  /** The pins the changes leave, oldest pin first. */
  async pins(investigation: string): Promise<Pin[]> {
    return replay((await this.changes(investigation)).map((s) => s.change));
  }

  /**
   * Appends one change (after `check` accepts the pins as they are), created only if its sequence
   * number is free: a writer that loses the race reads the chain again and tries the next one.
   */
  append(
    investigation: string,
    change: Omit<InvestigationChange, 'format' | 'investigation' | 'seq' | 'prev' | 'at'>,
    check: (pins: Pin[]) => void = () => {},
  ): Promise<{ stored: StoredChange; pins: Pin[] }> {
    checkInvestigation(investigation);
    const previous = this.queues.get(investigation) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.appendNow(investigation, change, check));
    const settled = mine.catch(() => undefined);
    this.queues.set(investigation, settled);
    void settled.then(() => {
      if (this.queues.get(investigation) === settled) this.queues.delete(investigation);
    });
    return mine;
  }

  private async appendNow(
    investigation: string,
    change: Omit<InvestigationChange, 'format' | 'investigation' | 'seq' | 'prev' | 'at'>,
    check: (pins: Pin[]) => void,
  ): Promise<{ stored: StoredChange; pins: Pin[] }> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      // Lost a race: wait a little (random, growing) before reading the chain again.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt, 5)));
      const chain = await this.changes(investigation);
      const before = replay(chain.map((s) => s.change));
      check(before);
      const full: InvestigationChange = {
        format: INVESTIGATION_FORMAT,
        investigation,
        seq: chain.length + 1,
        prev: chain.at(-1)?.sha256 ?? null,
        at: new Date().toISOString(),
        ...change,
      };
      const name = changeName(investigation, full.seq);
      const text = JSON.stringify(full) + '\n';
      if (await this.store.write(name, text, { ifAbsent: true })) {
        const stored = { name, sha256: sha256Hex(text), change: full };
        this.cache.set(name, stored);
        return { stored, pins: replay([...chain.map((s) => s.change), full]) };
      }
    }
    throw new InvestigationError(`investigation ${investigation}: too many writers at once; try again`);
  }
}

export function checkInvestigation(id: string): string {
  if (!INVESTIGATION_ID.test(id))
    throw new InvestigationError(`investigation id '${id.slice(0, 80)}' must be 1–64 letters, digits, . _ - (not starting with . or -)`);
  return id;
}

function replay(changes: readonly InvestigationChange[]): Pin[] {
  const pins = new Map<string, Pin>();
  for (const c of changes) {
    if (c.action === 'pin') {
      if (pins.has(c.eventId) || c.time === undefined || c.account === undefined) continue;
      const note = c.note ? c.note : null;
      pins.set(c.eventId, {
        eventId: c.eventId,
        time: c.time,
        account: c.account,
        note,
        pinnedBy: c.by,
        pinnedAt: c.at,
        notedBy: note === null ? null : c.by,
        notedAt: note === null ? null : c.at,
      });
    } else if (c.action === 'unpin') {
      pins.delete(c.eventId);
    } else {
      const pin = pins.get(c.eventId);
      if (!pin) continue;
      pins.set(c.eventId, { ...pin, note: c.note ? c.note : null, notedBy: c.by, notedAt: c.at });
    }
  }
  return [...pins.values()];
}

function parseChange(bytes: Buffer, name: string): InvestigationChange {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvestigationError(`${name} is not JSON`);
  }
  const v = value as Partial<InvestigationChange> | null;
  const ok =
    v !== null &&
    typeof v === 'object' &&
    v.format === INVESTIGATION_FORMAT &&
    typeof v.investigation === 'string' &&
    typeof v.seq === 'number' &&
    (v.prev === null || (typeof v.prev === 'string' && /^[0-9a-f]{64}$/.test(v.prev))) &&
    typeof v.at === 'string' &&
    typeof v.by === 'object' &&
    v.by !== null &&
    typeof v.by.subject === 'string' &&
    (v.action === 'pin' || v.action === 'note' || v.action === 'unpin') &&
    typeof v.eventId === 'string' &&
    (v.note === undefined || typeof v.note === 'string');
  if (!ok) throw new InvestigationError(`${name} is not an investigation change`);
  return v as InvestigationChange;
}
