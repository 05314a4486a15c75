/**
 * `scoutql verify cloudtrail` as a user runs it: exit codes, text and --json, a folder and s3://,
 * --fetch-keys. bin/scoutql.js for the first run, then the CLI built for this jest run (test/cli.ts).
 */
import { spawn } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { startS3Local, S3_LOCAL_CREDENTIALS, type S3Local } from '../../testkit/s3-local';
import { startCloudTrailLocal, uploadTrail, type CloudTrailLocal } from '../../testkit/cloudtrail-local';
import type { VerifyReport } from '../../src/evidence/report';
import { pathOf, REGION, trailKey, writeTrail, removeTempDirs } from './helpers';
import { builtCli, REAL_CLI } from '../cli';

function scoutql(
  args: string[],
  env: Record<string, string> = {},
  cli = builtCli(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let s3: S3Local;
let cloudtrail: CloudTrailLocal;
beforeAll(async () => {
  s3 = await startS3Local({ buckets: ['cli-evidence'] });
  cloudtrail = await startCloudTrailLocal({ keys: { [REGION]: [trailKey()] } });
});
afterAll(async () => {
  removeTempDirs();
  await cloudtrail.close();
  await s3.close();
});

const awsEnv = () => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: S3_LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.endpoint,
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
});

test('exit 0 and VERIFIED for a whole trail; 2 without keys; 1 with --json naming a deleted log file', async () => {
  const trail = writeTrail({ hours: 3 });
  const ok = await scoutql(['verify', 'cloudtrail', trail.dir, '--public-keys', trail.keysFile], {}, REAL_CLI);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout.split('\n')[0]).toBe(`CloudTrail evidence under ${trail.dir}: VERIFIED: every file and link proven`);
  expect(ok.stdout).toContain('signatures: 3 checked, 0 not checked');

  const unkeyed = await scoutql(['verify', 'cloudtrail', trail.dir]);
  expect(unkeyed.code).toBe(2);
  expect(unkeyed.stdout).toContain('signatures not checked: no public keys');

  const gone = trail.writer.logs[3].key;
  unlinkSync(pathOf(trail, gone));
  const failed = await scoutql(['verify', 'cloudtrail', trail.dir, '--public-keys', trail.keysFile, '--json']);
  expect(failed.code).toBe(1);
  const report = JSON.parse(failed.stdout) as VerifyReport;
  expect(report.outcome).toBe('failed');
  expect(report.chains[0].files.filter((f) => f.status !== 'valid')).toEqual([
    {
      path: gone,
      status: 'missing',
      listedIn: trail.writer.digests[1].key,
      expectedSha256: trail.writer.logs[3].sha256,
      actualSha256: null,
      detail: `listed in ${trail.writer.digests[1].key}; not present`,
    },
  ]);
});

test('s3:// with keys fetched from the CloudTrail endpoint the environment names', async () => {
  const trail = writeTrail({ hours: 2 });
  await uploadTrail(s3.client, 'cli-evidence', trail.dir, 'org/trails');
  const run = await scoutql(['verify', 'cloudtrail', 's3://cli-evidence/org/trails', '--fetch-keys', '--json'], awsEnv());
  expect(run.stderr).not.toContain('scoutql:');
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout) as VerifyReport;
  expect(report.signatures).toEqual({ checked: 2, notChecked: 0, note: null });
  expect(report.chains[0].links.map((l) => l.signature.source)).toEqual(['metadata', 'metadata']);
  expect(cloudtrail.calls.map((c) => [c.operation, c.region])).toEqual([['ListPublicKeys', REGION]]);
});

test('a folder that does not exist, and a key file that is not list-public-keys output, are clear errors', async () => {
  const missing = await scoutql(['verify', 'cloudtrail', '/nonexistent/evidence']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe('scoutql: not found: /nonexistent/evidence\n');
  const trail = writeTrail({ hours: 1 });
  const wrongKeys = await scoutql([
    'verify',
    'cloudtrail',
    trail.dir,
    '--public-keys',
    pathOf(trail, trail.writer.digests[0].key) + '.sig',
  ]);
  expect(wrongKeys.code).toBe(1);
  expect(wrongKeys.stderr).toMatch(/^scoutql: public keys file .*\.sig is not JSON: /);
});
