/**
 * Layers import downwards: what the ETL runs (ingest, its workers, compaction, the graph step, the
 * source registry with every manifest and parser it loads) reaches only etl/ and src/core/ (and
 * the generated source ids), never the query engine, the API, the sample writers or testkit; and
 * src/core imports nothing of the project but itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { SOURCES_DIR, sourceFolderNames } from '../../etl/sources/manifests';
import { REPO } from './helpers';

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|require\('([^']+)'\)/g;

/** Project files reachable from `entries` through relative imports (packages and node: builtins are leaves). */
function reachable(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec?.startsWith('.')) continue;
      const base = join(dirname(file), spec);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((f) => existsSync(f) && !f.endsWith(sep));
      if (!target) throw new Error(`${relative(REPO, file)}: cannot resolve '${spec}'`);
      stack.push(target);
    }
  }
  return seen;
}

const rel = (files: Iterable<string>) => [...files].map((f) => relative(REPO, f).split(sep).join('/')).sort();

test('the ETL at run time reaches only etl/ and src/core/, and no sample writer', () => {
  const entries = [
    'etl/ingest.ts',
    'etl/worker/ingest-worker.ts',
    'etl/compact.ts',
    'etl/graph.ts',
    'etl/sources/index.ts',
    // Loaded by the registry from each source folder.
    ...sourceFolderNames().flatMap((id) => [`etl/sources/${id}/manifest.ts`, `etl/sources/${id}/parser.ts`]),
  ].map((f) => join(REPO, f));
  const files = rel(reachable(entries));
  expect(files).toContain('etl/sources/cloudtrail/parser.ts');
  expect(files.filter((f) => !/^(etl\/|src\/core\/|src\/generated\/sources\.ts$)/.test(f))).toEqual([]);
  expect(files.filter((f) => /\/sample[^/]*\.ts$/.test(f))).toEqual([]);
});

test('src/core imports nothing of the project outside itself', () => {
  const core = join(REPO, 'src', 'core');
  const entries = readdirSync(core)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(core, f));
  expect(rel(reachable(entries)).filter((f) => !f.startsWith('src/core/'))).toEqual([]);
});

test('every source folder has the four parts of a source', () => {
  for (const id of sourceFolderNames()) {
    const folder = join(SOURCES_DIR, id);
    expect([id, ...['manifest.ts', 'parser.ts', 'sample.ts', 'golden'].filter((part) => !existsSync(join(folder, part)))]).toEqual([id]);
  }
});
