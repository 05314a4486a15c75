import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Spills } from '../lake/row-spiller';
import type { ClaimContent, ObjectJob, ObjectResult } from '../read-object';
import { DEFAULT_READ_LIMITS, type ReadLimits } from '../readers/read-state';
import type { GeoIpShared } from '../../src/core/geoip';
import type { IngestWorkerData, WorkerReply, WorkerRequest } from './protocol';

/**
 * Objects handed to one worker before it has answered for the first: it reads and claims the next
 * while it parses the current one, so neither the storage read nor a round trip to this thread
 * (the claim, the next job) waits between two objects. Small objects are held in memory meanwhile.
 */
export const OBJECTS_IN_FLIGHT_PER_WORKER = 3;
/**
 * …as long as their stored bytes stay under this (a worker holds small objects in memory while
 * they wait): one object, however large, is always let through.
 */
export const BYTES_IN_FLIGHT_PER_WORKER = 16 * 1024 * 1024;

/** A worker and its requests in flight, answered in the order they were sent. */
class IngestWorker {
  private readonly pending: Array<{ resolve: (reply: WorkerReply) => void; reject: (err: Error) => void; bytes: number }> = [];
  /** Stored bytes of the objects in flight. */
  private bytes = 0;
  private failure: Error | null = null;
  /** The coordinator's claim for each object in flight, by index. */
  private readonly claims = new Map<number, ClaimContent>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type !== 'claim') return this.settle(reply);
      const claim = this.claims.get(reply.index);
      if (!claim) return this.fail(new Error('ingest worker claimed content outside a read'));
      claim(reply.sha256).then(
        (ok) => worker.postMessage({ type: 'claim-reply', index: reply.index, ok } satisfies WorkerRequest),
        (err: Error) => this.fail(err),
      );
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => code !== 0 && this.fail(new Error(`ingest worker exited with code ${code}`)));
  }

  static async start(tempDir: string, heapMb: number, geoip: GeoIpShared | null): Promise<IngestWorker> {
    // Workers configure their S3 client from the environment: hand them this thread's view of it
    // (the default is the process's original environment, which a host such as jest replaces).
    const worker = new IngestWorker(
      new Worker(join(__dirname, 'bootstrap.js'), {
        workerData: { tempDir, geoip } satisfies IngestWorkerData,
        env: process.env,
        resourceLimits: { maxOldGenerationSizeMb: heapMb },
      }),
    );
    await worker.next(0); // 'ready'
    return worker;
  }

  /** Whether this worker may be handed an object of `size` stored bytes now. */
  hasRoomFor(size: number): boolean {
    const count = this.pending.length;
    return count === 0 || (count < OBJECTS_IN_FLIGHT_PER_WORKER && this.bytes + size <= BYTES_IN_FLIGHT_PER_WORKER);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  async request(request: WorkerRequest, claim: ClaimContent | null = null): Promise<WorkerReply> {
    const index = request.type === 'read' ? request.job.index : null;
    if (index !== null && claim) this.claims.set(index, claim);
    const reply = this.next(request.type === 'read' ? request.job.size : 0);
    this.worker.postMessage(request);
    try {
      const answer = await reply;
      if (answer.type === 'error') throw new Error(answer.message);
      return answer;
    } finally {
      if (index !== null) this.claims.delete(index);
    }
  }

  private next(bytes: number): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    this.bytes += bytes;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject, bytes }));
  }

  private settle(reply: WorkerReply): void {
    const pending = this.pending.shift();
    if (!pending) return;
    this.bytes -= pending.bytes;
    pending.resolve(reply);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.bytes = 0;
    for (const pending of this.pending.splice(0)) pending.reject(err);
  }

  async close(): Promise<void> {
    if (!this.failure) await this.request({ type: 'close' });
    await this.worker.terminate();
  }
}

/**
 * A worker's heap: room for the largest record the limits let through several times over (its
 * text, in two-byte characters when not Latin-1, its parsed JSON, its row and its raw copy beside
 * the lake) on top of what a worker needs anyway. With the default 64 MiB record limit: 704 MB.
 */
export function workerHeapMb(limits: ReadLimits): number {
  const recordMb = Math.ceil(limits.maxRecordBytes / (1024 * 1024));
  return Math.max(384, 192 + 8 * recordMb);
}

/**
 * Reads objects on worker threads, up to OBJECTS_IN_FLIGHT_PER_WORKER per worker at a time (within BYTES_IN_FLIGHT_PER_WORKER).
 * `submit` waits for a worker with room, so the caller's loop is naturally back-pressured; results
 * arrive through callbacks, each worker's in the order its objects were submitted.
 */
export class WorkerPool {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | null = null;

  private constructor(private readonly workers: IngestWorker[]) {}

  /** `geoip`: data loaded once by the caller, shared (not copied) with every worker. */
  static async start(
    size: number,
    tempDir: string,
    limits: ReadLimits = DEFAULT_READ_LIMITS,
    geoip: GeoIpShared | null = null,
  ): Promise<WorkerPool> {
    const heapMb = workerHeapMb(limits);
    return new WorkerPool(await Promise.all(Array.from({ length: size }, () => IngestWorker.start(tempDir, heapMb, geoip))));
  }

  async submit(job: ObjectJob, claim: ClaimContent, onDone: (result: ObjectResult) => Promise<void>): Promise<void> {
    const withRoom = () =>
      this.workers
        .filter((w) => w.hasRoomFor(job.size))
        .reduce<IngestWorker | null>((best, w) => (!best || w.inFlight < best.inFlight ? w : best), null);
    while (!withRoom()) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const worker = withRoom()!;
    const task = worker.request({ type: 'read', job }, claim).then(async (reply) => {
      if (reply.type === 'read') await onDone(reply.result);
    });
    // A failure surfaces at the next submit or drain, not as an unhandled rejection.
    const tracked: Promise<void> = task.catch((err: Error) => void (this.failure ??= err)).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Waits for every object in flight (and rethrows the first failure). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
    if (this.failure) throw this.failure;
  }

  /** Ends the transaction on every worker and gathers their spill files and the final results of deferred objects. */
  async endTransaction(): Promise<{ spills: Spills; results: Array<[number, ObjectResult]> }> {
    await this.drain();
    const merged: Spills = new Map();
    const results: Array<[number, ObjectResult]> = [];
    for (const worker of this.workers) {
      const reply = await worker.request({ type: 'end-transaction' });
      if (reply.type !== 'spills') continue;
      for (const [table, files] of reply.spills) merged.set(table, [...(merged.get(table) ?? []), ...files]);
      results.push(...reply.results);
    }
    return { spills: merged, results };
  }

  async close(): Promise<void> {
    await Promise.all([...this.inFlight]);
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
