import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START, SAMPLE_SOURCES, generateSample, parseSources } from '../../../testkit/sample';
import type { SourceId } from '../../generated/sources';

interface SampleCliOptions {
  out: string;
  days: number;
  seed: string;
  scale: number;
  start: string;
  sources?: SourceId[];
  baselineOnly?: boolean;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0');
  return n;
}

function sourceList(value: string): SourceId[] {
  try {
    return parseSources(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description(
      'Write realistic raw cloud logs (AWS, Entra ID, Azure, GCP) in each provider’s native layout, with attack stories woven in across sources, and stories.json describing them',
    )
    .requiredOption('--out <dir>', 'folder to write into (AWSLogs/…, insights-…, cloudaudit.googleapis.com/…, stories.json)')
    .option('--days <n>', 'days of logs', wholeNumber, DEFAULT_DAYS)
    .option('--seed <s>', 'seed: the same seed writes byte-identical files', DEFAULT_SEED)
    .option('--scale <k>', 'multiply baseline volume (20 gives over a million CloudTrail events in a week)', positiveNumber, 1)
    .option('--start <YYYY-MM-DD>', 'first day (UTC)', DEFAULT_START)
    .option('--sources <a,b,c>', `sources to write (default all): ${SAMPLE_SOURCES.join(',')}`, sourceList)
    .option('--baseline-only', 'ordinary activity only, no attack story (to measure false positives of the rules)')
    .action((opts: SampleCliOptions) => {
      const started = process.hrtime.bigint();
      const summary = generateSample({
        out: opts.out,
        days: opts.days,
        seed: opts.seed,
        scale: opts.scale,
        start: opts.start,
        ...(opts.sources ? { sources: opts.sources } : {}),
        ...(opts.baselineOnly ? { baselineOnly: true } : {}),
        ...(process.stderr.isTTY
          ? { onDay: (d: number, days: number) => process.stderr.write(`\rday ${d + 1}/${days}${d + 1 === days ? '\n' : ''}`) }
          : {}),
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const lines = Object.entries(summary.bySource).map(
        ([id, s]) =>
          `  ${id.padEnd(16)} ${String(s.records).padStart(9)} records ${String(s.files).padStart(7)} files ${(s.bytes / 1e6).toFixed(1).padStart(7)} MB`,
      );
      // A writer's own counters beyond files, records and bytes (CloudTrail: log and digest files).
      const details = Object.entries(summary.sections).flatMap(([id, section]) => {
        const extra = Object.entries(section ?? {}).filter(([key]) => !['files', 'records', 'bytes'].includes(key));
        return summary.sources.includes(id as SourceId) && extra.length
          ? [`  (${id}: ${extra.map(([key, n]) => `${n} ${key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`).join(', ')})`]
          : [];
      });
      process.stdout.write(
        `wrote ${summary.totals.records} records in ${summary.totals.files} files (${(summary.totals.bytes / 1e6).toFixed(1)} MB) ` +
          `to ${summary.out} in ${seconds.toFixed(1)} s\n` +
          lines.join('\n') +
          '\n' +
          details.map((d) => d + '\n').join('') +
          `stories (${summary.stories.length}) in ${summary.out}/stories.json:\n` +
          summary.stories.map((s) => `  ${s.start}  ${s.id}: ${s.title}`).join('\n') +
          '\n',
      );
    });
}
