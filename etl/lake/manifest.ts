import { MANIFEST_DIR } from '../../src/core/lake-layout';
import { replayCommitChain } from './commit-manifest';
import { lakeStoreFor, type LakeStore } from './store';

/** What the lake remembers of each object it has read, so re-running changes nothing. */
export interface ManifestEntry {
  key: string;
  /** The content hash; '' for an object that could not be read at all (it is tried again next run). */
  sha256: string;
  size: number;
  source: string | null;
  /**
   * 'skipped': nothing to read (a digest, an empty or unrecognized object);
   * 'quarantined': read no further because it broke a limit or could not be read (none of its rows was kept).
   */
  status: 'ingested' | 'skipped' | 'quarantined';
  /** Why an object was skipped or quarantined (a digest file, an unknown format, a limit, a read error). */
  reason?: string;
  records: number;
  written: number;
  quarantined: number;
  filtered: number;
  /** Records dropped because the lake (or the same run) already held their event (absent in entries of older runs: 0). */
  duplicates?: number;
  /** Records holding bytes that are not UTF-8 (their rows are flagged). */
  invalid_utf8?: number;
  txn: string;
  ingestedAt: string;
}

export interface LoadedManifest {
  /** Entries keyed by content hash (the latest entry of each wins): the same bytes under another name are the same object. */
  entries: Map<string, ManifestEntry>;
  /** Lines that are not entries, skipped with where they are and why (a torn write, a hand edit). */
  problems: string[];
}

/** One manifest line as an entry, or null when it is not one. */
export function parseManifestLine(line: string): ManifestEntry | null {
  if (!line.trim()) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const entry = value as Partial<ManifestEntry> | null;
  if (!entry || typeof entry !== 'object' || typeof entry.key !== 'string' || typeof entry.sha256 !== 'string') return null;
  return entry as ManifestEntry;
}

/**
 * Every manifest entry, read from `<lake>/_manifest/*.jsonl`, local or on S3 (16 files at a time).
 * A line that is not an entry is skipped and reported, never fatal: the manifest only saves work
 * (objects already read are not read again); what keeps the lake from doubling is each row's
 * identity, checked against the lake itself at publish.
 */
export async function loadManifest(lake: string | LakeStore): Promise<LoadedManifest> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const files = (await store.listFiles(MANIFEST_DIR)).filter((f) => f.endsWith('.jsonl')).sort();
  const texts = new Array<string>(files.length);
  for (let i = 0; i < files.length; i += 16) {
    const chunk = await Promise.all(files.slice(i, i + 16).map((f) => store.readText(f)));
    chunk.forEach((text, j) => (texts[i + j] = text ?? ''));
  }
  const entries = new Map<string, ManifestEntry>();
  const problems: string[] = [];
  texts.forEach((text, f) => {
    text.split('\n').forEach((line, n) => {
      if (!line.trim()) return;
      const entry = parseManifestLine(line);
      if (!entry) problems.push(`${files[f]} line ${n + 1}: not a manifest entry, skipped (${JSON.stringify(line.slice(0, 60))})`);
      else if (entry.sha256) entries.set(entry.sha256, entry);
    });
  });
  return { entries, problems };
}

/**
 * Manifest files the commit chain published that the lake no longer holds (deleted by hand, left
 * out of a copy), with the commit that published each. The objects they listed are unknown to a
 * run, which reads them again: their rows are dropped as duplicates, never written twice, and
 * the run says why it read them.
 */
export async function lostManifestFiles(lake: string | LakeStore): Promise<Array<{ path: string; commit: string }>> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  const held = new Set(await store.listFiles(MANIFEST_DIR));
  const chain = await replayCommitChain(store);
  return [...chain.live.values()]
    .filter((file) => file.path.startsWith(`${MANIFEST_DIR}/`) && !held.has(file.path))
    .map((file) => ({ path: file.path, commit: file.commit }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}
