import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ScoutApi } from '../../api/server';
import { DuckDbEngine } from '../../engine/duckdb';
import { graphDays } from '../../engine/lake';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('Run one GraphQL document against a local lake and print the JSON result')
    .argument('<document>', 'a .graphql file, or the document text itself')
    .requiredOption('--lake <dir>', 'lake folder to query')
    .option('--variables <json>', 'variables as a JSON object (or @file.json)')
    .action(async (document: string, opts: { lake: string; variables?: string }) => {
      if (!existsSync(opts.lake)) throw new Error(`lake folder '${opts.lake}' does not exist (run scoutql ingest first)`);
      const text = isFile(document) ? readFileSync(document, 'utf8') : document;
      const variables = parseVariables(opts.variables);
      const engine = await DuckDbEngine.open({ lake: opts.lake });
      const api = new ScoutApi({ engine, latestDay: () => graphDays(opts.lake).at(-1) ?? null });
      try {
        const { http: _http, ...result } = await api.execute(text, variables);
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        if (result.errors?.length) process.exitCode = 1;
      } finally {
        await api.stop();
        await engine.close();
      }
    });
}

function isFile(text: string): boolean {
  if (text.includes('{') || text.length > 4096) return false;
  try {
    return statSync(text).isFile();
  } catch {
    return false;
  }
}

function parseVariables(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const json = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`--variables is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('--variables must be a JSON object');
  return value as Record<string, unknown>;
}
