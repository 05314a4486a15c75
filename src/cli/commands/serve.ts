import type { Command } from 'commander';
import { addConfigOptions, configFromCommand } from '../../config/cli';
import type { ScoutConfig } from '../../config/load';
import { startService, type LakeIntegrityOptions } from '../service';

export function registerServe(program: Command): void {
  addConfigOptions(
    program
      .command('serve')
      .description(
        'Serve the GraphQL hunting API, its explorer, /healthz, /readyz and /metrics: DuckDB over a local lake, or Athena over an s3:// lake (scoutql.config.yaml)',
      ),
    ['--lake', '--engine', '--host', '--port', '--insecure-bind', '--max-window-days', '--max-page-size'],
  )
    .option('--allow-unverified', 'serve a lake that does not match its commit chain (every answer then carries a warning)')
    .option(
      '--lake-public-key <pem>',
      'public key that signs the lake’s commits (repeatable): unsigned commits are then refused',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .action(async (opts: { allowUnverified?: boolean; lakePublicKey: string[] }, command: Command) => {
      await serveConfig(configFromCommand(command), { allowUnverified: opts.allowUnverified, publicKeyFiles: opts.lakePublicKey });
    });
}

/**
 * Serves the API as configured until SIGINT / SIGTERM, then shuts down gracefully (in-flight
 * requests finish, the audit trail is flushed); returns the explorer URL.
 */
export async function serveConfig(config: ScoutConfig, lakeIntegrity?: LakeIntegrityOptions): Promise<string> {
  const service = await startService(config, { lakeIntegrity });
  process.stdout.write(`ScoutQL explorer ${service.url}/  ·  GraphQL ${service.url}/graphql  ·  lake ${config.engine.lake}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    service.logger.info('shutting down: finishing requests in flight');
    service
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        service.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return `${service.url}/`;
}
