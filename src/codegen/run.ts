/**
 * `npm run codegen`, first half: the generators that derive code from the project's own
 * declarations (the lake contract, the source folders) into src/generated/. graphql-codegen runs
 * after them (codegen.yml), so generated SDL feeds the resolver types. CI regenerates everything
 * and fails on drift.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphqlEvents } from './graphql-events';
import { generateSources } from './sources';

/** A generator returns the files it owns (path relative to src/generated/ → full text). */
export type Generator = () => Record<string, string>;

const GENERATORS: Generator[] = [graphqlEvents, generateSources];

function main(): void {
  const outDir = join(__dirname, '..', 'generated');
  for (const generate of GENERATORS) {
    for (const [file, text] of Object.entries(generate())) writeFileSync(join(outDir, file), text);
  }
}

if (require.main === module) main();
