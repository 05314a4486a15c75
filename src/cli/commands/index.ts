import type { Command } from 'commander';
import { registerIngest } from './ingest';

/** Each command lives in its own file and adds itself to the program here, in `--help` order. */
export function registerCommands(program: Command): void {
  registerIngest(program);
}
