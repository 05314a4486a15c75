/**
 * src/generated/sources.ts: the source ids, one per folder of etl/sources/ holding a manifest.
 * The folders are read as files, not imported: the ids are what the rest of the code is typed by,
 * so they must come before any manifest is compiled.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const SOURCES_ROOT = join(__dirname, '..', '..', 'etl', 'sources');

/** Folder names under `root` that hold a manifest, sorted. */
export function sourceIds(root: string = SOURCES_ROOT): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'manifest.ts')))
    .map((e) => e.name)
    .sort();
}

export function sourcesModule(ids: readonly string[]): string {
  for (const id of ids) if (!/^[a-z][a-z0-9]*$/.test(id)) throw new Error(`source folder '${id}': use lower-case letters and digits only`);
  return [
    '/* eslint-disable */ // Generated from the folders of etl/sources/ by `npm run codegen`: do not edit.',
    'export const SOURCE_IDS = [',
    ...ids.map((id) => `  '${id}',`),
    '] as const;',
    'export type SourceId = (typeof SOURCE_IDS)[number];',
    '',
  ].join('\n');
}

/** The generator run.ts calls. */
export function generateSources(): Record<string, string> {
  return { 'sources.ts': sourcesModule(sourceIds()) };
}
