import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseByteSize } from '../../engine/athena-config';
import type { TimeWindow } from '../../rules/run';
import { lakeStoreFor } from '../../../etl/lake/store';
import { isS3Url } from '../../../etl/s3';
import { detectEngine, newestLakeDay, runDetect, type DetectRunSummary } from '../detect-run';

interface DetectOptions {
  lake: string;
  window?: string;
  rules?: string[];
  suppressions?: string;
  engine?: 'duckdb' | 'athena';
  maxScan?: number;
  dryRun?: boolean;
  json?: boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A window as the command line gives it: `24h`, `7d` (the last span up to now), or `FROM/TO` with
 * ISO instants or days (a day as TO includes that whole day: 2024-06-01/2024-06-03 is three days).
 */
export function parseWindow(text: string, now: Date = new Date()): TimeWindow {
  const span = /^(\d+)([mhdw])$/.exec(text.trim());
  if (span) {
    const ms = Number(span[1]) * UNITS[span[2]];
    if (ms <= 0) throw new InvalidArgumentError('the window must be longer than 0');
    return { from: new Date(now.getTime() - ms), to: now };
  }
  const parts = text.split('/');
  const instant = (part: string, end: boolean): Date => {
    const t = part.trim();
    const ms = DAY.test(t) ? Date.parse(`${t}T00:00:00Z`) + (end ? 86_400_000 : 0) : /T|\s/.test(t) ? Date.parse(t) : NaN;
    if (!Number.isFinite(ms)) throw new InvalidArgumentError(`'${part}' is not a day (YYYY-MM-DD) or an ISO time`);
    return new Date(ms);
  };
  if (parts.length === 1 && DAY.test(text.trim())) return { from: instant(text, false), to: instant(text, true) };
  if (parts.length !== 2) throw new InvalidArgumentError('expected 24h, 7d, a day, or FROM/TO (days or ISO times)');
  const window = { from: instant(parts[0], false), to: instant(parts[1], true) };
  if (!(window.from.getTime() < window.to.getTime())) throw new InvalidArgumentError('the window must end after it starts');
  return window;
}

function byteSize(text: string): number {
  try {
    return parseByteSize(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerDetect(program: Command): void {
  program
    .command('detect')
    .description('Run the detection rules over a window of the lake and write their findings into it (idempotent)')
    .requiredOption('--lake <dir|s3://bucket/prefix>', 'the lake')
    .option('--window <window>', '24h, 7d, a day, or FROM/TO (days or ISO times); default: the newest day of the lake')
    .option('--rules <dir...>', "rule folders (default: the project's rule set)")
    .option('--suppressions <file>', 'suppressions file (YAML: known_networks, break_glass, allow)')
    .addOption(
      new Option('--engine <engine>', 'default: duckdb for a folder, athena for s3:// (SCOUTQL_ATHENA_*)').choices(['duckdb', 'athena']),
    )
    .addOption(
      new Option(
        '--max-scan <bytes>',
        'cost guard: refuse any rule that would scan more (default: SCOUTQL_ATHENA_MAX_BYTES_SCANNED on Athena)',
      ).argParser(byteSize),
    )
    .option('--dry-run', 'find, but write nothing')
    .option('--json', 'print the summary (and every finding) as JSON')
    .action(async (opts: DetectOptions) => {
      if (!isS3Url(opts.lake) && !existsSync(opts.lake)) throw new Error(`lake folder '${opts.lake}' does not exist`);
      let window: TimeWindow;
      if (opts.window) window = parseWindow(opts.window);
      else {
        const newest = await newestLakeDay(lakeStoreFor(opts.lake));
        if (!newest) throw new Error(`the lake ${opts.lake} holds no events yet`);
        window = parseWindow(newest);
      }
      const athena = detectEngine(opts.lake, opts.engine);
      try {
        const summary = await runDetect({
          lake: opts.lake,
          windows: [window],
          ruleDirs: opts.rules,
          suppressionsFile: opts.suppressions,
          engine: athena?.engine,
          maxScanBytes: opts.maxScan ?? athena?.maxScanBytes ?? null,
          write: opts.dryRun !== true,
        });
        if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        else printDetectSummary(summary);
        if (summary.runs.some((r) => r.failed.length > 0)) process.exitCode = 1;
      } finally {
        await athena?.engine.close();
      }
    });
}

export function printDetectSummary(summary: DetectRunSummary, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const { rules } = summary;
  write(
    `rules        ${rules.compiled} compiled in ${rules.files} files${rules.problems.length ? `, ${rules.problems.length} unsupported (scoutql rules check)` : ''}`,
  );
  for (const run of summary.runs) {
    write(`window       ${run.window.from.toISOString()} … ${run.window.to.toISOString()}`);
    const firing = run.ran.filter((r) => r.findings > 0 || r.suppressed > 0).sort((a, b) => b.findings - a.findings);
    for (const r of firing)
      write(
        `  ${String(r.findings).padStart(6)}  ${r.level.padEnd(13)} ${r.title}${r.suppressed ? ` (${r.suppressed} suppressed)` : ''}${r.truncated ? ' (truncated: tune the rule)' : ''}`,
      );
    write(`findings     ${run.findings.length} from ${run.ran.length} rules (${firing.length} firing)`);
    for (const s of run.suppressions.filter((x) => x.suppressed > 0)) write(`suppressed   ${s.suppressed} by ${s.entry} (${s.reason})`);
    for (const u of run.unknownSuppressionRules) write(`warning      ${u.entry} names rule '${u.rule}', which is not loaded`);
    for (const r of run.refused) write(`refused      ${r.reason}`);
    for (const f of run.failed) write(`failed       ${f.reason}`);
    if (run.written)
      write(
        `written      ${run.written.added} new, ${run.written.removed} replaced or gone, in ${run.written.partitions} partitions (${run.written.unchanged} unchanged)`,
      );
  }
}
