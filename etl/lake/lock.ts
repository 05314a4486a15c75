import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LOCK_DIR, lockTokenFile, tokenOfLockFile } from '../../src/core/lake-layout';
import { lakeStoreFor, type LakeStore } from './store';

export interface LockOptions {
  /** Keep trying this long while another writer holds the lock (default 0: fail at once). */
  waitMs?: number;
}

/** The lake's writer lock, held. */
export interface LakeLock {
  /** The fencing token: greater than the token of every writer that held the lake before. */
  readonly token: number;
  /**
   * Renews the lease and fails with LockLostError unless this lock is still the lake's (no later
   * token exists). A writer calls it right before its commit point, so a writer that stalled past
   * its lease while another took over commits nothing.
   */
  check(): Promise<void>;
  /** Gives the lock up (the token file is kept, marked released, so tokens only grow). */
  release(): Promise<void>;
}

export class LockHeldError extends Error {}

/** This writer's lease ran out and another writer took the lake over. */
export class LockLostError extends Error {}

interface LockRecord {
  token: number;
  owner: string;
  host: string;
  pid: number;
  acquired: string;
  expires: string;
  released?: string;
}

/** How long a lease lasts without renewal: longer than a Lambda invocation can run (15 min). */
function leaseMs(): number {
  return Number(process.env.SCOUTQL_LOCK_LEASE_MS) || Number(process.env.SCOUTQL_S3_LOCK_LEASE_MS) || 20 * 60 * 1000;
}

/**
 * One writer per lake at a time, local or on S3, the same way: a lock is a file
 * `_locks/<token>.json` holding `{ token, owner, host, pid, expires }`, and the lake's lock is the
 * one with the highest token.
 *
 * To take it, a writer reads the highest token's file: a live lease refuses; a released one, an
 * expired one, or one whose process on this machine is gone (a killed run) is free. It then
 * creates the next token's file with an atomic exclusive create (a hard link locally, a PUT with
 * If-None-Match: * on S3): of writers racing for the same token exactly one wins, the others look
 * again and find it held. The winner reads its file back and checks no later token exists (which
 * also covers S3-compatible stores that ignore the condition), and renews its lease while it
 * works. Token files are never reused, so the token is a fencing token: `check()` before every
 * commit point refuses a writer whose lease ran out and whose lake someone else took.
 */
export async function acquireLakeLock(lake: string | LakeStore, options: LockOptions = {}): Promise<LakeLock> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return await takeLock(store);
    } catch (err) {
      if (!(err instanceof LockHeldError) || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
    }
  }
}

async function lockTokens(store: LakeStore): Promise<number[]> {
  return (await store.listFiles(LOCK_DIR))
    .map(tokenOfLockFile)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
}

async function readRecord(store: LakeStore, token: number): Promise<LockRecord | null | 'unreadable'> {
  const text = await store.readText(lockTokenFile(token));
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as LockRecord;
    return typeof record.owner === 'string' && typeof record.expires === 'string' ? record : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a lock record still holds the lake, or null when it is free. */
function holding(record: LockRecord): string | null {
  if (record.released) return null;
  // A holder on this machine whose process is gone (a killed run) is known dead before its lease ends.
  if (record.host === hostname() && !isAlive(record.pid)) return null;
  if (Date.parse(record.expires) <= Date.now()) return null;
  return `${record.host} pid ${record.pid} (lock token ${record.token}, lease until ${record.expires})`;
}

async function takeLock(store: LakeStore): Promise<LakeLock> {
  const owner = randomBytes(8).toString('hex');
  for (let attempt = 0; attempt < 8; attempt++) {
    const tokens = await lockTokens(store);
    const top = tokens.at(-1) ?? 0;
    if (top > 0) {
      const current = await readRecord(store, top);
      if (current === null) continue; // removed as we looked (an older token being tidied): look again
      // An unreadable lock file cannot hold anything (files are created whole); its token is still spent.
      const held = current === 'unreadable' ? null : holding(current);
      if (held) {
        throw new LockHeldError(
          `lake ${store.location} is being written by ${held}; wait, or remove ${store.url(lockTokenFile(top))} if that writer is gone`,
        );
      }
    }
    const token = top + 1;
    const record: LockRecord = {
      token,
      owner,
      host: hostname(),
      pid: process.pid,
      acquired: new Date().toISOString(),
      expires: new Date(Date.now() + leaseMs()).toISOString(),
    };
    if (!(await store.createText(lockTokenFile(token), JSON.stringify(record)))) continue; // another writer took this token
    const mine = await readRecord(store, token);
    const latest = (await lockTokens(store)).at(-1);
    if (mine === null || mine === 'unreadable' || mine.owner !== owner || latest !== token) {
      throw new LockHeldError(`lake ${store.location}: another writer took the lock at the same moment; retry`);
    }
    // Earlier tokens are history now; the latest stays, so tokens never go back.
    await store.remove(tokens.map(lockTokenFile)).catch(() => undefined);
    return new HeldLock(store, record);
  }
  throw new LockHeldError(`lake ${store.location}: other writers kept taking the lock; retry`);
}

class HeldLock implements LakeLock {
  private readonly renewal: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private done = false;

  constructor(
    private readonly store: LakeStore,
    private record: LockRecord,
  ) {
    this.renewal = setInterval(() => void this.renew().catch(() => undefined), Math.min(60_000, leaseMs() / 3));
    this.renewal.unref();
  }

  get token(): number {
    return this.record.token;
  }

  private renew(): Promise<void> {
    if (this.done) return this.writing;
    this.record = { ...this.record, expires: new Date(Date.now() + leaseMs()).toISOString() };
    const text = JSON.stringify(this.record);
    this.writing = this.writing.then(() => this.store.writeText(lockTokenFile(this.record.token), text));
    return this.writing;
  }

  async check(): Promise<void> {
    if (this.done) throw new LockLostError(`lake ${this.store.location}: the lock (token ${this.token}) was already released`);
    await this.renew();
    const latest = (await lockTokens(this.store)).at(-1) ?? 0;
    const mine = await readRecord(this.store, this.token);
    if (latest !== this.token || mine === null || mine === 'unreadable' || mine.owner !== this.record.owner) {
      throw new LockLostError(
        `lake ${this.store.location}: this writer's lock (token ${this.token}) was taken over (latest token ${latest}) after its lease ran out; nothing more is committed`,
      );
    }
  }

  async release(): Promise<void> {
    if (this.done) return;
    this.done = true;
    clearInterval(this.renewal);
    await this.writing.catch(() => undefined);
    const mine = await readRecord(this.store, this.token);
    if (mine === null || mine === 'unreadable' || mine.owner !== this.record.owner) return;
    await this.store.writeText(lockTokenFile(this.token), JSON.stringify({ ...this.record, released: new Date().toISOString() }));
  }
}
