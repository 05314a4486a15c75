import { InvalidArgumentError, type Command } from 'commander';
import { rebuildGraph } from '../../../etl/lake/store-graph';
import { DEFAULT_MEMORY_BUDGET_MB } from '../../../etl/worker/memory-budget';
import { memoryBudget } from './ingest';

export function registerGraph(program: Command): void {
  const graph = program.command('graph').description("The lake's entity graph (kept up to date by every ingest): repair it");
  graph
    .command('rebuild')
    .description("Rebuild days' graphs and graph state from every event and findings file they hold (repair), in one commit")
    .requiredOption('--lake <dir|s3://bucket/prefix>', 'lake folder or S3 prefix')
    .option('--day <YYYY-MM-DD...>', 'only these days (default: every day the lake holds)', collectDay)
    .option('--json', 'print one JSON summary object')
    .option(
      '--memory-budget <MiB>',
      `resident memory to stay within: each day's DuckDB gets what the process does not hold (default ${DEFAULT_MEMORY_BUDGET_MB})`,
      memoryBudget,
    )
    .action(async (opts: { lake: string; day?: string[]; json?: boolean; memoryBudget?: number }) => {
      const summary = await rebuildGraph({
        lake: opts.lake,
        ...(opts.day ? { days: opts.day } : {}),
        ...(opts.memoryBudget ? { memoryBudgetMb: opts.memoryBudget } : {}),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      for (const d of summary.days)
        process.stdout.write(`${d.day}  ${d.entities} entities  ${d.edges} edges  from ${summary.filesRead[d.day] ?? 0} files\n`);
      process.stdout.write(`${summary.days.length} day(s) rebuilt\n`);
    });
}

function collectDay(value: string, previous: string[] = []): string[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a day as YYYY-MM-DD');
  return [...previous, value];
}
