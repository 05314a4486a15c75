/**
 * The outcome of authentication. A failure carries a reason code for the client (401, 403 or
 * 503) and a detail for the operator's log only: the client learns what kind of problem it has,
 * never which check of the signature, the key store or the claims told us.
 */
import type { Caller } from './caller';

/** 401: the credentials are missing or not acceptable. */
export type UnauthenticatedReason =
  'missing' | 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_audience' | 'unknown_key' | 'revoked';

/** 403: who the caller is is known, but what it asks is not allowed. */
export type ForbiddenReason = 'no_role' | 'no_accounts' | 'admin_only' | 'persisted_only' | 'operation_not_allowed' | 'forbidden_account';

/** 503: the issuer's keys cannot be fetched just now; the token may be fine. */
export type UnavailableReason = 'issuer_unavailable';

export type AuthFailure =
  | { ok: false; status: 401; reason: UnauthenticatedReason; detail: string }
  | { ok: false; status: 403; reason: ForbiddenReason; detail: string }
  | { ok: false; status: 503; reason: UnavailableReason; detail: string };

export type AuthResult = { ok: true; caller: Caller } | AuthFailure;

export function unauthenticated(reason: UnauthenticatedReason, detail: string): AuthFailure {
  return { ok: false, status: 401, reason, detail };
}

export function forbidden(reason: ForbiddenReason, detail: string): AuthFailure {
  return { ok: false, status: 403, reason, detail };
}

/** The WWW-Authenticate header of a 401 (RFC 6750): the error class, never the detail. */
export function wwwAuthenticate(failure: AuthFailure): string | undefined {
  if (failure.status !== 401) return undefined;
  return failure.reason === 'missing' ? 'Bearer realm="scoutql"' : 'Bearer realm="scoutql", error="invalid_token"';
}

/** The JSON body a failure is answered with: GraphQL-shaped, so clients read it as they read other errors. */
export function failureBody(failure: AuthFailure): { errors: { message: string; extensions: { code: string; reason: string } }[] } {
  const code = failure.status === 401 ? 'UNAUTHENTICATED' : failure.status === 403 ? 'FORBIDDEN' : 'SERVICE_UNAVAILABLE';
  const message =
    failure.status === 401
      ? 'authentication required'
      : failure.status === 403
        ? 'not allowed for this caller'
        : 'sign-in is unavailable, try again';
  return { errors: [{ message, extensions: { code, reason: failure.reason } }] };
}
