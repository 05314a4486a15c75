/**
 * ETL bench: the ScoutQL ingest beside DuckDB's own JSON/CSV readers over the same raw files,
 * in the same run, as ratios. See bench/README.md for what each figure means.
 *
 *   npx tsx bench/etl.ts            # ≈1M CloudTrail events (sample --scale 20, 7 days)
 *   npx tsx bench/etl.ts --quick    # ≈100k CloudTrail events (--scale 2), smaller per-source files
 *   options: --scale K --days N --only cloudtrail,vpcflow,alb,… --source-mb M --skip-graph-rerun
 *
 * Both sides run as child processes (ScoutQL: `scoutql ingest --json`; DuckDB: bench/lib/duckdb-child.ts),
 * each under /usr/bin/time -v for its peak RSS, one after the other, with the same two threads.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { materializeGraph } from '../etl/graph';
import type { IngestSummary } from '../etl/ingest';
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
const wanted = (source: string) => !ONLY || ONLY.has(source);

/** Only for paths this bench chose itself. */
const lit = (path: string) => `'${path.replace(/'/g, "''")}'`;
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
): Promise<SourceResult['scoutql']> {
  const lake = join(OUT, `etl-lake-${name}`);
  rmSync(lake, { recursive: true, force: true });
  const run = await runScoutql(['ingest', '--json', '--lake', lake, ...(source ? ['--source', source] : []), ...inputs]);
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

/**
 * The ScoutQL api_activity columns computed by DuckDB from the same JSON (JSON[] then JSON paths),
 * with the same partitioning, sort keys, ZSTD level and row-group size as the lake: the closest
 * pure-SQL equivalent of what the ScoutQL ETL writes for CloudTrail.
 */
function cloudTrailSameShapeSql(files: string[], out: string): string {
  const s = (path: string) => `(r->>'${path}')`;
  return `COPY (
    WITH recs AS (SELECT unnest(Records) AS r FROM read_json(${litList(files)}, columns = {Records: 'JSON[]'}, maximum_object_size = 67108864))
    SELECT coalesce(${s('$.recipientAccountId')}, 'unknown') AS account, coalesce(${s('$.awsRegion')}, 'unknown') AS region,
      strftime(try_cast(${s('$.eventTime')} AS TIMESTAMP), '%Y-%m-%d') AS day,
      try_cast(${s('$.eventTime')} AS TIMESTAMP) AS "time", ${s('$.eventID')} AS event_id, 6003 AS class_uid,
      ${s('$.eventName')} AS activity, ${s('$.eventSource')} AS service,
      CASE WHEN ${s('$.errorCode')} IS NULL THEN 'success' ELSE 'failure' END AS outcome,
      ${s('$.errorCode')} AS error_code, ${s('$.errorMessage')} AS error_message,
      coalesce(${s('$.userIdentity.sessionContext.sessionIssuer.arn')}, ${s('$.userIdentity.arn')}, 'service:' || ${s('$.userIdentity.invokedBy')}) AS actor_id,
      ${s('$.userIdentity.type')} AS actor_type,
      coalesce(${s('$.userIdentity.userName')}, ${s('$.userIdentity.principalId')}) AS actor_name,
      ${s('$.userIdentity.arn')} AS actor_arn, ${s('$.userIdentity.accountId')} AS actor_account,
      ${s('$.userIdentity.accessKeyId')} AS session_id, ${s('$.sourceIPAddress')} AS src_ip, ${s('$.userAgent')} AS user_agent,
      json_extract_string(r, '$.resources[*].ARN') AS resources, r::VARCHAR AS raw,
      ${s('$.eventType')} AS event_type, try_cast(${s('$.readOnly')} AS BOOLEAN) AS read_only,
      try_cast(${s('$.userIdentity.sessionContext.attributes.mfaAuthenticated')} AS BOOLEAN) AS mfa,
      ${s('$.userIdentity.sessionContext.sessionIssuer.arn')} AS session_issuer_arn,
      ${s('$.userIdentity.sessionContext.sessionIssuer.userName')} AS session_name,
      ${s('$.responseElements.credentials.accessKeyId')} AS issued_session_id,
      ${s('$.responseElements.assumedRoleUser.arn')} AS issued_role_arn,
      ${s('$.recipientAccountId')} AS recipient_account, ${s('$.vpcEndpointId')} AS vpc_endpoint_id,
      (r->'$.requestParameters')::VARCHAR AS request_parameters
    FROM recs
    ORDER BY account, region, day, actor_id, session_id, "time"
  ) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 20000, PARTITION_BY (account, region, day))`;
}

async function benchCloudTrail(sample: string): Promise<SourceResult> {
  const roots = listFiles(join(sample, 'AWSLogs'), (p) => /\/CloudTrail\/.*\.json\.gz$/.test(p));
  if (roots.length === 0) throw new Error(`no CloudTrail log files under ${sample}/AWSLogs`);
  const accounts = [...new Set(roots.map((p) => p.slice(0, p.indexOf('/CloudTrail/') + '/CloudTrail'.length)))];
  const input = {
    from: `scoutql sample --scale ${SCALE} --days ${DAYS} (CloudTrail log files; digests excluded)`,
    files: roots.length,
    bytes: totalBytes(roots),
    uncompressedBytes: uncompressedBytes(roots),
  };
  console.log(`\ncloudtrail: ${input.files} files, ${mb(input.bytes)} MB gzip, ${mb(input.uncompressedBytes)} MB JSON`);
  const scoutql = await runScoutqlIngest(`cloudtrail-s${SCALE}`, accounts, null, input, !args.has('skip-graph-rerun'));
  console.log(`  scoutql: ${scoutql.events} events in ${scoutql.seconds.toFixed(1)} s`);
  const auto = await runDuck(
    'read_json auto schema → 1 Parquet (ZSTD default level)',
    `COPY (SELECT unnest(Records, recursive := true) FROM read_json(${litList(roots)}, sample_size = -1, maximum_sample_files = 1000000, maximum_object_size = 67108864))
     TO ${lit(join(OUT, 'duck-cloudtrail-auto.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
    join(OUT, 'duck-cloudtrail-auto.parquet'),
    input,
    'DuckDB infers one struct schema over every record (full sample: two passes), no raw record, no partitions, no sort',
    true,
  );
  if (auto) console.log(`  duckdb auto: ${auto.events} events in ${auto.seconds.toFixed(1)} s`);
  const same = await runDuck(
    'JSON[] → same columns + raw, partitioned, sorted, ZSTD 9',
    cloudTrailSameShapeSql(roots, join(OUT, 'duck-cloudtrail-same')),
    join(OUT, 'duck-cloudtrail-same'),
    input,
    "the lake's api_activity columns by JSON path (identity rules simplified), raw kept, PARTITION_BY account/region/day, ORDER BY the lake sort keys",
    true,
  );
  if (same) console.log(`  duckdb same-shape: ${same.events} events in ${same.seconds.toFixed(1)} s`);
  return { source: 'cloudtrail', input, scoutql, duckdb: [same, auto].filter((d): d is NonNullable<typeof d> => d !== null) };
}

/**
 * Every other source: its files in the sample (where `scoutql sample` writes them, see
 * etl/sample/README.md), else a golden file repeated; ScoutQL detects each object as a user's
 * ingest would, and DuckDB reads the same files with its native reader for the format.
 */
interface SourceSpec {
  source: string;
  /** Folders of this source in the sample, relative to it; `*` matches one path segment. */
  sampleDirs: string[];
  /** Which files under those folders are logs. */
  logFile: RegExp;
  /** DuckDB's native read of the files (a SQL list literal). */
  reader: (files: string) => string;
  readerNote: string;
  /** Fallback when the sample has no files of this source. */
  golden: { file: string; kind: 'lines' | 'envelope' };
}

const CSV_QUOTED_SPACE = (f: string) =>
  `SELECT * FROM read_csv(${f}, delim = ' ', quote = '"', escape = '"', header = false, null_padding = true, strict_mode = false, union_by_name = true)`;
const JSON_LINES = (f: string) =>
  `SELECT * FROM read_json(${f}, format = 'newline_delimited', union_by_name = true, sample_size = -1, maximum_sample_files = 1000000, maximum_object_size = 67108864)`;
const RECORDS_ENVELOPE = (f: string) =>
  `SELECT unnest(records, recursive := true) FROM read_json(${f}, union_by_name = true, sample_size = -1, maximum_sample_files = 1000000, maximum_object_size = 67108864)`;

const SOURCES: SourceSpec[] = [
  {
    source: 'vpcflow',
    sampleDirs: ['AWSLogs/*/vpcflowlogs'],
    logFile: /\.log\.gz$/,
    readerNote: 'read_csv (space, header, "-" as NULL)',
    reader: (f) => `SELECT * FROM read_csv(${f}, delim = ' ', header = true, nullstr = '-', union_by_name = true)`,
    golden: { file: 'vpcflow/default-format.log', kind: 'lines' },
  },
  {
    source: 's3access',
    sampleDirs: ['s3-access'],
    logFile: /\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/,
    readerNote: "read_csv (space, quote '\"')",
    reader: CSV_QUOTED_SPACE,
    golden: { file: 's3access/docs-example-records.log', kind: 'lines' },
  },
  {
    source: 'alb',
    sampleDirs: ['AWSLogs/*/elasticloadbalancing'],
    logFile: /\.log\.gz$/,
    readerNote: "read_csv (space, quote '\"')",
    reader: CSV_QUOTED_SPACE,
    golden: { file: 'alb/docs-current-fields.log', kind: 'lines' },
  },
  {
    source: 'cloudfront',
    sampleDirs: ['AWSLogs/*/CloudFront'],
    logFile: /\.gz$/,
    readerNote: "read_csv (tab, comment '#')",
    reader: (f) => `SELECT * FROM read_csv(${f}, delim = '\t', comment = '#', header = false, quote = '', null_padding = true)`,
    golden: { file: 'cloudfront/EMLARXS9EXAMPLE.2019-12-04-21.a1b2c3d4.gz', kind: 'lines' },
  },
  {
    source: 'route53resolver',
    sampleDirs: ['AWSLogs/*/vpcdnsquerylogs'],
    logFile: /\.log\.gz$/,
    readerNote: 'read_json (JSON lines)',
    reader: JSON_LINES,
    golden: { file: 'route53resolver/s3-delivery.log.gz', kind: 'lines' },
  },
  {
    source: 'gcpaudit',
    sampleDirs: ['cloudaudit.googleapis.com'],
    logFile: /\.json$/,
    readerNote: 'read_json (JSON lines)',
    reader: JSON_LINES,
    golden: { file: 'gcpaudit/sink-export.json', kind: 'lines' },
  },
  {
    source: 'azuread',
    sampleDirs: ['insights-logs-signinlogs', 'insights-logs-auditlogs'],
    logFile: /\.json$/,
    readerNote: 'read_json (JSON lines)',
    reader: JSON_LINES,
    golden: { file: 'azuread/signins-storage-envelope.json', kind: 'envelope' },
  },
  {
    source: 'azureactivity',
    sampleDirs: ['insights-activity-logs'],
    logFile: /\.json$/,
    readerNote: 'read_json (JSON lines)',
    reader: JSON_LINES,
    golden: { file: 'azureactivity/ms-docs-storage-envelope.json', kind: 'envelope' },
  },
  {
    source: 'nsgflow',
    sampleDirs: ['insights-logs-networksecuritygroupflowevent'],
    logFile: /\.json$/,
    readerNote: 'read_json + unnest(records)',
    reader: RECORDS_ENVELOPE,
    golden: { file: 'nsgflow/ms-docs-version2.json', kind: 'envelope' },
  },
];

/** Expands `*` segments of a sample-relative folder pattern against the disk. */
function expandDirs(root: string, pattern: string): string[] {
  let current = [root];
  for (const segment of pattern.split('/')) {
    current = current.flatMap((dir) => {
      if (segment !== '*') return existsSync(join(dir, segment)) ? [join(dir, segment)] : [];
      return existsSync(dir)
        ? readdirSync(dir, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => join(dir, e.name))
        : [];
    });
  }
  return current;
}

async function benchSource(sample: string, spec: SourceSpec): Promise<SourceResult> {
  const dirs = sample ? spec.sampleDirs.flatMap((d) => expandDirs(sample, d)) : [];
  let files = dirs.flatMap((d) => listFiles(d, (p) => spec.logFile.test(p)));
  let inputs = dirs;
  let from = `scoutql sample --scale ${SCALE} --days ${DAYS} (${spec.sampleDirs.join(', ')})`;
  let repeated = false;
  if (files.length === 0) {
    files = inflateGolden({ source: spec.source, file: spec.golden.file, kind: spec.golden.kind });
    inputs = files;
    from = `test/sources/${spec.golden.file} repeated into ${files.length} files (not in the sample)`;
    repeated = true;
  }
  const input = { from, repeated, files: files.length, bytes: totalBytes(files), uncompressedBytes: uncompressedBytes(files) };
  console.log(
    `\n${spec.source}: ${input.files} files, ${mb(input.bytes)} MB stored, ${mb(input.uncompressedBytes)} MB uncompressed, from ${from}`,
  );
  const scoutql = await runScoutqlIngest(
    `${spec.source}-${repeated ? `golden${SOURCE_MB}mb` : `s${SCALE}`}`,
    inputs,
    null,
    input,
    !args.has('skip-graph-rerun'),
  );
  console.log(`  scoutql: ${scoutql.events} events in ${scoutql.seconds.toFixed(1)} s`);
  const out = join(OUT, `duck-${spec.source}.parquet`);
  const duck = await runDuck(
    `${spec.readerNote} → Parquet ZSTD`,
    `COPY (${spec.reader(litList(files))}) TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`,
    out,
    input,
    'typed by DuckDB auto-detection, no raw',
    true,
  );
  if (duck) console.log(`  duckdb: ${duck.events} rows in ${duck.seconds.toFixed(1)} s`);
  return { source: spec.source, input, scoutql, duckdb: duck ? [duck] : [] };
}

/** A golden file repeated into a few files: for a source the sample does not write. */
interface GoldenSpec {
  source: string;
  file: string;
  /** lines: repeat the record lines (header lines starting with # kept once per file); envelope: repeat the `records` array. */
  kind: 'lines' | 'envelope';
}

const GOLDEN_FILES_PER_SOURCE = 4;

function inflateGolden(spec: GoldenSpec): string[] {
  const dir = join(OUT, `golden-${spec.source}-${SOURCE_MB}mb`);
  const existing = listFiles(dir);
  if (existing.length === GOLDEN_FILES_PER_SOURCE) return existing;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const original = readFileSync(join(REPO, 'test', 'sources', spec.file));
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
      const records = (JSON.parse(text) as { records: unknown[] }).records.map((r) => JSON.stringify(r));
      const perBlock = records.join(',').length + 1;
      const copies = Math.max(1, Math.round(target / perBlock)) + i;
      body = '{"records":[' + Array.from({ length: copies }, () => records.join(',')).join(',') + ']}\n';
    }
    const file = join(dir, `${spec.source}-${i}.${ext}`);
    writeFileSync(file, body);
    files.push(file);
  }
  return files;
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
  const sample = await ensureSample(SCALE, DAYS);
  if (wanted('cloudtrail')) results.push(await benchCloudTrail(sample));
  for (const spec of SOURCES) if (wanted(spec.source)) results.push(await benchSource(sample, spec));
  report(results);
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
