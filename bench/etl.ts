/**
 * ETL bench: the ScoutQL ingest beside DuckDB's own JSON/CSV readers over the same raw files,
 * in the same run, as ratios. See bench/README.md for what each figure means.
 *
 *   npx tsx bench/etl.ts            # ≈1M CloudTrail events (sample --scale 20, 7 days)
 *   npx tsx bench/etl.ts --quick    # ≈100k CloudTrail events (--scale 2), smaller per-source files
 *   options: --scale K --days N --only cloudtrail,vpcflow,alb,… (those sources only, sample included) --source-mb M --skip-graph-rerun
 *            --before <checkout>   the same ingests again with another checkout's CLI (e.g. main before a change), same inputs, same run
 *            --rss 1M,4M           peak RSS of ingesting that many CloudTrail events (the sample's log files copied with new event ids)
 *            --rss-only            only the --rss ingests (the CloudTrail sample alone is generated), no per-source bench
 *
 * It ends with the issue-14 table: CloudTrail, ALB and VPC flow ETL beside DuckDB in the same run.
 *
 * Every source of etl/sources/ is benchmarked (its manifest says which of its files the sample holds,
 * which DuckDB readers to compare against, and which golden file to repeat when the sample has none).
 *
 * Both sides run as child processes (ScoutQL: `scoutql ingest --json`; DuckDB: bench/lib/duckdb-child.ts),
 * each under /usr/bin/time -v for its peak RSS, one after the other, with the same two threads.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join, relative, sep } from 'node:path';
import { materializeGraph } from '../etl/graph';
import type { IngestSummary } from '../etl/ingest';
import { MANIFESTS, sourceFolder } from '../etl/sources/manifests';
import type { SourceManifest } from '../etl/sources/types';
import { DUCKDB_BASELINES, lit } from './lib/duckdb-baselines';
import {
  OUT,
  REPO,
  bytesOfColumn,
  ensureSample,
  listFiles,
  machine,
  mb,
  parquetColumnBytes,
  parseArgs,
  rate,
  ratio,
  runMeasured,
  runScoutql,
  sumValues,
  table,
  totalBytes,
  uncompressedBytes,
  writeResult,
  type ChildRun,
} from './lib/measure';

const args = parseArgs(process.argv.slice(2));
const QUICK = args.has('quick');
const SCALE = Number(args.get('scale') ?? (QUICK ? 2 : 20));
const DAYS = Number(args.get('days') ?? 7);
const SOURCE_MB = Number(args.get('source-mb') ?? (QUICK ? 2 : 8));
const ONLY = typeof args.get('only') === 'string' ? new Set(String(args.get('only')).split(',')) : null;
const THREADS = 2;
const BEFORE = typeof args.get('before') === 'string' ? String(args.get('before')) : null;
const RSS_SIZES = typeof args.get('rss') === 'string' ? String(args.get('rss')).split(',').map(eventCount) : [];
/** --rss-only: the --rss ingests alone (CloudTrail sample only), no per-source bench. */
const RSS_ONLY = args.has('rss-only');
const wanted = (source: string) => !RSS_ONLY && (!ONLY || ONLY.has(source));

/** `1M`, `4M`, `250k` or a plain number of events. */
function eventCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`--rss: '${text}' is not a count such as 1M or 250k`);
  return Math.round(Number(m[1]) * (m[2].toLowerCase() === 'm' ? 1e6 : m[2].toLowerCase() === 'k' ? 1e3 : 1));
}

const litList = (paths: readonly string[]) => `[${paths.map(lit).join(', ')}]`;

interface SideResult {
  tool: string;
  variant: string;
  events: number;
  seconds: number;
  wallSeconds: number;
  peakRssBytes: number | null;
  outputBytes: number;
  eventsPerSecond: number;
  inputMBps: number;
  uncompressedMBps: number;
  notes?: string;
}

interface SourceResult {
  source: string;
  input: { from: string; files: number; bytes: number; uncompressedBytes: number; repeated?: boolean };
  scoutql: SideResult & {
    summary: Omit<IngestSummary, 'days'>;
    graphRerunSeconds: number | null;
    typedColumnBytes: number;
    rawColumnBytes: number;
    columnBytes: Record<string, number>;
  };
  duckdb: (SideResult & { columnBytes?: Record<string, number> })[];
  /** The same ingest by the --before checkout's CLI. */
  before?: SourceResult['scoutql'] & { checkout: string; commit: string };
}

function side(
  tool: string,
  variant: string,
  events: number,
  seconds: number,
  run: ChildRun,
  outputBytes: number,
  input: SourceResult['input'],
  notes?: string,
): SideResult {
  return {
    tool,
    variant,
    events,
    seconds,
    wallSeconds: run.wallSeconds,
    peakRssBytes: run.peakRssBytes,
    outputBytes,
    eventsPerSecond: events / seconds,
    inputMBps: input.bytes / 1e6 / seconds,
    uncompressedMBps: input.uncompressedBytes / 1e6 / seconds,
    ...(notes ? { notes } : {}),
  };
}

/** ScoutQL's ingest over the inputs into a fresh lake, then the lake's Parquet bytes per column. */
async function runScoutqlIngest(
  name: string,
  inputs: string[],
  source: string | null,
  inputInfo: SourceResult['input'],
  graphRerun: boolean,
  checkout = REPO,
): Promise<SourceResult['scoutql']> {
  const lake = join(OUT, `etl-lake-${name}`);
  rmSync(lake, { recursive: true, force: true });
  const run = await runScoutql(['ingest', '--json', '--lake', lake, ...(source ? ['--source', source] : []), ...inputs], checkout);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Omit<IngestSummary, 'days'>;
  const eventFiles = listFiles(lake, (p) => p.endsWith('.parquet') && !p.includes(`${'/'}graph${'/'}`) && !p.includes('/_'));
  const graphFiles = listFiles(join(lake, 'graph'), (p) => p.endsWith('.parquet'));
  const columns = await parquetColumnBytes(eventFiles);
  const rawBytes = bytesOfColumn(columns, 'raw');
  let graphRerunSeconds: number | null = null;
  if (graphRerun) {
    // The ingest ends with the graph step; re-running it alone over the same days tells its share.
    const days = [...new Set(eventFiles.map((f) => /day=(\d{4}-\d{2}-\d{2})/.exec(f)?.[1]).filter((d): d is string => !!d))].sort();
    const started = process.hrtime.bigint();
    await materializeGraph({ lake, days });
    graphRerunSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  }
  const result = side(
    'scoutql',
    'ingest (incl. graph step)',
    summary.records,
    summary.seconds,
    run,
    summary.bytes_out,
    inputInfo,
    `${summary.quarantined} quarantined, ${summary.partitions} partitions, ${eventFiles.length} event files + ${graphFiles.length} graph files (${mb(totalBytes(graphFiles))} MB, not in output bytes)`,
  );
  return {
    ...result,
    summary,
    graphRerunSeconds,
    typedColumnBytes: sumValues(columns) - rawBytes,
    rawColumnBytes: rawBytes,
    columnBytes: Object.fromEntries([...columns].sort((a, b) => b[1] - a[1])),
  };
}

/** One DuckDB COPY in its own process; returns its timing, rows and output size. */
async function runDuck(
  variant: string,
  sql: string,
  output: string,
  inputInfo: SourceResult['input'],
  notes: string,
  columns = false,
): Promise<SourceResult['duckdb'][number] | null> {
  try {
    return await runDuckOnce(variant, sql, output, inputInfo, notes, columns);
  } catch (err) {
    // A baseline DuckDB cannot read is a finding, not a reason to lose the rest of the run.
    const message = (err as Error).message.split('\n').find((l) => l.includes('baseline failed')) ?? (err as Error).message.slice(0, 300);
    console.log(`  duckdb ${variant}: FAILED ${message}`);
    duckdbFailures.push({ source: inputInfo.from, variant, error: message });
    return null;
  }
}

const duckdbFailures: { source: string; variant: string; error: string }[] = [];

async function runDuckOnce(
  variant: string,
  sql: string,
  output: string,
  inputInfo: SourceResult['input'],
  notes: string,
  columns: boolean,
): Promise<SourceResult['duckdb'][number]> {
  rmSync(output, { recursive: true, force: true });
  const specFile = join(OUT, `duckdb-spec-${process.pid}.json`);
  writeFileSync(specFile, JSON.stringify({ sql, threads: THREADS }));
  const run = await runMeasured(process.execPath, ['-r', 'tsx/cjs', join(REPO, 'bench', 'lib', 'duckdb-child.ts'), specFile]);
  rmSync(specFile, { force: true });
  const { seconds, rows } = JSON.parse(run.stdout.trim()) as { seconds: number; rows: number };
  const files = existsSync(output) && !output.endsWith('.parquet') ? listFiles(output, (p) => p.endsWith('.parquet')) : [output];
  const result: SourceResult['duckdb'][number] = side('duckdb', variant, rows, seconds, run, totalBytes(files), inputInfo, notes);
  if (columns) result.columnBytes = Object.fromEntries([...(await parquetColumnBytes(files))].sort((a, b) => b[1] - a[1]));
  return result;
}

/** The sample's files of a source: those whose path (relative to the sample) matches one of its manifest's key patterns. */
function sourceFiles(sample: string, manifest: SourceManifest): string[] {
  if (!sample || !existsSync(sample)) return [];
  const rel = (path: string) => relative(sample, path).split(sep).join('/');
  const layout = manifest.bench.sampleFiles;
  return listFiles(
    sample,
    (p) => manifest.objects.keyPatterns.some((pattern) => pattern.test(rel(p))) && (!layout || layout.test(rel(p))),
  ).sort();
}

/**
 * What to hand `scoutql ingest` for a set of files, as a user points it at log prefixes: the
 * largest folders holding only those files (AWSLogs/<account>/CloudTrail, s3-access…), and the
 * files that share a folder with others. Keeps the command line short for thousands of files.
 */
function inputsFor(sample: string, files: readonly string[]): string[] {
  const chosen = new Set(files);
  const pure = new Map<string, boolean>();
  const isPure = (dir: string): boolean => {
    const known = pure.get(dir);
    if (known !== undefined) return known;
    const result = readdirSync(dir, { withFileTypes: true }).every((e) =>
      e.isDirectory() ? isPure(join(dir, e.name)) : chosen.has(join(dir, e.name)),
    );
    pure.set(dir, result);
    return result;
  };
  const inputs = new Set<string>();
  for (const file of files) {
    let input = file;
    for (let dir = join(file, '..'); dir !== sample && dir.startsWith(sample) && isPure(dir); dir = join(dir, '..')) input = dir;
    inputs.add(input);
  }
  return [...inputs].sort();
}

/** The inputs for the log line: a source whose folders mix layouts (ALB access beside connection logs) is handed file by file. */
function namedInputs(inputs: readonly string[], shown = 3): string {
  const head = inputs.slice(0, shown).join(', ');
  return inputs.length > shown ? `${head} and ${inputs.length - shown} more` : head;
}

async function benchSource(sample: string, manifest: SourceManifest): Promise<SourceResult> {
  let files = sourceFiles(sample, manifest);
  let inputs = inputsFor(sample, files);
  let from = `scoutql sample --scale ${SCALE} --days ${DAYS} (${namedInputs(inputs.map((i) => relative(sample, i)))})`;
  let repeated = false;
  if (files.length === 0) {
    const golden = manifest.bench.golden;
    files = inflateGolden({ source: manifest.id, file: join(sourceFolder(manifest.id), 'golden', golden.file), kind: golden.repeat });
    inputs = files;
    from = `etl/sources/${manifest.id}/golden/${golden.file} repeated into ${files.length} files (not in the sample)`;
    repeated = true;
  }
  const input = { from, repeated, files: files.length, bytes: totalBytes(files), uncompressedBytes: uncompressedBytes(files) };
  console.log(
    `\n${manifest.id}: ${input.files} files, ${mb(input.bytes)} MB stored, ${mb(input.uncompressedBytes)} MB uncompressed, from ${from}`,
  );
  const scoutql = await runScoutqlIngest(
    `${manifest.id}-${repeated ? `golden${SOURCE_MB}mb` : `s${SCALE}`}`,
    inputs,
    null,
    input,
    !args.has('skip-graph-rerun'),
  );
  console.log(`  scoutql: ${scoutql.events} events in ${scoutql.seconds.toFixed(1)} s`);
  const duckdb: SourceResult['duckdb'] = [];
  for (const name of manifest.bench.duckdb) {
    const baseline = DUCKDB_BASELINES[name];
    const out = join(OUT, `duck-${manifest.id}-${name}${baseline.output === 'file' ? '.parquet' : ''}`);
    const result = await runDuck(baseline.variant, baseline.sql(litList(files), out), out, input, baseline.notes, true);
    if (result) {
      console.log(`  duckdb ${name}: ${result.events} rows in ${result.seconds.toFixed(1)} s`);
      duckdb.push(result);
    }
  }
  let before: SourceResult['before'];
  if (BEFORE) {
    // The other checkout's ingest over the very same files, right after: the change's cost, same machine, same load.
    const run = await runScoutqlIngest(`${manifest.id}-before`, inputs, null, input, false, BEFORE);
    before = { ...run, checkout: BEFORE, commit: commitOf(BEFORE) };
    console.log(`  scoutql (--before ${before.commit}): ${before.events} events in ${before.seconds.toFixed(1)} s`);
  }
  return { source: manifest.id, input, scoutql, duckdb, ...(before ? { before } : {}) };
}

function commitOf(checkout: string): string {
  try {
    return execFileSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return checkout;
  }
}

/** A golden file repeated into a few files: for a source the sample does not write. */
interface GoldenSpec {
  source: string;
  file: string;
  /** lines: repeat the record lines (header lines starting with # kept once per file); envelope: repeat the records array. */
  kind: 'lines' | 'envelope';
}

const GOLDEN_FILES_PER_SOURCE = 4;

function inflateGolden(spec: GoldenSpec): string[] {
  const dir = join(OUT, `golden-${spec.source}-${SOURCE_MB}mb`);
  const existing = listFiles(dir);
  if (existing.length === GOLDEN_FILES_PER_SOURCE) return existing;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const original = readFileSync(spec.file);
  const text = (spec.file.endsWith('.gz') ? gunzipSync(original) : original).toString('utf8');
  const target = (SOURCE_MB * 1e6) / GOLDEN_FILES_PER_SOURCE;
  const files: string[] = [];
  const ext = spec.kind === 'envelope' ? 'json' : spec.file.replace(/\.gz$/, '').split('.').at(-1) === 'json' ? 'json' : 'log';
  for (let i = 0; i < GOLDEN_FILES_PER_SOURCE; i++) {
    let body: string;
    if (spec.kind === 'lines') {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      const header = lines.filter((l) => l.startsWith('#'));
      const records = lines.filter((l) => !l.startsWith('#'));
      const block = records.join('\n') + '\n';
      // One more copy per file: identical objects would be skipped by the manifest (keyed by sha256).
      body = header.map((l) => l + '\n').join('') + block.repeat(Math.max(1, Math.round(target / block.length)) + i);
    } else {
      // The envelope's array is `records` (Azure) or `Records` (CloudTrail).
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const key = Array.isArray(parsed['Records']) ? 'Records' : 'records';
      const records = (parsed[key] as unknown[]).map((r) => JSON.stringify(r));
      const perBlock = records.join(',').length + 1;
      const copies = Math.max(1, Math.round(target / perBlock)) + i;
      body = `{"${key}":[` + Array.from({ length: copies }, () => records.join(',')).join(',') + ']}\n';
    }
    const file = join(dir, `${spec.source}-${i}.${ext}`);
    writeFileSync(file, body);
    files.push(file);
  }
  return files;
}

/** The ETL rows of issue 14's table: ScoutQL beside DuckDB's same-shape SQL (CloudTrail) or read_csv (ALB, VPC flow), same run. */
const ISSUE14_ROWS: readonly { source: string; what: string; baseline: string; goal: string }[] = [
  { source: 'cloudtrail', what: 'CloudTrail ETL', baseline: 'cloudtrail-records-same-shape', goal: 'goal ≥ 0.5×, aim 0.8×' },
  { source: 'alb', what: 'ALB ETL', baseline: 'csv-space-quoted', goal: 'goal ≥ 0.5×' },
  { source: 'vpcflow', what: 'VPC flow ETL', baseline: 'csv-space-header', goal: 'goal ≥ 0.5×' },
];

function issue14Table(results: SourceResult[], rss: RssResult[]): void {
  console.log('\n== Issue 14: ETL, ScoutQL beside DuckDB in the same run ==');
  const rows: (string | number)[][] = [];
  for (const spec of ISSUE14_ROWS) {
    const r = results.find((x) => x.source === spec.source);
    if (!r) continue;
    const baseline = DUCKDB_BASELINES[spec.baseline as keyof typeof DUCKDB_BASELINES];
    const d = r.duckdb.find((x) => x.variant === baseline.variant);
    const unit = spec.source === 'cloudtrail' ? 'events' : 'lines';
    rows.push([
      `${spec.what}, ${r.scoutql.events.toLocaleString('en-US')} ${unit}`,
      `${rate(r.scoutql.eventsPerSecond)}/s, ${r.scoutql.peakRssBytes === null ? '?' : mib(r.scoutql.peakRssBytes)} MiB`,
      d
        ? `DuckDB ${baseline.variant}: ${rate(d.eventsPerSecond)}/s, ${d.peakRssBytes === null ? '?' : mib(d.peakRssBytes)} MiB`
        : 'DuckDB failed',
      d ? `${ratio(r.scoutql.eventsPerSecond, d.eventsPerSecond)}× (${spec.goal})` : '-',
    ]);
  }
  for (const m of rss)
    rows.push([
      `CloudTrail ETL, ${m.events.toLocaleString('en-US')} events`,
      `${rate(m.eventsPerSecond)}/s, peak RSS ${mib(m.peakRssBytes)} MiB`,
      '—',
      `${((m.peakRssBytes / RSS_GOAL) * 100).toFixed(0)}% of the 768 MiB goal`,
    ]);
  console.log(table(['what', 'ScoutQL', 'baseline', 'ratio / goal'], rows));
}

function beforeTable(results: SourceResult[]): void {
  const compared = results.filter((r) => r.before);
  if (compared.length === 0) return;
  console.log(`\n== Before (${compared[0].before!.commit}, ${BEFORE}) / after (${commitOf(REPO)}), same files, same run ==`);
  const rows = compared.map((r) => {
    const b = r.before!;
    const a = r.scoutql;
    return [
      r.source,
      a.events,
      rate(b.eventsPerSecond),
      rate(a.eventsPerSecond),
      `${(((a.eventsPerSecond - b.eventsPerSecond) / b.eventsPerSecond) * 100).toFixed(1)}%`,
      b.peakRssBytes === null ? '?' : mib(b.peakRssBytes),
      a.peakRssBytes === null ? '?' : mib(a.peakRssBytes),
      `${b.summary.written}/${b.summary.quarantined} → ${a.summary.written}/${a.summary.quarantined}`,
    ];
  });
  console.log(table(['source', 'events', 'before ev/s', 'after ev/s', 'change', 'before MiB', 'after MiB', 'written/quarantined'], rows));
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const RSS_GOAL = 768 * 1024 * 1024;

interface RssResult {
  events: number;
  files: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssBytes: number;
}

/**
 * Peak RSS of one ingest of `events` CloudTrail events: the sample's CloudTrail log files copied
 * (copy k rewrites every eventID's first eight hex digits, so no copy is a duplicate of another)
 * until there are that many, cached in bench/out/.
 */
async function rssRun(sample: string, events: number): Promise<RssResult> {
  const originals = listFiles(sample, (p) => p.includes(`${sep}CloudTrail${sep}`) && p.endsWith('.json.gz')).sort();
  const dir = join(OUT, `rss-cloudtrail-${events}-${relative(OUT, sample).replace(/[^a-z0-9-]/gi, '_')}`);
  const marker = join(dir, 'events.json');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`writing ${events} CloudTrail events into ${dir} …`);
    let written = 0;
    let files = 0;
    for (let copy = 0; written < events; copy++) {
      for (const file of originals) {
        if (written >= events) break;
        const text = gunzipSync(readFileSync(file)).toString('utf8');
        const records = (JSON.parse(text) as { Records: unknown[] }).Records.length;
        const prefix = (copy + 0x10000000).toString(16).slice(-8);
        const body = copy === 0 ? text : text.replace(/"eventID":"[0-9a-f]{8}/g, `"eventID":"${prefix}`);
        const out = join(dir, `copy-${copy}`, relative(sample, file));
        mkdirSync(join(out, '..'), { recursive: true });
        writeFileSync(out, gzipSync(body, { level: 6 }));
        written += records;
        files++;
      }
    }
    writeFileSync(marker, JSON.stringify({ events: written, files }));
  }
  const { events: actual, files } = JSON.parse(readFileSync(marker, 'utf8')) as { events: number; files: number };
  const lake = join(OUT, `rss-lake-${events}`);
  rmSync(lake, { recursive: true, force: true });
  console.log(`\nrss: ingest of ${actual} CloudTrail events (${files} files) …`);
  const run = await runScoutql([
    'ingest',
    '--json',
    '--lake',
    lake,
    ...readdirSync(dir)
      .filter((n) => n.startsWith('copy-'))
      .map((n) => join(dir, n)),
  ]);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Omit<IngestSummary, 'days'>;
  rmSync(lake, { recursive: true, force: true });
  console.log(
    `  ${summary.records} events in ${summary.seconds.toFixed(1)} s, peak RSS ${run.peakRssBytes === null ? '?' : mib(run.peakRssBytes)} MiB`,
  );
  return {
    events: summary.records,
    files,
    seconds: summary.seconds,
    eventsPerSecond: summary.records / summary.seconds,
    peakRssBytes: run.peakRssBytes ?? Number.NaN,
  };
}

function report(results: SourceResult[]): void {
  console.log('\n== Throughput and size, ScoutQL beside DuckDB in the same run ==');
  const rows: (string | number)[][] = [];
  for (const r of results) {
    for (const s of [r.scoutql, ...r.duckdb]) {
      rows.push([
        `${r.source} ${s.tool}`,
        s.variant,
        s.events,
        s.seconds.toFixed(1),
        rate(s.eventsPerSecond),
        s.inputMBps.toFixed(2),
        s.uncompressedMBps.toFixed(2),
        s.peakRssBytes === null ? '?' : mb(s.peakRssBytes),
        mb(s.outputBytes),
      ]);
    }
  }
  console.log(table(['source / tool', 'variant', 'events', 's', 'events/s', 'in MB/s', 'raw MB/s', 'peak RSS MB', 'out MB'], rows));

  console.log('\n== Ratios (ScoutQL / DuckDB) ==');
  const ratioRows: (string | number)[][] = [];
  for (const r of results) {
    for (const d of r.duckdb) {
      const graph = r.scoutql.graphRerunSeconds;
      const noGraph = graph !== null ? r.scoutql.events / Math.max(0.001, r.scoutql.seconds - graph) : null;
      ratioRows.push([
        r.source,
        d.variant,
        ratio(r.scoutql.eventsPerSecond, d.eventsPerSecond),
        noGraph === null ? '-' : ratio(noGraph, d.eventsPerSecond),
        // A golden file repeated thousands of times compresses to almost nothing: its sizes say nothing.
        r.input.repeated ? '-' : ratio(r.scoutql.outputBytes, d.outputBytes),
        r.input.repeated
          ? '-'
          : ratio(
              r.scoutql.typedColumnBytes,
              d.columnBytes
                ? Object.entries(d.columnBytes)
                    .filter(([k]) => k !== 'raw')
                    .reduce((n, [, v]) => n + v, 0)
                : d.outputBytes,
            ),
        r.scoutql.peakRssBytes && d.peakRssBytes ? ratio(r.scoutql.peakRssBytes, d.peakRssBytes) : '?',
      ]);
    }
  }
  console.log(
    table(['source', 'DuckDB variant', 'throughput', 'throughput w/o graph', 'bytes', 'typed bytes (no raw)', 'peak RSS'], ratioRows),
  );
  console.log('throughput: ScoutQL events/s ÷ DuckDB events/s (aim ≥ 0.5); bytes: ScoutQL Parquet ÷ DuckDB Parquet (aim ≤ 1.2);');
  console.log('typed bytes: ScoutQL column chunks without `raw` ÷ DuckDB column chunks without `raw` (from parquet_metadata).');
  console.log('sizes of sources made by repeating a golden file are not compared (repeats compress to nearly nothing).');
  for (const r of results) {
    const raw = r.scoutql.rawColumnBytes;
    const total = raw + r.scoutql.typedColumnBytes;
    if (total > 0 && !r.input.repeated)
      console.log(
        `${r.source}: raw column ${mb(raw)} MB of ${mb(total)} MB column data (${((raw / total) * 100).toFixed(0)}%)${r.scoutql.graphRerunSeconds !== null ? `; graph step alone ${r.scoutql.graphRerunSeconds.toFixed(1)} s of ${r.scoutql.seconds.toFixed(1)} s` : ''}`,
      );
  }
}

async function main(): Promise<void> {
  const before = machine();
  const started = Date.now();
  const results: SourceResult[] = [];
  for (const id of ONLY ?? []) if (!MANIFESTS.some((m) => m.id === id)) throw new Error(`--only: unknown source '${id}'`);
  const sample = await ensureSample(SCALE, DAYS, RSS_ONLY ? ['cloudtrail'] : ONLY ? [...ONLY] : undefined);
  for (const manifest of MANIFESTS) if (wanted(manifest.id)) results.push(await benchSource(sample, manifest));
  const rss: RssResult[] = [];
  for (const events of RSS_SIZES) rss.push(await rssRun(sample, events));
  report(results);
  beforeTable(results);
  issue14Table(results, rss);
  const after = machine();
  const file = writeResult(QUICK ? 'etl-quick' : 'etl', {
    bench: 'etl',
    quick: QUICK,
    scale: SCALE,
    days: DAYS,
    sourceMb: SOURCE_MB,
    threads: THREADS,
    startedAt: new Date(started).toISOString(),
    minutes: (Date.now() - started) / 60000,
    machineBefore: before,
    machineAfter: after,
    results,
    rss,
    before: BEFORE,
    duckdbFailures,
  });
  console.log(
    `\nload average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
