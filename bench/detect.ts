/**
 * Detect bench: what the project's rule set finds and what it costs.
 *
 * 1. Quality (bench/lib/detect-quality.ts): recall over the sample's attack stories (which stories
 *    the rules find: every rule a story's file names fires on its events) and false positives over
 *    the sample's baseline-only mode (goal 0; the known, explained ones listed apart), on the
 *    3-day scale-0.3 sample test/rules/stories.test.ts uses. Skip with --no-quality.
 * 2. Time: every rule over a lake on each engine asked for (DuckDB; Athena through the local
 *    Athena server, real SDK), per rule and in all, beside baselines measured in the same run on the
 *    same engine and the same files: one `SELECT count(*)` per table the rules read (the floor of
 *    touching those tables at all), and one scan that reads a column of every row of them (what the
 *    simplest single-pass rule costs). Wall time and the process's CPU time (DuckDB's threads and
 *    Node's): on a shared machine the wall time follows the load, the CPU time the work.
 *
 *   npm run bench:detect                 # quality, then time over the sample --scale 2 --days 7 (≈110k events), cached
 *   npx tsx bench/detect.ts --scale 20   # ≈1M CloudTrail events (the lake bench/api.ts builds, shared)
 *   npx tsx bench/detect.ts --lake DIR   # an existing lake, as it is (nothing generated or ingested)
 *   options: --scale K --days N --runs N (timed passes, default 3) --top N (rules listed, default 15)
 *            --engines duckdb,athena (default duckdb) --no-quality --no-time --no-warmup --no-detect-run --progress
 *
 * Each pass runs the baselines, then every standalone rule once (src/rules/run.ts runRule, the
 * statement `scoutql detect` runs), over the whole lake as one window. A rule's figure is its median
 * over the passes. "detect run" is one full detectFindings over the same window (every rule,
 * suppressions and the continuation lookup: what `scoutql detect --dry-run` does), timed around the call.
 */
import { DuckDbEngine } from '../src/engine/duckdb';
import type { QueryEngine } from '../src/engine/types';
import { startAthenaOverLake } from '../testkit/athena-local';
import { measureDetectQuality, type DetectQuality } from './lib/detect-quality';
import { PROJECT_RULES_DIR, loadRules } from '../src/rules/load';
import { detectFindings } from '../src/rules/detect';
import { runRule, type TimeWindow } from '../src/rules/run';
import type { CompiledRule } from '../src/rules/model';
import { TABLE_NAMES, type TableName } from '../src/core/tables';
import { existsSync } from 'node:fs';
import { ensureSampleLake, machine, parseArgs, ratio, table, writeResult } from './lib/measure';

const args = parseArgs(process.argv.slice(2));
const SCALE = Number(args.get('scale') ?? 2);
const DAYS = Number(args.get('days') ?? 7);
const RUNS = Number(args.get('runs') ?? 3);
const TOP = Number(args.get('top') ?? 15);
const ENGINES = String(args.get('engines') ?? 'duckdb')
  .split(',')
  .map((e) => e.trim())
  .filter(Boolean);
/** --no-warmup: no untimed first pass (a big lake on a slow machine); --progress: a line per rule as it is timed. */
const WARMUP = !args.has('no-warmup');
const PROGRESS = args.has('progress');
const DETECT_RUN = !args.has('no-detect-run');
for (const e of ENGINES) if (e !== 'duckdb' && e !== 'athena') throw new Error(`--engines: unknown engine ${e} (duckdb, athena)`);
const DAY_MS = 86_400_000;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; millis: number; cpuMillis: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, millis: performance.now() - start, cpuMillis: (used.user + used.system) / 1000 };
}

/** The lake's whole time span as one window: its first day to the end of its newest. */
async function lakeWindow(engine: QueryEngine, lake: string): Promise<TimeWindow> {
  const legs = TABLE_NAMES.map((t) => `SELECT min(day) AS first, max(day) AS last FROM ${t}`).join(' UNION ALL ');
  const { rows } = await engine.query(`SELECT CAST(min(first) AS VARCHAR) AS first, CAST(max(last) AS VARCHAR) AS last FROM (${legs})`);
  const { first, last } = rows[0];
  if (typeof first !== 'string' || typeof last !== 'string') throw new Error(`the lake ${lake} holds no events`);
  return { from: new Date(`${first}T00:00:00Z`), to: new Date(Date.parse(`${last}T00:00:00Z`) + DAY_MS) };
}

/** The baselines: a count of each table's rows in the window, and a scan reading a column of every one of them. */
function baselineStatements(tables: readonly TableName[]): { name: string; sql: string }[] {
  const where = 'day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND time >= ? AND time < ?';
  return [
    { name: 'count(*)', sql: tables.map((t) => `SELECT count(*) AS n FROM ${t} WHERE ${where}`).join(' UNION ALL ') },
    {
      name: "count where lower(activity) = '…'",
      sql: tables.map((t) => `SELECT count(*) AS n FROM ${t} WHERE ${where} AND lower(activity) = 'stoplogging'`).join(' UNION ALL '),
    },
  ];
}

function printQuality(q: DetectQuality): void {
  const found = q.recall.filter((r) => r.found).length;
  console.log(
    `\nrecall: ${found} of ${q.recall.length} stories found (sample of ${q.sample.days} days from ${q.sample.start}, scale ${q.sample.scale}, ${q.full.events.toLocaleString('en-US')} events, ${q.full.findings} findings)`,
  );
  console.log(
    table(
      ['story', 'found', 'rules named', 'missing'],
      q.recall.map((r) => [r.story, r.found ? 'yes' : 'NO', r.rules.length, r.missing.join(', ') || '-']),
    ),
  );
  if (q.storiesWithoutRules.length > 0) console.log(`stories naming no rule: ${q.storiesWithoutRules.join(', ')}`);
  const unexplained = q.baselineOnly.byFile.filter((f) => f.explained === null);
  console.log(
    `\nfalse positives on the baseline-only sample (${q.baselineOnly.events.toLocaleString('en-US')} events): ${unexplained.reduce((n, f) => n + f.findings, 0)} findings of ${unexplained.length} rules (goal 0)`,
  );
  if (q.baselineOnly.byFile.length > 0)
    console.log(
      table(
        ['rule file', 'findings', 'known noise'],
        q.baselineOnly.byFile.map((f) => [f.file, f.findings, f.explained === null ? 'NO: false positive' : f.explained.slice(0, 70)]),
      ),
    );
}

interface EngineTiming {
  engine: string;
  events: number;
  rules: { id: string; title: string; kind: string; hits: number; millis: number; cpuMillis: number }[];
  totals: { rulesMillis: number; rulesCpuMillis: number; detectRunMillis: number; detectRunFindings: number; detectRunFailed: unknown };
  baselines: Record<string, { medianMillis: number; runs: number[] }>;
}

async function timeEngine(
  name: string,
  engine: QueryEngine,
  lake: string,
  rules: readonly CompiledRule[],
  all: readonly CompiledRule[],
): Promise<EngineTiming> {
  const tables = [...new Set(rules.flatMap((r) => r.statement.tables))].sort() as TableName[];
  const window = await lakeWindow(engine, lake);
  const dayParams = [window.from.toISOString().slice(0, 10), new Date(window.to.getTime() - 1).toISOString().slice(0, 10)];
  const windowParams = [...dayParams, window.from, window.to];
  const baselines = baselineStatements(tables);
  const params = (n: number) => Array.from({ length: n }, () => windowParams).flat();
  const events = (await engine.query(baselines[0].sql, params(tables.length))).rows.reduce((n, r) => n + Number(r.n), 0);
  console.log(
    `\n== ${name}: lake ${lake}: ${events.toLocaleString('en-US')} events in ${tables.join(', ')}, ${window.from.toISOString().slice(0, 10)} to ${window.to.toISOString().slice(0, 10)}; ${rules.length} standalone rules, ${RUNS} passes`,
  );
  const baselineMillis = new Map<string, number[]>(baselines.map((b) => [b.name, []]));
  const ruleMillis = new Map<string, number[]>(rules.map((r) => [r.meta.id, []]));
  const ruleCpu = new Map<string, number[]>(rules.map((r) => [r.meta.id, []]));
  const hits = new Map<string, number>();
  // A warm-up pass (page cache, Parquet footers), then the timed passes; baselines first in each.
  for (let pass = WARMUP ? 0 : 1; pass <= RUNS; pass++) {
    for (const b of baselines) {
      const { millis } = await timed(() => engine.query(b.sql, params(tables.length)));
      if (pass > 0) baselineMillis.get(b.name)!.push(millis);
    }
    for (const rule of rules) {
      const { value, millis, cpuMillis } = await timed(() => runRule(engine, rule, window, { limit: 10_000 }));
      hits.set(rule.meta.id, value.hits.length);
      if (pass > 0) {
        ruleMillis.get(rule.meta.id)!.push(millis);
        ruleCpu.get(rule.meta.id)!.push(cpuMillis);
        if (PROGRESS)
          console.log(
            `  ${rule.meta.kind} ${rule.meta.title.slice(0, 60)}: ${value.hits.length} hits, ${ms(millis)} ms, CPU ${ms(cpuMillis)} ms`,
          );
      }
    }
    process.stdout.write(pass === 0 ? 'warm-up pass done\n' : `pass ${pass}/${RUNS} done\n`);
  }
  const detectRun = DETECT_RUN
    ? await timed(() => detectFindings(engine, all, { window }))
    : { millis: Number.NaN, cpuMillis: Number.NaN, value: { findings: [], failed: 'not run (--no-detect-run)' } };

  const perRule = rules
    .map((r) => ({
      id: r.meta.id,
      title: r.meta.title,
      kind: r.meta.kind,
      hits: hits.get(r.meta.id) ?? 0,
      millis: median(ruleMillis.get(r.meta.id)!),
      cpuMillis: median(ruleCpu.get(r.meta.id)!),
    }))
    .sort((a, b) => b.millis - a.millis);
  const totalRules = perRule.reduce((n, r) => n + r.millis, 0);
  const totalCpu = perRule.reduce((n, r) => n + r.cpuMillis, 0);
  const floor = median(baselineMillis.get('count(*)')!);
  const scan = median(baselineMillis.get(baselines[1].name)!);
  const byKind = new Map<string, { rules: number; millis: number; cpu: number }>();
  for (const r of perRule) {
    const k = byKind.get(r.kind) ?? { rules: 0, millis: 0, cpu: 0 };
    byKind.set(r.kind, { rules: k.rules + 1, millis: k.millis + r.millis, cpu: k.cpu + r.cpuMillis });
  }

  console.log(`\nslowest ${Math.min(TOP, perRule.length)} rules (median of ${RUNS}):`);
  console.log(
    table(
      ['rule', 'kind', 'hits', 'ms', 'cpu ms', '× one scan'],
      perRule.slice(0, TOP).map((r) => [r.title.slice(0, 60), r.kind, r.hits, ms(r.millis), ms(r.cpuMillis), ratio(r.millis, scan)]),
    ),
  );
  console.log('\nper kind:');
  console.log(
    table(
      ['kind', 'rules', 'ms', 'ms per rule', 'cpu ms per rule'],
      [...byKind].map(([k, v]) => [k, v.rules, ms(v.millis), ms(v.millis / v.rules), ms(v.cpu / v.rules)]),
    ),
  );
  console.log('\nin all:');
  console.log(
    table(
      ['what', 'ms', '× count(*)', '× one scan'],
      [
        [`baseline: count(*) of ${tables.length} tables`, ms(floor), '1.00', ratio(floor, scan)],
        ['baseline: one scan reading activity of every row', ms(scan), ratio(scan, floor), '1.00'],
        [`every rule, one by one (sum of ${rules.length} medians)`, ms(totalRules), ratio(totalRules, floor), ratio(totalRules, scan)],
        [`  of which CPU time (this process)`, ms(totalCpu), ratio(totalCpu, floor), ratio(totalCpu, scan)],
        ['detect run (detectFindings, once)', ms(detectRun.millis), ratio(detectRun.millis, floor), ratio(detectRun.millis, scan)],
      ],
    ),
  );
  console.log(`\nevents per second, whole rule set: ${Math.round(events / (totalRules / 1000)).toLocaleString('en-US')}`);
  return {
    engine: name,
    events,
    rules: perRule,
    totals: {
      rulesMillis: totalRules,
      rulesCpuMillis: totalCpu,
      detectRunMillis: detectRun.millis,
      detectRunFindings: detectRun.value.findings.length,
      detectRunFailed: detectRun.value.failed,
    },
    baselines: Object.fromEntries([...baselineMillis].map(([n, list]) => [n, { medianMillis: median(list), runs: list }])),
  };
}

async function main(): Promise<void> {
  const loaded = loadRules([PROJECT_RULES_DIR]);
  const rules: CompiledRule[] = loaded.compiled.filter((r) => r.standalone);
  console.log(`${rules.length} standalone rules (${loaded.compiled.length} compiled, ${loaded.problems.length} problems)`);
  const before = machine();
  const quality = args.has('no-quality') ? null : await measureDetectQuality(loaded.compiled);
  if (quality) printQuality(quality);
  const timings: EngineTiming[] = [];
  let lake: string | null = null;
  let build: unknown = null;
  if (!args.has('no-time')) {
    const given = args.get('lake');
    ({ lake, build } = typeof given === 'string' ? { lake: given, build: null } : await ensureSampleLake(SCALE, DAYS));
    if (!existsSync(lake)) throw new Error(`no lake at ${lake}`);
    for (const name of ENGINES) {
      if (name === 'duckdb') {
        const engine = await DuckDbEngine.open({ lake });
        try {
          timings.push(await timeEngine(name, engine, lake, rules, loaded.compiled));
        } finally {
          await engine.close();
        }
      } else {
        // The local Athena server executes on DuckDB in this process: its figures add the protocol
        // (start, poll, fetch results) to the same work, not what Amazon Athena would take.
        const athena = await startAthenaOverLake(lake, {
          server: { queuedPolls: 0, runningPolls: 0 },
          engine: { pollMinMs: 5, pollMaxMs: 20 },
        });
        try {
          timings.push(await timeEngine('athena (local server)', athena.engine, lake, rules, loaded.compiled));
        } finally {
          await athena.close();
        }
      }
    }
  }
  const file = writeResult('detect', { lake, build, runs: RUNS, quality, timings, machine: { before, after: machine() } });
  console.log(`\nwrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
