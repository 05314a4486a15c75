import type { Command } from 'commander';
import { registerIngest } from './ingest';
import { registerCatalog } from './catalog';
import { registerLocalServers } from './local-servers';
import { registerSample } from './sample';
import { registerServe } from './serve';
import { registerQuery } from './query';

/** Each command lives in its own file and adds itself to the program here, in `--help` order. */
export function registerCommands(program: Command): void {
  registerIngest(program);
  registerCatalog(program);
  registerLocalServers(program);
  registerSample(program);
  registerServe(program);
  registerQuery(program);
}
