import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { COMMIT_LIST, LOOKUP_INDEX_DIR, STAGING_DIR, commitListFile, commitManifestOf, stagingFolder } from '../../src/core/lake-layout';
import { LocalLakeStore, lakeStoreFor, type LakeStore } from './store';
import { advanceHead, newCommitNotes, stageCommitManifest, type CommitNotes } from './commit-manifest';

/** What a transaction publishes: files to move into place, then files to delete (compaction). */
export interface CommitList {
  files: string[];
  remove: string[];
}

/**
 * Publishing to a lake, all or nothing.
 *
 * A run writes everything (Parquet, quarantine, manifest) into a staging folder laid out as it
 * will be in the lake. Once all files are complete they sit under `<lake>/_staging/<txn>/`, where
 * no reader looks: for a local lake they were written there; for an S3 lake they were written to a
 * local folder and are uploaded there now (multipart for big files). Then a `COMMIT` list is
 * written (the commit point: a rename locally, a single PUT on S3), each file is moved into place
 * (rename; on S3 CopyObject then delete), the files the transaction replaces are deleted, and the
 * staging folder is removed. A crash before COMMIT leaves only staging debris, removed by the next
 * run; a crash after it is rolled forward by the next run. Either way the lake ends as a single
 * clean run leaves it, and a reader never sees a half-written file.
 *
 * Replacing files (compaction) moves the new file in before deleting the old ones, so a reader
 * listing the partition during the roll-forward may see both for that moment, never neither.
 *
 * Every commit also publishes its commit manifest (etl/lake/commit-manifest.ts): the files with
 * their sizes and SHA-256, the removals, and the link to the previous commit, so the lake can be
 * verified file by file (`scoutql verify lake`).
 */
export class Transaction {
  readonly id: string;
  /** Local folder the transaction's files are written into. */
  readonly dir: string;
  private readonly removals = new Set<string>();
  /** What the commit manifest records beyond the files: the writer's kind, lineage, graph inputs. */
  readonly notes: CommitNotes = newCommitNotes('ingest');

  private constructor(
    readonly store: LakeStore,
    localStagingRoot: string,
    /** Checked right before the commit point: throws when this writer no longer holds the lake (see LakeLock.check). */
    private readonly fence?: () => Promise<void>,
  ) {
    this.id = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
    this.dir = join(localStagingRoot, this.id);
  }

  /**
   * @param lake a lake folder, s3:// URL or store.
   * @param localStagingRoot where an S3 lake's files are produced before upload (default: the OS temp folder).
   * @param fence the writer's lock check (LakeLock.check), run right before the commit point.
   */
  static async begin(lake: string | LakeStore, localStagingRoot?: string, fence?: () => Promise<void>): Promise<Transaction> {
    const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
    const root = store instanceof LocalLakeStore ? join(store.root, STAGING_DIR) : join(localStagingRoot ?? tmpdir(), 'scoutql-staging');
    const txn = new Transaction(store, root, fence);
    await mkdir(txn.dir, { recursive: true });
    return txn;
  }

  /** Path inside the local staging folder for a lake-relative path. */
  staged(lakeRelative: string): string {
    return join(this.dir, lakeRelative);
  }

  /** Lake files the commit deletes once the new files are in place. */
  remove(lakeRelative: readonly string[]): void {
    for (const path of lakeRelative) this.removals.add(path);
  }

  /** Makes every staged file visible in the lake (and deletes the removals). Returns the lake-relative paths published. */
  async commit(): Promise<string[]> {
    const staged = (await listLocalFiles(this.dir)).map((f) => relative(this.dir, f).split(sep).join('/')).sort();
    const remove = [...this.removals].sort();
    const manifest = await stageCommitManifest(this.store, this.id, this.dir, staged, remove, this.notes);
    const files = [...staged, manifest];
    const list: CommitList = { files, remove };
    const stagingDir = stagingFolder(this.id);
    if (this.store.kind === 'local') {
      const commitList = join(this.dir, COMMIT_LIST);
      await this.fence?.();
      crashForTests('before-commit-mark');
      await writeFile(`${commitList}.tmp`, JSON.stringify(list));
      await rename(`${commitList}.tmp`, commitList);
    } else {
      await forEachLimit(files, S3_PARALLEL, async (file) => {
        await this.store.putFile(join(this.dir, file), `${stagingDir}/${file}`);
        crashForTests('mid-upload');
      });
      await this.fence?.();
      crashForTests('before-commit-mark');
      await this.store.writeText(commitListFile(this.id), JSON.stringify(list));
      await rm(this.dir, { recursive: true, force: true });
    }
    crashForTests('after-commit-mark');
    await rollForward(this.store, this.id, list);
    return files;
  }

  async abort(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Finishes what a crashed run committed and clears what it had not. Runs at the start of every
 * writer (ingest, compaction), under the lake lock.
 */
export async function recoverLake(lake: string | LakeStore): Promise<{ rolledForward: number; discarded: number }> {
  const store = typeof lake === 'string' ? lakeStoreFor(lake) : lake;
  let rolledForward = 0;
  let discarded = 0;
  for (const txn of await store.listDirs(STAGING_DIR)) {
    const text = await store.readText(commitListFile(txn));
    if (text !== null) {
      await rollForward(store, txn, parseCommitList(text));
      rolledForward += 1;
    } else {
      await store.removeDir(stagingFolder(txn));
      discarded += 1;
    }
  }
  return { rolledForward, discarded };
}

function parseCommitList(text: string): CommitList {
  const parsed = JSON.parse(text) as string[] | CommitList;
  // Lakes written before removals existed hold a bare array of files.
  return Array.isArray(parsed) ? { files: parsed, remove: [] } : { files: parsed.files, remove: parsed.remove ?? [] };
}

async function rollForward(store: LakeStore, txnId: string, list: CommitList): Promise<void> {
  const stagingDir = stagingFolder(txnId);
  // A file already moved by an earlier, interrupted roll-forward is not in staging any more. The
  // commit manifest goes in after the files it lists, so a reader never sees it name a file not yet in place.
  // Lookup indexes go in after the data files (a part file without its index is read whole; an index
  // without its file is never consulted), so a crash mid-way leaves the data as it would without them.
  const manifests = list.files.filter(isCommitManifest);
  const isIndex = (file: string) => file.startsWith(`${LOOKUP_INDEX_DIR}/`);
  const rest = list.files.filter((file) => !isCommitManifest(file));
  const data = [...rest.filter((file) => !isIndex(file)), ...rest.filter(isIndex)];
  await forEachLimit(data, store.kind === 's3' ? S3_PARALLEL : 1, async (file) => {
    await store.move(`${stagingDir}/${file}`, file);
    crashForTests('mid-publish');
  });
  for (const file of manifests) await store.move(`${stagingDir}/${file}`, file);
  if (list.remove.length > 0) {
    await store.remove(list.remove);
    crashForTests('after-remove');
  }
  await advanceHead(store, list.files);
  // COMMIT goes last: until it is gone, a crash here is rolled forward again (every step repeats harmlessly).
  const leftovers = (await store.listFiles(stagingDir)).filter((f) => f !== commitListFile(txnId));
  await store.remove(leftovers);
  await store.removeDir(stagingDir);
}

function isCommitManifest(path: string): boolean {
  return commitManifestOf(path) !== null;
}

/** S3 requests in flight at once while publishing: each is a round trip, and a commit can hold hundreds of files. */
const S3_PARALLEL = 8;

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

async function listLocalFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listLocalFiles(full)));
    else if (entry.isFile() && entry.name !== COMMIT_LIST) out.push(full);
  }
  return out;
}

/** Sum of local file sizes, for the run summary. */
export async function totalSize(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += (await stat(p)).size;
  return total;
}

export type CrashPoint = 'mid-upload' | 'before-commit-mark' | 'after-commit-mark' | 'mid-publish' | 'after-remove';

/**
 * Fault injection for the crash-safety tests: with SCOUTQL_TEST_CRASH=<point> the process kills
 * itself with SIGKILL at that point, as a power cut would. Unset in normal use.
 */
export function crashForTests(point: CrashPoint | 'mid-compact'): void {
  if (process.env.SCOUTQL_TEST_CRASH === point) process.kill(process.pid, 'SIGKILL');
}
