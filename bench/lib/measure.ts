/**
 * Shared bench helpers: child processes measured with GNU time (peak RSS), gzip sizes, file
 * listing, Parquet column sizes, tables and JSON results. Benches are scripts, not tests:
 * they print a table and write bench/out/<name>-<stamp>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sha256Hasher } from '../../src/core/hash';

export const REPO = resolve(__dirname, '..', '..');
export const OUT = join(REPO, 'bench', 'out');
export const GNU_TIME = '/usr/bin/time';

export interface ChildRun {
  stdout: string;
  stderr: string;
  /** Wall time of the whole child process (node start-up included), seconds. */
  wallSeconds: number;
  /** Peak resident set size of the child (and its threads) in bytes, from GNU time; null when unavailable. */
  peakRssBytes: number | null;
  userSeconds: number | null;
  systemSeconds: number | null;
}

/** Runs a command under `/usr/bin/time -v` (when present) and returns its output and resource use. */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildRun> {
  const useTime = existsSync(GNU_TIME);
  const [cmd, argv] = useTime ? [GNU_TIME, ['-v', command, ...args]] : [command, [...args]];
  const started = process.hrtime.bigint();
  const child = spawn(cmd, argv, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code: number = await new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c ?? 1));
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const field = (label: string) => {
    const m = new RegExp(`${label}:\\s*([0-9.]+)`).exec(stderr);
    return m ? Number(m[1]) : null;
  };
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-3000)}`);
  const rssKb = field('Maximum resident set size \\(kbytes\\)');
  return {
    stdout,
    stderr,
    wallSeconds,
    peakRssBytes: rssKb === null ? null : rssKb * 1024,
    userSeconds: field('User time \\(seconds\\)'),
    systemSeconds: field('System time \\(seconds\\)'),
  };
}

/** Runs the ScoutQL CLI (bin/scoutql.js, of this checkout or another) as a child process. */
export function runScoutql(args: readonly string[], checkout = REPO): Promise<ChildRun> {
  return runMeasured(process.execPath, [join(checkout, 'bin', 'scoutql.js'), ...args], { cwd: checkout });
}

/** Files below a folder (recursive), filtered. */
export function listFiles(dir: string, keep: (path: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop()!;
    if (!existsSync(current)) continue;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (keep(path)) out.push(path);
    }
  }
  return out.sort();
}

export function totalBytes(files: readonly string[]): number {
  return files.reduce((sum, f) => sum + statSync(f).size, 0);
}

/**
 * Uncompressed bytes: for .gz files the gzip ISIZE trailer (exact for single-member files under
 * 4 GiB, which is what AWS delivers and the sample writes); other files count as they are.
 */
export function uncompressedBytes(files: readonly string[]): number {
  let sum = 0;
  const trailer = Buffer.alloc(4);
  for (const file of files) {
    const size = statSync(file).size;
    if (!file.endsWith('.gz') || size < 18) {
      sum += size;
      continue;
    }
    const fd = openSync(file, 'r');
    try {
      readSync(fd, trailer, 0, 4, size - 4);
    } finally {
      closeSync(fd);
    }
    sum += trailer.readUInt32LE(0);
  }
  return sum;
}

/** Compressed bytes per column (path_in_schema) over Parquet files, from their metadata. */
export async function parquetColumnBytes(files: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (files.length === 0) return sizes;
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    // Paths are files this bench wrote or listed itself; quoted for SQL.
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT path_in_schema, sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata([${list}]) GROUP BY 1`,
    );
    for (const [path, bytes] of reader.getRows()) sizes.set(String(path), Number(bytes));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return sizes;
}

/** Bytes of the column chunks whose top-level column is `column` (a list column has nested paths). */
export function bytesOfColumn(sizes: Map<string, number>, column: string): number {
  let sum = 0;
  for (const [path, bytes] of sizes) if (path === column || path.startsWith(`${column},`) || path.startsWith(`${column}.`)) sum += bytes;
  return sum;
}

export function sumValues(sizes: Map<string, number>): number {
  let sum = 0;
  for (const bytes of sizes.values()) sum += bytes;
  return sum;
}

/** Machine context recorded with every result: figures from a loaded machine are not comparable to a quiet one. */
export function machine(): { cpus: number; cpuModel: string; node: string; loadavg: number[] } {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function writeResult(name: string, result: unknown): string {
  mkdirSync(OUT, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(OUT, `${name}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(OUT, `${name}-latest.json`), JSON.stringify(result, null, 2) + '\n');
  return file;
}

/** A fixed-width text table. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const mb = (bytes: number) => (bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1);
export const rate = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
export const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Parses `--flag`, `--key value` and `--key=value` arguments. */
export function parseArgs(argv: readonly string[]): Map<string, string | true> {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) args.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) args.set(arg.slice(2), argv[++i]);
    else args.set(arg.slice(2), true);
  }
  return args;
}

/** A short hash of the files under the given repo folders/files: caches keyed by it go stale when the code changes. */
export function codeFingerprint(paths: readonly string[]): string {
  const hash = sha256Hasher();
  for (const path of paths) {
    const full = join(REPO, path);
    const files = statSync(full).isDirectory() ? listFiles(full, (p) => p.endsWith('.ts')) : [full];
    for (const file of files) hash.update(file.slice(REPO.length)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 8);
}

/** The cached sample folder for these options: regenerated when the generator or a source's writer changes. */
export function sampleDir(scale: number, days: number, sources?: readonly string[]): string {
  const only = sources ? `-${[...sources].sort().join('+')}` : '';
  return join(OUT, `sample-s${scale}-d${days}${only}-${codeFingerprint(['testkit/sample', 'etl/sources'])}`);
}

/** Generates the sample with the CLI (every source, or only `sources`) unless the cache already holds it. */
export async function ensureSample(scale: number, days: number, sources?: readonly string[]): Promise<string> {
  const dir = sampleDir(scale, days, sources);
  if (existsSync(join(dir, 'sample.json'))) {
    console.log(`reusing ${dir}`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`generating sample --scale ${scale} --days ${days}${sources ? ` --sources ${sources.join(',')}` : ''} into ${dir} …`);
  const run = await runScoutql([
    'sample',
    '--out',
    dir,
    '--scale',
    String(scale),
    '--days',
    String(days),
    ...(sources ? ['--sources', sources.join(',')] : []),
  ]);
  console.log(
    run.stdout
      .split('\n')
      .filter((l) => l.startsWith('wrote') || l.includes(' in '))
      .slice(0, 14)
      .join('\n'),
  );
  return dir;
}

/**
 * The lake of the whole sample (`--scale`, `--days`), cached in bench/out/ and shared by the benches.
 * Keyed by the sample's generator code; rebuilt when the code that shapes the lake (etl/, the lake
 * contract) changes, so figures never come from a lake the current code would not write. With
 * `lakeDir`, that folder is the cache (built there if it holds no complete lake).
 */
export async function ensureSampleLake(
  scale: number,
  days: number,
  lakeDir?: string,
): Promise<{ lake: string; sample: string; build: unknown }> {
  const sample = await ensureSample(scale, days);
  const lake = lakeDir ?? join(OUT, `api-lake-${basename(sample).replace(/^sample-/, '')}`);
  const marker = join(lake, '.bench-complete.json');
  // All of etl/ and the lake contract: robust to files moving between folders.
  const fingerprint = codeFingerprint(['etl', 'src/core']);
  if (existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { fingerprint?: string }).fingerprint === fingerprint) {
    console.log(`reusing lake ${lake}`);
    return { lake, sample, build: JSON.parse(readFileSync(marker, 'utf8')) };
  }
  rmSync(lake, { recursive: true, force: true });
  console.log(`building lake ${lake} (ingest of the whole sample; cached for later runs) …`);
  const logs = readdirSync(sample)
    .filter((name) => !name.endsWith('.json'))
    .map((name) => join(sample, name));
  const run = await runScoutql(['ingest', '--json', '--lake', lake, ...logs]);
  const summary: unknown = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  const build = { fingerprint, summary, wallSeconds: run.wallSeconds, peakRssBytes: run.peakRssBytes };
  writeFileSync(marker, JSON.stringify(build, null, 2));
  return { lake, sample, build };
}
