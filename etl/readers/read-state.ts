/**
 * What travels with the bytes of one object between the ingest and the record readers: the limits
 * a reader must hold the object to, and what the reader noticed about the record it handed out
 * last. It rides on the input iterable itself, so a source's parser passes its input to a reader
 * unchanged and needs to know nothing of either.
 */

export interface ReadLimits {
  /**
   * The longest line or JSON record a reader holds, in bytes (characters for a line already
   * decoded). A longer one makes the whole object quarantined: holding it would risk the
   * worker's heap.
   */
  maxRecordBytes: number;
  /** The most decompressed bytes one object may hold (a gzip bomb is quarantined, not read for an hour). */
  maxObjectBytes: number;
}

/**
 * Defaults: a worker's heap is sized from the record limit (see etl/worker/pool.ts), so a record
 * at the limit, its parsed JSON and its row stay far from the heap's end. 64 MiB is far above any
 * record AWS, Azure or GCP writes (CloudTrail's own limit is 256 KB) and above the 50 MB records
 * the Athena row-size handling is tested with.
 */
export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = {
  maxRecordBytes: 64 * 1024 * 1024,
  maxObjectBytes: 4 * 1024 * 1024 * 1024,
};

/** An object broke a limit: it is quarantined as a whole, with this message as the reason. */
export class ObjectLimitError extends Error {}

export class ReadState {
  /** Whether the record the reader handed out last held bytes that are not UTF-8 (read as U+FFFD). */
  invalidUtf8 = false;

  constructor(readonly limits: Readonly<ReadLimits> = DEFAULT_READ_LIMITS) {}
}

const STATE = Symbol('scoutql.readState');

type WithState = { [STATE]?: ReadState };

/** Gives an input its state (the ingest's object content does this for every object it reads). */
export function attachReadState<T extends AsyncIterable<Buffer>>(input: T, state: ReadState): T {
  (input as WithState)[STATE] = state;
  return input;
}

/** The state riding on an input; an input without one (a golden test's buffer) gets a fresh one with the default limits. */
export function readStateOf(input: AsyncIterable<Buffer>): ReadState {
  const carrier = input as WithState;
  carrier[STATE] ??= new ReadState();
  return carrier[STATE];
}

export function recordTooLong(bytes: number, limits: Readonly<ReadLimits>): ObjectLimitError {
  return new ObjectLimitError(
    `a record or line longer than ${limits.maxRecordBytes} bytes (at least ${bytes}): the object is quarantined whole (limit: maxRecordBytes)`,
  );
}

/**
 * The input's first chunk, and the input again from its start (the same state riding on it): for a
 * parser that decides how to read an object by its first bytes.
 */
export async function peekFirstChunk(input: AsyncIterable<Buffer>): Promise<{ first: Buffer; input: AsyncIterable<Buffer> }> {
  const iterator = input[Symbol.asyncIterator]();
  const head = await iterator.next();
  const first = head.done ? Buffer.alloc(0) : head.value;
  const again = (async function* () {
    if (head.done) return;
    yield first;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  return { first, input: attachReadState(again, readStateOf(input)) };
}
