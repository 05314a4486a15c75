import { isUtf8 } from 'node:buffer';
import { readStateOf, recordTooLong } from './read-state';

export interface Line {
  /** The line without its terminator (\n or \r\n) and without a leading byte-order mark. */
  text: string;
  /** 1-based line number within the object. */
  number: number;
  /** The line held bytes that are not UTF-8 (each read as U+FFFD). */
  invalidUtf8: boolean;
}

const NEWLINE = 10;
const REPLACEMENT = '\ufffd';

/**
 * Splits a byte stream into lines, streaming. A line longer than the input's record limit
 * (read-state.ts) throws ObjectLimitError instead of growing without bound. Lines are cut on
 * newline bytes, which never occur inside a multi-byte UTF-8 character, so each run of complete
 * lines decodes on its own; a line with bytes that are not UTF-8 is marked (and the input's state
 * says so while the line is the last one handed out).
 */
export async function* readLines(input: AsyncIterable<Buffer>): AsyncGenerator<Line> {
  const state = readStateOf(input);
  const max = state.limits.maxRecordBytes;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;
  let first = true;
  const emit = (text: string, invalidUtf8: boolean): Line => {
    number += 1;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length > max) throw recordTooLong(text.length, state.limits);
    state.invalidUtf8 = invalidUtf8;
    return { text, number, invalidUtf8 };
  };
  for await (const chunk of input) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes > max) throw recordTooLong(pendingBytes, state.limits);
      continue;
    }
    const complete = chunk.subarray(0, last);
    const region = pending.length ? Buffer.concat([...pending, complete]) : complete;
    const rest = chunk.subarray(last + 1);
    pending = rest.length ? [rest] : [];
    pendingBytes = rest.length;
    const text = region.toString('utf8');
    if (text.includes(REPLACEMENT) && !isUtf8(region)) {
      // Rare: find which lines hold the bad bytes.
      let start = 0;
      for (let nl = region.indexOf(NEWLINE); ; nl = region.indexOf(NEWLINE, start)) {
        const bytes = region.subarray(start, nl === -1 ? region.length : nl);
        yield emit(bytes.toString('utf8'), !isUtf8(bytes));
        if (nl === -1) break;
        start = nl + 1;
      }
      continue;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      yield emit(text.slice(start, nl), false);
      start = nl + 1;
    }
    yield emit(text.slice(start), false);
  }
  if (pendingBytes > 0) {
    const tail = Buffer.concat(pending);
    yield emit(tail.toString('utf8'), !isUtf8(tail));
  }
}
