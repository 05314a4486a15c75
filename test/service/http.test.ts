/**
 * The API as a team runs it, over real HTTP: people sign in with real OIDC tokens from a local
 * issuer (RS256 / ES256 keys, jose verifying), machines with real API keys (scrypt hashes), and
 * every request leaves a hash-chained audit line. Configured from YAML as a deployment is.
 */
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from '../../src/api/auth/api-keys';
import { tailAudit, verifyAuditTrail } from '../../src/api/audit/verify';
import { sha256 } from '../../src/api/persisted';
import { LocalObjectStore } from '../../src/api/store/object-store';
import { HUNTS_DIR } from '../../src/explorer/examples';
import { startOidcIssuer, type OidcIssuer } from '../../testkit/oidc-issuer';
import { ACCOUNT_A, ACCOUNT_B, WINDOW, twoAccountRows, writeLake } from './fixtures/two-accounts';
import { bearer, configIn, post, startTestService, type HttpAnswer } from './helpers';

let dir: string;
let lake: string;
let issuer: OidcIssuer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-http-'));
  lake = join(dir, 'lake');
  mkdirSync(lake);
  const rows = twoAccountRows();
  await writeLake(lake, [rows.rowsA, rows.rowsB]);
  issuer = await startOidcIssuer();
}, 120_000);
afterAll(async () => {
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TEAM_YAML = `engine:
  lake: lake
server:
  allowedHosts: [scoutql.example.com]
  corsOrigins: [https://notebooks.example.com]
auth:
  oidc:
    audience: scoutql
    roles: { sec-analysts: analyst, sec-admins: admin, playbooks: soar }
    accounts: { sec-analysts: ['${ACCOUNT_A}'], sec-admins: '*', playbooks: ['${ACCOUNT_A}'] }
  apiKeys: { cacheSeconds: 0 }
  soarOperations: [02-brute-forcing-ip]
limits:
  ratePerMinute: 0
  concurrentQueriesPerCaller: 0
`;

async function teamService(yaml = TEAM_YAML, audit = 'team') {
  const config = configIn(dir, yaml.replace('engine:\n', `audit:\n  stream: ${audit}\nengine:\n`), {
    SCOUTQL_AUTH__OIDC__ISSUER: issuer.issuer,
  });
  return startTestService(config);
}

async function apiKey(role: 'analyst' | 'soar' | 'admin', accounts: string[] | '*', name: string = role) {
  return new ApiKeyStore(new LocalObjectStore(join(lake, '_keys'))).create({ name, role, accounts });
}

const EVENTS_BY_ACCOUNT = `query Accounts($w: TimeWindow!) { events(window: $w, first: 500) { totalCount edges { node { account } } } }`;
const accountsOf = (answer: HttpAnswer): string[] =>
  [...new Set<string>(answer.body.data.events.edges.map((e: any) => e.node.account))].sort();

/** A raw HTTP request (fetch cannot set Host). */
function raw(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = request(`${url}${options.path ?? '/graphql'}`, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

describe('a team server (OIDC and API keys)', () => {
  let service: Awaited<ReturnType<typeof teamService>>;
  beforeAll(async () => {
    service = await teamService();
  });
  afterAll(() => service?.close());

  test('a person signs in with an OIDC token and sees only the accounts of their groups; an admin sees all', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const analyst = await issuer.mint({ groups: ['sec-analysts'] }, { alg, subject: 'ana' });
      const answer = await post(service.url, { query: EVENTS_BY_ACCOUNT, variables: { w: WINDOW } }, bearer(analyst));
      expect(answer.status).toBe(200);
      expect(accountsOf(answer)).toEqual([ACCOUNT_A]);
    }
    const admin = await issuer.mint({ groups: ['sec-admins'] }, { subject: 'root' });
    const all = await post(service.url, { query: EVENTS_BY_ACCOUNT, variables: { w: WINDOW } }, bearer(admin));
    expect(accountsOf(all)).toEqual([ACCOUNT_A, ACCOUNT_B]);
    // An admin may narrow a request to some of its accounts.
    const narrowed = await post(
      service.url,
      { query: EVENTS_BY_ACCOUNT, variables: { w: WINDOW } },
      { ...bearer(admin), 'x-scoutql-accounts': ACCOUNT_B },
    );
    expect(accountsOf(narrowed)).toEqual([ACCOUNT_B]);
  });

  test('a machine signs in with an API key, as Bearer or x-api-key; a revoked key stops working', async () => {
    const { token, record } = await apiKey('analyst', [ACCOUNT_B], 'notebooks');
    for (const headers of [bearer(token), { 'x-api-key': token }]) {
      const answer = await post(service.url, { query: EVENTS_BY_ACCOUNT, variables: { w: WINDOW } }, headers);
      expect(answer.status).toBe(200);
      expect(accountsOf(answer)).toEqual([ACCOUNT_B]);
    }
    await new ApiKeyStore(new LocalObjectStore(join(lake, '_keys'))).revoke(record.id);
    const revoked = await post(service.url, { query: '{ __typename }' }, bearer(token));
    expect(revoked.status).toBe(401);
    expect(revoked.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'revoked' });
  });

  test('bad credentials get 401, a reason code and a challenge, and nothing that helps an attacker', async () => {
    const claims = { groups: ['sec-analysts'] };
    const cases: [string, Record<string, string>, string][] = [
      ['no credentials', {}, 'missing'],
      ['not a token', bearer('hello'), 'malformed'],
      ['not Bearer', { authorization: 'Basic YWxpY2U6c2VjcmV0' }, 'malformed'],
      ['expired', bearer(await issuer.mint(claims, { expiresIn: -3600 })), 'expired'],
      ['not valid yet', bearer(await issuer.mint(claims, { notBefore: 3600 })), 'not_yet_valid'],
      ['for another audience', bearer(await issuer.mint(claims, { audience: 'another-app' })), 'wrong_audience'],
      ['from another issuer', bearer(await issuer.mint(claims, { issuer: 'https://evil.example' })), 'wrong_issuer'],
      ['alg none', bearer(issuer.forge.unsigned(claims)), 'bad_signature'],
      ['HS256 with the public key', bearer(issuer.forge.hs256WithPublicKey(claims)), 'bad_signature'],
      ['signed by a key not published', bearer(await issuer.forge.foreignKey(claims)), 'bad_signature'],
      ['changed after signing', bearer(await issuer.forge.tampered(claims, { groups: ['sec-admins'] })), 'bad_signature'],
      ['an unknown API key', { 'x-api-key': `sk_0123456789abcdef_${'A'.repeat(43)}` }, 'unknown_key'],
    ];
    for (const [what, headers, reason] of cases) {
      const answer = await post(service.url, { query: '{ __typename }' }, headers);
      expect({ what, status: answer.status }).toEqual({ what, status: 401 });
      // The body says what kind of problem, in the same words for everyone: never which check failed or why.
      expect({ what, body: answer.body }).toEqual({
        what,
        body: { errors: [{ message: 'authentication required', extensions: { code: 'UNAUTHENTICATED', reason } }] },
      });
      expect(answer.headers.get('www-authenticate')).toBe(
        reason === 'missing' ? 'Bearer realm="scoutql"' : 'Bearer realm="scoutql", error="invalid_token"',
      );
    }
    // The operator's log has the detail the client did not get.
    expect(service.log.some((line) => line.reason === 'expired' && /exp/.test(String(line.detail)))).toBe(true);
  });

  test('a forbidden account or operation gets 403 with its reason', async () => {
    const analyst = bearer(await issuer.mint({ groups: ['sec-analysts'] }));
    const soar = bearer((await apiKey('soar', [ACCOUNT_A], 'playbook')).token);
    const allowed = readFileSync(join(HUNTS_DIR, '02-brute-forcing-ip.graphql'), 'utf8');
    const other = readFileSync(join(HUNTS_DIR, '04-context-for-indicator.graphql'), 'utf8');
    const vars = { ip: '192.0.2.45', indicator: '192.0.2.45', window: WINDOW };
    const reasonOf = (a: HttpAnswer) => `${a.status} ${a.body.errors?.[0]?.extensions?.reason ?? 'ok'}`;

    // An account outside the grant, named in a filter, by account(id:), or in the narrowing header.
    const filtered = `query($w: TimeWindow!, $a: String) { events(window: $w, filter: { account: $a }) { totalCount } }`;
    expect(reasonOf(await post(service.url, { query: filtered, variables: { w: WINDOW, a: ACCOUNT_B } }, analyst))).toBe(
      '403 forbidden_account',
    );
    expect(reasonOf(await post(service.url, { query: filtered, variables: { w: WINDOW, a: ACCOUNT_A } }, analyst))).toBe('200 ok');
    expect(reasonOf(await post(service.url, { query: `{ account(id: "${ACCOUNT_B}") { accountId } }` }, analyst))).toBe(
      '403 forbidden_account',
    );
    expect(reasonOf(await post(service.url, { query: '{ __typename }' }, { ...analyst, 'x-scoutql-accounts': ACCOUNT_B }))).toBe(
      '403 forbidden_account',
    );
    // soar runs persisted queries on its allow-list only: by Apollo's protocol (sha256) or by name.
    expect(reasonOf(await post(service.url, { query: allowed, variables: vars }, soar))).toBe('403 persisted_only');
    const byHash = await post(
      service.url,
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(allowed) } }, variables: vars },
      soar,
    );
    expect(reasonOf(byHash)).toBe('200 ok');
    expect(byHash.body.data.ip.identities.edges.map((e: any) => e.node.identityId)).toEqual([
      `arn:aws:iam::${ACCOUNT_A}:user/bob`,
      `arn:aws:iam::${ACCOUNT_A}:user/carol`,
      `arn:aws:iam::${ACCOUNT_A}:user/alice`,
    ]);
    expect(reasonOf(await post(service.url, { documentId: '02-brute-forcing-ip', variables: vars }, soar))).toBe('200 ok');
    expect(reasonOf(await post(service.url, { documentId: '04-context-for-indicator', variables: vars }, soar))).toBe(
      '403 operation_not_allowed',
    );
    expect(
      reasonOf(
        await post(service.url, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(other) } }, variables: vars }, soar),
      ),
    ).toBe('403 operation_not_allowed');
    // A text sent with a hash it does not have is refused; an unknown hash alone asks for the text (Apollo clients send it then).
    const mismatch = await post(
      service.url,
      { query: other, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(allowed) } } },
      analyst,
    );
    expect(mismatch.status).toBe(400);
    const unknown = await post(service.url, { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }, analyst);
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Signed in, but mapped to no role: 403, not 401.
    const nobody = bearer(await issuer.mint({ groups: ['visitors'] }));
    expect(reasonOf(await post(service.url, { query: '{ __typename }' }, nobody))).toBe('403 no_role');
    // Metrics are for admins.
    const metrics = await fetch(`${service.url}/metrics`, { headers: analyst });
    expect(metrics.status).toBe(403);
  });

  test('the Host header must name this server (DNS rebinding); CORS only for configured origins', async () => {
    const key = (await apiKey('analyst', [ACCOUNT_A], 'host-test')).token;
    const body = JSON.stringify({ query: '{ __typename }' });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    expect((await raw(service.url, { headers: { ...headers, host: 'evil.example' }, body })).status).toBe(421);
    expect((await raw(service.url, { headers: { ...headers, host: 'scoutql.example.com' }, body })).status).toBe(200);
    expect((await raw(service.url, { headers: { ...headers, host: 'localhost:4000' }, body })).status).toBe(200);
    // A load balancer's health check names the target by address: the probes answer any Host.
    expect((await raw(service.url, { method: 'GET', path: '/healthz', headers: { host: '10.1.2.3:4000' } })).status).toBe(200);

    const preflight = (origin: string) =>
      raw(service.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', host: 'localhost' } });
    const allowed = await preflight('https://notebooks.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://notebooks.example.com');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/);
    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('/healthz, /readyz and /metrics (requests by operation and outcome, latency, bytes, queue) for an admin', async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { engine: { ok: true }, lake: { ok: true } } });
    const admin = bearer((await apiKey('admin', '*', 'prometheus')).token);
    await post(service.url, { documentId: '05-failed-calls', variables: { window: WINDOW } }, admin);
    const text = await (await fetch(`${service.url}/metrics`, { headers: admin })).text();
    expect(text).toMatch(/^scoutql_requests_total\{operation="05-failed-calls",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^scoutql_requests_total\{operation="none",outcome="unauthenticated"\} [1-9]/m);
    expect(text).toMatch(/^scoutql_request_duration_seconds_bucket\{le="\+Inf",operation="adhoc"\} [1-9]/m);
    expect(text).toMatch(/^scoutql_engine_queries_total\{operation="05-failed-calls"\} [1-9]/m);
    expect(text).toMatch(/^scoutql_engine_queue_depth 0$/m);
    expect(text).toMatch(/^scoutql_requests_in_flight \d+$/m);
    expect(text).toMatch(/^# TYPE scoutql_bytes_scanned_total counter$/m); // DuckDB reports no scan size: no samples yet
  });

  test('every request, refused ones too, left one line in a chain that verifies', async () => {
    const stream = new LocalObjectStore(join(lake, '_audit'));
    const lines = await tailAudit(stream, { stream: 'team', lines: 10_000 });
    const verdicts = await verifyAuditTrail(stream, { stream: 'team' });
    expect(verdicts).toEqual([expect.objectContaining({ stream: 'team', ok: true })]);
    // One line per request: as many as the metrics counted.
    const admin = bearer((await apiKey('admin', '*', 'auditor')).token);
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: admin })).text();
    const counted = [...metrics.matchAll(/^scoutql_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(lines.length).toBe(counted);
    const expired = lines.find((l) => l.reason === 'expired')!;
    expect(expired).toMatchObject({ caller: { subject: 'unauthenticated' }, outcome: 'unauthenticated', status: 401, client: '127.0.0.1' });
    const forbidden = lines.find((l) => l.reason === 'forbidden_account' && l.caller.kind === 'oidc')!;
    expect(forbidden).toMatchObject({ caller: { subject: 'alice', kind: 'oidc', role: 'analyst' }, outcome: 'forbidden', status: 403 });
    const persisted = lines.find((l) => l.persisted === '02-brute-forcing-ip' && l.outcome === 'ok')!;
    expect(persisted).toMatchObject({
      caller: { kind: 'apikey', role: 'soar', name: 'playbook' },
      operation: 'WhoUsedThisIp',
      documentSha256: sha256(readFileSync(join(HUNTS_DIR, '02-brute-forcing-ip.graphql'), 'utf8')),
      accounts: [ACCOUNT_A],
      variables: { ip: '192.0.2.45' },
    });
    const ana = lines.find((l) => l.caller.subject === 'ana' && l.outcome === 'ok')!;
    expect(ana.rows).toBeGreaterThan(0);
    expect(ana.accounts).toEqual([ACCOUNT_A]);
  });
});

test('rate limits and failed sign-ins answer 429 with Retry-After', async () => {
  const yaml = TEAM_YAML.replace('ratePerMinute: 0', 'ratePerMinute: 60\n  burst: 3\n  failedSignInsPerMinute: 3');
  const service = await teamService(yaml, 'limits');
  try {
    const token = bearer(await issuer.mint({ groups: ['sec-analysts'] }, { subject: 'hasty' }));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const answer = await post(service.url, { query: '{ __typename }' }, token);
      statuses.push(answer.status);
      if (answer.status === 429) {
        retryAfter = answer.headers.get('retry-after');
        expect(answer.body.errors[0].extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'rate_limited' });
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another person is not slowed by the first.
    const other = bearer(await issuer.mint({ groups: ['sec-analysts'] }, { subject: 'calm' }));
    expect((await post(service.url, { query: '{ __typename }' }, other)).status).toBe(200);
    // Guessing keys from one address: after 3 failures even a good token waits.
    for (let i = 0; i < 3; i++) expect((await post(service.url, { query: '{ __typename }' }, bearer('guess'))).status).toBe(401);
    const blocked = await post(service.url, { query: '{ __typename }' }, other);
    expect(blocked.status).toBe(429);
    expect(blocked.body.errors[0].extensions.code).toBe('TOO_MANY_REQUESTS');
  } finally {
    await service.close();
  }
});

test('a request whose audit line cannot be written is refused with 503, and /readyz says so', async () => {
  const service = await teamService(TEAM_YAML, 'breaks');
  try {
    const token = bearer((await apiKey('analyst', [ACCOUNT_A], 'audit-test')).token);
    expect((await post(service.url, { query: '{ __typename }' }, token)).status).toBe(200);
    // The open chunk's folder becomes a file: the next append fails.
    const dayDir = join(
      lake,
      '_audit',
      'breaks',
      readdirSync(join(lake, '_audit', 'breaks')).find((n) => /^\d{4}-/.test(n))!,
    );
    rmSync(dayDir, { recursive: true });
    writeFileSync(dayDir, 'not a folder');
    const refused = await post(service.url, { query: '{ __typename }' }, token);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      errors: [
        {
          message: 'the audit trail cannot be written; requests are refused',
          extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'audit_unavailable' },
        },
      ],
    });
    expect((await post(service.url, { query: '{ __typename }' }, token)).status).toBe(503);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.audit).toEqual({ ok: false, detail: 'the audit trail cannot be written' });
  } finally {
    await service.close().catch(() => {});
  }
});
