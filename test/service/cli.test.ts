/**
 * `scoutql keys` and `scoutql audit` as an operator runs them: real processes (bin/scoutql.js for
 * the first of each command, then the CLI built for this jest run: test/cli.ts), real stores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, ApiKeyVerifier } from '../../src/api/auth/api-keys';
import { sha256Hex } from '../../src/api/audit/record';
import { AuditTrail } from '../../src/api/audit/trail';
import { LocalObjectStore } from '../../src/api/store/object-store';
import { builtCli, REAL_CLI } from '../cli';

let dir: string;
let lake: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-cli-'));
  lake = join(dir, 'lake');
  mkdirSync(lake);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with a clean SCOUTQL_ environment (plus what the test gives). */
function scoutql(args: string[], env: Record<string, string> = {}, cli = builtCli()) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCOUTQL_')));
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir, env: { ...base, ...env } });
}

test('keys create prints the key once; list shows it without the key; revoke stops it; the server-side verifier agrees', async () => {
  const created = scoutql(
    ['keys', 'create', '--lake', lake, '--name', 'soar', '--role', 'soar', '--accounts', '111111111111,222222222222', '--expires', '90d'],
    {},
    REAL_CLI,
  );
  expect(created.status).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const id = key.slice(3, 19);
  expect(created.stderr).toContain(`Created API key ${id} 'soar': role soar, accounts 111111111111,222222222222, expires `);

  const verifier = new ApiKeyVerifier(new ApiKeyStore(new LocalObjectStore(join(lake, '_keys'))), { cacheSeconds: 0 });
  expect(await verifier.verify(key)).toMatchObject({ ok: true, caller: { role: 'soar', accounts: ['111111111111', '222222222222'] } });

  const listed = scoutql(['keys', 'list', '--lake', lake]);
  expect(listed.status).toBe(0);
  expect(listed.stdout).not.toContain(key.slice(20));
  expect(listed.stdout.split('\n')[1]).toMatch(
    new RegExp(`^${id}  soar  soar  111111111111,222222222222  \\d{4}-\\d{2}-\\d{2}  \\d{4}-\\d{2}-\\d{2}  active$`),
  );

  const revoked = scoutql(['keys', 'revoke', 'soar', '--lake', lake]);
  expect(revoked.status).toBe(0);
  expect(revoked.stdout).toMatch(new RegExp(`^revoked key ${id} 'soar' at .*; servers refuse it within 30 s`));
  expect(await verifier.verify(key)).toMatchObject({ ok: false, status: 401, reason: 'revoked' });
  expect(JSON.parse(scoutql(['keys', 'list', '--lake', lake, '--json']).stdout)).toEqual([
    expect.objectContaining({ id, status: 'revoked' }),
  ]);
});

test('keys go where the configuration says: auth.apiKeys.store from the file, or the lake from the environment', () => {
  writeFileSync(join(dir, 'team.yaml'), `engine:\n  lake: lake\nauth:\n  apiKeys:\n    store: secrets/keys\n`);
  const created = scoutql([
    'keys',
    'create',
    '--config',
    'team.yaml',
    '--name',
    'notebooks',
    '--role',
    'analyst',
    '--accounts',
    '*',
    '--json',
  ]);
  expect(created.status).toBe(0);
  const { key, id, accounts } = JSON.parse(created.stdout);
  expect(accounts).toBe('*');
  const record = readFileSync(join(dir, 'secrets', 'keys', `${id}.json`), 'utf8');
  expect(JSON.parse(record)).toMatchObject({ id, name: 'notebooks', role: 'analyst', hash: { alg: 'scrypt' } });
  expect(record).not.toContain(key.slice(20)); // the secret part of the key

  const viaEnv = scoutql(['keys', 'list', '--json'], { SCOUTQL_ENGINE__LAKE: lake });
  expect(JSON.parse(viaEnv.stdout)).toEqual([]);
});

test('bad input: an unknown role, account ids that are not ids, a config file with an unknown key', () => {
  const role = scoutql(['keys', 'create', '--lake', lake, '--name', 'x', '--role', 'root', '--accounts', '1']);
  expect(role.status).toBe(1);
  expect(role.stderr).toBe("scoutql: --role must be one of analyst, soar, admin, got 'root'\n");
  const accounts = scoutql(['keys', 'create', '--lake', lake, '--name', 'x', '--role', 'soar', '--accounts', "1' OR '1'='1"]);
  expect(accounts.stderr).toBe("scoutql: not account ids: 1' OR '1'='1\n");
  writeFileSync(join(dir, 'scoutql.config.yaml'), 'engine:\n  lake: lake\naudit:\n  loaction: x\n');
  const config = scoutql(['audit', 'verify']);
  expect(config.status).toBe(1);
  expect(config.stderr).toBe(
    `scoutql: invalid configuration:\n  ${join(dir, 'scoutql.config.yaml')}:4:3: audit.loaction: unknown key (did you mean 'location'?); known: enabled, location, stream, maxChunkBytes, flushSeconds\n`,
  );
});

test('audit verify says OK for an intact trail and names the first broken line of an edited one; tail prints the last requests', async () => {
  const trail = await AuditTrail.open({ store: new LocalObjectStore(join(lake, '_audit')), now: () => new Date('2025-03-01T12:00:00Z') });
  for (let n = 1; n <= 4; n++) {
    await trail.append({
      time: new Date(Date.UTC(2025, 2, 1, 12, 0, n)),
      caller: { subject: 'alice@example.com', kind: 'oidc', role: 'analyst' },
      operation: 'BruteForcingIp',
      documentSha256: sha256Hex(`doc ${n}`),
      variables: { ip: `203.0.113.${n}` },
      accounts: ['111111111111'],
      bytesScanned: 2048,
      rows: n,
      durationMs: 8,
      outcome: 'ok',
      status: 200,
    });
  }
  await trail.close();

  const ok = scoutql(['audit', 'verify', '--lake', lake]);
  expect(ok.status).toBe(0);
  expect(ok.stdout).toBe(`audit trail ${join(lake, '_audit')}\n  main: OK: 1 chunk, 4 requests, seq 1–5, HEAD matches\n`);

  const tail = scoutql(['audit', 'tail', '-n', '2', '--lake', lake], {}, REAL_CLI);
  expect(tail.stdout.split('\n').filter(Boolean)).toEqual([
    '2025-03-01T12:00:03.000Z  #4  alice@example.com (oidc, analyst)  BruteForcingIp  ok 200  rows 3  scanned 2048 B  8 ms  accounts 111111111111',
    '2025-03-01T12:00:04.000Z  #5  alice@example.com (oidc, analyst)  BruteForcingIp  ok 200  rows 4  scanned 2048 B  8 ms  accounts 111111111111',
  ]);
  const json = scoutql(['audit', 'tail', '-n', '1', '--json', '--lake', lake]);
  expect(JSON.parse(json.stdout)).toMatchObject({ seq: 5, kind: 'request', variables: { ip: '203.0.113.4' } });

  const chunk = join(lake, '_audit', 'main', '2025-03-01', '000000000001.jsonl');
  writeFileSync(chunk, readFileSync(chunk, 'utf8').replace('203.0.113.2', '203.0.113.99'));
  const broken = scoutql(['audit', 'verify', '--lake', lake]);
  expect(broken.status).toBe(1);
  expect(broken.stdout).toBe(
    [
      `audit trail ${join(lake, '_audit')}`,
      `  main: BROKEN at ${join(lake, '_audit')}/main/2025-03-01/000000000001.jsonl line 3 (seq 3): edited`,
      `    edited: its hash no longer matches the one main/2025-03-01/000000000001.jsonl line 4 recorded`,
      '    (the 3 lines before it verify)',
      '',
    ].join('\n'),
  );
});
