/**
 * From configuration to a verified caller: a config file and SCOUTQL_ variables turn into the
 * authenticator the server will use (round 2 wires it into HTTP), with the local issuer's real
 * tokens and a real API key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from '../../src/api/auth/api-keys';
import { createAuthenticator } from '../../src/api/auth/authenticate';
import { LocalObjectStore, objectStoreFor } from '../../src/api/store/object-store';
import { apiKeyStoreOf, loadConfig } from '../../src/config/load';
import { startOidcIssuer, type OidcIssuer } from '../../testkit/oidc-issuer';

let dir: string;
let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-authcfg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a team config: OIDC for people and API keys for machines, both accepted; roles and accounts as configured', async () => {
  writeFileSync(
    join(dir, 'scoutql.config.yaml'),
    [
      'engine:',
      '  lake: lake',
      'auth:',
      '  oidc:',
      '    audience: scoutql',
      '    roles: { sec-analysts: analyst, sec-admins: admin }',
      "    accounts: { sec-analysts: ['111111111111'], sec-admins: '*' }",
      '  apiKeys: {}',
      '',
    ].join('\n'),
  );
  // The issuer's address is only known at run time: the environment supplies it, as a deployment would.
  const config = loadConfig({ cwd: dir, env: { SCOUTQL_AUTH__OIDC__ISSUER: issuer.issuer } });
  expect(apiKeyStoreOf(config)).toBe(join(dir, 'lake', '_keys'));
  const { token } = await new ApiKeyStore(new LocalObjectStore(apiKeyStoreOf(config))).create({
    name: 'soar',
    role: 'soar',
    accounts: ['222222222222'],
  });

  const auth = createAuthenticator(config.auth, (location) => objectStoreFor(location));
  const person = await auth.authenticate({ authorization: `Bearer ${await issuer.mint({ groups: ['sec-analysts'] }, { alg: 'ES256' })}` });
  expect(person).toEqual({ ok: true, caller: { subject: 'alice', kind: 'oidc', role: 'analyst', accounts: ['111111111111'] } });
  const machine = await auth.authenticate({ 'x-api-key': token });
  expect(machine).toMatchObject({ ok: true, caller: { kind: 'apikey', role: 'soar', accounts: ['222222222222'], name: 'soar' } });
  expect(await auth.authenticate({})).toMatchObject({ ok: false, status: 401, reason: 'missing' });
});

test('the default config authenticates nobody and everybody: the anonymous local caller', async () => {
  const config = loadConfig({ cwd: dir, env: {} });
  const auth = createAuthenticator(config.auth, (location) => objectStoreFor(location));
  expect(auth.mode).toBe('none');
  expect(await auth.authenticate({})).toEqual({
    ok: true,
    caller: { subject: 'anonymous', kind: 'anonymous', role: 'analyst', accounts: '*' },
  });
});
