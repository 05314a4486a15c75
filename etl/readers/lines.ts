import { StringDecoder } from 'node:string_decoder';

export interface Line {
  /** The line without its terminator (\n or \r\n) and without a leading byte-order mark. */
  text: string;
  /** 1-based line number within the object. */
  number: number;
}

/** Splits a byte stream into lines, streaming; a line may be as long as memory allows. */
export async function* readLines(input: AsyncIterable<Buffer>): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let pending: string[] = [];
  let number = 0;
  let first = true;
  const emit = (text: string): Line => {
    number += 1;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { text, number };
  };
  for await (const chunk of input) {
    const str = decoder.write(chunk);
    let start = 0;
    let nl = str.indexOf('\n');
    while (nl !== -1) {
      const piece = str.slice(start, nl);
      const text = pending.length ? pending.join('') + piece : piece;
      pending = [];
      yield emit(text);
      start = nl + 1;
      nl = str.indexOf('\n', start);
    }
    if (start < str.length) pending.push(str.slice(start));
  }
  const tail = pending.join('') + decoder.end();
  if (tail.length) yield emit(tail);
}
