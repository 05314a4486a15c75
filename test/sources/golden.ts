/**
 * Golden files for log sources: every raw sample in `test/sources/<source>/` has, beside it,
 * `<sample>.expected.json` with what the source yields for it (rows, quarantines, filters).
 * A parser change shows up as a readable diff. Regenerate deliberately with UPDATE_GOLDEN=1
 * and read the diff before committing.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { LogSource, ParsedItem } from '../../etl/sources/types';

export function goldenSamples(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.expected.json') && !f.startsWith('.'))
    .sort();
}

export async function parseFile(source: LogSource, file: string): Promise<ParsedItem[]> {
  const stream = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const items: ParsedItem[] = [];
  for await (const item of source.parse(stream, { key: file })) items.push(item);
  return items;
}

/** Dates become ISO strings and bigints strings, so the expected files are plain, diffable JSON. */
export function toPlain(items: ParsedItem[]): unknown {
  return JSON.parse(
    JSON.stringify(items, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
  );
}

/** Compares (or, with UPDATE_GOLDEN=1, writes) the expected output of every sample in `dir`. */
export function describeGoldenFiles(source: LogSource, dir: string): void {
  describe(`${source.id} golden files`, () => {
    for (const sample of goldenSamples(dir)) {
      test(sample, async () => {
        const file = join(dir, sample);
        const actual = toPlain(await parseFile(source, file));
        const expectedFile = `${file}.expected.json`;
        if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expectedFile)) {
          if (process.env.CI && !existsSync(expectedFile)) throw new Error(`missing golden file ${expectedFile}`);
          writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
        }
        expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
      });
    }
  });
}
