import type { ObjectJob, ObjectResult } from '../read-object';
import type { TableName } from '../tables';

export type WorkerRequest = { type: 'read'; job: ObjectJob } | { type: 'end-transaction' } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'read'; result: ObjectResult }
  | { type: 'spills'; spills: Array<[TableName, string[]]> }
  | { type: 'closed' }
  | { type: 'error'; message: string };
