/**
 * The source folders and their manifests. A source is a folder `etl/sources/<id>/` holding
 * `manifest.ts`; nothing lists the folders by hand. `npm run codegen` writes their ids into
 * src/generated/sources.ts (the `SourceId` type); loading refuses when the two disagree, so a new
 * folder cannot half-exist.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_IDS, type SourceId } from '../../src/generated/sources';
import type { SourceManifest } from './types';

/** The folder holding one folder per source. */
export const SOURCES_DIR = __dirname;

/** The folder of a source (manifest, parser, sample writer, golden/). */
export function sourceFolder(id: SourceId): string {
  return join(SOURCES_DIR, id);
}

/** Folders below `dir` that hold a manifest: the source ids, sorted. */
export function sourceFolderNames(dir: string = SOURCES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && (existsSync(join(dir, e.name, 'manifest.ts')) || existsSync(join(dir, e.name, 'manifest.js'))))
    .map((e) => e.name)
    .sort();
}

/** Refuses to go on when the folders and the generated id list differ. */
function checkGeneratedIds(): void {
  const folders = sourceFolderNames();
  const listed = [...SOURCE_IDS].sort();
  const missing = folders.filter((f) => !(listed as string[]).includes(f));
  const stale = listed.filter((id) => !folders.includes(id));
  if (missing.length || stale.length) {
    const parts = [
      missing.length ? `source folders not in src/generated/sources.ts: ${missing.join(', ')}` : '',
      stale.length ? `ids in src/generated/sources.ts without a folder: ${stale.join(', ')}` : '',
    ].filter(Boolean);
    throw new Error(`etl/sources and src/generated/sources.ts disagree (${parts.join('; ')}): run \`npm run codegen\``);
  }
}

/**
 * The named export of a module found at run time. Source folders are discovered, not imported by
 * name: a static import list would be the hand-kept list the folders replace.
 */
export function loadExport(file: string, name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- modules of discovered folders (see above)
  const loaded: unknown = require(file);
  const value = typeof loaded === 'object' && loaded !== null ? (loaded as Record<string, unknown>)[name] : undefined;
  if (value === undefined) throw new Error(`${file} must export \`${name}\``);
  return value;
}

function isManifest(value: unknown, id: string): value is SourceManifest {
  return typeof value === 'object' && value !== null && (value as { id?: unknown }).id === id;
}

function loadManifests(): SourceManifest[] {
  checkGeneratedIds();
  const manifests = SOURCE_IDS.map((id) => {
    const manifest = loadExport(join(sourceFolder(id), 'manifest'), 'manifest');
    if (!isManifest(manifest, id)) throw new Error(`etl/sources/${id}/manifest.ts: \`manifest.id\` must be '${id}', the folder's name`);
    return manifest;
  });
  return manifests.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

/** Every source's manifest, in listing order (manifest `order`). */
export const MANIFESTS: readonly SourceManifest[] = loadManifests();

export function manifestById(id: SourceId): SourceManifest {
  const manifest = MANIFESTS.find((m) => m.id === id);
  if (!manifest) throw new Error(`unknown source '${id}'; known: ${MANIFESTS.map((m) => m.id).join(', ')}`);
  return manifest;
}

/** Source ids in listing order. */
export const LISTED_SOURCE_IDS: readonly SourceId[] = MANIFESTS.map((m) => m.id);
