import { InvalidArgumentError, Option, type Command } from 'commander';
import { compactLake } from '../../../etl/compact';
import { TABLE_NAMES, type TableName } from '../../core/tables';

export function registerCompact(program: Command): void {
  program
    .command('compact')
    .description('Merge the small Parquet files of each lake partition into one sorted file, atomically')
    .requiredOption('--lake <dir|s3://bucket/prefix>', 'lake folder or S3 prefix')
    .addOption(new Option('--table <table>', 'only this table').choices([...TABLE_NAMES]))
    .option('--day <YYYY-MM-DD>', 'only partitions of this day', checkDay)
    .addOption(new Option('--min-files <n>', 'compact partitions holding at least this many files').argParser(minFiles).default(2))
    .option('--json', 'print one JSON summary object')
    .action(async (opts: { lake: string; table?: TableName; day?: string; minFiles: number; json?: boolean }) => {
      const summary = await compactLake({ lake: opts.lake, table: opts.table, day: opts.day, minFiles: opts.minFiles });
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      const lines = [
        `partitions       ${summary.partitions_compacted} compacted of ${summary.partitions_seen} seen`,
        `files            ${summary.files_before} → ${summary.files_after}`,
        `rows             ${summary.rows} rewritten (every one kept)`,
        `bytes            ${summary.bytes_before} → ${summary.bytes_after}`,
        `manifest files   ${summary.manifest_files_before} → ${summary.manifest_files_after}`,
        `seconds          ${summary.seconds.toFixed(2)}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function checkDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a day as YYYY-MM-DD');
  return value;
}

function minFiles(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('expected a whole number of at least 2');
  return n;
}
