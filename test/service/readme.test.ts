/**
 * The README's "Run it for a team" runs as written: its config block becomes scoutql.config.yaml
 * verbatim and every command of its shell block runs, in order, in bash, with `npx scoutql` being
 * this checkout's CLI. What stands in for AWS and the identity provider comes in through the
 * environment only, as a deployment's would: the local S3 server (AWS_ENDPOINT_URL_S3, and the
 * SDK's AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION that s3rver needs) holding the
 * raw logs and the lake, the local Athena-protocol server (SCOUTQL_ATHENA_ENDPOINT for `catalog
 * apply`, SCOUTQL_ENGINE__ATHENA__ENDPOINT for the API), a local OIDC issuer
 * (SCOUTQL_AUTH__OIDC__ISSUER and $TOKEN), and the address the server binds (SCOUTQL_SERVER__HOST,
 * SCOUTQL_SERVER__PORT; the curl lines get that port in place of 4000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { startOidcIssuer, type OidcIssuer } from '../../testkit/oidc-issuer';
import { startS3Local, S3_LOCAL_CREDENTIALS, type S3Local } from '../../testkit/s3-local';
import { cachedSample } from '../sample/cached';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'scoutql.js');

/** The section's fenced blocks of a language, in order. */
function section(markdown: string, title: string): { yaml: string; commands: string[] } {
  const start = markdown.indexOf(`## ${title}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 1);
  const text = markdown.slice(start, end < 0 ? undefined : end);
  const blocks = [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
  const yaml = blocks.filter((b) => b.lang === 'yaml').map((b) => b.body);
  const sh = blocks.filter((b) => b.lang === 'sh').map((b) => b.body);
  expect(yaml).toHaveLength(1);
  expect(sh).toHaveLength(1);
  // One command per line; a trailing backslash continues it.
  const commands = sh[0]
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  return { yaml: yaml[0], commands };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let dir: string;
let s3: S3Local;
let athena: AthenaLocalServer;
let issuer: OidcIssuer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-readme-'));
  // The raw logs a team has in S3: a day of the sample's CloudTrail and S3 access logs (under 1000
  // objects: s3rver's continuation tokens need a cipher Node 20's OpenSSL lacks), without the
  // sample's own stories.json and sample.json.
  const sample = await cachedSample({ days: 1, scale: 0.05, sources: ['cloudtrail', 's3access'] });
  cpSync(sample, join(dir, 'raw'), {
    recursive: true,
    filter: (from) => !['stories.json', 'sample.json'].includes(relative(sample, from)),
  });
  s3 = await startS3Local({ buckets: ['acme-raw-logs', 'acme-security-lake', 'acme-athena-results'] });
  await s3.uploadDir(join(dir, 'raw'), 'acme-raw-logs', '');
  athena = await startAthenaLocal({ s3Client: s3.client, writeResultsToS3: true });
  issuer = await startOidcIssuer({ audience: 'scoutql' });
}, 180_000);
afterAll(async () => {
  await issuer?.close();
  await athena?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('every command of "Run it for a team" runs as written', async () => {
  const { yaml, commands } = section(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'Run it for a team');
  writeFileSync(join(dir, 'scoutql.config.yaml'), yaml);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCOUTQL_') && !k.startsWith('AWS_'))),
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3_LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_LOCAL_CREDENTIALS.secretAccessKey,
    // s3rver predates the SDK's default CRC32 checksums.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    SCOUTQL_ATHENA_ENDPOINT: athena.endpoint,
    SCOUTQL_ENGINE__ATHENA__ENDPOINT: athena.endpoint,
    SCOUTQL_AUTH__OIDC__ISSUER: issuer.issuer,
    SCOUTQL_SERVER__HOST: '127.0.0.1',
    SCOUTQL_SERVER__PORT: String(port),
    TOKEN: await issuer.mint({ groups: ['secops'] }, { subject: 'analyst@acme.example' }),
  };
  // `npx scoutql` is this checkout's CLI (npx itself would look for a package of that name).
  const local = (command: string) => command.replace(/\bnpx scoutql\b/g, `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`);
  const bash = (command: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', local(command)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });

  let server: ChildProcess | null = null;
  const outputs: Record<string, string> = {};
  try {
    for (const written of commands) {
      const command = written.replace(/127\.0\.0\.1:4000/g, `127.0.0.1:${port}`);
      if (/^npx scoutql serve\b/.test(command)) {
        server = spawn('bash', ['-c', `exec ${local(command)}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        server.stderr!.on('data', (c: Buffer) => (err += c.toString()));
        await new Promise<void>((resolve, reject) => {
          server!.stdout!.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes(`GraphQL http://127.0.0.1:${port}/graphql`)) resolve();
          });
          server!.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
        });
        continue;
      }
      const run = await bash(command);
      expect({ command: written, status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
        command: written,
        status: 0,
        stderr: '',
      });
      outputs[written.split(/\s+/).slice(0, 4).join(' ')] = run.stdout;
    }
    expect(server).not.toBeNull();
    const out = (prefix: string) => Object.entries(outputs).find(([k]) => k.startsWith(prefix))?.[1] ?? '';
    expect(JSON.parse(out('curl -s http://127.0.0.1'))).toMatchObject({ status: 'ready' });
    const soar = JSON.parse(out('curl -s -H "x-api-key:')) as {
      data: { ip: { identities: { edges: { node: { identityId: string } }[] } } };
    };
    expect(soar.data.ip.identities.edges.map((e) => e.node.identityId)).toEqual(['arn:aws:iam::418295730146:user/dana.whitfield']);
    const person = JSON.parse(out('curl -s -H "Authorization:')) as {
      data: { identities: { totalCount: number; edges: { node: { account: string } }[] } };
    };
    expect(person.data.identities.totalCount).toBeGreaterThan(0);
    for (const edge of person.data.identities.edges) expect(['418295730146', '539104826377']).toContain(edge.node.account);
    // While serving, lines reach S3 within audit.flushSeconds: the chain so far verifies (exit 0 above); all of it after the stop, below.
    expect(out('npx scoutql audit verify')).toMatch(/^audit trail s3:\/\/acme-security-lake\/lake\/_audit\n/);
    expect(out('npx scoutql keys revoke')).toMatch(/^revoked key [0-9a-f]{16} 'soar'/);
  } finally {
    if (server) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }
  // After the graceful stop the trail on S3 holds every request, and its chain verifies.
  const verify = await bash('npx scoutql audit verify --json');
  expect(JSON.parse(verify.stdout)).toEqual([expect.objectContaining({ stream: 'main', ok: true, requests: 2 })]);
}, 300_000);
