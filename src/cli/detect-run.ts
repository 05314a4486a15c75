/**
 * A detect run, wired: rules from their folders (src/rules), suppressions, an engine over the lake
 * (DuckDB for a local folder, Athena for an s3:// lake), the cost guard's sizes from the lake's
 * listing, and the findings written into the lake (etl/lake/findings.ts). `scoutql detect`, `scoutql
 * ingest` and the Lambda handler all run detect through here; etl never imports src/rules.
 */
import { AthenaEngine, athenaConfigFromEnv } from '../engine/athena';
import { DuckDbEngine } from '../engine/duckdb';
import type { QueryEngine } from '../engine/types';
import { isS3Url } from '../../etl/s3';
import { TABLE_NAMES, type TableName } from '../core/tables';
import { partitionFolders } from '../../etl/lake/partitions';
import { writeFindings, type WriteFindingsSummary } from '../../etl/lake/findings';
import { tableBytesByDay } from '../../etl/lake/scan-size';
import { lakeStoreFor, type LakeStore } from '../../etl/lake/store';
import { daysRead, type TableDayBytes } from '../rules/cost';
import { detectFindings, type DetectOutcome } from '../rules/detect';
import { PROJECT_RULES_DIR, loadRules } from '../rules/load';
import type { CompiledRule, RuleProblem } from '../rules/model';
import type { TimeWindow } from '../rules/run';
import { NO_SUPPRESSIONS, loadSuppressions, type Suppressions } from '../rules/suppressions';
import { dayOfPartition } from '../core/lake-layout';

export interface DetectRunOptions {
  /** Lake folder or s3://bucket/prefix. */
  lake: string;
  /** Windows to run over (each is one detect run). */
  windows: readonly TimeWindow[];
  /** Rule folders (default: the project's rule set). */
  ruleDirs?: readonly string[];
  /** A suppressions file (YAML, see src/rules/suppressions.ts). */
  suppressionsFile?: string | null;
  /** The engine; default DuckDB over the local lake (an s3:// lake needs one given: Athena). */
  engine?: QueryEngine;
  /** The cost guard: refuse a rule that would scan more bytes than this (null: no pre-run limit). */
  maxScanBytes?: number | null;
  /** False: find, but write nothing (default true). */
  write?: boolean;
  tempRoot?: string;
  lockWaitMs?: number;
  now?: Date;
}

export interface DetectRunSummary {
  rules: { compiled: number; files: number; problems: RuleProblem[] };
  runs: (DetectOutcome & { written: WriteFindingsSummary | null })[];
}

/** Contiguous day ranges of a list of days (YYYY-MM-DD), as [from, to) windows of whole days. */
export function windowsOfDays(days: readonly string[]): TimeWindow[] {
  const sorted = [...new Set(days)].sort();
  const windows: TimeWindow[] = [];
  for (const day of sorted) {
    const from = new Date(`${day}T00:00:00.000Z`);
    const last = windows.at(-1);
    if (last && last.to.getTime() === from.getTime()) last.to = new Date(from.getTime() + 86_400_000);
    else windows.push({ from, to: new Date(from.getTime() + 86_400_000) });
  }
  return windows;
}

/** The newest day any event table of the lake has, or null for an empty lake. */
export async function newestLakeDay(store: LakeStore): Promise<string | null> {
  let newest: string | null = null;
  for (const table of TABLE_NAMES) {
    for (const partition of await partitionFolders(store, table)) {
      const day = dayOfPartition(partition);
      if (day !== null && (newest === null || day > newest)) newest = day;
    }
  }
  return newest;
}

async function scanSizes(store: LakeStore, rules: readonly CompiledRule[], windows: readonly TimeWindow[]): Promise<TableDayBytes> {
  const days = new Map<string, Set<string>>();
  for (const rule of rules) {
    if (!rule.standalone) continue;
    for (const window of windows)
      for (const table of rule.statement.tables) {
        const set = days.get(table) ?? new Set<string>();
        for (const day of daysRead(rule, window)) set.add(day);
        days.set(table, set);
      }
  }
  const sizes = new Map<string, Map<string, number>>();
  for (const [table, set] of days) sizes.set(table, await tableBytesByDay(store, table as TableName, [...set]));
  return sizes;
}

export async function runDetect(options: DetectRunOptions): Promise<DetectRunSummary> {
  const store = lakeStoreFor(options.lake);
  const loaded = loadRules(options.ruleDirs ?? [PROJECT_RULES_DIR]);
  const suppressions: Suppressions = options.suppressionsFile ? loadSuppressions(options.suppressionsFile) : NO_SUPPRESSIONS;
  const summary: DetectRunSummary = {
    rules: { compiled: loaded.compiled.length, files: loaded.files, problems: loaded.problems },
    runs: [],
  };
  if (options.windows.length === 0) return summary;
  if (!options.engine && store.kind !== 'local')
    throw new Error(`detect over an s3:// lake runs on Athena: configure it (SCOUTQL_ATHENA_DATABASE, …) for ${options.lake}`);
  const engine = options.engine ?? (await DuckDbEngine.open({ lake: options.lake }));
  try {
    const sizes = options.maxScanBytes != null ? await scanSizes(store, loaded.compiled, options.windows) : null;
    for (const window of options.windows) {
      const outcome = await detectFindings(engine, loaded.compiled, {
        window,
        suppressions,
        sizes,
        maxScanBytes: options.maxScanBytes ?? null,
        now: options.now,
      });
      let written: WriteFindingsSummary | null = null;
      if (options.write !== false) {
        written = await writeFindings(store, outcome.findings, {
          replace: { product: 'scoutql', from: window.from, to: window.to, ruleIds: outcome.ran.map((r) => r.ruleId) },
          tempRoot: options.tempRoot,
          lockWaitMs: options.lockWaitMs,
        });
        // The findings view of a DuckDB engine over the lake appears with its first file.
        if (engine instanceof DuckDbEngine) await engine.refresh();
      }
      summary.runs.push({ ...outcome, written });
    }
  } finally {
    if (!options.engine) await engine.close();
  }
  return summary;
}

/** Athena for an s3:// lake (SCOUTQL_ATHENA_* variables), or null for DuckDB over a folder. */
export function detectEngine(
  lake: string,
  choice?: 'duckdb' | 'athena',
  env: NodeJS.ProcessEnv = process.env,
): { engine: QueryEngine; maxScanBytes: number } | null {
  const kind = choice ?? (isS3Url(lake) ? 'athena' : 'duckdb');
  if (kind === 'duckdb') {
    if (isS3Url(lake)) throw new Error('DuckDB reads local lake folders only; use --engine athena for an s3:// lake');
    return null;
  }
  const config = athenaConfigFromEnv(env);
  return { engine: new AthenaEngine(config), maxScanBytes: config.maxBytesScanned };
}

export interface DetectIngestedOptions {
  lake: string;
  /** The days the ingest touched (IngestSummary.days). */
  days: readonly string[];
  ruleDirs?: readonly string[];
  suppressionsFile?: string | null;
  /** Where the SCOUTQL_ATHENA_* settings come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  tempRoot?: string;
}

/**
 * Detection after an ingest, over the days it touched: DuckDB for a folder, Athena (SCOUTQL_ATHENA_*)
 * for an s3:// lake. `ingest --detect` and the Lambda handler both run this; without Athena settings
 * an s3:// lake is skipped with the reason, never searched by a guess.
 */
export async function detectIngestedDays(options: DetectIngestedOptions): Promise<DetectRunSummary | { skipped: string }> {
  const env = options.env ?? process.env;
  if (options.days.length === 0) return { skipped: 'no new events' };
  if (isS3Url(options.lake) && !env.SCOUTQL_ATHENA_DATABASE)
    return { skipped: 'an s3:// lake is searched with Athena: set SCOUTQL_ATHENA_DATABASE and the other SCOUTQL_ATHENA_* variables' };
  const athena = detectEngine(options.lake, undefined, env);
  try {
    return await runDetect({
      lake: options.lake,
      windows: windowsOfDays(options.days),
      ruleDirs: options.ruleDirs && options.ruleDirs.length > 0 ? options.ruleDirs : undefined,
      suppressionsFile: options.suppressionsFile,
      engine: athena?.engine,
      maxScanBytes: athena?.maxScanBytes ?? null,
      tempRoot: options.tempRoot,
    });
  } finally {
    await athena?.engine.close();
  }
}

/** A detect run as summaries print it (ingest's JSON, the Lambda's log line): counts, not every finding. */
export function detectSummaryJson(detect: DetectRunSummary | { skipped: string }) {
  if ('skipped' in detect) return detect;
  return {
    rules: detect.rules.compiled,
    windows: detect.runs.map((r) => ({
      from: r.window.from.toISOString(),
      to: r.window.to.toISOString(),
      findings: r.findings.length,
      refused: r.refused,
      failed: r.failed,
      written: r.written,
    })),
  };
}
