/**
 * The record loop of the JSON sources: each JSON record of an object becomes exactly one item,
 * its rows or a quarantine with the record's position and the reason.
 */
import { NormalizeError } from '../fields/json';
import { quarantine, type ParsedItem, type RowIn, type SourceTable } from '../sources/types';
import { readJsonRecords, type JsonRecordOptions } from './json-records';

/** Turns one JSON record (and its text) into rows; throws NormalizeError with the reason it cannot. */
export type Normalizer<T extends SourceTable> = (value: unknown, text: string, position: string) => RowIn<T>[];

/**
 * Reads the JSON records of one object and normalizes each into one `rows` item. A record that
 * is not valid JSON, or that the normalizer rejects (NormalizeError), becomes a quarantine item
 * with its position and reason; the records around it are unaffected.
 */
export async function* parseJsonRecords<T extends SourceTable>(
  input: AsyncIterable<Buffer>,
  options: JsonRecordOptions,
  normalize: Normalizer<T>,
): AsyncGenerator<ParsedItem<T>> {
  for await (const record of readJsonRecords(input, options)) {
    if (!record.ok) {
      yield quarantine(record.position, record.reason, record.text);
      continue;
    }
    try {
      yield { kind: 'rows', rows: normalize(record.value, record.text, record.position) };
    } catch (err) {
      // A record shaped in a way the normalizer did not foresee must not cost its neighbours.
      const reason = err instanceof NormalizeError ? err.message : `cannot normalize: ${(err as Error).message}`;
      yield quarantine(record.position, reason, record.text);
    }
  }
}
