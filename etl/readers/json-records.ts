import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { readStateOf, recordTooLong, type ReadLimits, type ReadState } from './read-state';

/** One JSON record found in an object: parsed, or the reason it could not be. */
export type JsonRecord = (
  { ok: true; value: unknown; text: string; position: string } | { ok: false; reason: string; text: string; position: string }
) & {
  /** The record's text holds bytes that are not UTF-8 (each read as U+FFFD). */
  invalidUtf8?: boolean;
};

export interface JsonRecordOptions {
  /**
   * Keys of a top-level envelope whose array holds the records, e.g. `Records` (CloudTrail)
   * or `records` (Azure diagnostic settings). Without a match the object is read as JSON lines,
   * concatenated JSON values or a top-level array.
   */
  envelopeKeys?: readonly string[];
}

const OPEN_BRACE = 123; // {
const CLOSE_BRACE = 125; // }
const OPEN_BRACKET = 91; // [
const CLOSE_BRACKET = 93; // ]
const QUOTE = 34; // "
const NEWLINE = 10;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff;
}

/**
 * Streams the records of a JSON object without holding the whole object in memory:
 * the elements of an envelope array (`{"Records":[…]}`), of a top-level array, or a sequence
 * of top-level values (JSON lines, pretty-printed or not).
 *
 * A damaged record is reported and reading goes on: in JSON lines a bad line costs only that
 * line; in an array a truncated tail costs only the unfinished element.
 */
export async function* readJsonRecords(input: AsyncIterable<Buffer>, options: JsonRecordOptions = {}): AsyncGenerator<JsonRecord> {
  const records = new JsonRecordStream(readStateOf(input), options);
  for await (const chunk of input) yield* records.push(chunk);
  yield* records.end();
}

/**
 * The records of an object's whole content, already in memory: exactly what readJsonRecords
 * yields for that content as one chunk, without an async step per record (`state` is the one that
 * would ride on the input).
 */
export function* jsonRecordsOf(content: Buffer, state: ReadState, options: JsonRecordOptions = {}): Generator<JsonRecord> {
  const records = new JsonRecordStream(state, options);
  yield* records.push(content);
  yield* records.end();
}

/** Decodes an object's bytes chunk by chunk and hands out its records, noting each one's taint in the read state. */
class JsonRecordStream {
  private readonly scanner: JsonScanner;
  private readonly decoder = new StringDecoder('utf8');
  /** Bytes of an unfinished character the decoder holds from the previous chunk. */
  private carried = 0;

  constructor(
    private readonly state: ReadState,
    options: JsonRecordOptions,
  ) {
    this.scanner = new JsonScanner(options.envelopeKeys ?? [], state.limits);
  }

  *push(chunk: Buffer): Generator<JsonRecord> {
    const text = this.decoder.write(chunk);
    // Rare path: a U+FFFD in the text may be a real one or a bad byte; only the bytes can tell.
    const tainted = text.includes(REPLACEMENT) && !isUtf8(wholeCharacters(chunk, this.carried));
    this.carried = unfinishedTail(chunk);
    yield* this.handOut(this.scanner.feed(text, tainted));
  }

  *end(): Generator<JsonRecord> {
    const tail = this.decoder.end();
    yield* this.handOut(this.scanner.feed(tail, tail.includes(REPLACEMENT)));
    yield* this.handOut(this.scanner.finish());
  }

  private *handOut(records: Iterable<JsonRecord>): Generator<JsonRecord> {
    for (const record of records) {
      this.state.invalidUtf8 = record.invalidUtf8 === true;
      yield record;
    }
  }
}

const REPLACEMENT = '\ufffd';

/** Length of an unfinished UTF-8 character at the end of a chunk (0–3 bytes). */
function unfinishedTail(chunk: Buffer): number {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const byte = chunk[chunk.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

/** The chunk without the end of a character begun in the previous chunk and the start of one finished in the next. */
function wholeCharacters(chunk: Buffer, carried: number): Buffer {
  let start = 0;
  if (carried > 0) while (start < Math.min(4, chunk.length) && (chunk[start] & 0xc0) === 0x80) start++;
  return chunk.subarray(start, chunk.length - unfinishedTail(chunk));
}

type Mode =
  | 'start' // before the first value
  | 'envelope-head' // inside `{`, deciding whether it is an envelope
  | 'array' // inside a records array, between elements
  | 'sequence' // between top-level values
  | 'lines' // JSON lines: one record per line
  | 'envelope-tail'; // the records array closed; skipping the envelope's other keys

class JsonScanner {
  private mode: Mode = 'start';
  private head = ''; // text of `{…` while deciding about an envelope
  private parts: string[] = []; // text of the current element
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** A bare element of a records array (a string, number, true/false/null, or junk) in progress. */
  private scalar: 'string' | 'literal' | null = null;
  /** The records array being read sits inside an envelope object (whose other keys are skipped). */
  private insideEnvelope = false;
  /** After a first value that sat on one line: whether a newline (JSON lines) or more text follows. */
  private deciding = false;
  private elementStartLine = 1;
  private line = 1;
  private index = 0; // record number (1-based when reported)
  private lineBuffer: string[] = [];
  private lineBufferLength = 0;
  private partsLength = 0;
  /** The text being fed came from bytes that are not all UTF-8. */
  private tainted = false;
  /** The record in progress holds text from such bytes. */
  private recordTainted = false;

  constructor(
    private readonly envelopeKeys: readonly string[],
    private readonly limits: Readonly<ReadLimits>,
  ) {}

  *feed(text: string, tainted = false): Generator<JsonRecord> {
    this.tainted = tainted;
    if (tainted) this.recordTainted = true;
    let pos = 0;
    while (pos < text.length) {
      switch (this.mode) {
        case 'lines':
          pos = yield* this.feedLines(text, pos);
          break;
        case 'envelope-head':
          pos = yield* this.feedEnvelopeHead(text, pos);
          break;
        default:
          pos = yield* this.feedValues(text, pos);
      }
    }
  }

  *finish(): Generator<JsonRecord> {
    if (this.mode === 'lines') {
      const rest = this.lineBuffer.join('');
      this.lineBuffer = [];
      this.lineBufferLength = 0;
      if (rest.trim()) yield this.parse(rest, `line ${this.line}`);
      return;
    }
    if (this.mode === 'envelope-head') {
      // An object that ended before we could tell: read it as one value.
      const text = this.head;
      this.head = '';
      if (text.trim()) yield this.bad(text, `record 1 (line 1)`, 'truncated JSON: the object ends inside the first value');
      return;
    }
    if (this.depth > 0 || this.parts.length) {
      const text = this.parts.join('');
      this.parts = [];
      this.partsLength = 0;
      yield this.bad(text, this.position(), 'truncated JSON: the object ends inside this record');
    }
  }

  private position(): string {
    return `record ${this.index + 1} (line ${this.elementStartLine})`;
  }

  /** Completes the element that ends at `end` of this chunk (its earlier parts were kept). */
  private endElement(text: string, start: number, end: number): JsonRecord {
    this.parts.push(text.slice(start, end));
    const elementText = this.parts.join('');
    this.parts = [];
    this.partsLength = 0;
    this.scalar = null;
    return this.parse(elementText, `record ${this.index + 1} (line ${this.elementStartLine})`);
  }

  private parse(text: string, position: string): JsonRecord {
    this.index += 1;
    const invalidUtf8 = this.takeTaint(text);
    try {
      return { ok: true, value: JSON.parse(text), text, position, invalidUtf8 };
    } catch (err) {
      return { ok: false, reason: `invalid JSON: ${(err as Error).message}`, text, position, invalidUtf8 };
    }
  }

  private bad(text: string, position: string, reason: string): JsonRecord {
    this.index += 1;
    return { ok: false, reason, text, position, invalidUtf8: this.takeTaint(text) };
  }

  /** Whether the finished record's text holds bad bytes; the next record starts from the current text's taint. */
  private takeTaint(text: string): boolean {
    const invalid = this.recordTainted && text.includes(REPLACEMENT);
    this.recordTainted = this.tainted;
    return invalid;
  }

  /** Keeps part of a record in progress, refusing one longer than the limit. */
  private keep(piece: string): void {
    this.parts.push(piece);
    this.partsLength += piece.length;
    if (this.partsLength > this.limits.maxRecordBytes) throw recordTooLong(this.partsLength, this.limits);
  }

  /** JSON lines: each non-blank line is one record, so one bad line never harms its neighbours. */
  private *feedLines(text: string, pos: number): Generator<JsonRecord, number> {
    let nl = text.indexOf('\n', pos);
    while (nl !== -1) {
      const piece = text.slice(pos, nl);
      const lineText = this.lineBuffer.length ? this.lineBuffer.join('') + piece : piece;
      this.lineBuffer = [];
      this.lineBufferLength = 0;
      if (lineText.length > this.limits.maxRecordBytes) throw recordTooLong(lineText.length, this.limits);
      const line = this.line;
      this.line += 1;
      if (lineText.trim()) yield this.parse(lineText, `line ${line}`);
      pos = nl + 1;
      nl = text.indexOf('\n', pos);
    }
    if (pos < text.length) {
      this.lineBuffer.push(text.slice(pos));
      this.lineBufferLength += text.length - pos;
      if (this.lineBufferLength > this.limits.maxRecordBytes) throw recordTooLong(this.lineBufferLength, this.limits);
    }
    return text.length;
  }

  /**
   * Collects `{ "key" :` to see whether the object is an envelope whose array holds the records.
   * Only the envelope's first key is considered, which is how CloudTrail and Azure deliver them.
   */
  private *feedEnvelopeHead(text: string, pos: number): Generator<JsonRecord, number> {
    this.head += text.slice(pos);
    const match = /^\s*\{\s*"((?:[^"\\]|\\.)*)"\s*:\s*(\S)?/.exec(this.head);
    if (!match || match[2] === undefined) {
      // Not enough text yet; give up waiting after a generous amount.
      if (this.head.length < 4096) return text.length;
    }
    const head = this.head;
    this.head = '';
    if (match && match[2] === '[' && this.envelopeKeys.includes(match[1])) {
      this.mode = 'array';
      this.insideEnvelope = true;
      this.line += countNewlines(head, 0, match[0].length);
      yield* this.feed(head.slice(match[0].length), this.tainted);
      return text.length;
    }
    // Not an envelope: the object is a record itself.
    this.mode = 'sequence';
    yield* this.feed(head, this.tainted);
    return text.length;
  }

  /** Splits top-level values (sequence) or array elements (array) by tracking depth and strings. */
  private *feedValues(text: string, pos: number): Generator<JsonRecord, number> {
    let segmentStart = this.depth > 0 ? pos : -1;
    const n = text.length;
    let nextQuote = -1;
    let nextBackslash = -1;
    while (pos < n) {
      if (this.inString) {
        // Jump between quotes and backslashes instead of walking every character of a string.
        if (this.escaped) {
          this.escaped = false;
          pos++;
          continue;
        }
        if (nextQuote < pos) nextQuote = indexOrEnd(text, '"', pos);
        if (nextBackslash < pos) nextBackslash = indexOrEnd(text, '\\', pos);
        if (nextBackslash < nextQuote) {
          this.escaped = true;
          pos = nextBackslash + 1;
          continue;
        }
        pos = nextQuote === n ? n : nextQuote + 1;
        if (nextQuote < n) {
          this.inString = false;
          if (this.scalar === 'string') {
            this.depth = 0;
            yield this.endElement(text, segmentStart, pos);
            segmentStart = -1;
          }
        }
        continue;
      }
      if (this.scalar === 'literal') {
        // A bare literal ends at the next separator; it is reported as a record (and quarantined
        // by the source if it is not an object) so the elements after it are still read.
        let end = pos;
        while (end < n && !isLiteralEnd(text.charCodeAt(end))) end++;
        pos = end;
        if (end === n) break;
        this.depth = 0;
        yield this.endElement(text, segmentStart, pos);
        segmentStart = -1;
        continue;
      }
      const c = text.charCodeAt(pos);
      if (this.depth === 0) {
        if (c === NEWLINE) {
          if (this.deciding) {
            // The first value sat alone on its line: this is JSON lines. Read line by line from
            // here, so one damaged line never costs its neighbours.
            this.deciding = false;
            this.mode = 'lines';
            return pos;
          }
          this.line += 1;
          pos++;
          continue;
        }
        if (this.deciding && !isSpace(c)) this.deciding = false; // `{…}{…}` on one line (Firehose) stays a sequence
        if (isSpace(c) || c === 44 /* , */) {
          pos++;
          continue;
        }
        if (this.mode === 'start') {
          if (c === OPEN_BRACKET) {
            this.mode = 'array';
            pos++;
            continue;
          }
          if (c === OPEN_BRACE && this.envelopeKeys.length) {
            this.mode = 'envelope-head';
            return pos;
          }
          this.mode = 'sequence';
        }
        if (this.mode === 'array' && c === CLOSE_BRACKET) {
          // The records array closed. Skip the rest of its envelope, then look for more records:
          // Event Hubs captures and Firehose deliveries put several envelopes in one object.
          pos++;
          if (this.insideEnvelope) {
            this.mode = 'envelope-tail';
            this.depth = 1;
          } else {
            this.mode = 'start';
          }
          continue;
        }
        this.elementStartLine = this.line;
        segmentStart = pos;
        this.depth = 1;
        if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
          // Not an object or array: in a sequence, give up on structure and read lines.
          if (this.mode === 'sequence') {
            this.depth = 0;
            this.mode = 'lines';
            return pos;
          }
          this.scalar = c === QUOTE ? 'string' : 'literal';
          if (c === QUOTE) this.inString = true;
        }
        pos++;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        pos++;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) this.depth--;
      else if (c === NEWLINE) this.line++;
      pos++;
      if (this.depth === 0 && this.mode === 'envelope-tail') {
        this.mode = 'start';
        this.insideEnvelope = false;
      } else if (this.depth === 0) {
        const startLine = this.elementStartLine;
        yield this.endElement(text, segmentStart, pos);
        segmentStart = -1;
        // A first value on one line may start JSON lines; what follows it on the line decides.
        this.deciding = this.mode === 'sequence' && this.index === 1 && startLine === this.line;
      }
    }
    if (this.depth > 0 && segmentStart !== -1 && this.mode !== 'envelope-tail') this.keep(text.slice(segmentStart, n));
    return n;
  }
}

function isLiteralEnd(c: number): boolean {
  return c === 44 /* , */ || c === CLOSE_BRACKET || isSpace(c);
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const i = text.indexOf(needle, from);
  return i === -1 ? text.length : i;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === NEWLINE) count++;
  return count;
}
