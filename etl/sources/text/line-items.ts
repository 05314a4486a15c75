import { readLines } from '../../readers/lines';
import type { ParsedItem } from '../types';

/** Turns one log line into its item, or null for lines that hold no record (headers, blanks). */
export interface LineReader {
  item(text: string, lineNumber: number): ParsedItem | null;
}

/** The parse loop of a one-record-per-line format. */
export async function* itemsByLine(input: AsyncIterable<Buffer>, reader: LineReader): AsyncGenerator<ParsedItem> {
  for await (const line of readLines(input)) {
    const item = reader.item(line.text, line.number);
    if (item) yield item;
  }
}
