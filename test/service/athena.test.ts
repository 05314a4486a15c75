/**
 * The API served on Athena, as a team deploys it: `scoutql serve --config` with engine athena and
 * an s3:// lake, against the local Athena-protocol server (testkit/athena-local, the real AWS SDK
 * talking to it) and the local S3 server (testkit/s3-local) holding the lake, the API keys and the
 * audit trail. The example hunts, with their variables files as shipped, answer exactly as
 * `scoutql serve` on DuckDB over the same lake does.
 *
 * Then, in process on the same servers: the request deadline, the per-caller cap on requests in
 * flight, and a graceful shutdown that lets a request in flight finish.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { AthenaEngine } from '../../src/engine/athena';
import { applyCatalog, catalogStatements, discoverPartitionValues } from '../../src/catalog';
import { ApiKeyStore } from '../../src/api/auth/api-keys';
import { S3ObjectStore } from '../../src/api/store/object-store';
import { loadConfig } from '../../src/config/load';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { startS3Local, S3_LOCAL_CREDENTIALS, type S3Local } from '../../testkit/s3-local';
import { bearer, post, startTestService } from './helpers';
import { HUNT_FOUND_SOMETHING } from '../api/fixtures/hunts';
import { builtCli, REAL_CLI } from '../cli';

/** The CLI built for this jest run (test/cli.ts); `sample` runs from bin/scoutql.js, the README's commands do in test/service/readme. */
const BIN = builtCli();
const HUNTS = join(__dirname, '..', '..', 'examples', 'hunts');

let dir: string;
let lake: string;
let s3: S3Local;
let athena: AthenaLocalServer;
let env: Record<string, string>;

/**
 * Runs the CLI with a clean SCOUTQL_ environment plus the test's. Asynchronously: the local S3 and
 * Athena servers it talks to run in this process, and must keep answering while it runs.
 */
function scoutql(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

function baseEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => !k.startsWith('SCOUTQL_') && !k.startsWith('AWS_') && v !== undefined),
  ) as Record<string, string>;
}

/** Starts `scoutql serve` and resolves with its URL once it listens. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd: dir,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /GraphQL (http:\/\/\S+)\/graphql/.exec(out);
      if (m) resolve({ child, url: m[1], stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-athena-svc-'));
  lake = join(dir, 'lake');
  // The sample's attack stories (the hunts name their actors); flow logs left out for speed.
  const logs = join(dir, 'logs');
  const sample = spawnSync(
    process.execPath,
    [REAL_CLI, 'sample', '--out', logs, '--scale', '0.05', '--sources', 'cloudtrail,s3access,route53resolver'],
    {
      encoding: 'utf8',
    },
  );
  expect(sample.status).toBe(0);
  // The digests' check (test/evidence) is left out: this suite is about serving, not about the trail's integrity.
  const ingest = spawnSync(process.execPath, [BIN, 'ingest', logs, '--lake', lake, '--json', '--no-verify-digests'], { encoding: 'utf8' });
  expect(JSON.parse(ingest.stdout)).toMatchObject({ quarantined: 0 });

  s3 = await startS3Local({ buckets: ['acme-lake', 'acme-athena-results'] });
  await s3.uploadDir(lake, 'acme-lake', 'lake');
  athena = await startAthenaLocal({ s3Client: s3.client, writeResultsToS3: true });
  const admin = new AthenaEngine({
    database: 'default',
    region: 'us-east-1',
    endpoint: athena.endpoint,
    credentials: S3_LOCAL_CREDENTIALS,
    maxBytesScanned: 0,
    pollMinMs: 5,
    pollMaxMs: 20,
  });
  const { accounts, regions } = discoverPartitionValues(lake);
  await applyCatalog(admin, catalogStatements({ lake: 's3://acme-lake/lake', database: 'scoutql', accounts, extraRegions: regions }));
  await admin.close();
  env = {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: S3_LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_LOCAL_CREDENTIALS.secretAccessKey,
    SCOUTQL_ENGINE__ATHENA__ENDPOINT: athena.endpoint,
  };
  writeFileSync(
    join(dir, 'team.yaml'),
    `engine:
  type: athena
  lake: s3://acme-lake/lake
  athena:
    database: scoutql
    workgroup: primary
    outputLocation: s3://acme-athena-results/scoutql/
    region: us-east-1
auth:
  apiKeys: {}
audit:
  stream: athena-e2e
  flushSeconds: 0.2
limits:
  maxBytesScannedPerQuery: 10GB
`,
  );
}, 240_000);
afterAll(async () => {
  await athena?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the example hunts, as shipped, answer on Athena (s3:// lake) exactly as on DuckDB; keys and audit live in S3', async () => {
  // An operator makes a key in the lake's _keys/ on S3; the server only reads it there.
  const created = await scoutql(['keys', 'create', '--config', 'team.yaml', '--name', 'hunter', '--role', 'analyst', '--accounts', '*']);
  expect(created.status).toBe(0);
  const key = created.stdout.trim();
  const onAthena = await serve(['--config', 'team.yaml', '--port', '0']);
  const onDuckDb = await serve(['--lake', lake, '--port', '0']);
  // Every hunt the folder ships, however many it holds.
  const files = readdirSync(HUNTS).filter((f) => f.endsWith('.graphql'));
  expect(files.length).toBeGreaterThan(0);
  let hunts = 0;
  try {
    for (const file of files) {
      const query = readFileSync(join(HUNTS, file), 'utf8');
      const variables = JSON.parse(readFileSync(join(HUNTS, file.replace(/\.graphql$/, '.variables.json')), 'utf8')) as Record<
        string,
        unknown
      >;
      const athenaAnswer = await post(onAthena.url, { query, variables }, bearer(key));
      const duckAnswer = await post(onDuckDb.url, { query, variables });
      expect({ file, status: athenaAnswer.status, errors: athenaAnswer.body.errors }).toEqual({ file, status: 200, errors: undefined });
      expect({ file, errors: duckAnswer.body.errors }).toEqual({ file, errors: undefined });
      expect({ file, data: athenaAnswer.body.data }).toEqual({ file, data: duckAnswer.body.data });
      // No hunt opens on an empty answer (a graph walk's node, an event, a counted group).
      expect(JSON.stringify(duckAnswer.body.data)).toMatch(HUNT_FOUND_SOMETHING);
      expect(athenaAnswer.body.extensions.stats).toMatchObject({ engine: 'athena' });
      expect(athenaAnswer.body.extensions.stats.bytesScanned).toBeGreaterThan(0);
      hunts++;
    }
    expect(hunts).toBe(files.length);
    // Without a key, nothing.
    expect((await post(onAthena.url, { query: '{ __typename }' })).status).toBe(401);
  } finally {
    expect(await stop(onAthena.child)).toBe(0);
    expect(await stop(onDuckDb.child)).toBe(0);
  }
  // The trail on S3 was flushed at shutdown: one line per request, and the chain verifies.
  const verified = await scoutql(['audit', 'verify', '--config', 'team.yaml', '--json']);
  expect(verified.status).toBe(0);
  expect(JSON.parse(verified.stdout)).toEqual([expect.objectContaining({ stream: 'athena-e2e', ok: true, requests: hunts + 1 })]);
}, 240_000);

describe('in process, on a slower local Athena (each query stays RUNNING for a few polls)', () => {
  let slow: AthenaLocalServer;
  let key: string;
  const config = (extra: Record<string, string> = {}) =>
    loadConfig({
      configPath: join(dir, 'team.yaml'),
      env: {
        ...env,
        SCOUTQL_ENGINE__ATHENA__ENDPOINT: slow.endpoint,
        SCOUTQL_SERVER__REQUEST_TIMEOUT_SECONDS: '3',
        SCOUTQL_LIMITS__CONCURRENT_QUERIES_PER_CALLER: '1',
        SCOUTQL_AUDIT__STREAM: 'in-process',
        ...extra,
      },
    });
  beforeAll(async () => {
    slow = await startAthenaLocal({ s3Client: s3.client, writeResultsToS3: true, runningPolls: 2 });
    const admin = new AthenaEngine({
      database: 'default',
      region: 'us-east-1',
      endpoint: slow.endpoint,
      credentials: S3_LOCAL_CREDENTIALS,
      maxBytesScanned: 0,
    });
    const { accounts, regions } = discoverPartitionValues(lake);
    await applyCatalog(admin, catalogStatements({ lake: 's3://acme-lake/lake', database: 'scoutql', accounts, extraRegions: regions }));
    await admin.close();
    // The process's own S3 client (etl/s3.ts) reads these, as the server's does.
    Object.assign(process.env, env);
    const keys = new ApiKeyStore(new S3ObjectStore('s3://acme-lake/lake/_keys', new S3Client(clientConfig())));
    key = (await keys.create({ name: 'in-process', role: 'analyst', accounts: '*' })).token;
  }, 60_000);
  afterAll(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    await slow?.close();
  });

  const COUNT = `query($w: TimeWindow!) { events(window: $w) { totalCount } }`;
  const W = { w: { from: '2026-11-02T00:00:00Z', to: '2026-11-05T00:00:00Z' } };
  const lastAuditLine = async () => {
    const tail = await scoutql(['audit', 'tail', '--config', 'team.yaml', '--stream', 'in-process', '--json']);
    return JSON.parse(tail.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };
  const started = () => slow.calls.filter((c) => c.operation === 'StartQueryExecution').length;

  test('a request ends at the configured deadline (Athena stops its query); meanwhile the same caller gets 429', async () => {
    const service = await startTestService(config());
    try {
      slow.holdQueries(1);
      const stopped = slow.stoppedQueryIds.length;
      const before = started();
      const held = post(service.url, { query: COUNT, variables: W }, bearer(key));
      // Its query runs (held): the request has its slot.
      await until(() => started() > before);
      const second = await post(service.url, { query: COUNT, variables: W }, bearer(key));
      expect(second.status).toBe(429);
      expect(second.body.errors[0].extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'too_many_concurrent' });
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const first = await held;
      expect(first.body.errors[0].extensions).toMatchObject({ code: 'ENGINE_ERROR' });
      expect(slow.stoppedQueryIds.length).toBe(stopped + 1);
      // Its slot is free again (a request that needs no query: the 3-second deadline is for the held one, not for a busy machine).
      expect((await post(service.url, { query: '{ __typename }' }, bearer(key))).status).toBe(200);
    } finally {
      await service.close();
    }
    expect(await lastAuditLine()).toMatchObject({ outcome: 'ok' });
  }, 60_000);

  test('graceful shutdown: the request in flight finishes and is recorded; new connections are refused', async () => {
    // A deadline far beyond the query's time: what ends this request must be the query finishing, even on a busy machine.
    const service = await startTestService(config({ SCOUTQL_SERVER__REQUEST_TIMEOUT_SECONDS: '60' }));
    const { url } = service;
    const before = started();
    const inFlight = post(url, { query: COUNT, variables: W }, bearer(key));
    await until(() => started() > before);
    let closed = false;
    const closing = service.close().then(() => (closed = true));
    // It stopped listening at once.
    await until(
      async () =>
        (await fetch(`${url}/healthz`).then(
          () => 'up',
          () => 'refused',
        )) === 'refused',
    );
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.events.totalCount).toBeGreaterThan(0);
    await closing;
    expect(closed).toBe(true);
    expect(await lastAuditLine()).toMatchObject({ outcome: 'ok', caller: { name: 'in-process' } });
  }, 60_000);

  test('past the grace time a request in flight is cancelled (its Athena query stopped) and recorded as such', async () => {
    const service = await startTestService(
      config({ SCOUTQL_SERVER__SHUTDOWN_GRACE_SECONDS: '0', SCOUTQL_SERVER__REQUEST_TIMEOUT_SECONDS: '60' }),
    );
    slow.holdQueries(1);
    const stopped = slow.stoppedQueryIds.length;
    const before = started();
    const inFlight = post(service.url, { query: COUNT, variables: W }, bearer(key));
    await until(() => started() > before);
    await service.close();
    const answer = await inFlight;
    expect(answer.body.errors[0].extensions).toMatchObject({ code: 'ENGINE_ERROR' });
    expect(slow.stoppedQueryIds.length).toBe(stopped + 1);
    expect(await lastAuditLine()).toMatchObject({ outcome: 'cancelled' });
  }, 60_000);
});

function clientConfig() {
  return { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_LOCAL_CREDENTIALS };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
