/**
 * Samples (and lakes ingested from them) written once and shared: by the test files of a run that
 * ask for the same one, and by the next run on this machine while the code that shapes them is
 * unchanged. Each folder (in the temp dir) is named after a hash of the options and of that code,
 * so a change to either builds a new one. Builds publish by rename, so two workers racing each end
 * with one complete folder. Callers read them and never write into them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type IngestOptions } from '../../etl/ingest';
import { generateSample, type SampleOptions } from '../../testkit/sample';

const ROOT = join(__dirname, '..', '..');
/** The code that writes a sample: testkit/sample, the sources' writers in etl/sources, src/core they use, the source list. */
const SAMPLE_CODE = ['testkit/sample', 'etl/sources', 'src/core', 'src/generated/sources.ts'];
/** The code that shapes a lake ingested from a sample: the sample's, every step of ingest, and the DuckDB it writes with. */
const LAKE_CODE = ['testkit/sample', 'etl', 'src', 'package-lock.json'];
const CACHE_PREFIX = 'scoutql-test-cache-';
/** Folders of older code (another hash) unused this long only fill the disk. */
const STALE_MS = 60 * 60 * 1000;

const codeHashes = new Map<string, string>();
function codeHash(paths: readonly string[]): string {
  const id = paths.join(',');
  const known = codeHashes.get(id);
  if (known) return known;
  const hash = createHash('sha256');
  const add = (path: string): void => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) add(join(path, name));
    else if (/\.(ts|js|json)$/.test(path)) hash.update(path.slice(ROOT.length)).update(readFileSync(path));
  };
  for (const path of paths) add(join(ROOT, path));
  const digest = hash.digest('hex');
  codeHashes.set(id, digest);
  return digest;
}

function removeStale(current: string): void {
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!new RegExp(`^${CACHE_PREFIX}[0-9a-f]{16}$`).test(name) || path === current) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another run removed it first
    }
  }
}

/** The folder `build` fills for these inputs and this code, built if this machine has none yet. */
async function cached(inputs: unknown, code: readonly string[], build: (dir: string) => Promise<void> | void): Promise<string> {
  const key = createHash('sha256').update(codeHash(code)).update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `${CACHE_PREFIX}${key}`);
  removeStale(dir);
  if (existsSync(dir)) return dir;
  const building = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build(building);
    try {
      renameSync(building, dir);
    } catch (err) {
      // Another worker published first: use theirs.
      if (!existsSync(dir)) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

type CachedSampleOptions = Omit<SampleOptions, 'out' | 'onDay'>;

/** The folder of the sample these options write (`scoutql sample` with them). */
export function cachedSample(options: CachedSampleOptions): Promise<string> {
  return cached({ sample: options }, SAMPLE_CODE, (dir) => void generateSample({ ...options, out: dir }));
}

/** The sample these options write (`logs`) and the lake one ingest of it with `ingestOptions` wrote (`lake`). */
export async function cachedSampleLake(
  options: CachedSampleOptions,
  ingestOptions: Omit<IngestOptions, 'inputs' | 'lake'>,
): Promise<{ logs: string; lake: string }> {
  const dir = await cached({ sample: options, ingest: ingestOptions }, LAKE_CODE, async (building) => {
    generateSample({ ...options, out: join(building, 'logs') });
    await ingest({ ...ingestOptions, inputs: [join(building, 'logs')], lake: join(building, 'lake') });
  });
  return { logs: join(dir, 'logs'), lake: join(dir, 'lake') };
}
