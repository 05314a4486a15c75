/**
 * Hunting queries preloaded in the explorer, one tab each, read from `examples/hunts/`: each
 * `NN-name.graphql` starts with a `# Title` line and has its variables in `NN-name.variables.json`
 * (all but `window`, which is the server's default: the latest days of data). They name the fixed
 * actors of `scoutql sample` (the public bucket, the brute-forcing address, the role chain), so
 * they answer on the demo lake; the same files run from the CLI with `scoutql query`.
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
        variables: { ...variables, window },
      };
    });
}
