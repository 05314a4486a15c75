import { MANIFEST_DIR } from '../../src/core/lake-layout';
import { lakeStoreFor, type LakeStore } from './store';

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

/**
 * All manifest entries, keyed by content hash: the same bytes under another name are the same
 * object. Read from `<lake>/_manifest/*.jsonl`, local or on S3 (16 files at a time).
 */
export async function loadManifest(lake: string | LakeStore): Promise<Map<string, ManifestEntry>> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const files = (await store.listFiles(MANIFEST_DIR)).filter((f) => f.endsWith('.jsonl')).sort();
  const texts = new Array<string>(files.length);
  for (let i = 0; i < files.length; i += 16) {
    const chunk = await Promise.all(files.slice(i, i + 16).map((f) => store.readText(f)));
    chunk.forEach((text, j) => (texts[i + j] = text ?? ''));
  }
  const entries = new Map<string, ManifestEntry>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line) as ManifestEntry;
      entries.set(entry.sha256, entry);
    }
  }
  return entries;
}
