/**
 * People sign in with an OIDC provider; the API gets their ID or access token as a Bearer JWT and
 * verifies it with `jose` against the issuer's published keys (JWKS):
 *
 * - signature with an allow-listed asymmetric algorithm (RS256, ES256 by default): `alg: none` and
 *   HS256 signed with the public key (key confusion) never verify;
 * - `iss` exactly the configured issuer, `aud` one of the configured audiences, `exp` present and
 *   `exp`/`nbf` checked with a small clock skew; the subject claim present;
 * - keys fetched from `jwks_uri` (configured, or found once through the issuer's discovery
 *   document), cached for jwksCacheSeconds; a token with an unknown `kid` triggers a refetch at most
 *   every jwksCooldownSeconds, which is how a rotated-in key is picked up.
 *
 * Claims then map to a role and accounts by configuration (see OidcOptions).
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ACCOUNT_ID, strongestRole, unionAccounts, type Caller, type Role } from './caller';
import { forbidden, unauthenticated, type AuthFailure, type AuthResult } from './result';

export interface OidcOptions {
  issuer: string;
  audience: string | readonly string[];
  /** Default: the discovery document's `jwks_uri`. */
  jwksUri?: string;
  clockSkewSeconds: number;
  algorithms: readonly string[];
  jwksCacheSeconds: number;
  jwksCooldownSeconds: number;
  claims: { subject: string; roles: string; accounts: string };
  /** Value of the roles claim → role. */
  roles: Readonly<Record<string, Role>>;
  /** Value of the roles claim → accounts. */
  accounts: Readonly<Record<string, '*' | readonly string[]>>;
  defaultRole?: Role;
  /** Timeout of a discovery or JWKS fetch (default 5 s). */
  fetchTimeoutMs?: number;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export class OidcVerifier {
  private keySet: Promise<KeySet> | null = null;

  constructor(private readonly options: OidcOptions) {
    if (options.algorithms.some((alg) => alg === 'none' || alg.startsWith('HS')))
      throw new Error('OIDC algorithms must be asymmetric (RS*, PS*, ES*, EdDSA): none and HS* allow forged tokens');
  }

  async verify(token: string): Promise<AuthResult> {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return unauthenticated('malformed', 'not a compact JWS');
    let keySet: KeySet;
    try {
      keySet = await this.getKeySet();
    } catch (err) {
      return { ok: false, status: 503, reason: 'issuer_unavailable', detail: `OIDC discovery failed: ${messageOf(err)}` };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer: this.options.issuer,
        audience: typeof this.options.audience === 'string' ? this.options.audience : [...this.options.audience],
        algorithms: [...this.options.algorithms],
        clockTolerance: this.options.clockSkewSeconds,
        requiredClaims: ['exp', this.options.claims.subject],
      }));
    } catch (err) {
      return joseFailure(err);
    }
    return this.callerOf(payload);
  }

  private callerOf(payload: JWTPayload): AuthResult {
    const { claims } = this.options;
    const subject = payload[claims.subject];
    if (typeof subject !== 'string' || subject === '') return unauthenticated('malformed', `claim ${claims.subject} is not a string`);
    const values = stringValues(payload[claims.roles]);
    const role =
      strongestRole(values.map((v) => (Object.hasOwn(this.options.roles, v) ? this.options.roles[v] : undefined)).filter(isRole)) ??
      this.options.defaultRole ??
      null;
    if (role === null) return forbidden('no_role', `subject ${subject}: no role for ${claims.roles}=${JSON.stringify(values)}`);
    const grants: ('*' | readonly string[])[] = values
      .filter((v) => Object.hasOwn(this.options.accounts, v))
      .map((v) => this.options.accounts[v]);
    const direct = payload[claims.accounts];
    if (direct === '*') grants.push('*');
    else grants.push(stringValues(direct));
    const accounts = unionAccounts(grants);
    const valid = accounts === '*' ? '*' : accounts.filter((a) => ACCOUNT_ID.test(a));
    if (valid !== '*' && valid.length === 0) return forbidden('no_accounts', `subject ${subject}: no accounts granted`);
    const name = typeof payload.name === 'string' ? payload.name : typeof payload.email === 'string' ? payload.email : undefined;
    const caller: Caller = { subject, kind: 'oidc', role, accounts: valid, ...(name ? { name } : {}) };
    return { ok: true, caller };
  }

  private getKeySet(): Promise<KeySet> {
    this.keySet ??= this.discoverJwksUri().then((uri) =>
      createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: this.options.jwksCacheSeconds * 1000,
        cooldownDuration: this.options.jwksCooldownSeconds * 1000,
        timeoutDuration: this.options.fetchTimeoutMs ?? 5000,
      }),
    );
    // A failed discovery is tried again on the next request, not remembered.
    this.keySet.catch(() => {
      this.keySet = null;
    });
    return this.keySet;
  }

  private async discoverJwksUri(): Promise<string> {
    if (this.options.jwksUri) return this.options.jwksUri;
    const url = `${this.options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5000) });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    const doc = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery §4.3: the document's issuer must be the one asked for, or tokens could be mixed up.
    if (doc.issuer !== this.options.issuer)
      throw new Error(`${url} names issuer ${JSON.stringify(doc.issuer)}, not ${this.options.issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    const jwks = new URL(doc.jwks_uri);
    if (jwks.protocol !== 'https:' && !(jwks.protocol === 'http:' && /^(localhost|127(?:\.\d+){3}|\[::1\])$/.test(jwks.hostname)))
      throw new Error(`jwks_uri ${doc.jwks_uri} is not https`);
    return doc.jwks_uri;
  }
}

/** Maps jose's error to a reason code; the message stays in the detail, for the operator's log. */
function joseFailure(err: unknown): AuthFailure {
  const code = (err as { code?: unknown } | null)?.code;
  const detail = messageOf(err);
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return unauthenticated('expired', detail);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = err as { claim?: string; reason?: string };
      if (reason === 'missing') return unauthenticated('malformed', detail);
      if (claim === 'nbf') return unauthenticated('not_yet_valid', detail);
      if (claim === 'iss') return unauthenticated('wrong_issuer', detail);
      if (claim === 'aud') return unauthenticated('wrong_audience', detail);
      return unauthenticated('malformed', detail);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return unauthenticated('bad_signature', detail);
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return { ok: false, status: 503, reason: 'issuer_unavailable', detail };
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return unauthenticated('malformed', detail);
    default:
      // fetch failures (connection refused, DNS) while getting the keys.
      if ((err as { name?: unknown } | null)?.name === 'TypeError') return { ok: false, status: 503, reason: 'issuer_unavailable', detail };
      return unauthenticated('malformed', detail);
  }
}

function stringValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function isRole(value: Role | undefined): value is Role {
  return value !== undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}
