/**
 * API keys for machines (SOAR playbooks, notebooks).
 *
 * A key reads `sk_<id>_<secret>`: a 64-bit id (16 hex digits) that names its record, so a lookup
 * is one read and never a scan, and a 256-bit secret. The key is shown once, at creation; the
 * store keeps only a slow hash of it (scrypt, a salt per key, parameters in the record so they can
 * be raised later) and compares in constant time.
 *
 * Where the records live: one JSON object per key, `<store>/<id>.json`, in a folder or an S3
 * prefix (default: the lake's `_keys/`). Beside the lake, every server replica behind a load
 * balancer sees the same keys with no database, and `scoutql keys` run by an operator changes them
 * for all; one object per key means creating or revoking never rewrites (or races on) a shared
 * file. The server only reads the store, so its IAM role needs no write access there; a separate
 * prefix or bucket (`auth.apiKeys.store`) lets the lake's readers be denied it.
 *
 * A key's answer is cached for cacheSeconds, so a revocation takes effect within that time; what
 * a failure says to the client never tells an unknown id from a wrong secret.
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { ObjectStore } from '../store/object-store';
import { ACCOUNT_ID, ROLES, type Caller, type Role } from './caller';
import { unauthenticated, type AuthResult } from './result';

export interface ApiKeyHash {
  alg: 'scrypt';
  N: number;
  r: number;
  p: number;
  keyLength: number;
  /** base64 */
  salt: string;
  /** base64 */
  value: string;
}

export interface ApiKeyRecord {
  v: 1;
  id: string;
  name: string;
  role: Role;
  accounts: readonly string[] | '*';
  /** ISO 8601 */
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  hash: ApiKeyHash;
}

/**
 * scrypt cost: 2^14 × 8 × 128 B = 16 MiB and about 50–90 ms per hash here. The secret has 256 bits
 * of entropy, so the slow hash guards a leaked store in depth rather than against guessing; a
 * higher cost would mostly hand a flood of bad keys more CPU (answers are cached, so a real client
 * pays it once per cacheSeconds).
 */
export const SCRYPT_PARAMS: ScryptParams = { N: 2 ** 14, r: 8, p: 1, keyLength: 32 };

export type ScryptParams = Omit<ApiKeyHash, 'alg' | 'salt' | 'value'>;

const KEY_PATTERN = /^sk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const ID_PATTERN = /^[0-9a-f]{16}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseApiKey(token: string): { id: string; secret: string } | null {
  const m = KEY_PATTERN.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

/** True for text shaped like one of our keys (sk_…), well-formed or not: it must not be tried as a JWT. */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('sk_');
}

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, params.keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashApiKey(token: string, params = SCRYPT_PARAMS): Promise<ApiKeyHash> {
  const salt = randomBytes(16);
  const value = await scrypt(token, salt, params);
  return { alg: 'scrypt', ...params, salt: salt.toString('base64'), value: value.toString('base64') };
}

export async function apiKeyMatches(token: string, hash: ApiKeyHash): Promise<boolean> {
  if (hash.alg !== 'scrypt') return false;
  const expected = Buffer.from(hash.value, 'base64');
  const actual = await scrypt(token, Buffer.from(hash.salt, 'base64'), hash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** `90d`, `12h`, `2w`, `30m`, or an ISO date; the instant the key stops working. */
export function parseExpiry(text: string, now = new Date()): Date {
  const m = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (m) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
    const ms = Number(m[1]) * unit;
    if (ms <= 0) throw new Error(`--expires must be in the future, got '${text}'`);
    return new Date(now.getTime() + ms);
  }
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(date.getTime()))
    throw new Error(`--expires: expected a duration such as 90d, 12h, 2w or an ISO date, got '${text}'`);
  if (date.getTime() <= now.getTime()) throw new Error(`--expires must be in the future, got '${text}'`);
  return date;
}

export interface NewApiKey {
  name: string;
  role: Role;
  accounts: readonly string[] | '*';
  expiresAt?: Date | null;
}

/** The key records in an ObjectStore: create, read by id, list, revoke. */
export class ApiKeyStore {
  constructor(
    readonly store: ObjectStore,
    private readonly params: ScryptParams = SCRYPT_PARAMS,
  ) {}

  /** Creates a key; the returned token is the only copy of the secret. */
  async create(input: NewApiKey, now = new Date()): Promise<{ token: string; record: ApiKeyRecord }> {
    if (!NAME_PATTERN.test(input.name)) throw new Error(`key name must be letters, digits, . _ - (up to 64), got '${input.name}'`);
    if (!(ROLES as readonly string[]).includes(input.role)) throw new Error(`role must be one of ${ROLES.join(', ')}, got '${input.role}'`);
    if (input.accounts !== '*') {
      if (input.accounts.length === 0) throw new Error('a key needs at least one account (or * for all)');
      const bad = input.accounts.filter((a) => !ACCOUNT_ID.test(a));
      if (bad.length > 0) throw new Error(`not account ids: ${bad.join(', ')}`);
    }
    for (;;) {
      const id = randomBytes(8).toString('hex');
      const token = `sk_${id}_${randomBytes(32).toString('base64url')}`;
      const record: ApiKeyRecord = {
        v: 1,
        id,
        name: input.name,
        role: input.role,
        accounts: input.accounts === '*' ? '*' : [...new Set(input.accounts)].sort(),
        createdAt: now.toISOString(),
        expiresAt: input.expiresAt ? input.expiresAt.toISOString() : null,
        revokedAt: null,
        hash: await hashApiKey(token, this.params),
      };
      // A 64-bit id practically never repeats; if it did, the existing record stays and we draw again.
      if (await this.store.write(`${id}.json`, JSON.stringify(record, null, 2) + '\n', { ifAbsent: true })) return { token, record };
    }
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    if (!ID_PATTERN.test(id)) return null;
    const bytes = await this.store.read(`${id}.json`);
    if (!bytes) return null;
    const record = parseRecord(bytes.toString('utf8'));
    if (!record || record.id !== id) throw new Error(`key record ${id}.json in ${this.store.location} is damaged`);
    return record;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const names = (await this.store.list('')).filter((n) => /^[0-9a-f]{16}\.json$/.test(n));
    const records: ApiKeyRecord[] = [];
    for (const name of names) {
      const record = await this.get(name.slice(0, 16));
      if (record) records.push(record);
    }
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Revokes by id, by the key itself, or by a name that only one live key has. */
  async revoke(which: string, now = new Date()): Promise<ApiKeyRecord> {
    const record = await this.find(which);
    if (record.revokedAt) return record;
    const revoked: ApiKeyRecord = { ...record, revokedAt: now.toISOString() };
    await this.store.write(`${record.id}.json`, JSON.stringify(revoked, null, 2) + '\n');
    return revoked;
  }

  private async find(which: string): Promise<ApiKeyRecord> {
    const id = parseApiKey(which)?.id ?? (ID_PATTERN.test(which) ? which : null);
    if (id) {
      const record = await this.get(id);
      if (!record) throw new Error(`no key with id ${id}`);
      return record;
    }
    const live = (await this.list()).filter((r) => r.name === which && !r.revokedAt);
    if (live.length === 1) return live[0];
    if (live.length === 0) throw new Error(`no live key named '${which}'`);
    throw new Error(`${live.length} live keys are named '${which}' (${live.map((r) => r.id).join(', ')}); give the id`);
  }
}

function parseRecord(text: string): ApiKeyRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = value as Partial<ApiKeyRecord> | null;
  if (!r || r.v !== 1 || typeof r.id !== 'string' || typeof r.name !== 'string' || !(ROLES as readonly string[]).includes(r.role ?? ''))
    return null;
  if (r.accounts !== '*' && !(Array.isArray(r.accounts) && r.accounts.every((a) => typeof a === 'string'))) return null;
  if (!r.hash || r.hash.alg !== 'scrypt' || typeof r.hash.salt !== 'string' || typeof r.hash.value !== 'string') return null;
  return r as ApiKeyRecord;
}

/** Status of a record at a time, for `keys list` and verification. */
export function keyStatus(record: ApiKeyRecord, now = new Date()): 'active' | 'revoked' | 'expired' {
  if (record.revokedAt) return 'revoked';
  if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

export interface ApiKeyVerifierOptions {
  /** How long a verified key (or a missing id) is remembered. */
  cacheSeconds: number;
  now?: () => Date;
}

/** Checks presented keys against the store, remembering answers for cacheSeconds. */
export class ApiKeyVerifier {
  /** sha256(token) → the record it verified against. */
  private readonly verified = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly records = new Map<string, { record: ApiKeyRecord | null; until: number }>();
  private decoy: ApiKeyHash | null = null;

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly options: ApiKeyVerifierOptions,
  ) {}

  async verify(token: string): Promise<AuthResult> {
    const parsed = parseApiKey(token);
    if (!parsed) return unauthenticated('malformed', 'not an sk_<id>_<secret> key');
    const now = this.options.now?.() ?? new Date();
    const fingerprint = createHash('sha256').update(token).digest('hex');
    const cached = this.verified.get(fingerprint);
    let record: ApiKeyRecord;
    if (cached && cached.until > now.getTime()) {
      record = cached.record;
    } else {
      const found = await this.record(parsed.id, now);
      if (!found) {
        // Spend the time a real comparison would, so timing does not tell which ids exist.
        this.decoy ??= await hashApiKey('sk_0000000000000000_decoy');
        await apiKeyMatches(token, this.decoy);
        return unauthenticated('unknown_key', `no key ${parsed.id}`);
      }
      if (!(await apiKeyMatches(token, found.hash))) return unauthenticated('unknown_key', `key ${parsed.id}: secret does not match`);
      record = found;
      this.verified.set(fingerprint, { record, until: now.getTime() + this.options.cacheSeconds * 1000 });
      if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value as string);
    }
    // Only the holder of the right secret learns that the key was revoked or has expired.
    const status = keyStatus(record, now);
    if (status !== 'active') return unauthenticated(status, `key ${record.id} (${record.name}) is ${status}`);
    const caller: Caller = {
      subject: `apikey:${record.id}`,
      kind: 'apikey',
      role: record.role,
      accounts: record.accounts,
      name: record.name,
    };
    return { ok: true, caller };
  }

  private async record(id: string, now: Date): Promise<ApiKeyRecord | null> {
    const cached = this.records.get(id);
    if (cached && cached.until > now.getTime()) return cached.record;
    const record = await this.keys.get(id);
    this.records.set(id, { record, until: now.getTime() + this.options.cacheSeconds * 1000 });
    if (this.records.size > 10_000) this.records.delete(this.records.keys().next().value as string);
    return record;
  }
}
