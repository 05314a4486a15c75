/** Configuration: one schema (schema.ts), its keys as env names and flags (keys.ts), loading (load.ts), CLI flags (cli.ts). */
export { configSchema, ROLES, type Role, type ParsedConfig } from './schema';
export { configKeys, type ConfigKey } from './keys';
export {
  loadConfig,
  describeSource,
  ConfigError,
  DEFAULT_CONFIG_FILE,
  type ScoutConfig,
  type ValueSource,
  type ResolvedAuth,
  type ResolvedLimits,
} from './load';
export { addConfigOptions, configFromCommand, configFlags } from './cli';
