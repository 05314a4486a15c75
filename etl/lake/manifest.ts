import { MANIFEST_DIR, MANIFEST_INDEX_COMPLETE, manifestIndexFile } from '../../src/core/lake-layout';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/** A lake part file and its size when published. */
export interface PublishedFile {
  path: string;
  size: number;
}

/**
 * An entry of the manifest index (MANIFEST_INDEX_DIR): the manifest entry, and the part files its
 * transaction published (a superset of where the object's rows went: the whole commit's), so a
 * redelivery can tell its rows are all still there with a HEAD of each, without the commit chain.
 */
export interface IndexedManifestEntry extends ManifestEntry {
  files?: PublishedFile[];
}

/**
 * Up to this many objects, a run on an S3 lake with a complete manifest index looks each object up
 * (one GET each, the Lambda path's case); above it, reading the manifest files whole costs fewer requests.
 */
export const MANIFEST_LOOKUP_MAX_OBJECTS = 1000;

/**
 * What a run knows of the objects the lake has read: the manifest files read whole (a local lake,
 * a large run, an S3 lake whose index is not complete yet), or the S3 lake's manifest index, one
 * object per content hash, read only for the hashes the run meets (its reads do not grow with the lake).
 *
 * The index is written by every ingest into an S3 lake, in the same commit as the manifest file
 * (`IndexedManifest.stage`). The first commit into a lake without `COMPLETE` writes an index entry
 * for every entry the manifest files hold, and `COMPLETE` with them; lookups are used from then on.
 */
export class LakeManifest {
  private loaded: Promise<LoadedManifest> | null;
  private readonly looked = new Map<string, Promise<IndexedManifestEntry | undefined>>();
  /** Index entries that are not entries (a hand edit), to report. */
  readonly problems: string[] = [];

  private constructor(
    private readonly store: LakeStore,
    /** 'lookup': one index object per hash; 'whole': every manifest file. */
    readonly mode: 'lookup' | 'whole',
    loaded: LoadedManifest | null,
    /** Entries an S3 lake's first indexed commit writes to the index (null: the index is complete, or the lake is local). */
    private backfill: ManifestEntry[] | null,
  ) {
    this.loaded = loaded ? Promise.resolve(loaded) : null;
    if (loaded) this.problems.push(...loaded.problems);
  }

  static async open(store: LakeStore, objects: number): Promise<LakeManifest> {
    if (store.kind !== 's3') return new LakeManifest(store, 'whole', await loadManifest(store), null);
    const complete = (await store.readText(MANIFEST_INDEX_COMPLETE)) !== null;
    if (complete && objects <= MANIFEST_LOOKUP_MAX_OBJECTS) return new LakeManifest(store, 'lookup', null, null);
    const loaded = await loadManifest(store);
    return new LakeManifest(store, 'whole', loaded, complete ? null : [...loaded.entries.values()]);
  }

  /** What the lake remembers of this content, if anything. */
  get(sha256: string): Promise<IndexedManifestEntry | undefined> {
    if (this.mode === 'whole') return this.all().then((m) => m.entries.get(sha256));
    let entry = this.looked.get(sha256);
    if (!entry) {
      entry = this.store.readText(manifestIndexFile(sha256)).then((text) => {
        if (text === null) return undefined;
        const parsed = parseManifestLine(text);
        if (parsed?.sha256 === sha256) return parsed;
        this.problems.push(`${manifestIndexFile(sha256)}: not a manifest entry of its hash, ignored (the object is read again)`);
        return undefined;
      });
      this.looked.set(sha256, entry);
    }
    return entry;
  }

  /** Every entry (read whole on first call in lookup mode: only for the rare work that needs them all, restoring lost rows). */
  all(): Promise<LoadedManifest> {
    return (this.loaded ??= loadManifest(this.store));
  }

  /**
   * Stages a commit's index entries (an S3 lake only): each entry with its commit's part files,
   * and in the lake's first indexed commit every earlier entry and COMPLETE. Entries read from no
   * bytes (sha256 '') have none: they are read again next run anyway.
   */
  async stage(entries: readonly ManifestEntry[], files: readonly PublishedFile[], staged: (path: string) => string): Promise<void> {
    if (this.store.kind !== 's3') return;
    const write = async (path: string, text: string) => {
      await mkdir(dirname(staged(path)), { recursive: true });
      await writeFile(staged(path), text);
    };
    const backfill = this.backfill;
    this.backfill = null;
    for (const entry of backfill ?? []) if (entry.sha256) await write(manifestIndexFile(entry.sha256), JSON.stringify(entry) + '\n');
    for (const entry of entries) {
      if (!entry.sha256) continue;
      await write(manifestIndexFile(entry.sha256), JSON.stringify({ ...entry, files: [...files] } satisfies IndexedManifestEntry) + '\n');
    }
    if (backfill) await write(MANIFEST_INDEX_COMPLETE, 'every manifest entry has an index entry from this commit on\n');
  }
}
