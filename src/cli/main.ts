import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands';

const program = new Command();
program
  .name('scoutql')
  .description('Threat hunting over cloud logs: raw logs → Parquet lake → GraphQL graph API (DuckDB or Athena)')
  .showHelpAfterError('(run with --help for usage)')
  // Commander throws instead of exiting on help and usage errors (handled below).
  .exitOverride();

registerCommands(program, process.argv.slice(2));

program.parseAsync(process.argv).catch((err: unknown) => {
  // Help and usage errors, already printed: the process ends by itself with their code, which lets
  // tsx (the fallback when dist/ is stale) finish writing its transform cache; process.exit dropped
  // those writes, so every `--help` transformed the whole CLI again.
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`scoutql: ${message}\n`);
  process.exit(1);
});
