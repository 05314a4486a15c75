import type { ObjectJob, ObjectResult } from '../read-object';
import type { GeoIpShared } from '../../src/core/geoip';
import type { SourceTable } from '../sources/types';

/** What a worker starts with. */
export interface IngestWorkerData {
  tempDir: string;
  /** Shared GeoIP data to enrich rows with, or null. */
  geoip: GeoIpShared | null;
}

export type WorkerRequest =
  | { type: 'read'; job: ObjectJob }
  /** The coordinator's answer to a worker's `claim` for the object of that index. */
  | { type: 'claim-reply'; index: number; ok: boolean }
  | { type: 'end-transaction' }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'read'; result: ObjectResult }
  /** Sent before parsing the object of that index: may this content be ingested (is it new to the lake and the run)? */
  | { type: 'claim'; index: number; sha256: string }
  /** The transaction's staged rows, and the final results of the objects whose `read` result was deferred (by index). */
  | { type: 'spills'; spills: Array<[SourceTable, string[]]>; results: Array<[number, ObjectResult]> }
  | { type: 'closed' }
  | { type: 'error'; message: string };
