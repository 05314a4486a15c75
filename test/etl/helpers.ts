import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { builtCli } from '../cli';

export const REPO = join(__dirname, '..', '..');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scoutql-${prefix}-`));
}

/** A tempDir whose folders are removed after the calling file's tests (call it at the top level). */
export function tempDirsRemovedAfterAll(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = tempDir(prefix);
    made.push(dir);
    return dir;
  };
}

/**
 * A CloudTrail record shaped like the IAMUser example in the CloudTrail user guide
 * ("CloudTrail log file examples"), varied by `i` so records are distinct.
 */
export function cloudTrailRecord(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const minute = String(i % 60).padStart(2, '0');
  const day = String(1 + (i % 3)).padStart(2, '0');
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAJ45Q7YFFAREXAMPLE',
      arn: `arn:aws:iam::123456789012:user/Alice${i % 5}`,
      accountId: '123456789012',
      accessKeyId: `AKIAIOSFODNN7EXAMP${i % 5}`,
      userName: `Alice${i % 5}`,
    },
    eventTime: `2024-03-${day}T20:${minute}:07Z`,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'StartInstances',
    awsRegion: 'us-east-2',
    sourceIPAddress: `205.251.233.${i % 200}`,
    userAgent: 'ec2-api-tools 1.6.12.2',
    requestParameters: { instancesSet: { items: [{ instanceId: `i-ebeaf9e${i % 10}` }] } },
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '123456789012',
    ...overrides,
  };
}

export async function withDuckDb<T>(fn: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await fn(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every event row in a lake, as DuckDB reads it back with hive partitions. */
export async function lakeRows(lake: string, table = 'api_activity'): Promise<Record<string, unknown>[]> {
  return withDuckDb((run) =>
    run(`SELECT * EXCLUDE (raw) FROM read_parquet('${lake}/${table}/**/*.parquet', hive_partitioning = true,
           hive_types = {'source': VARCHAR, 'account': VARCHAR, 'region': VARCHAR, 'day': DATE})
         ORDER BY event_id, time`),
  );
}

/**
 * Runs the CLI in a process of its own, as a user would: the one built for this jest run from the
 * current sources (test/cli.ts), or `REAL_CLI` (bin/scoutql.js, as users start it) when given.
 */
export function scoutql(args: string[], env: Record<string, string> = {}, cli = builtCli()) {
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** One line of the lake's quarantine: what was set aside, from which object, where in it and why. */
export interface QuarantineLine {
  object: string;
  sha256: string | null;
  source: string | null;
  position: string;
  reason: string;
  text: string;
}

/** Every JSON line of a local lake's bookkeeping folder (`_quarantine`, `_manifest`), files in name order. */
export function bookkeepingLines<T>(lake: string, folder: '_quarantine' | '_manifest'): T[] {
  const dir = join(lake, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T),
    );
}

export function quarantineLines(lake: string): QuarantineLine[] {
  return bookkeepingLines<QuarantineLine>(lake, '_quarantine');
}

/**
 * Runs test/etl/fixtures/lake-contenders.ts in a child process without blocking this one (children
 * race each other, and a local S3 server lives in this process's event loop); its JSON results.
 */
export function lakeContenders<T>(args: string[], env: Record<string, string> = {}): Promise<T[]> {
  const script = join(__dirname, 'fixtures', 'lake-contenders.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), script, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0 ? resolve(JSON.parse(stdout) as T[]) : reject(new Error(`lake contenders exited ${status}: ${stderr}`)),
    );
  });
}
