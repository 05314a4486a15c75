/**
 * Hunting queries preloaded in the explorer, one tab each, read from `examples/hunts/`: each
 * `NN-name.graphql` starts with a `# Title` line and has its variables in `NN-name.variables.json`,
 * window included: the days of `scoutql sample` (2026-11-02 to 11-05). They name the fixed actors
 * of the sample (the public bucket, the brute-forcing address, the role chain), so they answer on
 * the demo lake as shipped, in the explorer and with `scoutql query` alike. Over a lake whose data
 * ends outside a file's window, the tab gets the server's default window instead (the latest days).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExampleQuery {
  title: string;
  query: string;
  variables: Record<string, unknown>;
}

export const HUNTS_DIR = join(__dirname, '..', '..', 'examples', 'hunts');

export function exampleQueries(window: { from: string; to: string }): ExampleQuery[] {
  // The newest instant of data the default window covers: a file's window that holds it fits this lake.
  const newest = Date.parse(window.to) - 1;
  const fits = (w: unknown): boolean => {
    const { from, to } = (w ?? {}) as { from?: unknown; to?: unknown };
    return typeof from === 'string' && typeof to === 'string' && Date.parse(from) <= newest && newest < Date.parse(to);
  };
  return readdirSync(HUNTS_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(HUNTS_DIR, file), 'utf8');
      const newline = text.indexOf('\n');
      const variables = JSON.parse(readFileSync(join(HUNTS_DIR, file.replace(/\.graphql$/, '.variables.json')), 'utf8')) as Record<
        string,
        unknown
      >;
      return {
        title: text.slice(0, newline).replace(/^#\s*/, ''),
        query: text.slice(newline + 1).trimEnd(),
        variables: { ...variables, window: fits(variables.window) ? variables.window : window },
      };
    });
}
