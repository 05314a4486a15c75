/** Shared set-up for the S3 tests: a local S3 server (s3rver) and the environment that points ScoutQL at it. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startS3Local, S3_LOCAL_CREDENTIALS, type S3Local } from '../../testkit/s3-local';
import { resetS3Client } from '../../etl/s3';
import { lakeStoreFor } from '../../etl/lake/store';
import { builtCli } from '../cli';
import { cloudTrailRecord, tempDir } from '../etl/helpers';

export interface S3Env {
  s3: S3Local;
  /** The variables a child process (the CLI) needs to reach the same server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts s3rver and points this process's S3 client (and any worker or child it starts) at it. */
export async function startS3Env(buckets: string[]): Promise<S3Env> {
  // startS3Local lists with a delimiter as real S3 does (testkit/s3-local corrects s3rver 3.7).
  const s3 = await startS3Local({ buckets });
  const env = {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: S3_LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_LOCAL_CREDENTIALS.secretAccessKey,
    // s3rver predates the SDK's default CRC32 checksums.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  resetS3Client();
  return {
    s3,
    env,
    async close() {
      resetS3Client();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await s3.close();
    },
  };
}

export const envelope = (records: unknown[]) => JSON.stringify({ Records: records });

/**
 * A folder of CloudTrail objects as CloudTrail delivers them (gzip envelopes under
 * AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/), one with a space in its name and one
 * plain JSON-lines export holding a line that is not JSON.
 */
export function cloudTrailInputs(files = 3, perFile = 40): string {
  const dir = tempDir('s3-input');
  for (let f = 0; f < files; f++) {
    const folder = join(dir, 'AWSLogs', '123456789012', 'CloudTrail', 'us-east-2', '2024', '03', `0${f + 1}`);
    mkdirSync(folder, { recursive: true });
    const records = Array.from({ length: perFile }, (_, i) => cloudTrailRecord(f * 1000 + i));
    const name =
      f === 1 ? `123456789012_CloudTrail_us-east-2_2024 03 0${f + 1}.json.gz` : `123456789012_CloudTrail_us-east-2_part${f}.json.gz`;
    writeFileSync(join(folder, name), gzipSync(envelope(records)));
  }
  mkdirSync(join(dir, 'exports'), { recursive: true });
  writeFileSync(
    join(dir, 'exports', 'siem.jsonl'),
    [JSON.stringify(cloudTrailRecord(9001)), 'not json at all', JSON.stringify(cloudTrailRecord(9002))].join('\n') + '\n',
  );
  return dir;
}

/** Downloads what a reader of an S3 lake would see (everything but staging) into a local folder. */
export async function downloadLake(lake: string): Promise<string> {
  const store = lakeStoreFor(lake);
  const dir = tempDir('s3-lake-copy');
  for (const path of await store.listFiles('')) {
    if (path.startsWith('_staging/') || path === '_lock') continue;
    await store.localCopy(path, dir);
  }
  return dir;
}

/**
 * Runs the CLI (the one built for this jest run, test/cli.ts) in a process of its own without
 * blocking this one: the local S3 server lives in the test's own event loop, so a synchronous
 * spawn would leave the child waiting on it forever.
 */
export function scoutqlAsync(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [builtCli(), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolvePromise({ status, signal, stdout, stderr }));
  });
}
