/**
 * Every log source ScoutQL reads: one per folder of etl/sources/ (see ./manifests.ts), each the
 * `source` its parser.ts exports, in listing order. Adding a source is adding a folder.
 */
import { join } from 'node:path';
import type { SourceId } from '../../src/generated/sources';
import { MANIFESTS, loadExport, sourceFolder } from './manifests';
import type { LogSource } from './types';

export { LISTED_SOURCE_IDS, MANIFESTS, SOURCES_DIR, manifestById, sourceFolder } from './manifests';

function loadSources(): LogSource[] {
  return MANIFESTS.map((manifest) => {
    const source = loadExport(join(sourceFolder(manifest.id), 'parser'), 'source') as LogSource;
    if (source.manifest !== manifest) {
      throw new Error(`etl/sources/${manifest.id}/parser.ts: \`source\` must be defineSource(manifest, …) with the folder's manifest`);
    }
    return source;
  });
}

export const SOURCES: readonly LogSource[] = loadSources();

export function sourceById(id: SourceId): LogSource {
  const source = SOURCES.find((s) => s.id === id);
  if (!source) throw new Error(`unknown source '${id}'; known: ${SOURCES.map((s) => s.id).join(', ')}`);
  return source;
}
