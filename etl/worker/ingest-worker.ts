/**
 * An ingest worker thread: reads the objects it is handed into its own row spiller, so parsing
 * and normalizing (the JavaScript half of the ETL) use every core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GeoIp } from '../../src/core/geoip';
import { RowSpiller } from '../lake/row-spiller';
import { ObjectReader } from '../read-object';
import type { IngestWorkerData, WorkerReply, WorkerRequest } from './protocol';

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as IngestWorkerData;
  const spiller = await RowSpiller.open({ tempDir: data.tempDir });
  // The GeoIP data is the coordinator's shared memory: each worker adds only its lookup cache.
  const reader = new ObjectReader(spiller, data.tempDir, data.geoip ? GeoIp.fromShared(data.geoip) : null);
  const reply = (message: WorkerReply) => port.postMessage(message);
  /** Claims waiting for the coordinator's answer, by object index. */
  const claims = new Map<number, (ok: boolean) => void>();
  const claimFor = (index: number) => (sha256: string) =>
    new Promise<boolean>((resolve) => {
      claims.set(index, resolve);
      reply({ type: 'claim', index, sha256 });
    });
  // Requests are answered one at a time, in the order they came; only an object's read and claim
  // (ObjectReader.prepare) start at once, so the next object is ready when the current one is parsed.
  let queue: Promise<void> = Promise.resolve();
  const answer = async (work: () => Promise<WorkerReply>): Promise<void> => {
    try {
      reply(await work());
    } catch (err) {
      reply({ type: 'error', message: (err as Error).message });
    }
  };
  const handle = (request: WorkerRequest): void => {
    if (request.type === 'claim-reply') {
      const resolve = claims.get(request.index);
      claims.delete(request.index);
      resolve?.(request.ok);
      return;
    }
    if (request.type === 'read') {
      const prepared = reader.prepare(request.job, claimFor(request.job.index));
      prepared.catch(() => undefined); // its failure is answered in turn, below
      queue = queue.then(() => answer(async () => ({ type: 'read', result: await reader.finish(await prepared) })));
    } else if (request.type === 'end-transaction') {
      queue = queue.then(() =>
        answer(async () => {
          const { spills, results } = await reader.endTransaction();
          return { type: 'spills', spills: [...spills], results };
        }),
      );
    } else {
      queue = queue.then(() =>
        answer(async () => {
          await spiller.close();
          return { type: 'closed' };
        }),
      );
      void queue.then(() => port.close());
    }
  };
  port.on('message', handle);
  reply({ type: 'ready' });
}

void main();
