/**
 * Golden files for log sources: every raw sample in `etl/sources/<source>/golden/` has, beside it,
 * `<sample>.expected.json` with what the source yields for it (rows, quarantines, filters).
 * A parser change shows up as a readable diff. Regenerate deliberately with UPDATE_GOLDEN=1
 * and read the diff before committing.
 *
 * A sample read with source options (what a user gives on the command line) has them beside it as
 * `<sample>.options.json`.
 *
 * A row's absent column and its null column are the same cell in the lake, so rows are compared
 * without their null cells: an expected file need not list every column a source leaves empty.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { sourceFolder } from '../../etl/sources';
import type { LogSource, ParsedItem } from '../../etl/sources/types';

export function goldenDir(source: LogSource): string {
  return join(sourceFolder(source.id), 'golden');
}

export function goldenSamples(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.expected.json') && !f.endsWith('.options.json') && !f.startsWith('.'))
    .sort();
}

/** The source options a golden sample is read with: `<sample>.options.json` beside it (what a user gives, e.g. `--vpcflow-format`). */
export function goldenOptions(file: string): Record<string, string> | undefined {
  const optionsFile = `${file}.options.json`;
  return existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as Record<string, string>) : undefined;
}

export async function parseFile(source: LogSource, file: string): Promise<ParsedItem[]> {
  const stream = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const items: ParsedItem[] = [];
  const options = goldenOptions(file);
  for await (const item of source.parse(stream, { key: file, ...(options ? { options } : {}) })) items.push(item);
  return items;
}

/** Dates become ISO strings and bigints strings, so the expected files are plain, diffable JSON. */
export function toPlain(items: ParsedItem[]): unknown {
  return JSON.parse(JSON.stringify(items, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
}

/** The same items with every null cell of every row left out (quarantine and filter items as they are). */
export function withoutNullCells(plain: unknown): unknown {
  if (!Array.isArray(plain)) return plain;
  return plain.map((item: { kind?: string; rows?: { table: string; row: Record<string, unknown> }[] }) =>
    item.kind === 'rows' && item.rows
      ? { ...item, rows: item.rows.map((r) => ({ table: r.table, row: Object.fromEntries(Object.entries(r.row).filter(([, v]) => v !== null)) })) }
      : item,
  );
}

/** Compares (or, with UPDATE_GOLDEN=1, writes) the expected output of every golden sample of a source. */
export function describeGoldenFiles(source: LogSource): void {
  const dir = goldenDir(source);
  describe(`${source.id} golden files`, () => {
    test('the source has golden files', () => {
      expect(goldenSamples(dir).length).toBeGreaterThan(0);
    });
    for (const sample of goldenSamples(dir)) {
      test(sample, async () => {
        const file = join(dir, sample);
        const actual = withoutNullCells(toPlain(await parseFile(source, file)));
        const expectedFile = `${file}.expected.json`;
        if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expectedFile)) {
          if (process.env.CI && !existsSync(expectedFile)) throw new Error(`missing golden file ${expectedFile}`);
          writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
        }
        expect(actual).toEqual(withoutNullCells(JSON.parse(readFileSync(expectedFile, 'utf8'))));
      });
    }
  });
}
