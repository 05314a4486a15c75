import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ScoutApi } from '../../api/server';
import { addConfigOptions, configFromCommand } from '../../config/cli';
import { openEngine } from '../service';

export function registerQuery(program: Command): void {
  addConfigOptions(
    program
      .command('query')
      .description('Run one GraphQL document against the lake the configuration names (DuckDB or Athena) and print the JSON result')
      .argument('<document>', 'a .graphql file, or the document text itself')
      .option('--variables <json>', 'variables as a JSON object, or @file.json (e.g. @examples/hunts/02-brute-forcing-ip.variables.json)'),
    ['--lake', '--engine', '--max-window-days', '--max-page-size'],
  ).action(async (document: string, opts: { variables?: string }, command: Command) => {
    const text = documentText(document);
    const variables = parseVariables(opts.variables);
    const config = configFromCommand(command);
    const opened = await openEngine(config);
    const api = new ScoutApi({
      engine: opened.engine,
      limits: {
        maxWindowDays: config.limits.maxWindowDays,
        defaultWindowDays: config.limits.defaultWindowDays,
        maxPageSize: config.limits.maxPageSize,
        defaultPageSize: config.limits.defaultPageSize,
        requestTimeoutMs: config.server.requestTimeoutSeconds * 1000,
      },
      latestDay: opened.latestDay,
    });
    try {
      const { http: _http, ...result } = await api.execute(text, variables);
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      if (result.errors?.length) process.exitCode = 1;
    } finally {
      await api.stop();
      await opened.close();
    }
  });
}

/**
 * The document: a file's text, or the argument itself when it is a document. Every document has a
 * selection set, so an argument without braces names a file; one that does not exist is "file not
 * found", not a GraphQL syntax error about its name.
 */
export function documentText(argument: string): string {
  if (/[{}]/.test(argument)) return argument;
  let isFile = false;
  try {
    isFile = statSync(argument).isFile();
  } catch {
    // not there: said below
  }
  if (!isFile) throw new Error(`file not found: ${argument} (give a .graphql file that exists, or the document text in quotes)`);
  return readFileSync(argument, 'utf8');
}

function parseVariables(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let json = text;
  if (text.startsWith('@')) {
    try {
      json = readFileSync(text.slice(1), 'utf8');
    } catch {
      throw new Error(`--variables: file not found: ${text.slice(1)}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`--variables is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('--variables must be a JSON object');
  return value as Record<string, unknown>;
}
