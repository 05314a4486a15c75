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
  let claimAnswer: ((ok: boolean) => void) | null = null;
  const claim = (sha256: string) =>
    new Promise<boolean>((resolve) => {
      claimAnswer = resolve;
      reply({ type: 'claim', sha256 });
    });
  const handle = async (request: WorkerRequest): Promise<void> => {
    try {
      if (request.type === 'claim-reply') claimAnswer?.(request.ok);
      else if (request.type === 'read') reply({ type: 'read', result: await reader.read(request.job, claim) });
      else if (request.type === 'end-transaction') {
        const { spills, results } = await reader.endTransaction();
        reply({ type: 'spills', spills: [...spills], results });
      } else {
        await spiller.close();
        reply({ type: 'closed' });
        port.close();
      }
    } catch (err) {
      reply({ type: 'error', message: (err as Error).message });
    }
  };
  // Failures are replied to the coordinator inside handle(); nothing is left to reject.
  port.on('message', (request: WorkerRequest) => void handle(request));
  reply({ type: 'ready' });
}

void main();
