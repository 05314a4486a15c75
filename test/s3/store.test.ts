import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLakeLock } from '../../etl/lake/lock';
import { lockTokenFile } from '../../src/core/lake-layout';
import { lakeStoreFor } from '../../etl/lake/store';
import { tempDir } from '../etl/helpers';
import { startS3Env, type S3Env } from './helpers';

let s3env: S3Env;
beforeAll(async () => {
  s3env = await startS3Env(['store-lake']);
});
afterAll(async () => {
  await s3env.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a file above the multipart part size goes up in parts and comes back byte for byte', async () => {
  const store = lakeStoreFor('s3://store-lake/big');
  const bytes = randomBytes(17 * 1024 * 1024 + 123);
  const file = join(tempDir('store-big'), 'part-x.parquet');
  writeFileSync(file, bytes);
  await store.putFile(file, 'api_activity/day=2024-03-01/part-x.parquet');
  const back = await store.localCopy('api_activity/day=2024-03-01/part-x.parquet', tempDir('store-back'));
  expect(sha(readFileSync(back))).toBe(sha(bytes));
});

test('move is copy then delete; a repeated move is a no-op; a move of nothing to nowhere is an error', async () => {
  const store = lakeStoreFor('s3://store-lake/moves');
  await store.writeText('_staging/t1/api_activity/source=cloudtrail/part-a.parquet', 'a');
  expect(
    await store.move('_staging/t1/api_activity/source=cloudtrail/part-a.parquet', 'api_activity/source=cloudtrail/part-a.parquet'),
  ).toBe(true);
  expect(await store.listFiles('')).toEqual(['api_activity/source=cloudtrail/part-a.parquet']);
  expect(await store.readText('api_activity/source=cloudtrail/part-a.parquet')).toBe('a');
  expect(
    await store.move('_staging/t1/api_activity/source=cloudtrail/part-a.parquet', 'api_activity/source=cloudtrail/part-a.parquet'),
  ).toBe(false);
  await expect(store.move('_staging/t1/nothing.parquet', 'nothing.parquet')).rejects.toThrow(
    /neither the staged copy .* nor the target exists/,
  );
});

test('the S3 lock: a second writer is refused while it is held, waits for it, and takes over an expired lease; tokens only grow', async () => {
  const lake = 's3://store-lake/locked';
  const store = lakeStoreFor(lake);
  const first = await acquireLakeLock(lake);
  await expect(acquireLakeLock(lake)).rejects.toThrow(/is being written by .* pid \d+ \(lock token 1/);
  const waiting = acquireLakeLock(lake, { waitMs: 10_000 });
  setTimeout(() => void first.release(), 300);
  const second = await waiting;
  expect(second.token).toBe(2);
  await second.release();
  expect(JSON.parse((await store.readText(lockTokenFile(2)))!).released).toEqual(expect.any(String));
  // A writer on another machine that died: its lease has run out.
  await store.writeText(
    lockTokenFile(3),
    JSON.stringify({ token: 3, owner: 'gone', host: 'lambda-sandbox-1', pid: 8, expires: new Date(Date.now() - 1000).toISOString() }),
  );
  const taken = await acquireLakeLock(lake);
  expect(taken.token).toBe(4);
  await taken.release();
  // One whose lease still runs is respected.
  await store.writeText(
    lockTokenFile(5),
    JSON.stringify({ token: 5, owner: 'busy', host: 'lambda-sandbox-2', pid: 8, expires: new Date(Date.now() + 60_000).toISOString() }),
  );
  await expect(acquireLakeLock(lake)).rejects.toThrow(/lambda-sandbox-2 pid 8/);
});

test('an object being replaced exists throughout, as on S3: listed, and a conditional create of its key refused', async () => {
  // The local server once moved the old file aside before writing the new one: a listing or an
  // If-None-Match: * PUT in that gap found no object, so a lock token held by one writer could be
  // created again by another (the lock race that failed under load).
  const store = lakeStoreFor('s3://store-lake/replaced');
  const token = lockTokenFile(1);
  await store.writeText(token, 'x'.repeat(300));
  const seen = { unlisted: 0, createdOver: 0 };
  for (let i = 0; i < 50; i++) {
    const [, listed, created] = await Promise.all([
      store.writeText(token, String(i % 10).repeat(300)),
      store.listFiles('_locks'),
      store.createText(token, 'another writer'),
    ]);
    if (!listed.includes(token)) seen.unlisted++;
    if (created) seen.createdOver++;
  }
  expect(seen).toEqual({ unlisted: 0, createdOver: 0 });
  expect(await store.readText(token)).toBe('9'.repeat(300));
  // Of creates racing for a free key exactly one wins, and its text is the one stored.
  const fresh = lockTokenFile(2);
  const wins = await Promise.all(Array.from({ length: 6 }, (_, w) => store.createText(fresh, `writer ${w}`)));
  expect(wins.filter(Boolean)).toHaveLength(1);
  expect(await store.readText(fresh)).toBe(`writer ${wins.indexOf(true)}`);
});
