/**
 * Configuration flags on a commander command: `--config <file>`, one flag per key
 * (`--server-port 4100`, `--auth-oidc-issuer …`; hidden from --help, listed in docs/config.md) and
 * the short aliases the commands always had (`--lake`, `--port`, `--host`, …).
 */
import { Option, type Command } from 'commander';
import { configKeys, FLAG_ALIASES } from './keys';
import { loadConfig, type FlagValue, type ScoutConfig } from './load';

export type FlagAlias = keyof typeof FLAG_ALIASES;

const ALIAS_HELP: Record<FlagAlias, string> = {
  '--lake': 'lake folder or s3:// prefix (engine.lake)',
  '--engine': 'duckdb or athena (engine.type)',
  '--host': 'address to bind (server.host)',
  '--port': 'port to listen on (server.port)',
  '--insecure-bind': 'allow binding beyond loopback with auth none (server.insecureBind)',
  '--max-window-days': 'longest time window a query may read (limits.maxWindowDays)',
  '--max-page-size': 'largest `first` a query may ask for (limits.maxPageSize)',
};

/** Adds --config, the visible aliases asked for and every key's own (hidden) flag. */
export function addConfigOptions(command: Command, aliases: readonly FlagAlias[] = []): Command {
  command.option('--config <file>', `configuration file (default: $SCOUTQL_CONFIG, else ./scoutql.config.yaml if present)`);
  for (const alias of aliases) {
    const boolean = FLAG_ALIASES[alias] === 'server.insecureBind';
    command.addOption(new Option(boolean ? alias : `${alias} <value>`, ALIAS_HELP[alias]));
  }
  for (const key of configKeys()) {
    const boolean = key.node.type === 'boolean';
    command.addOption(new Option(boolean ? `${key.flag} [bool]` : `${key.flag} <value>`, key.description).hideHelp());
  }
  command.addHelpText(
    'after',
    '\nEvery configuration key is also a flag (--server-port, --auth-oidc-issuer, …) and an environment variable\n' +
      '(SCOUTQL_SERVER__PORT, SCOUTQL_AUTH__OIDC__ISSUER, …): flag > environment > file > default. See docs/config.md.\n',
  );
  return command;
}

/** The flags given on the command line, as configuration values (aliases and per-key flags). */
export function configFlags(command: Command): FlagValue[] {
  const flags: FlagValue[] = [];
  const given = (attribute: string) => command.getOptionValueSource(attribute) === 'cli';
  const opts = command.opts<Record<string, string | boolean | undefined>>();
  for (const [alias, key] of Object.entries(FLAG_ALIASES)) {
    const option = command.options.find((o) => o.long === alias);
    if (!option || !given(option.attributeName())) continue;
    flags.push(flagValue(key, opts[option.attributeName()], alias));
  }
  for (const key of configKeys()) {
    const option = command.options.find((o) => o.long === key.flag);
    if (!option || !given(option.attributeName())) continue;
    flags.push(flagValue(key.key, opts[option.attributeName()], key.flag));
  }
  return flags;
}

function flagValue(key: string, value: string | boolean | undefined, flag: string): FlagValue {
  return { key, value: value === true || value === undefined ? true : String(value), flag };
}

/** Loads the configuration for a command's parsed options (flags over environment over file). */
export function configFromCommand(command: Command, env: NodeJS.ProcessEnv = process.env): ScoutConfig {
  const { config } = command.opts<{ config?: string }>();
  return loadConfig({ configPath: config, env, flags: configFlags(command) });
}
