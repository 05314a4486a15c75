/**
 * Detect bench: every rule of the project's rule set over the sample lake on DuckDB, time per rule
 * and in all, beside baselines measured in the same run on the same engine and the same files: one
 * `SELECT count(*)` per table the rules read (the floor of touching those tables at all), and one
 * scan that reads a column of every row of them (what the simplest single-pass rule costs). See
 * bench/README.md.
 *
 *   npm run bench:detect                 # lake of the sample --scale 2 --days 7 (≈110k events), cached
 *   npx tsx bench/detect.ts --scale 20   # ≈1M CloudTrail events (the lake bench/api.ts builds, shared)
 *   npx tsx bench/detect.ts --lake DIR   # an existing lake, as it is (nothing generated or ingested)
 *   options: --scale K --days N --runs N (timed passes, default 3) --top N (rules listed, default 15)
 *
 * Each pass runs the baselines, then every standalone rule once (src/rules/run.ts runRule, the
 * statement `scoutql detect` runs), over the whole lake as one window. A rule's figure is its median
 * over the passes. "detect run" is one full detectFindings over the same window (every rule,
 * suppressions and the continuation lookup: what `scoutql detect --dry-run` does), timed around the call.
 */
import { DuckDbEngine } from '../src/engine/duckdb';
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
const DAY_MS = 86_400_000;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; millis: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, millis: performance.now() - start };
}

/** The lake's whole time span as one window: its first day to the end of its newest. */
async function lakeWindow(engine: DuckDbEngine, lake: string): Promise<TimeWindow> {
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

async function main(): Promise<void> {
  const given = args.get('lake');
  const { lake, build } = typeof given === 'string' ? { lake: given, build: null } : await ensureSampleLake(SCALE, DAYS);
  if (!existsSync(lake)) throw new Error(`no lake at ${lake}`);
  const loaded = loadRules([PROJECT_RULES_DIR]);
  const rules: CompiledRule[] = loaded.compiled.filter((r) => r.standalone);
  const tables = [...new Set(rules.flatMap((r) => r.statement.tables))].sort() as TableName[];
  const before = machine();
  const engine = await DuckDbEngine.open({ lake });
  try {
    const window = await lakeWindow(engine, lake);
    const dayParams = [window.from.toISOString().slice(0, 10), new Date(window.to.getTime() - 1).toISOString().slice(0, 10)];
    const windowParams = [...dayParams, window.from, window.to];
    const baselines = baselineStatements(tables);
    const params = (n: number) => Array.from({ length: n }, () => windowParams).flat();
    const events = (await engine.query(baselines[0].sql, params(tables.length))).rows.reduce((n, r) => n + Number(r.n), 0);
    console.log(
      `lake ${lake}: ${events.toLocaleString('en-US')} events in ${tables.join(', ')}, ${window.from.toISOString().slice(0, 10)} to ${window.to.toISOString().slice(0, 10)}`,
    );
    console.log(
      `${rules.length} standalone rules (${loaded.compiled.length} compiled, ${loaded.problems.length} problems), ${RUNS} passes`,
    );

    const baselineMillis = new Map<string, number[]>(baselines.map((b) => [b.name, []]));
    const ruleMillis = new Map<string, number[]>(rules.map((r) => [r.meta.id, []]));
    const hits = new Map<string, number>();
    // A warm-up pass (page cache, Parquet footers), then the timed passes; baselines first in each.
    for (let pass = 0; pass <= RUNS; pass++) {
      for (const b of baselines) {
        const { millis } = await timed(() => engine.query(b.sql, params(tables.length)));
        if (pass > 0) baselineMillis.get(b.name)!.push(millis);
      }
      for (const rule of rules) {
        const { value, millis } = await timed(() => runRule(engine, rule, window, { limit: 10_000 }));
        hits.set(rule.meta.id, value.hits.length);
        if (pass > 0) ruleMillis.get(rule.meta.id)!.push(millis);
      }
      if (pass > 0) process.stdout.write(`pass ${pass}/${RUNS} done\n`);
    }
    const detectRun = await timed(() => detectFindings(engine, loaded.compiled, { window }));

    const perRule = rules
      .map((r) => ({
        id: r.meta.id,
        title: r.meta.title,
        kind: r.meta.kind,
        hits: hits.get(r.meta.id) ?? 0,
        millis: median(ruleMillis.get(r.meta.id)!),
      }))
      .sort((a, b) => b.millis - a.millis);
    const totalRules = perRule.reduce((n, r) => n + r.millis, 0);
    const floor = median(baselineMillis.get('count(*)')!);
    const scan = median(baselineMillis.get(baselines[1].name)!);
    const byKind = new Map<string, { rules: number; millis: number }>();
    for (const r of perRule) {
      const k = byKind.get(r.kind) ?? { rules: 0, millis: 0 };
      byKind.set(r.kind, { rules: k.rules + 1, millis: k.millis + r.millis });
    }

    console.log(`\nslowest ${Math.min(TOP, perRule.length)} rules (median of ${RUNS}):`);
    console.log(
      table(
        ['rule', 'kind', 'hits', 'ms', '× one scan'],
        perRule.slice(0, TOP).map((r) => [r.title.slice(0, 60), r.kind, r.hits, ms(r.millis), ratio(r.millis, scan)]),
      ),
    );
    console.log('\nper kind:');
    console.log(
      table(
        ['kind', 'rules', 'ms', 'ms per rule'],
        [...byKind].map(([k, v]) => [k, v.rules, ms(v.millis), ms(v.millis / v.rules)]),
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
          ['detect run (detectFindings, once)', ms(detectRun.millis), ratio(detectRun.millis, floor), ratio(detectRun.millis, scan)],
        ],
      ),
    );
    console.log(`\nevents per second, whole rule set: ${Math.round(events / (totalRules / 1000)).toLocaleString('en-US')}`);
    const file = writeResult('detect', {
      lake,
      build,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      events,
      tables,
      runs: RUNS,
      rules: perRule,
      totals: {
        rulesMillis: totalRules,
        detectRunMillis: detectRun.millis,
        detectRunFindings: detectRun.value.findings.length,
        detectRunFailed: detectRun.value.failed,
      },
      baselines: Object.fromEntries([...baselineMillis].map(([name, list]) => [name, { medianMillis: median(list), runs: list }])),
      machine: { before, after: machine() },
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await engine.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
