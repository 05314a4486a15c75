/**
 * API keys with real hashes: created once, stored as scrypt hashes only, found by id with one
 * read, verified in constant time, revoked and expired, in a local folder and on S3 (s3rver).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, ApiKeyVerifier, keyStatus, parseApiKey, parseExpiry, SCRYPT_PARAMS } from '../../src/api/auth/api-keys';
import { Authenticator } from '../../src/api/auth/authenticate';
import type { AuthResult } from '../../src/api/auth/result';
import { LocalObjectStore, S3ObjectStore, type ObjectStore } from '../../src/api/store/object-store';
import { startS3Local, type S3Local } from '../../testkit/s3-local';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function outcome(result: AuthResult): string {
  return result.ok ? 'ok' : `${result.status} ${result.reason}`;
}

/** A real store that counts what it is asked, to show a lookup reads one object and lists nothing. */
class CountingStore extends LocalObjectStore {
  reads: string[] = [];
  lists = 0;
  override read(name: string) {
    this.reads.push(name);
    return super.read(name);
  }
  override list(prefix: string) {
    this.lists++;
    return super.list(prefix);
  }
}

test('a key is printed once; the store keeps only its scrypt hash with a salt of its own', async () => {
  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  const a = await keys.create({ name: 'soar', role: 'soar', accounts: ['222222222222', '111111111111'] });
  const b = await keys.create({ name: 'soar', role: 'soar', accounts: ['111111111111'] });
  expect(a.token).toMatch(/^sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(parseApiKey(a.token)?.id).toBe(a.record.id);
  expect(a.token).not.toBe(b.token);

  const files = readdirSync(join(dir, '_keys')).sort();
  expect(files).toEqual([`${a.record.id}.json`, `${b.record.id}.json`].sort());
  const stored = readFileSync(join(dir, '_keys', `${a.record.id}.json`), 'utf8');
  const secret = parseApiKey(a.token)!.secret;
  expect(stored).not.toContain(secret);
  const record = JSON.parse(stored);
  expect(record).toMatchObject({
    v: 1,
    id: a.record.id,
    name: 'soar',
    role: 'soar',
    accounts: ['111111111111', '222222222222'],
    revokedAt: null,
    expiresAt: null,
  });
  expect(record.hash).toMatchObject({ alg: 'scrypt', N: SCRYPT_PARAMS.N, r: 8, p: 1, keyLength: 32 });
  expect(Buffer.from(record.hash.salt, 'base64')).toHaveLength(16);
  const other = JSON.parse(readFileSync(join(dir, '_keys', `${b.record.id}.json`), 'utf8'));
  expect(other.hash.salt).not.toBe(record.hash.salt);
});

test('verification: the right key passes; a wrong secret, an unknown id and garbage are refused alike', async () => {
  const store = new CountingStore(join(dir, '_keys'));
  const keys = new ApiKeyStore(store);
  const { token, record } = await keys.create({ name: 'notebooks', role: 'analyst', accounts: ['111111111111'] });
  const verifier = new ApiKeyVerifier(keys, { cacheSeconds: 30 });

  store.reads = [];
  store.lists = 0;
  expect(await verifier.verify(token)).toEqual({
    ok: true,
    caller: { subject: `apikey:${record.id}`, kind: 'apikey', role: 'analyst', accounts: ['111111111111'], name: 'notebooks' },
  });
  expect(store.reads).toEqual([`${record.id}.json`]); // found by its id: one read, no listing
  expect(store.lists).toBe(0);

  const wrongSecret = `sk_${record.id}_${'A'.repeat(43)}`;
  expect(outcome(await verifier.verify(wrongSecret))).toBe('401 unknown_key');
  expect(outcome(await verifier.verify(`sk_${'f'.repeat(16)}_${parseApiKey(token)!.secret}`))).toBe('401 unknown_key');
  expect(outcome(await verifier.verify('sk_short'))).toBe('401 malformed');
  expect(outcome(await verifier.verify(`${token}x`))).toBe('401 malformed');
});

test('revocation takes effect within cacheSeconds; only the holder of the secret learns "revoked"', async () => {
  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  const { token, record } = await keys.create({ name: 'soar', role: 'soar', accounts: '*' });
  let now = new Date('2025-03-01T00:00:00Z');
  const verifier = new ApiKeyVerifier(keys, { cacheSeconds: 30, now: () => now });
  expect(outcome(await verifier.verify(token))).toBe('ok');

  const revoked = await keys.revoke(record.id, now);
  expect(revoked.revokedAt).toBe(now.toISOString());
  now = new Date(now.getTime() + 10_000);
  expect(outcome(await verifier.verify(token))).toBe('ok'); // still cached
  now = new Date(now.getTime() + 25_000);
  expect(outcome(await verifier.verify(token))).toBe('401 revoked');
  expect(outcome(await verifier.verify(`sk_${record.id}_${'B'.repeat(43)}`))).toBe('401 unknown_key');
  expect(keyStatus(revoked)).toBe('revoked');
});

test('expiry: --expires 90d; an expired key is refused as expired', async () => {
  const created = new Date('2025-03-01T00:00:00Z');
  const expiresAt = parseExpiry('90d', created);
  expect(expiresAt.toISOString()).toBe('2025-05-30T00:00:00.000Z');
  expect(parseExpiry('12h', created).toISOString()).toBe('2025-03-01T12:00:00.000Z');
  expect(parseExpiry('2026-01-01', created).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  expect(() => parseExpiry('soon', created)).toThrow(/expected a duration/);
  expect(() => parseExpiry('2020-01-01', created)).toThrow(/future/);

  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  const { token } = await keys.create({ name: 'ci', role: 'analyst', accounts: ['111111111111'], expiresAt }, created);
  let now = new Date('2025-05-29T23:59:00Z');
  const verifier = new ApiKeyVerifier(keys, { cacheSeconds: 30, now: () => now });
  expect(outcome(await verifier.verify(token))).toBe('ok');
  now = new Date('2025-05-30T00:00:01Z');
  expect(outcome(await verifier.verify(token))).toBe('401 expired'); // expiry is checked on every use, cached or not
});

test('revoke by name when one live key has it; by the key itself; refuses an ambiguous name', async () => {
  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  const first = await keys.create({ name: 'soar', role: 'soar', accounts: '*' });
  const second = await keys.create({ name: 'soar', role: 'soar', accounts: '*' });
  await expect(keys.revoke('soar')).rejects.toThrow(/2 live keys are named 'soar'/);
  expect((await keys.revoke(first.token)).id).toBe(first.record.id);
  expect((await keys.revoke('soar')).id).toBe(second.record.id);
  await expect(keys.revoke('soar')).rejects.toThrow(/no live key named 'soar'/);
  expect((await keys.list()).map((r) => keyStatus(r))).toEqual(['revoked', 'revoked']);
});

test('bad input to create is refused: role, account ids, name', async () => {
  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  await expect(keys.create({ name: 'x', role: 'root' as never, accounts: '*' })).rejects.toThrow(
    /role must be one of analyst, soar, admin/,
  );
  await expect(keys.create({ name: 'x', role: 'soar', accounts: ["1' OR 1=1"] })).rejects.toThrow(/not account ids/);
  await expect(keys.create({ name: 'x', role: 'soar', accounts: [] })).rejects.toThrow(/at least one account/);
  await expect(keys.create({ name: '../etc', role: 'soar', accounts: '*' })).rejects.toThrow(/key name/);
});

test('sent as Authorization: Bearer sk_… or x-api-key', async () => {
  const keys = new ApiKeyStore(new LocalObjectStore(join(dir, '_keys')));
  const { token } = await keys.create({ name: 'soar', role: 'soar', accounts: ['111111111111'] });
  const auth = new Authenticator({ mode: 'on', oidc: null, apiKeys: new ApiKeyVerifier(keys, { cacheSeconds: 30 }) });
  expect(outcome(await auth.authenticate({ authorization: `Bearer ${token}` }))).toBe('ok');
  expect(outcome(await auth.authenticate({ 'x-api-key': token }))).toBe('ok');
  expect(outcome(await auth.authenticate({ 'x-api-key': 'not-a-key' }))).toBe('401 malformed');
  // No OIDC configured: a JWT-looking bearer is refused, not passed through.
  expect(outcome(await auth.authenticate({ authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' }))).toBe('401 malformed');
});

describe('on S3 (s3rver)', () => {
  let s3: S3Local;
  beforeAll(async () => {
    s3 = await startS3Local({ buckets: ['scoutql-lake'] });
  });
  afterAll(() => s3.close());

  test('the same store over an S3 prefix: create, verify, list, revoke', async () => {
    const store: ObjectStore = new S3ObjectStore('s3://scoutql-lake/lake/_keys', s3.client);
    const keys = new ApiKeyStore(store);
    const { token, record } = await keys.create({ name: 'soar', role: 'soar', accounts: ['111111111111'] });
    expect(await store.list('')).toEqual([`${record.id}.json`]);
    const verifier = new ApiKeyVerifier(keys, { cacheSeconds: 0 });
    expect(outcome(await verifier.verify(token))).toBe('ok');
    await keys.revoke(record.id);
    expect(outcome(await verifier.verify(token))).toBe('401 revoked');
    expect((await keys.list()).map((r) => r.id)).toEqual([record.id]);
    // Create-if-absent never overwrites a record.
    expect(await store.write(`${record.id}.json`, '{}', { ifAbsent: true })).toBe(false);
    expect((await keys.get(record.id))?.revokedAt).not.toBeNull();
  });
});
