import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lakePaths } from './layout';

/** What the lake remembers of each object it has read, so re-running changes nothing. */
export interface ManifestEntry {
  key: string;
  sha256: string;
  size: number;
  source: string | null;
  status: 'ingested' | 'skipped';
  /** Why an object was skipped (a digest file, an unknown format, an unreadable object). */
  reason?: string;
  records: number;
  written: number;
  quarantined: number;
  filtered: number;
  txn: string;
  ingestedAt: string;
}

/** All manifest entries, keyed by content hash: the same bytes under another name are the same object. */
export async function loadManifest(lake: string): Promise<Map<string, ManifestEntry>> {
  const dir = lakePaths(lake).manifestDir;
  const entries = new Map<string, ManifestEntry>();
  if (!existsSync(dir)) return entries;
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort()) {
    const text = await readFile(join(dir, file), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as ManifestEntry;
      entries.set(entry.sha256, entry);
    }
  }
  return entries;
}

/** The manifest file a transaction publishes (lake-relative). */
export function manifestFileFor(txnId: string): string {
  return `_manifest/${txnId}.jsonl`;
}
