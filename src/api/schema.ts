/**
 * The executable schema's SDL: hand-written in schema/*.graphql, plus what `npm run codegen`
 * generates from the lake contract into src/generated/*.graphql (the event types).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');
export const GENERATED_SCHEMA_DIR = join(__dirname, '..', 'generated');

export function loadTypeDefs(dirs: readonly string[] = [SCHEMA_DIR, GENERATED_SCHEMA_DIR]): string {
  return dirs
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.graphql'))
        .sort()
        .map((f) => readFileSync(join(dir, f), 'utf8')),
    )
    .join('\n');
}
