/**
 * Turns a request's headers into a Caller, or a failure with its reason code.
 *
 * Credentials: `Authorization: Bearer <token>` (an `sk_…` API key or an OIDC JWT) or
 * `x-api-key: sk_…`. With `auth: none` every request is the anonymous local caller, credentials
 * or not (there is nothing to check them against).
 */
import type { ObjectStore } from '../store/object-store';
import { ApiKeyStore, ApiKeyVerifier, looksLikeApiKey } from './api-keys';
import { ANONYMOUS_CALLER } from './caller';
import { OidcVerifier, type OidcOptions } from './oidc';
import { unauthenticated, type AuthResult } from './result';

export type AuthenticatorOptions = { mode: 'none' } | { mode: 'on'; oidc: OidcVerifier | null; apiKeys: ApiKeyVerifier | null };

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  get mode(): 'none' | 'on' {
    return this.options.mode;
  }

  async authenticate(headers: RequestHeaders): Promise<AuthResult> {
    if (this.options.mode === 'none') return { ok: true, caller: ANONYMOUS_CALLER };
    const authorization = single(headers.authorization);
    const apiKeyHeader = single(headers['x-api-key']);
    if (authorization === null || apiKeyHeader === null) return unauthenticated('malformed', 'header sent more than once');
    if (authorization !== undefined && apiKeyHeader !== undefined) return unauthenticated('malformed', 'both Authorization and x-api-key');
    let token: string;
    if (apiKeyHeader !== undefined) {
      token = apiKeyHeader.trim();
      if (!looksLikeApiKey(token)) return unauthenticated('malformed', 'x-api-key is not an sk_ key');
    } else if (authorization !== undefined) {
      const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
      if (!m) return unauthenticated('malformed', 'Authorization is not "Bearer <token>"');
      token = m[1];
    } else {
      return unauthenticated('missing', 'no credentials');
    }
    if (looksLikeApiKey(token)) {
      if (!this.options.apiKeys) return unauthenticated('unknown_key', 'API keys are not enabled');
      return this.options.apiKeys.verify(token);
    }
    if (!this.options.oidc) return unauthenticated('malformed', 'not an API key, and OIDC is not configured');
    return this.options.oidc.verify(token);
  }
}

/** The header's one value; null when it was sent more than once. */
function single(value: string | readonly string[] | undefined): string | undefined | null {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 1 ? value[0] : null;
}

/** Auth as configured (src/config's `auth`, settled): what createAuthenticator needs. */
export type AuthSettings =
  { mode: 'none' } | { mode: 'on'; oidc: OidcOptions | null; apiKeys: { store: string; cacheSeconds: number } | null };

/** Builds the authenticator for settings; the key store is opened with the function given (local or S3). */
export function createAuthenticator(settings: AuthSettings, openStore: (location: string) => ObjectStore): Authenticator {
  if (settings.mode === 'none') return new Authenticator({ mode: 'none' });
  return new Authenticator({
    mode: 'on',
    oidc: settings.oidc ? new OidcVerifier(settings.oidc) : null,
    apiKeys: settings.apiKeys
      ? new ApiKeyVerifier(new ApiKeyStore(openStore(settings.apiKeys.store)), { cacheSeconds: settings.apiKeys.cacheSeconds })
      : null,
  });
}
