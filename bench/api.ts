/**
 * API bench: the integration pivots (role chain behind a session, identities behind an IP, who
 * touched a bucket, contextFor an IP, event timeline pages) through the GraphQL API in-process,
 * beside the very same SQL statements run directly on the DuckDB engine. See bench/README.md.
 *
 *   npx tsx bench/api.ts            # lake of the sample --scale 20 (≈1M CloudTrail events + flows), cached
 *   npx tsx bench/api.ts --quick    # --scale 2 lake (≈110k events)
 *   npx tsx bench/api.ts --athena   # the same pivots on the Athena engine (real SDK → testkit/athena-local):
 *                                   # latency and Athena bytes scanned per pivot and per statement
 *   npx tsx bench/api.ts --quick --clients 20,50
 *                                   # concurrency: `scoutql serve` as a user starts it (real HTTP, DuckDB, the
 *                                   # configured engine pool), one client alone then 20 and 50 at once, per pivot:
 *                                   # req/s and latency p50 / p95 as the clients see them
 *   npx tsx bench/api.ts --quick --light-vs-heavy
 *                                   # issue #9: p95 of a light pivot (identity timeline, 50 events) alone and while
 *                                   # 6 clients run a whole-lake aggregate, per pool setting, in one run
 *                                   # (--pools 2:0,8:6 = connections:lightReserved each; --heavy N clients)
 *   npx tsx bench/api.ts --quick --views
 *                                   # issue #14: lake views over globs (re-listed by every statement) beside views over
 *                                   # the files listed once (the engine's default on a lake with a commit chain), interleaved
 *   options: --scale K --days N --runs N (timed runs per pivot, default 30; 5 with --athena) --warmup N (default 3)
 *            --lake DIR --parquet-metadata-cache (experiment: SET parquet_metadata_cache = true on the engine)
 *            --clients N,M --seconds S (per level and pivot, default 15) --pool N (server.pool.connections, default the config's)
 *            --keys same,distinct (contextFor: every client the story's IP, and/or each request another IP of the lake;
 *            default both) --threads N (engine.duckdb.threads) --share off (server.pool.shareIdentical)
 *            --graph-in-memory off (engine.duckdb.graphInMemory; also for the pivots, which hold it as serve does)
 *            --server-checkout DIR (serve from another checkout, e.g. the "before" worktree, with this bench's clients)
 *
 * "Direct" replays, for each timed run, the statements the API issued for that pivot (recorded
 * once, with their parameters), in the same concurrent waves, on the same DuckDbEngine. So the
 * ratio API / direct is what GraphQL parsing, validation, cost checks, resolvers, DataLoader
 * batching and result shaping add on top of the engine.
 *
 * --athena: bytes scanned are what the local server reports, measured as Athena bills them (the
 * compressed Parquet column chunks each statement read; testkit/README.md). Latency there is the
 * local server's (DuckDB plus the SDK's polling), not Athena's: the bytes are the figure to compare.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbEngine } from '../src/engine/duckdb';
import { graphDays } from '../src/engine/lake';
import { eventTableSelect, graphTableSelect, listPartFiles } from '../src/core/duckdb';
import { graphTablePath, tablePath } from '../src/core/lake-layout';
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../src/engine/types';
import { ScoutApi } from '../src/api/server';
import { readStories, storyById } from '../testkit/sample/story';
import { buildWorld, parseStartDate } from '../testkit/sample/world';
import { DEFAULT_SEED, DEFAULT_START } from '../testkit/sample';
import { startAthenaOverLake } from '../testkit/athena-local';
import { REPO, ensureSampleLake, listFiles, machine, parseArgs, table, totalBytes, mb, writeResult } from './lib/measure';

const args = parseArgs(process.argv.slice(2));
const QUICK = args.has('quick');
const SCALE = Number(args.get('scale') ?? (QUICK ? 2 : 20));
const DAYS = Number(args.get('days') ?? 7);
const ATHENA = args.has('athena');
const RUNS = Number(args.get('runs') ?? (ATHENA ? 5 : 30));
const WARMUP = Number(args.get('warmup') ?? 3);
const DAY_MS = 86_400_000;
/** Concurrent client counts for the HTTP concurrency run (`--clients 20,50`); one client alone is always measured too. */
const CLIENTS = typeof args.get('clients') === 'string' ? String(args.get('clients')).split(',').map(Number) : [];
const SECONDS = Number(args.get('seconds') ?? 15);

interface Recorded {
  sql: string;
  params: readonly SqlParam[];
  label?: string;
  /** The window's days the API bounded the statement to (window reads on DuckDB): direct replays it the same way. */
  days?: readonly [string, string];
  /** The keys the API said the statement filters on (lookup-index reads on DuckDB): direct replays it the same way. */
  keyed?: QueryOptions['keyed'];
  start: number;
  end: number;
}

/** Passes queries through, recording them while `recording` is set. */
class RecordingEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  recording: Recorded[] | null = null;
  constructor(private readonly inner: DuckDbEngine) {}
  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlParam[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
    const start = performance.now();
    const result = await this.inner.query<R>(sql, params, options);
    this.recording?.push({ sql, params, label: options?.label, days: options?.days, keyed: options?.keyed, start, end: performance.now() });
    return result;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Groups recorded statements into waves that ran concurrently (each started before the wave's first one ended). */
function waves(recorded: readonly Recorded[]): Recorded[][] {
  const sorted = [...recorded].sort((a, b) => a.start - b.start);
  const out: Recorded[][] = [];
  let current: Recorded[] = [];
  let firstEnd = Infinity;
  for (const r of sorted) {
    if (current.length > 0 && r.start >= firstEnd) {
      out.push(current);
      current = [];
      firstEnd = Infinity;
    }
    current.push(r);
    firstEnd = Math.min(firstEnd, r.end);
  }
  if (current.length) out.push(current);
  return out;
}

interface Pivot {
  name: string;
  what: string;
  document: string;
  variables: Record<string, unknown>;
  /** `--clients` distinct keys: the variables of the next request (each asks another key). */
  keyed?: () => Record<string, unknown>;
}

function pivots(sample: string): Pivot[] {
  const stories = readStories(sample);
  const start = DEFAULT_START;
  const window = { from: `${start}T00:00:00Z`, to: new Date(Date.parse(`${start}T00:00:00Z`) + DAYS * DAY_MS).toISOString() };
  const chain = storyById(stories, 'role-chain-privilege-escalation').expect;
  const brute = storyById(stories, 'console-brute-force').expect;
  const bucket = storyById(stories, 'public-bucket-exposure').expect;
  const world = buildWorld(DEFAULT_SEED, parseStartDate(start), DAYS);
  const known = ['10.0.0.0/8', ...world.offices.map((o) => `${o.ip}/32`), ...Object.values(world.egress).map((ip) => `${ip}/32`)];
  const busyDay = { from: `${start}T00:00:00Z`, to: new Date(Date.parse(`${start}T00:00:00Z`) + DAY_MS).toISOString() };
  return [
    {
      name: 'role chain behind a session',
      what: 'session(id) → chain (issuedBy per hop) + resources it touched',
      document: `query($key: String!, $w: TimeWindow!) { session(id: $key, window: $w) {
        chain { accessKeyId identity { identityId } issuedBy { eventId action identity { identityId } } }
        resources { edges { relation node { resourceId } } } } }`,
      variables: { key: chain.sessions[2], w: window },
    },
    {
      name: 'identities behind an IP',
      what: 'ip(address) → identities with counts, issued sessions, flow peers',
      document: `query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) {
        address isPrivate eventCount
        identities { totalCount edges { eventCount node { identityId } } }
        issuedSessions { edges { node { accessKeyId } } }
        peers { edges { relation node { address isPrivate } } } } }`,
      variables: { ip: brute.attackerIp, w: window },
    },
    {
      name: 'who touched a bucket',
      what: 'resource(bucket) → who changed it, readers outside known ranges and their identities',
      document: `query($bucket: String!, $known: [String!], $w: TimeWindow!) { resource(id: $bucket, window: $w) {
        changes: actors(action: "PutBucketPolicy") { edges { node { identityId } } }
        sessions { edges { relation node { accessKeyId identity { identityId } } } }
        outside: sourceIps(action: "GetObject", outside: $known, first: 100) { edges { eventCount node { address identities { edges { node { identityId } } } } } } } }`,
      variables: { bucket: bucket.bucket, known, w: window },
    },
    {
      name: 'contextFor an IP',
      what: 'contextFor(ip) → kind, identities, ips, sessions, resources, 5 recent events',
      document: `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
        kind found eventCount
        identities(first: 5) { edges { node { identityId } } }
        ips(first: 5) { edges { node { address } } }
        sessions(first: 5) { edges { node { accessKeyId } } }
        resources(first: 5) { edges { relation node { resourceId } } }
        recentEvents(first: 5) { eventId activity } } }`,
      variables: { i: brute.attackerIp, w: window },
    },
    {
      name: 'timeline of a session',
      what: 'events(filter: session, first 100) with totalCount, 7-day window',
      document: `query($key: String!, $w: TimeWindow!) { events(window: $w, first: 100, filter: { session: $key }) {
        totalCount edges { node { eventId time activity outcome sourceIpAddress } } pageInfo { hasNextPage endCursor } } }`,
      variables: { key: chain.sessions[2], w: window },
    },
    {
      name: 'events page, whole day',
      what: 'events(no filter, first 100) with totalCount over one full day',
      document: `query($w: TimeWindow!) { events(window: $w, first: 100) {
        totalCount edges { node { eventId time activity actorId } } pageInfo { hasNextPage endCursor } } }`,
      variables: { w: busyDay },
    },
    {
      name: 'identity timeline (50 events)',
      what: 'identity(id) → its latest 50 events over the 7-day window',
      document: `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
        identityId events(first: 50) { edges { node { eventId time activity outcome sourceIpAddress } } } } }`,
      variables: { id: chain.chain[0], w: window },
    },
    {
      name: 'depth 3: identity → sessions → events → resources',
      what: 'identity(id) → 10 sessions → 20 events each → the resources each event touched',
      document: `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
        identityId sessions(first: 10) { edges { node { accessKeyId
          events(first: 20) { edges { node { eventId time activity resources { resourceId kind } } } } } } } } }`,
      variables: { id: chain.chain[0], w: window },
    },
  ];
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function main(): Promise<void> {
  const before = machine();
  const { lake, sample, build } = await ensureSampleLake(
    SCALE,
    DAYS,
    typeof args.get('lake') === 'string' ? String(args.get('lake')) : undefined,
  );
  const lakeBytes = totalBytes(listFiles(lake, (p) => p.endsWith('.parquet')));
  console.log(`lake: ${mb(lakeBytes)} MB of Parquet`);
  if (ATHENA) return benchAthena({ lake, sample, build, lakeBytes, before });
  if (CLIENTS.length > 0) return benchClients({ lake, sample, build, lakeBytes, before });
  if (args.has('light-vs-heavy')) return benchLightVsHeavy({ lake, sample, build, lakeBytes, before });
  if (args.has('views')) return benchViews({ lake, build, lakeBytes, before });

  // Cold: a fresh engine, the first operation it ever runs (OS page cache is whatever it is).
  const openStarted = performance.now();
  // As `scoutql serve` opens it: the graph held in memory unless `--graph-in-memory off`.
  const engine = await DuckDbEngine.open({ lake, graphInMemory: args.get('graph-in-memory') !== 'off' });
  const openMillis = performance.now() - openStarted;
  // Experiment knob: DuckDB caches Parquet footers across queries (off by default in DuckDB).
  if (args.has('parquet-metadata-cache')) await engine.exec('SET parquet_metadata_cache = true');
  const recorder = new RecordingEngine(engine);
  const api = new ScoutApi({ engine: recorder, latestDay: () => graphDays(lake).at(-1) ?? null });
  const list = pivots(sample);
  const coldStarted = performance.now();
  const cold = await api.execute(list[0].document, list[0].variables);
  const coldMillis = performance.now() - coldStarted;
  if (cold.errors?.length) throw new Error(`cold query failed: ${JSON.stringify(cold.errors)}`);

  const results = [];
  for (const pivot of list) {
    // Record the statements once (after a first run, so caches are in the same state as timed runs).
    const first = await api.execute(pivot.document, pivot.variables);
    if (first.errors?.length) throw new Error(`${pivot.name}: ${JSON.stringify(first.errors)}`);
    recorder.recording = [];
    await api.execute(pivot.document, pivot.variables);
    const statements = waves(recorder.recording);
    const queries = recorder.recording.length;
    recorder.recording = null;
    // Each statement's own time during the timed direct runs: which SQL dominates a pivot.
    const perStatement = new Map<string, number[]>();
    let timing = false;
    const direct = async () => {
      for (const wave of statements) {
        await Promise.all(
          wave.map(async (r, i) => {
            const t = performance.now();
            await engine.query(r.sql, r.params, { label: r.label, days: r.days, keyed: r.keyed });
            if (!timing) return;
            const key = `${r.label ?? '?'}#${statements.indexOf(wave)}.${i}`;
            perStatement.set(key, [...(perStatement.get(key) ?? []), performance.now() - t]);
          }),
        );
      }
    };
    for (let i = 0; i < WARMUP; i++) {
      await api.execute(pivot.document, pivot.variables);
      await direct();
    }
    const apiMs: number[] = [];
    const directMs: number[] = [];
    // Interleaved, so load from other processes on this shared machine hits both sides alike.
    timing = true;
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      const r = await api.execute(pivot.document, pivot.variables);
      apiMs.push(performance.now() - t);
      if (r.errors?.length) throw new Error(`${pivot.name}: ${JSON.stringify(r.errors)}`);
      t = performance.now();
      await direct();
      directMs.push(performance.now() - t);
    }
    apiMs.sort((a, b) => a - b);
    directMs.sort((a, b) => a - b);
    const row = {
      pivot: pivot.name,
      what: pivot.what,
      queries,
      waves: statements.length,
      labels: [...new Set(statements.flat().map((s) => s.label ?? '?'))],
      api: { p50: percentile(apiMs, 50), p95: percentile(apiMs, 95), min: apiMs[0], max: apiMs.at(-1)! },
      direct: { p50: percentile(directMs, 50), p95: percentile(directMs, 95), min: directMs[0], max: directMs.at(-1)! },
      responseChars: JSON.stringify(first.data).length,
      statementP50: Object.fromEntries(
        [...perStatement]
          .map(([k, v]): [string, number] => [
            k,
            percentile(
              v.sort((a, b) => a - b),
              50,
            ),
          ])
          .sort((a, b) => b[1] - a[1]),
      ),
    };
    results.push(row);
    console.log(
      `${pivot.name}: API p50 ${row.api.p50.toFixed(1)} ms, direct p50 ${row.direct.p50.toFixed(1)} ms (${queries} statements in ${statements.length} waves)`,
    );
    console.log(
      `  statement p50 ms: ${Object.entries(row.statementP50)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
  }
  // The engine's floor: what any statement costs before it does real work, and whether caching
  // Parquet footers changes it (A/B interleaved in this run, so both see the same load).
  const lastDay = graphDays(lake).at(-1) ?? '1970-01-01';
  const floorStatements: [string, string, SqlParam[]][] = [
    ['SELECT 1', 'SELECT 1 AS one', []],
    ['count graph_entities, one day', 'SELECT count(*) AS n FROM graph_entities WHERE day = CAST(? AS DATE)', [lastDay]],
    ['count api_activity, one day', 'SELECT count(*) AS n FROM api_activity WHERE day = CAST(? AS DATE)', [lastDay]],
  ];
  const floor: { statement: string; p50NoCache: number; p50Cache: number }[] = [];
  for (const [name, sql, params] of floorStatements) {
    const times: Record<'off' | 'on', number[]> = { off: [], on: [] };
    for (let i = 0; i < RUNS + WARMUP; i++) {
      for (const mode of ['off', 'on'] as const) {
        await engine.exec(`SET parquet_metadata_cache = ${mode === 'on' ? 'true' : 'false'}`);
        const t = performance.now();
        await engine.query(sql, params);
        if (i >= WARMUP) times[mode].push(performance.now() - t);
      }
    }
    floor.push({
      statement: name,
      p50NoCache: percentile(
        times.off.sort((a, b) => a - b),
        50,
      ),
      p50Cache: percentile(
        times.on.sort((a, b) => a - b),
        50,
      ),
    });
  }
  await api.stop();
  await engine.close();

  const f = (n: number) => n.toFixed(1);
  console.log(`\n== GraphQL API in-process vs the same SQL on DuckDbEngine (${RUNS} timed runs each, ${WARMUP} warm-up) ==`);
  console.log(
    table(
      ['pivot', 'SQL', 'waves', 'API p50 ms', 'API p95 ms', 'direct p50 ms', 'direct p95 ms', 'API/direct p50', 'API/direct p95'],
      results.map((r) => [
        r.pivot,
        r.queries,
        r.waves,
        f(r.api.p50),
        f(r.api.p95),
        f(r.direct.p50),
        f(r.direct.p95),
        (r.api.p50 / r.direct.p50).toFixed(2),
        (r.api.p95 / r.direct.p95).toFixed(2),
      ]),
    ),
  );
  console.log(`aims: API p50 < 50 ms; API/direct < 1.3`);
  console.log('\n== Engine floor (p50 ms, parquet_metadata_cache off / on, interleaved) ==');
  console.log(
    table(
      ['statement', 'cache off', 'cache on'],
      floor.map((r) => [r.statement, f(r.p50NoCache), f(r.p50Cache)]),
    ),
  );
  console.log(`cold: engine open ${f(openMillis)} ms, first query ('${list[0].name}') ${f(coldMillis)} ms`);
  const after = machine();
  const file = writeResult(`${QUICK ? 'api-quick' : 'api'}${args.has('parquet-metadata-cache') ? '-metadata-cache' : ''}`, {
    bench: 'api',
    quick: QUICK,
    parquetMetadataCache: args.has('parquet-metadata-cache'),
    scale: SCALE,
    days: DAYS,
    runs: RUNS,
    warmup: WARMUP,
    lake,
    lakeBytes,
    build,
    cold: { engineOpenMillis: openMillis, firstQueryMillis: coldMillis, pivot: list[0].name },
    machineBefore: before,
    machineAfter: after,
    results,
    floor,
  });
  console.log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`);
}

interface StatementStats {
  label: string;
  bytesScanned: number;
  millis: number;
}

/** Passes queries through, keeping each statement's stats while `recording` is set. */
class StatsRecorder implements QueryEngine {
  recording: StatementStats[] | null = null;
  constructor(private readonly inner: QueryEngine) {}
  get name(): QueryEngine['name'] {
    return this.inner.name;
  }
  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlParam[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
    const result = await this.inner.query<R>(sql, params, options);
    this.recording?.push({ label: options?.label ?? '?', bytesScanned: result.stats.bytesScanned, millis: result.stats.millis });
    return result;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Compressed bytes per column over every Parquet file of the lake (context for the scanned figures). */
async function columnBytes(lake: string): Promise<Map<string, number>> {
  const files = listFiles(lake, (p) => p.endsWith('.parquet'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await conn.runAndReadAll(
      `SELECT split_part(path_in_schema, ',', 1) AS col, sum(total_compressed_size)::BIGINT FROM parquet_metadata([${list}]) GROUP BY col`,
    );
    return new Map((reader.getRowsJS() as [string, bigint][]).map(([column, bytes]) => [column, Number(bytes)]));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** What every bench mode gets: the lake, the sample it was built from, how it was built, its size, the machine before the run. */
interface BenchContext {
  lake: string;
  sample: string;
  build: unknown;
  lakeBytes: number;
  before: ReturnType<typeof machine>;
}

/** The pivots on the Athena engine: latency, and Athena bytes scanned per request and per statement. */
async function benchAthena(context: BenchContext) {
  const { lake, sample, build, lakeBytes, before } = context;
  const perColumn = await columnBytes(lake);
  const over = await startAthenaOverLake(lake, {
    server: { queuedPolls: 0, runningPolls: 0 },
    engine: { pollMinMs: 2, pollMaxMs: 10 },
  });
  const recorder = new StatsRecorder(over.engine);
  const api = new ScoutApi({ engine: recorder, latestDay: () => graphDays(lake).at(-1) ?? null });
  const results = [];
  try {
    for (const pivot of pivots(sample)) {
      for (let i = 0; i < WARMUP; i++) await api.execute(pivot.document, pivot.variables);
      const ms: number[] = [];
      const scanned = new Set<number>();
      let statements: StatementStats[] = [];
      for (let i = 0; i < RUNS; i++) {
        recorder.recording = [];
        const t = performance.now();
        const r = await api.execute(pivot.document, pivot.variables);
        ms.push(performance.now() - t);
        if (r.errors?.length) throw new Error(`${pivot.name}: ${JSON.stringify(r.errors)}`);
        scanned.add((r.extensions?.stats as { bytesScanned: number }).bytesScanned);
        statements = recorder.recording;
      }
      recorder.recording = null;
      ms.sort((a, b) => a - b);
      // The same request reads the same chunks every time: one figure, or the bench says it is not.
      if (scanned.size !== 1) throw new Error(`${pivot.name}: bytes scanned differ between runs: ${[...scanned].join(', ')}`);
      const byLabel = new Map<string, number>();
      for (const s of statements) byLabel.set(s.label, (byLabel.get(s.label) ?? 0) + s.bytesScanned);
      const row = {
        pivot: pivot.name,
        what: pivot.what,
        queries: statements.length,
        p50: percentile(ms, 50),
        p95: percentile(ms, 95),
        bytesScanned: [...scanned][0],
        statementBytes: Object.fromEntries([...byLabel].sort((a, b) => b[1] - a[1])),
      };
      results.push(row);
      console.log(`${pivot.name}: p50 ${row.p50.toFixed(1)} ms, ${mb(row.bytesScanned)} MB scanned (${row.queries} statements)`);
    }
  } finally {
    await api.stop();
    await over.close();
  }
  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log(`\n== Pivots on the Athena engine (real SDK → testkit/athena-local), ${RUNS} timed runs, ${WARMUP} warm-up ==`);
  console.log(
    table(
      ['pivot', 'SQL', 'p50 ms', 'p95 ms', 'Athena KB scanned', 'largest statements (KB)'],
      results.map((r) => [
        r.pivot,
        r.queries,
        r.p50.toFixed(1),
        r.p95.toFixed(1),
        kb(r.bytesScanned),
        Object.entries(r.statementBytes)
          .slice(0, 3)
          .map(([label, bytes]) => `${label} ${kb(bytes)}`)
          .join(', '),
      ]),
    ),
  );
  const raw = perColumn.get('raw') ?? 0;
  console.log(
    `lake: ${mb(lakeBytes)} MB of Parquet files, of which the raw column ${mb(raw)} MB (${((100 * raw) / lakeBytes).toFixed(0)}%); latency is the local server's, not Athena's`,
  );
  const after = machine();
  const file = writeResult(QUICK ? 'api-quick-athena' : 'api-athena', {
    bench: 'api-athena',
    quick: QUICK,
    scale: SCALE,
    days: DAYS,
    runs: RUNS,
    warmup: WARMUP,
    lake,
    lakeBytes,
    columnBytes: Object.fromEntries(perColumn),
    build,
    machineBefore: before,
    machineAfter: after,
    results,
  });
  console.log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`);
}

/** `scoutql serve` over the lake as a user starts it (loopback, auth none, DuckDB); resolves with its URL once it listens. */
async function startServe(
  lake: string,
  pool: { connections?: number; lightReserved?: number } = {},
): Promise<{ url: string; stop: () => Promise<void>; stderr: () => string; cpuSeconds: () => number; mainThreadCpuSeconds: () => number }> {
  // The caller's own SCOUTQL_* settings stay out: the bench serves the documented defaults, plus --pool.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCOUTQL_')));
  const connections = pool.connections ?? (args.get('pool') !== undefined ? Number(args.get('pool')) : undefined);
  if (connections !== undefined) env.SCOUTQL_SERVER__POOL__CONNECTIONS = String(connections);
  if (pool.lightReserved !== undefined) env.SCOUTQL_SERVER__POOL__LIGHT_RESERVED = String(pool.lightReserved);
  if (typeof args.get('threads') === 'string') env.SCOUTQL_ENGINE__DUCKDB__THREADS = String(args.get('threads'));
  if (args.get('share') === 'off') env.SCOUTQL_SERVER__POOL__SHARE_IDENTICAL = 'false';
  if (args.get('graph-in-memory') === 'off') env.SCOUTQL_ENGINE__DUCKDB__GRAPH_IN_MEMORY = 'false';
  const checkout = SERVER_CHECKOUT;
  // --allow-unverified: the bench's own marker file (.bench-complete.json) is not in the lake's commit chain.
  const child = spawn(
    process.execPath,
    [join(checkout, 'bin', 'scoutql.js'), 'serve', '--lake', lake, '--port', '0', '--allow-unverified'],
    {
      cwd: checkout,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /GraphQL (http:\/\/\S+)\/graphql/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    stop,
    stderr: () => stderr,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    mainThreadCpuSeconds: () => processCpuSeconds(child.pid!, child.pid),
  };
}

/** The server checkout `--clients` serves from (`--server-checkout`, default this one). */
const SERVER_CHECKOUT = typeof args.get('server-checkout') === 'string' ? String(args.get('server-checkout')) : REPO;

/**
 * user + sys CPU seconds of a running process, all its threads (/proc/<pid>/stat, clock ticks of
 * 1/100 s), or of one of its threads (`thread`: the pid itself is Node's main thread).
 */
function processCpuSeconds(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface LevelResult {
  clients: number;
  requests: number;
  failed: number;
  seconds: number;
  reqPerSecond: number;
  p50: number;
  p95: number;
  max: number;
  /** The server's CPU seconds (user + sys, every thread) per answer during the level. */
  serverCpuPerAnswer?: number;
  /** Of which Node's main thread (HTTP, GraphQL, resolvers, SQL text, row conversion); the rest is DuckDB and libuv. */
  serverMainThreadCpuPerAnswer?: number;
}

/**
 * `clients` loops, each sending the pivot, waiting for its answer and sending it again, for
 * SECONDS; requests still in flight at the end are waited for and counted. A request fails on a
 * non-200 status or a GraphQL error (counted, not timed).
 */
async function level(url: string, pivot: Pivot, clients: number, seconds: number): Promise<LevelResult> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const variables = pivot.keyed ? pivot.keyed() : pivot.variables;
      const body = JSON.stringify({ query: pivot.document, variables });
      const t = performance.now();
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { errors?: unknown[] };
      if (response.status !== 200 || answer.errors?.length) {
        failed++;
        firstFailure ??= `${response.status} ${JSON.stringify(answer).slice(0, 500)}`;
      } else latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    clients,
    requests: latencies.length,
    failed,
    seconds: elapsed,
    reqPerSecond: latencies.length / elapsed,
    p50: latencies.length > 0 ? percentile(latencies, 50) : NaN,
    p95: latencies.length > 0 ? percentile(latencies, 95) : NaN,
    max: latencies.at(-1) ?? NaN,
  };
}

/** The first failed answer of the run, shown so a misconfigured run is not mistaken for a slow one. */
let firstFailure: string | null = null;

/**
 * Addresses of the lake for `--keys distinct`: every IP address of the graph in the window, in a
 * fixed shuffled order (seeded), so each request of a level asks about another address and
 * identical statements cannot be shared or answered from a warm cache of the same key.
 */
async function lakeAddresses(lake: string): Promise<string[]> {
  const engine = await DuckDbEngine.open({ lake, connections: 1 });
  try {
    const { rows } = await engine.query<{ id: string }>(`SELECT DISTINCT id FROM graph_entities WHERE type = 'IPAddress' ORDER BY id`);
    const ids = rows.map((r) => r.id);
    let seed = 14;
    const next = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed / 2 ** 31);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    return ids;
  } finally {
    await engine.close();
  }
}

/** Many analysts at once: the pivots over real HTTP against `scoutql serve`, one client alone beside 20 and 50. */
async function benchClients(context: BenchContext) {
  const { lake, sample, build, lakeBytes, before } = context;
  const all = pivots(sample);
  const context4 = all.find((p) => p.name === 'contextFor an IP')!;
  const keys = String(args.get('keys') ?? 'same,distinct').split(',');
  const chosen: Pivot[] = [];
  if (keys.includes('same')) chosen.push({ ...context4, name: 'contextFor an IP (same IP)' });
  if (keys.includes('distinct')) {
    const addresses = await lakeAddresses(lake);
    console.log(`distinct keys: ${addresses.length} IP addresses of the lake, each request the next one (warm-up and levels in turn)`);
    let sent = 0;
    chosen.push({
      ...context4,
      name: 'contextFor an IP (distinct IPs)',
      keyed: () => ({ ...context4.variables, i: addresses[sent++ % addresses.length] }),
    });
  }
  if (keys.includes('same')) chosen.push(all.find((p) => p.name === 'identities behind an IP')!);
  const levels = [1, ...CLIENTS.filter((n) => n > 1)];
  const server = await startServe(lake);
  const results: { pivot: string; levels: LevelResult[] }[] = [];
  try {
    for (const pivot of chosen) {
      // Warm-up: the first answers of a fresh server (footers, plans) are not what a busy one sees.
      await level(server.url, pivot, 2, Math.min(3, SECONDS));
      const rows: LevelResult[] = [];
      for (const clients of levels) {
        const cpuBefore = server.cpuSeconds();
        const mainBefore = server.mainThreadCpuSeconds();
        const row = await level(server.url, pivot, clients, SECONDS);
        row.serverCpuPerAnswer = row.requests > 0 ? (server.cpuSeconds() - cpuBefore) / row.requests : NaN;
        row.serverMainThreadCpuPerAnswer = row.requests > 0 ? (server.mainThreadCpuSeconds() - mainBefore) / row.requests : NaN;
        rows.push(row);
        console.log(
          `${pivot.name}, ${clients} client(s): ${row.reqPerSecond.toFixed(1)} req/s, p50 ${row.p50.toFixed(0)} ms, p95 ${row.p95.toFixed(0)} ms (${row.requests} answers, ${row.failed} failed), server ${row.serverCpuPerAnswer.toFixed(3)} CPU-s per answer (Node main thread ${row.serverMainThreadCpuPerAnswer.toFixed(3)})`,
        );
      }
      results.push({ pivot: pivot.name, levels: rows });
    }
  } finally {
    await server.stop();
  }
  console.log(
    `\n== scoutql serve over HTTP (DuckDB, pool ${args.get('pool') ?? 'default'}, threads ${args.get('threads') ?? 'default'}, share ${args.get('share') ?? 'default'}, graph in memory ${args.get('graph-in-memory') ?? 'default'}, server ${SERVER_CHECKOUT}), ${SECONDS} s per level ==`,
  );
  console.log(
    table(
      ['pivot', 'clients', 'req/s', 'p50 ms', 'p95 ms', 'max ms', 'answers', 'failed', 'server CPU-s/answer'],
      results.flatMap((r) =>
        r.levels.map((l) => [
          r.pivot,
          l.clients,
          l.reqPerSecond.toFixed(1),
          l.p50.toFixed(0),
          l.p95.toFixed(0),
          l.max.toFixed(0),
          l.requests,
          l.failed,
          (l.serverCpuPerAnswer ?? NaN).toFixed(3),
        ]),
      ),
    ),
  );
  console.log('aims (issue #14): 20 clients on contextFor ≥ 30 req/s with p95 < 1 s');
  if (firstFailure) console.log(`first failed answer: ${firstFailure}`);
  const after = machine();
  const file = writeResult(QUICK ? 'api-quick-clients' : 'api-clients', {
    bench: 'api-clients',
    quick: QUICK,
    scale: SCALE,
    days: DAYS,
    seconds: SECONDS,
    pool: args.get('pool') ?? null,
    threads: args.get('threads') ?? null,
    share: args.get('share') ?? null,
    serverCheckout: SERVER_CHECKOUT,
    lake,
    lakeBytes,
    build,
    machineBefore: before,
    machineAfter: after,
    results,
  });
  console.log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`);
}

/** `--light-vs-heavy`: pool settings compared in one run, `connections:lightReserved` each. */
function poolSettings(): { connections: number; lightReserved: number }[] {
  const given = args.get('pools');
  if (typeof given === 'string')
    return given.split(',').map((pair) => {
      const [connections, lightReserved = '0'] = pair.split(':');
      return { connections: Number(connections), lightReserved: Number(lightReserved) };
    });
  const wide = Number(args.get('pool') ?? 8);
  // Before: the old default (2 connections, none kept for light statements); then only more
  // connections; then more connections with all but two kept for light statements (heavy scans
  // at most two at once: on this machine's 2 cores more of them only share the same CPU).
  return [
    { connections: 2, lightReserved: 0 },
    { connections: wide, lightReserved: 0 },
    { connections: wide, lightReserved: Math.max(0, wide - 2) },
  ];
}

/** Light and heavy documents for `--light-vs-heavy`: the light one is the identity timeline pivot. */
function lightAndHeavy(sample: string): { light: Pivot; heavy: Pivot } {
  const start = Date.parse(`${DEFAULT_START}T00:00:00Z`);
  const window = { from: new Date(start).toISOString(), to: new Date(start + DAYS * DAY_MS).toISOString() };
  const light = pivots(sample).find((p) => p.name === 'identity timeline (50 events)');
  if (!light) throw new Error('the identity timeline pivot is missing');
  return {
    light,
    heavy: {
      name: 'whole-lake aggregate',
      what: 'events(window: whole lake) → aggregate by action, distinct actors, top 10',
      document: `query($w: TimeWindow!) { events(window: $w) {
        aggregate(groupBy: [ACTION], distinct: [ACTOR, SOURCE_IP], orderBy: COUNT_DESC, top: 10) { totalEvents groups { action count } } } }`,
      variables: { w: window },
    },
  };
}

interface LightVsHeavyRow {
  connections: number;
  lightReserved: number;
  alone: LevelResult;
  underLoad: LevelResult;
  heavy: LevelResult;
}

/**
 * Issue #9's measure: p95 of a light pivot while heavy queries run. For each pool setting a fresh
 * `scoutql serve`; one client loops the light pivot alone for SECONDS, then again for SECONDS
 * while HEAVY clients loop the heavy one. Same run, same lake, settings one after the other.
 */
async function benchLightVsHeavy(context: BenchContext) {
  const { lake, sample, build, lakeBytes, before } = context;
  const heavyClients = Number(args.get('heavy') ?? 6);
  const { light, heavy } = lightAndHeavy(sample);
  const rows: LightVsHeavyRow[] = [];
  for (const pool of poolSettings()) {
    const server = await startServe(lake, pool);
    try {
      await Promise.all([level(server.url, light, 1, Math.min(3, SECONDS)), level(server.url, heavy, 1, Math.min(3, SECONDS))]);
      const alone = await level(server.url, light, 1, SECONDS);
      const [underLoad, heavyRow] = await Promise.all([
        level(server.url, light, 1, SECONDS),
        level(server.url, heavy, heavyClients, SECONDS),
      ]);
      rows.push({ ...pool, alone, underLoad, heavy: heavyRow });
      console.log(
        `pool ${pool.connections}/${pool.lightReserved}: light alone p95 ${alone.p95.toFixed(0)} ms; with ${heavyClients} heavy p95 ${underLoad.p95.toFixed(0)} ms; heavy ${heavyRow.reqPerSecond.toFixed(2)} req/s`,
      );
    } finally {
      await server.stop();
    }
  }
  console.log(`\n== light pivot while ${heavyClients} heavy queries run (scoutql serve, DuckDB), ${SECONDS} s per level ==`);
  console.log(`light: ${light.what}\nheavy: ${heavy.what}`);
  console.log(
    table(
      [
        'connections',
        'kept for light',
        'light alone p50 / p95 ms',
        `light with ${heavyClients} heavy p50 / p95 ms`,
        'light answers',
        'heavy req/s',
        'heavy p50 ms',
        'failed',
      ],
      rows.map((r) => [
        r.connections,
        r.lightReserved,
        `${r.alone.p50.toFixed(0)} / ${r.alone.p95.toFixed(0)}`,
        `${r.underLoad.p50.toFixed(0)} / ${r.underLoad.p95.toFixed(0)}`,
        r.underLoad.requests,
        r.heavy.reqPerSecond.toFixed(2),
        r.heavy.p50.toFixed(0),
        r.alone.failed + r.underLoad.failed + r.heavy.failed,
      ]),
    ),
  );
  if (firstFailure) console.log(`first failed answer: ${firstFailure}`);
  const after = machine();
  const file = writeResult(QUICK ? 'api-quick-light-vs-heavy' : 'api-light-vs-heavy', {
    bench: 'api-light-vs-heavy',
    quick: QUICK,
    scale: SCALE,
    days: DAYS,
    seconds: SECONDS,
    heavyClients,
    light: light.document,
    heavy: heavy.document,
    lake,
    lakeBytes,
    build,
    machineBefore: before,
    machineAfter: after,
    rows,
  });
  console.log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`);
}

/**
 * `--views`: the same statements over two sets of views on one DuckDB engine, interleaved run by
 * run: views over the tables' globs (what every statement paid before: DuckDB lists every
 * partition folder) and views over the files listed once (what DuckDbEngine now creates).
 */
async function benchViews(context: Omit<BenchContext, 'sample'>) {
  const { lake, build, lakeBytes, before } = context;
  const engine = await DuckDbEngine.open({ lake, connections: 1 });
  const days = graphDays(lake);
  const lastDay = days.at(-1) ?? '1970-01-01';
  const firstDay = days[0] ?? lastDay;
  const tables = ['api_activity', 'graph_entities'] as const;
  for (const table of tables) {
    const dir = join(lake, ...(table === 'api_activity' ? tablePath(table) : graphTablePath(table)).split('/'));
    const files = listPartFiles(dir);
    const glob = table === 'api_activity' ? eventTableSelect(lake, table) : graphTableSelect(lake, table);
    const listed = table === 'api_activity' ? eventTableSelect(lake, table, files) : graphTableSelect(lake, table, files);
    await engine.exec(`CREATE OR REPLACE VIEW glob_${table} AS ${glob}`);
    await engine.exec(`CREATE OR REPLACE VIEW listed_${table} AS ${listed}`);
  }
  const statements: [string, (views: string) => string, SqlParam[]][] = [
    ['count api_activity, one day', (v) => `SELECT count(*) AS n FROM ${v}_api_activity WHERE day = CAST(? AS DATE)`, [lastDay]],
    [
      'one identity, 7 days (events:identity shape)',
      (v) =>
        `SELECT time, event_id FROM ${v}_api_activity WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND actor_id = ? ORDER BY time DESC LIMIT 51`,
      [firstDay, lastDay, 'arn:aws:iam::000000000000:user/nobody'],
    ],
    ['count graph_entities, one day', (v) => `SELECT count(*) AS n FROM ${v}_graph_entities WHERE day = CAST(? AS DATE)`, [lastDay]],
    [
      'entity by key, 7 days (entitiesByKeys shape)',
      (v) =>
        `SELECT id, sum(event_count) AS n FROM ${v}_graph_entities WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = 'Identity' AND id = ? GROUP BY id`,
      [firstDay, lastDay, 'arn:aws:iam::000000000000:user/nobody'],
    ],
  ];
  const rows: { statement: string; glob: number; listed: number }[] = [];
  for (const [name, sql, params] of statements) {
    const times: Record<'glob' | 'listed', number[]> = { glob: [], listed: [] };
    for (let i = 0; i < RUNS + WARMUP; i++) {
      for (const mode of ['glob', 'listed'] as const) {
        const t = performance.now();
        await engine.query(sql(mode), params);
        if (i >= WARMUP) times[mode].push(performance.now() - t);
      }
    }
    const p50 = (xs: number[]) =>
      percentile(
        xs.sort((a, b) => a - b),
        50,
      );
    rows.push({ statement: name, glob: p50(times.glob), listed: p50(times.listed) });
  }
  await engine.close();
  console.log(`\n== Lake views: glob (before) vs files listed once (after), p50 ms of ${RUNS} interleaved runs ==`);
  console.log(
    table(
      ['statement', 'glob ms', 'listed ms', 'listed / glob'],
      rows.map((r) => [r.statement, r.glob.toFixed(1), r.listed.toFixed(1), (r.listed / r.glob).toFixed(2)]),
    ),
  );
  const after = machine();
  const file = writeResult(QUICK ? 'api-quick-views' : 'api-views', {
    bench: 'api-views',
    quick: QUICK,
    lake,
    lakeBytes,
    build,
    runs: RUNS,
    machineBefore: before,
    machineAfter: after,
    rows,
  });
  console.log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (${before.cpus} cores)\nresult: ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
