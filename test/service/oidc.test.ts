/**
 * OIDC sign-in with real tokens: a local issuer (testkit/oidc-issuer) serves discovery and a JWKS
 * with real RS256 / ES256 keys over loopback HTTP, and the verifier (jose) checks what it mints
 * and what an attacker would forge.
 */
import { Authenticator } from '../../src/api/auth/authenticate';
import { OidcVerifier, type OidcOptions } from '../../src/api/auth/oidc';
import type { AuthResult } from '../../src/api/auth/result';
import { startOidcIssuer, type OidcIssuer } from '../../testkit/oidc-issuer';

let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.close());

function options(overrides: Partial<OidcOptions> = {}): OidcOptions {
  return {
    issuer: issuer.issuer,
    audience: 'scoutql',
    clockSkewSeconds: 30,
    algorithms: ['RS256', 'ES256'],
    jwksCacheSeconds: 600,
    jwksCooldownSeconds: 30,
    claims: { subject: 'sub', roles: 'groups', accounts: 'scoutql_accounts' },
    roles: { 'sec-analysts': 'analyst', 'sec-admins': 'admin', playbooks: 'soar' },
    accounts: { 'sec-analysts': ['111111111111', '222222222222'], 'sec-admins': '*', playbooks: ['111111111111'] },
    ...overrides,
  };
}

/** The reason of a failure, or 'ok'. */
function outcome(result: AuthResult): string {
  return result.ok ? 'ok' : `${result.status} ${result.reason}`;
}

const ANALYST = { groups: ['sec-analysts'] };

describe('valid tokens', () => {
  test.each(['RS256', 'ES256'] as const)(
    '%s: signature, issuer, audience and expiry check out; claims map to role and accounts',
    async (alg) => {
      const verifier = new OidcVerifier(options());
      const result = await verifier.verify(await issuer.mint({ ...ANALYST, email: 'alice@example.com' }, { alg }));
      expect(result).toEqual({
        ok: true,
        caller: { subject: 'alice', kind: 'oidc', role: 'analyst', accounts: ['111111111111', '222222222222'], name: 'alice@example.com' },
      });
    },
  );

  test('the strongest role wins, accounts are the union (and * beats lists), a direct accounts claim adds to them', async () => {
    const verifier = new OidcVerifier(options());
    const both = await verifier.verify(await issuer.mint({ groups: ['sec-analysts', 'sec-admins'] }));
    expect(both.ok && both.caller).toMatchObject({ role: 'admin', accounts: '*' });
    const direct = await verifier.verify(await issuer.mint({ groups: 'playbooks', scoutql_accounts: ['333333333333'] }));
    expect(direct.ok && direct.caller).toMatchObject({ role: 'soar', accounts: ['111111111111', '333333333333'] });
  });

  test('discovery finds the JWKS; keys are fetched once and cached across verifications', async () => {
    const before = issuer.requests.length;
    const verifier = new OidcVerifier(options());
    for (let i = 0; i < 5; i++) expect(outcome(await verifier.verify(await issuer.mint(ANALYST)))).toBe('ok');
    expect(issuer.requests.slice(before)).toEqual(['/.well-known/openid-configuration', '/jwks.json']);
  });
});

describe('refused tokens: 401 with a reason, 403 when signed in but granted nothing', () => {
  let verifier: OidcVerifier;
  beforeAll(() => {
    verifier = new OidcVerifier(options({ jwksUri: issuer.jwksUri }));
  });

  test('expired beyond the clock skew; expired within it still passes', async () => {
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { expiresIn: -31 })))).toBe('401 expired');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { expiresIn: -3600 })))).toBe('401 expired');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { expiresIn: -10 })))).toBe('ok');
  });

  test('not yet valid (nbf) beyond the clock skew; within it passes', async () => {
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { notBefore: 120 })))).toBe('401 not_yet_valid');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { notBefore: 10 })))).toBe('ok');
  });

  test('a smaller configured skew is honoured', async () => {
    const strict = new OidcVerifier(options({ jwksUri: issuer.jwksUri, clockSkewSeconds: 0 }));
    expect(outcome(await strict.verify(await issuer.mint(ANALYST, { expiresIn: -10 })))).toBe('401 expired');
  });

  test('wrong audience, wrong issuer', async () => {
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { audience: 'another-app' })))).toBe('401 wrong_audience');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { issuer: 'https://evil.example' })))).toBe('401 wrong_issuer');
  });

  test('wrong key (an unpublished key under a published kid), tampered payload', async () => {
    expect(outcome(await verifier.verify(await issuer.forge.foreignKey(ANALYST, 'RS256')))).toBe('401 bad_signature');
    expect(outcome(await verifier.verify(await issuer.forge.foreignKey(ANALYST, 'ES256')))).toBe('401 bad_signature');
    expect(outcome(await verifier.verify(await issuer.forge.tampered(ANALYST, { groups: ['sec-admins'] })))).toBe('401 bad_signature');
  });

  test('alg none and HS256 signed with the public key are refused', async () => {
    expect(outcome(await verifier.verify(issuer.forge.unsigned({ groups: ['sec-admins'] })))).toBe('401 bad_signature');
    expect(outcome(await verifier.verify(issuer.forge.hs256WithPublicKey({ groups: ['sec-admins'] })))).toBe('401 bad_signature');
    // Even with HS256 allowed by mistake in code, the constructor refuses.
    expect(() => new OidcVerifier(options({ algorithms: ['RS256', 'HS256'] }))).toThrow(/asymmetric/);
  });

  test('an algorithm outside the allow-list is refused even with a good signature', async () => {
    const rsOnly = new OidcVerifier(options({ jwksUri: issuer.jwksUri, algorithms: ['RS256'] }));
    expect(outcome(await rsOnly.verify(await issuer.mint(ANALYST, { alg: 'ES256' })))).toBe('401 bad_signature');
    expect(outcome(await rsOnly.verify(await issuer.mint(ANALYST, { alg: 'RS256' })))).toBe('ok');
  });

  test('malformed: not a JWT, no exp, no subject', async () => {
    expect(outcome(await verifier.verify('hello'))).toBe('401 malformed');
    expect(outcome(await verifier.verify('a.b.c'))).toBe('401 malformed');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { expiresIn: null })))).toBe('401 malformed');
    expect(outcome(await verifier.verify(await issuer.mint(ANALYST, { subject: null })))).toBe('401 malformed');
  });

  test('signed in but no role or no accounts: 403; a default role applies when configured', async () => {
    expect(outcome(await verifier.verify(await issuer.mint({ groups: ['marketing'] })))).toBe('403 no_role');
    const noAccounts = new OidcVerifier(options({ jwksUri: issuer.jwksUri, roles: { marketing: 'analyst' } }));
    expect(outcome(await noAccounts.verify(await issuer.mint({ groups: ['marketing'] })))).toBe('403 no_accounts');
    const fallback = new OidcVerifier(options({ jwksUri: issuer.jwksUri, defaultRole: 'analyst' }));
    const result = await fallback.verify(await issuer.mint({ groups: ['marketing'], scoutql_accounts: ['444444444444'] }));
    expect(result.ok && result.caller).toMatchObject({ role: 'analyst', accounts: ['444444444444'] });
  });

  test('the failure detail is for the log; the reason code is all a client gets', async () => {
    const result = await verifier.verify(await issuer.mint(ANALYST, { audience: 'another-app' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.detail).toMatch(/aud/);
    const { failureBody, wwwAuthenticate } = await import('../../src/api/auth/result');
    expect(JSON.stringify(failureBody(result))).not.toMatch(/another-app|scoutql|claim/);
    expect(failureBody(result)).toEqual({
      errors: [{ message: 'authentication required', extensions: { code: 'UNAUTHENTICATED', reason: 'wrong_audience' } }],
    });
    expect(wwwAuthenticate(result)).toBe('Bearer realm="scoutql", error="invalid_token"');
  });
});

test('key rotation: a new kid is picked up after the cooldown; a removed key stops working once the cache ages out', async () => {
  const rotating = await startOidcIssuer();
  try {
    const verifier = new OidcVerifier(options({ issuer: rotating.issuer, jwksCacheSeconds: 0.5, jwksCooldownSeconds: 0 }));
    const oldKid = rotating.kids()[0];
    const oldToken = await rotating.mint(ANALYST, { kid: oldKid });
    expect(outcome(await verifier.verify(oldToken))).toBe('ok');

    const newKid = await rotating.rotate('RS256');
    const newToken = await rotating.mint(ANALYST);
    expect(JSON.parse(Buffer.from(newToken.split('.')[0], 'base64url').toString()).kid).toBe(newKid);
    expect(outcome(await verifier.verify(newToken))).toBe('ok'); // unknown kid → refetch → found
    expect(outcome(await verifier.verify(oldToken))).toBe('ok'); // both published during the overlap

    rotating.removeKey(oldKid);
    await new Promise((resolve) => setTimeout(resolve, 700)); // past jwksCacheSeconds: the next check refetches
    expect(outcome(await verifier.verify(oldToken))).toBe('401 bad_signature');
    expect(outcome(await verifier.verify(newToken))).toBe('ok');
  } finally {
    await rotating.close();
  }
});

test('an unknown kid does not refetch the JWKS again within the cooldown (no refetch storm from forged kids)', async () => {
  const guarded = await startOidcIssuer();
  try {
    const verifier = new OidcVerifier(options({ issuer: guarded.issuer, jwksUri: guarded.jwksUri, jwksCooldownSeconds: 30 }));
    expect(outcome(await verifier.verify(await guarded.mint(ANALYST)))).toBe('ok');
    const fetches = () => guarded.requests.filter((p) => p === '/jwks.json').length;
    const before = fetches();
    await guarded.rotate('RS256');
    const fresh = await guarded.mint(ANALYST);
    for (let i = 0; i < 3; i++) expect(outcome(await verifier.verify(fresh))).toBe('401 bad_signature');
    expect(fetches()).toBe(before);
  } finally {
    await guarded.close();
  }
});

test('issuer unreachable: 503 issuer_unavailable (not a 401: the token may be fine); recovers when it is back', async () => {
  const flaky = await startOidcIssuer();
  try {
    const verifier = new OidcVerifier(options({ issuer: flaky.issuer }));
    flaky.setDown(true);
    expect(outcome(await verifier.verify(await flaky.mint(ANALYST)))).toBe('503 issuer_unavailable');
    flaky.setDown(false);
    expect(outcome(await verifier.verify(await flaky.mint(ANALYST)))).toBe('ok');
  } finally {
    await flaky.close();
  }
  const closed = new OidcVerifier(options({ issuer: 'http://127.0.0.1:9', jwksUri: 'http://127.0.0.1:9/jwks.json' }));
  expect(outcome(await closed.verify(await issuer.mint(ANALYST)))).toBe('503 issuer_unavailable');
});

test('discovery must name the configured issuer', async () => {
  const verifier = new OidcVerifier(options({ issuer: `${issuer.issuer}/` }));
  const result = await verifier.verify(await issuer.mint(ANALYST));
  expect(outcome(result)).toBe('503 issuer_unavailable');
  expect(!result.ok && result.detail).toMatch(/names issuer/);
});

describe('the Authenticator reads the headers', () => {
  let auth: Authenticator;
  beforeAll(() => {
    auth = new Authenticator({ mode: 'on', oidc: new OidcVerifier(options({ jwksUri: issuer.jwksUri })), apiKeys: null });
  });

  test('Bearer JWT; missing; not Bearer; both headers; a repeated header', async () => {
    const token = await issuer.mint(ANALYST);
    expect(outcome(await auth.authenticate({ authorization: `Bearer ${token}` }))).toBe('ok');
    expect(outcome(await auth.authenticate({ authorization: `bearer   ${token}` }))).toBe('ok');
    expect(outcome(await auth.authenticate({}))).toBe('401 missing');
    expect(outcome(await auth.authenticate({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toBe('401 malformed');
    expect(outcome(await auth.authenticate({ authorization: `Bearer ${token}`, 'x-api-key': 'sk_x' }))).toBe('401 malformed');
    expect(outcome(await auth.authenticate({ authorization: [`Bearer ${token}`, `Bearer ${token}`] }))).toBe('401 malformed');
    // An API key with API keys off: refused as unknown, never tried as a JWT.
    expect(outcome(await auth.authenticate({ 'x-api-key': `sk_${'0'.repeat(16)}_${'A'.repeat(43)}` }))).toBe('401 unknown_key');
  });

  test('auth none: everyone is the anonymous local caller, which sees every account', async () => {
    const none = new Authenticator({ mode: 'none' });
    for (const headers of [{}, { authorization: 'Bearer made-up' }]) {
      expect(await none.authenticate(headers)).toEqual({
        ok: true,
        caller: { subject: 'anonymous', kind: 'anonymous', role: 'analyst', accounts: '*' },
      });
    }
  });
});
