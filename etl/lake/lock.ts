import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { lakePaths } from './layout';

/**
 * One writer per lake at a time. The lock file names the holder's pid; a lock whose holder is
 * gone (a killed run) is taken over, since recovery makes the lake whole again.
 */
export async function acquireLakeLock(lake: string): Promise<() => Promise<void>> {
  const lockFile = lakePaths(lake).lockFile;
  await mkdir(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(`lake ${lake} is being written by process ${holder}; wait for it or remove ${lockFile} if it is gone`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock lake ${lake}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
