/** Protection, as pure decisions: rate and concurrency limits with Retry-After, bind and Host checks, CORS. */
import { ConcurrencyLimiter, RateLimiter, tooManyRequests } from '../../src/api/protect/limits';
import { checkBind, checkHost, clientAddress, corsHeaders, hostPolicy, normalizeHost } from '../../src/api/protect/host';

describe('rate limit: a token bucket per caller', () => {
  test('a burst passes, the next is refused with the seconds until a token is back; tokens refill at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('alice').ok)).toEqual([true, true, true]);
    expect(limiter.take('alice')).toEqual({ ok: false, status: 429, reason: 'rate_limited', retryAfterSeconds: 1 });
    expect(limiter.take('bob').ok).toBe(true); // per caller
    now = 999;
    expect(limiter.take('alice').ok).toBe(false);
    now = 1000;
    expect(limiter.take('alice').ok).toBe(true);
    now = 1_000_000; // a long pause refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('alice').ok)).toEqual([true, true, true, false]);
  });

  test('Retry-After at a slow rate; cost; off at 0', () => {
    const now = 0;
    const slow = new RateLimiter({ perMinute: 6, burst: 1, now: () => now });
    expect(slow.take('soar').ok).toBe(true);
    expect(slow.take('soar')).toMatchObject({ ok: false, retryAfterSeconds: 10 });
    const costly = new RateLimiter({ perMinute: 60, burst: 5, now: () => now });
    expect(costly.take('x', 5).ok).toBe(true);
    expect(costly.take('x', 2)).toMatchObject({ ok: false, retryAfterSeconds: 2 });
    const off = new RateLimiter({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(off.take('x').ok).toBe(true);
  });

  test('memory stays bounded: the least recently seen caller is forgotten', () => {
    const limiter = new RateLimiter({ perMinute: 60, burst: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) limiter.take(`ip-${i}`);
    expect(limiter.size).toBe(100);
  });
});

describe('concurrency cap per caller', () => {
  test('the cap refuses with Retry-After; a release frees a slot once, however often it is called', () => {
    const limiter = new ConcurrencyLimiter({ perCaller: 2 });
    const a = limiter.tryAcquire('alice');
    const b = limiter.tryAcquire('alice');
    expect(a.ok && b.ok).toBe(true);
    expect(limiter.tryAcquire('alice')).toEqual({ ok: false, status: 429, reason: 'too_many_concurrent', retryAfterSeconds: 1 });
    expect(limiter.tryAcquire('bob').ok).toBe(true);
    expect(limiter.total).toBe(3);
    if (!a.ok) throw new Error('unreachable');
    a.release();
    a.release();
    expect(limiter.of('alice')).toBe(1);
    expect(limiter.tryAcquire('alice').ok).toBe(true);
    expect(limiter.tryAcquire('alice').ok).toBe(false);
    expect(new ConcurrencyLimiter({ perCaller: 0 }).tryAcquire('x').ok).toBe(true);
  });

  test('a 429 response carries Retry-After and a reason', () => {
    const refusal = new ConcurrencyLimiter({ perCaller: 1, retryAfterSeconds: 3 });
    refusal.tryAcquire('x');
    const denied = refusal.tryAcquire('x');
    if (denied.ok) throw new Error('expected a refusal');
    expect(tooManyRequests(denied)).toEqual({
      status: 429,
      headers: { 'retry-after': '3' },
      body: {
        errors: [
          {
            message: 'too many requests in flight; wait for one to finish',
            extensions: { code: 'TOO_MANY_REQUESTS', reason: 'too_many_concurrent', retryAfterSeconds: 3 },
          },
        ],
      },
    });
  });
});

describe('bind: auth none stays on loopback unless insecureBind; a warning either way', () => {
  const base = { port: 4000, allowedHosts: [] as string[] };
  test('loopback with auth none: allowed, with a warning', () => {
    const check = checkBind({ ...base, host: '127.0.0.1', authMode: 'none', insecureBind: false });
    expect(check).toEqual({
      ok: true,
      warnings: [
        "auth: none: every local user and process that reaches 127.0.0.1:4000 reads every account's logs (fine on a laptop; configure auth for a shared host)",
      ],
    });
  });
  test('0.0.0.0 with auth none: refused, naming the way out', () => {
    const check = checkBind({ ...base, host: '0.0.0.0', authMode: 'none', insecureBind: false });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.error).toMatch(/^refusing to listen on 0\.0\.0\.0:4000 with auth: none.*--insecure-bind/);
  });
  test('0.0.0.0 with auth none and insecureBind: allowed, loudly', () => {
    const check = checkBind({ ...base, host: '0.0.0.0', authMode: 'none', insecureBind: true });
    expect(check.ok && check.warnings[0]).toMatch(/^INSECURE: auth: none on 0\.0\.0\.0:4000/);
  });
  test('0.0.0.0 with auth on: allowed; an empty allowedHosts is pointed out', () => {
    expect(checkBind({ ...base, host: '0.0.0.0', authMode: 'on', insecureBind: false })).toEqual({
      ok: true,
      warnings: ['server.allowedHosts is empty: only requests for localhost or 0.0.0.0 are answered; add the name clients use'],
    });
    expect(checkBind({ ...base, host: '::1', authMode: 'on', insecureBind: false, allowedHosts: [] })).toEqual({ ok: true, warnings: [] });
  });
});

describe('Host header allow-list (DNS rebinding)', () => {
  const loopback = hostPolicy({ bindHost: '127.0.0.1', allowedHosts: [] });
  test('loopback names with any port pass; a rebinding name, a missing or garbled Host do not', () => {
    for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000', 'LOCALHOST', 'localhost.', '127.0.0.1'])
      expect(checkHost(host, loopback)).toEqual({ ok: true });
    for (const host of ['evil.example:4000', 'localhost.evil.example', 'evil.example', '127.0.0.1.nip.io', 'user@localhost', '']) {
      expect(checkHost(host, loopback)).toMatchObject({ ok: false, status: 421 });
    }
    expect(checkHost(undefined, loopback)).toEqual({ ok: false, status: 421, reason: 'host_missing' });
  });
  test('configured names and *.domain patterns; * turns the check off', () => {
    const team = hostPolicy({ bindHost: '0.0.0.0', allowedHosts: ['scoutql.acme.example', '*.corp.example'] });
    expect(checkHost('scoutql.acme.example', team).ok).toBe(true);
    expect(checkHost('Scoutql.Acme.Example:443', team).ok).toBe(true);
    expect(checkHost('hunt.corp.example', team).ok).toBe(true);
    expect(checkHost('corp.example', team).ok).toBe(false);
    expect(checkHost('evilcorp.example', team).ok).toBe(false);
    expect(checkHost('0.0.0.0', team).ok).toBe(false);
    expect(checkHost('anything.example', hostPolicy({ bindHost: '0.0.0.0', allowedHosts: ['*'] })).ok).toBe(true);
    expect(checkHost('10.1.2.3:4000', hostPolicy({ bindHost: '10.1.2.3', allowedHosts: [] })).ok).toBe(true);
    expect(normalizeHost('[::1]:80')).toBe('::1');
    expect(normalizeHost('a..b')).toBeNull();
  });
});

describe('CORS: off unless configured', () => {
  test('no origins configured: no CORS headers at all', () => {
    expect(corsHeaders('https://notebooks.example.com', [], false)).toEqual({ headers: {}, allowed: false });
  });
  test('a configured origin gets exactly its origin back; a preflight gets methods and headers; others get nothing', () => {
    const origins = ['https://notebooks.example.com'];
    expect(corsHeaders('https://notebooks.example.com', origins, false)).toEqual({
      allowed: true,
      headers: { 'access-control-allow-origin': 'https://notebooks.example.com', vary: 'Origin' },
    });
    expect(corsHeaders('https://notebooks.example.com', origins, true).headers).toMatchObject({
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type, x-api-key, apollo-require-preflight',
    });
    const denied = corsHeaders('https://evil.example', origins, true);
    expect(denied.allowed).toBe(false);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(corsHeaders('https://notebooks.example.com', origins, false).headers['access-control-allow-credentials']).toBeUndefined();
  });
});

test('client address: the socket, or behind a trusted load balancer the entry it appended (not the forgeable ones left of it)', () => {
  expect(clientAddress('10.0.0.5', '203.0.113.9', false)).toBe('10.0.0.5');
  expect(clientAddress('10.0.0.5', '198.51.100.1, 203.0.113.9', true)).toBe('203.0.113.9');
  expect(clientAddress('10.0.0.5', ['198.51.100.1', '203.0.113.9'], true)).toBe('203.0.113.9');
  expect(clientAddress('10.0.0.5', undefined, true)).toBe('10.0.0.5');
  expect(clientAddress(undefined, undefined, false)).toBe('unknown');
});
