import type { Command } from 'commander';
import type * as Demo from './demo';
import type * as Sample from './sample';
import type * as Ingest from './ingest';
import type * as Compact from './compact';
import type * as Graph from './graph';
import type * as Deliver from './deliver';
import type * as Serve from './serve';
import type * as Query from './query';
import type * as Keys from './keys';
import type * as Audit from './audit';
import type * as Rules from './rules';
import type * as Detect from './detect';
import type * as Catalog from './catalog';
import type * as LocalServers from './local-servers';
import type * as Verify from './verify';

type Register = (program: Command) => void;

/**
 * Each command lives in its own file and adds itself to the program; listed here in `--help`
 * order. A command's file is loaded only when needed: each brings its own dependencies (DuckDB,
 * Apollo, the AWS SDK…), and loading them all costs every run of a single command about two
 * seconds of start-up.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
const COMMANDS: Record<string, () => Register> = {
  demo: () => (require('./demo') as typeof Demo).registerDemo,
  sample: () => (require('./sample') as typeof Sample).registerSample,
  ingest: () => (require('./ingest') as typeof Ingest).registerIngest,
  compact: () => (require('./compact') as typeof Compact).registerCompact,
  graph: () => (require('./graph') as typeof Graph).registerGraph,
  deliver: () => (require('./deliver') as typeof Deliver).registerDeliver,
  serve: () => (require('./serve') as typeof Serve).registerServe,
  query: () => (require('./query') as typeof Query).registerQuery,
  keys: () => (require('./keys') as typeof Keys).registerKeys,
  audit: () => (require('./audit') as typeof Audit).registerAudit,
  rules: () => (require('./rules') as typeof Rules).registerRules,
  detect: () => (require('./detect') as typeof Detect).registerDetect,
  catalog: () => (require('./catalog') as typeof Catalog).registerCatalog,
  'local-servers': () => (require('./local-servers') as typeof LocalServers).registerLocalServers,
  verify: () => (require('./verify') as typeof Verify).registerVerify,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Registers the command the arguments name (`scoutql ingest …` loads ingest alone), or every
 * command when they name none of them (`--help`, `help`, a typo: the help and the suggestions list
 * them all).
 */
export function registerCommands(program: Command, args: readonly string[]): void {
  const named = args.length > 0 && Object.hasOwn(COMMANDS, args[0]) ? [args[0]] : Object.keys(COMMANDS);
  for (const name of named) COMMANDS[name]()(program);
}
