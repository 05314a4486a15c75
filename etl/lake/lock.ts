import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCK_FILE } from '../../src/core/lake-layout';
import { LocalLakeStore, lakeStoreFor, type LakeStore, type S3LakeStore } from './store';
import { s3Client } from '../s3';

export interface LockOptions {
  /** Keep trying this long while another writer holds the lock (default 0: fail at once). */
  waitMs?: number;
}

/**
 * One writer per lake at a time.
 *
 * Local lake: the lock file names the holder's pid; a lock whose holder is gone (a killed run) is
 * taken over, since recovery makes the lake whole again.
 *
 * S3 lake (best effort): `_lock` is a lease `{ owner, host, pid, expires }`. A writer reads it
 * first (a live lease refuses; an expired one, or one whose process on this machine is gone, is
 * cleared), creates it with a conditional PUT (If-None-Match: *), then reads it back to check it
 * is the owner; it renews the lease while held. S3 honours the condition, which closes the race
 * between two writers; a store that ignores it leaves the window between the read and the PUT. Run
 * one writer per S3 lake (e.g. reserved concurrency 1 for the Lambda handler) and treat the lock as
 * the safety net.
 */
export async function acquireLakeLock(lake: string | LakeStore, options: LockOptions = {}): Promise<() => Promise<void>> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return store instanceof LocalLakeStore ? await acquireLocalLock(store) : await acquireS3Lock(store as S3LakeStore);
    } catch (err) {
      if (!(err instanceof LockHeldError) || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
    }
  }
}

export class LockHeldError extends Error {}

async function acquireLocalLock(store: LocalLakeStore): Promise<() => Promise<void>> {
  const lake = store.location;
  const lockFile = store.url(LOCK_FILE);
  await mkdir(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new LockHeldError(`lake ${lake} is being written by process ${holder}; wait for it or remove ${lockFile} if it is gone`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock lake ${lake}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Lease {
  owner: string;
  host: string;
  pid: number;
  expires: string;
}

/** How long an S3 lease lasts without renewal: longer than a Lambda invocation can run (15 min). */
function leaseMs(): number {
  return Number(process.env.SCOUTQL_S3_LOCK_LEASE_MS) || 20 * 60 * 1000;
}

async function acquireS3Lock(store: S3LakeStore): Promise<() => Promise<void>> {
  const owner = randomBytes(8).toString('hex');
  const lease = (): string =>
    JSON.stringify({ owner, host: hostname(), pid: process.pid, expires: new Date(Date.now() + leaseMs()).toISOString() } satisfies Lease);
  const key = `${store.prefix}${LOCK_FILE}`;
  const create = () => s3Client().send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: lease(), IfNoneMatch: '*' }));
  /** Refuses while a live writer holds the lease; clears a dead writer's. */
  const clearDeadLease = async () => {
    const current = parseLease(await store.readText(LOCK_FILE));
    if (!current) return;
    // A holder on this machine whose process is gone (a killed run) is known dead before its lease ends.
    const deadHere = current.host === hostname() && current.pid !== process.pid && !isAlive(current.pid);
    if (!deadHere && Date.parse(current.expires) > Date.now()) {
      throw new LockHeldError(
        `lake ${store.location} is being written by ${current.host} pid ${current.pid} (lease until ${current.expires}); wait, or delete ${store.url(LOCK_FILE)} if that writer is gone`,
      );
    }
    // Its writer died. Recovery (which runs next, under our lock) repairs the lake.
    await store.remove([LOCK_FILE]);
  };
  // Looking first costs a GET on S3, where the conditional PUT alone would do, but it keeps the
  // lock meaningful on S3-compatible stores that ignore If-None-Match.
  await clearDeadLease();
  try {
    await create();
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
    await clearDeadLease();
    await create();
  }
  const mine = parseLease(await store.readText(LOCK_FILE));
  if (mine?.owner !== owner) throw new LockHeldError(`lake ${store.location}: another writer took the lock at the same moment; retry`);
  const renew = setInterval(() => void store.writeText(LOCK_FILE, lease()).catch(() => undefined), Math.min(60_000, leaseMs() / 3));
  renew.unref();
  return async () => {
    clearInterval(renew);
    const held = parseLease(await store.readText(LOCK_FILE));
    if (held?.owner === owner) await store.remove([LOCK_FILE]);
  };
}

function parseLease(text: string | null): Lease | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Lease;
  } catch {
    return null;
  }
}
