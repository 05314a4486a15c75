import { Command } from 'commander';
import { registerCommands } from './commands';

const program = new Command();
program
  .name('scoutql')
  .description('Threat hunting over cloud logs: raw logs → Parquet lake → GraphQL graph API (DuckDB or Athena)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride((err) => process.exit(err.exitCode));

registerCommands(program, process.argv.slice(2));

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`scoutql: ${message}\n`);
  process.exit(1);
});
