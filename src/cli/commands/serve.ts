import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ScoutApi } from '../../api/server';
import { DuckDbEngine } from '../../engine/duckdb';
import { graphDays } from '../../engine/lake';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the GraphQL hunting API and its explorer over a local lake (DuckDB)')
    .requiredOption('--lake <dir>', 'lake folder to query')
    .option('--port <n>', 'port to listen on', port, 4000)
    .option('--host <address>', 'address to bind (loopback unless you mean to share it)', '127.0.0.1')
    .option('--max-window-days <n>', 'longest time window a query may read', positive, 31)
    .option('--max-page-size <n>', 'largest `first` a query may ask for', positive, 500)
    .action(async (opts: ServeOptions) => {
      if (!existsSync(opts.lake)) throw new Error(`lake folder '${opts.lake}' does not exist (run scoutql ingest first)`);
      await serveLake(opts);
    });
}

export interface ServeOptions {
  lake: string;
  port: number;
  host: string;
  maxWindowDays: number;
  maxPageSize: number;
}

/** Serves the API and explorer over a local lake until SIGINT / SIGTERM; returns the explorer URL. */
export async function serveLake(opts: ServeOptions): Promise<string> {
  const engine = await DuckDbEngine.open({ lake: opts.lake });
  const api = new ScoutApi({
    engine,
    limits: { maxWindowDays: opts.maxWindowDays, maxPageSize: opts.maxPageSize },
    latestDay: () => graphDays(opts.lake).at(-1) ?? null,
    onError: (error) => {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`scoutql serve: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
    },
  });
  const { url, close } = await api.listen({ port: opts.port, host: opts.host });
  process.stdout.write(`ScoutQL explorer ${url}/  ·  GraphQL ${url}/graphql  ·  lake ${opts.lake}\n`);
  const stop = async () => {
    await close();
    await api.stop();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return `${url}/`;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
