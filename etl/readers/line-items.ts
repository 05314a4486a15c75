/** The parse loop of a one-record-per-line format: each line becomes at most one item. */
import type { ParsedItem, SourceTable } from '../sources/types';
import { readLines } from './lines';

/** Turns one log line into its item, or null for lines that hold no record (headers, blanks). */
export interface LineReader<T extends SourceTable> {
  item(text: string, lineNumber: number): ParsedItem<T> | null;
}

export async function* itemsByLine<T extends SourceTable>(
  input: AsyncIterable<Buffer>,
  reader: LineReader<T>,
): AsyncGenerator<ParsedItem<T>> {
  for await (const line of readLines(input)) {
    const item = reader.item(line.text, line.number);
    if (item) yield item;
  }
}
