import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SEED, DEFAULT_START, generateSample } from '../../../etl/sample';

interface SampleCliOptions {
  out: string;
  days: number;
  seed: string;
  scale: number;
  start: string;
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

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('Write realistic raw cloud logs (CloudTrail and VPC Flow Logs as AWS delivers them) with attack stories woven in, and stories.json describing them')
    .requiredOption('--out <dir>', 'folder to write into (AWSLogs/… and stories.json)')
    .option('--days <n>', 'days of logs', wholeNumber, 7)
    .option('--seed <s>', 'seed: the same seed writes byte-identical files', DEFAULT_SEED)
    .option('--scale <k>', 'multiply baseline volume (20 gives over a million events)', positiveNumber, 1)
    .option('--start <YYYY-MM-DD>', 'first day (UTC)', DEFAULT_START)
    .action((opts: SampleCliOptions) => {
      const started = process.hrtime.bigint();
      const summary = generateSample({
        out: opts.out,
        days: opts.days,
        seed: opts.seed,
        scale: opts.scale,
        start: opts.start,
        ...(process.stderr.isTTY ? { onDay: (d: number, days: number) => process.stderr.write(`\rday ${d + 1}/${days}${d + 1 === days ? '\n' : ''}`) } : {}),
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const ct = summary.cloudtrail;
      process.stdout.write(
        `wrote ${ct.records} CloudTrail events in ${ct.logFiles} log files and ${ct.digestFiles} digest files ` +
          `(${(ct.bytes / 1e6).toFixed(1)} MB gzip)\n` +
          `wrote ${summary.vpcflow.records} VPC flow records in ${summary.vpcflow.files} files (${(summary.vpcflow.bytes / 1e6).toFixed(1)} MB gzip)\n` +
          `to ${summary.out} in ${seconds.toFixed(1)} s\n` +
          `stories (${summary.stories.length}) in ${summary.out}/stories.json:\n` +
          summary.stories.map((s) => `  ${s.start}  ${s.id}: ${s.title}`).join('\n') +
          '\n',
      );
    });
}
