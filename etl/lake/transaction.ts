import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { lakePaths } from './layout';

/**
 * Publishing to a local lake, all or nothing.
 *
 * A run writes everything (Parquet, quarantine, manifest) under `_staging/<txn>/`, laid out as
 * it will be in the lake, where no reader looks. Once all files are complete it writes a
 * `COMMIT` list (temp file, then rename: the commit point), moves each file into place with a
 * rename and removes the staging folder. A crash before COMMIT leaves only staging debris,
 * removed by the next run; a crash after it is rolled forward by the next run. Either way the
 * lake ends as a single clean run leaves it, and a reader never sees a half-written file.
 */
export class Transaction {
  readonly id: string;
  readonly dir: string;

  private constructor(private readonly lake: string) {
    this.id = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
    this.dir = join(lakePaths(lake).stagingDir, this.id);
  }

  static async begin(lake: string): Promise<Transaction> {
    const txn = new Transaction(lake);
    await mkdir(txn.dir, { recursive: true });
    return txn;
  }

  /** Path inside the staging folder for a lake-relative path. */
  staged(lakeRelative: string): string {
    return join(this.dir, lakeRelative);
  }

  /** Makes every staged file visible in the lake. Returns the lake-relative paths published. */
  async commit(): Promise<string[]> {
    const files = (await listFiles(this.dir)).map((f) => relative(this.dir, f).split(sep).join('/'));
    const commitList = join(this.dir, 'COMMIT');
    crashForTests('before-commit-mark');
    await writeFile(`${commitList}.tmp`, JSON.stringify(files));
    await rename(`${commitList}.tmp`, commitList);
    crashForTests('after-commit-mark');
    await rollForward(this.lake, this.dir, files);
    return files;
  }

  async abort(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Finishes what a crashed run committed and clears what it had not. Runs at the start of every
 * ingest, under the lake lock.
 */
export async function recoverLake(lake: string): Promise<{ rolledForward: number; discarded: number }> {
  const stagingDir = lakePaths(lake).stagingDir;
  let rolledForward = 0;
  let discarded = 0;
  if (!existsSync(stagingDir)) return { rolledForward, discarded };
  for (const entry of await readdir(stagingDir)) {
    const dir = join(stagingDir, entry);
    const commitList = join(dir, 'COMMIT');
    if (existsSync(commitList)) {
      const files = JSON.parse(await readFile(commitList, 'utf8')) as string[];
      await rollForward(lake, dir, files);
      rolledForward += 1;
    } else {
      await rm(dir, { recursive: true, force: true });
      discarded += 1;
    }
  }
  return { rolledForward, discarded };
}

async function rollForward(lake: string, dir: string, files: string[]): Promise<void> {
  for (const file of files) {
    const from = join(dir, file);
    const to = join(lake, file);
    // A file already moved by an earlier, interrupted roll-forward is not in staging any more.
    if (!existsSync(from)) continue;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    crashForTests('mid-publish');
  }
  await rm(dir, { recursive: true, force: true });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Sum of file sizes, for the run summary. */
export async function totalSize(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += (await stat(p)).size;
  return total;
}

/**
 * Fault injection for the crash-safety tests: with SCOUTQL_TEST_CRASH=<point> the process kills
 * itself with SIGKILL at that point, as a power cut would. Unset in normal use.
 */
function crashForTests(point: 'before-commit-mark' | 'after-commit-mark' | 'mid-publish'): void {
  if (process.env.SCOUTQL_TEST_CRASH === point) process.kill(process.pid, 'SIGKILL');
}
