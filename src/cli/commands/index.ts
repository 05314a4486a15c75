import type { Command } from 'commander';
import { registerAudit } from './audit';
import { registerCatalog } from './catalog';
import { registerCompact } from './compact';
import { registerDeliver } from './deliver';
import { registerDemo } from './demo';
import { registerDetect } from './detect';
import { registerIngest } from './ingest';
import { registerKeys } from './keys';
import { registerLocalServers } from './local-servers';
import { registerQuery } from './query';
import { registerRules } from './rules';
import { registerSample } from './sample';
import { registerServe } from './serve';
import { registerVerify } from './verify';

/** Each command lives in its own file and adds itself to the program here, in `--help` order. */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerSample(program);
  registerIngest(program);
  registerCompact(program);
  registerDeliver(program);
  registerServe(program);
  registerQuery(program);
  registerKeys(program);
  registerAudit(program);
  registerRules(program);
  registerDetect(program);
  registerCatalog(program);
  registerLocalServers(program);
  registerVerify(program);
}
