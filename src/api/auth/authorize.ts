/**
 * What a caller may do, by role:
 *
 * | role    | ad-hoc GraphQL | persisted queries            | keys, audit (admin) |
 * | ------- | -------------- | ---------------------------- | ------------------- |
 * | analyst | yes            | yes                          | no                  |
 * | soar    | no             | the configured allow-list    | no                  |
 * | admin   | yes            | yes                          | yes                 |
 *
 * (GET /api/context/{indicator} is the built-in persisted operation `api/context`: the same rules.)
 * Writes (GraphQL mutations: an investigation's pins and notes) are for analyst and admin; soar,
 * the machines' role, only reads, whatever document it runs (`mayWrite`).
 *
 * and, for every role, only within the caller's accounts (scopeAccounts): the account list every
 * SQL statement is filtered by.
 */
import type { Caller } from './caller';
import { forbidden, type AuthFailure } from './result';

export type Operation =
  /** A GraphQL request: a persisted query (by registry name and document sha256) or an ad-hoc document. */
  | { kind: 'graphql'; persisted: { name: string; sha256: string } | null }
  /** Administration: API keys, the audit trail, metrics. */
  | { kind: 'admin'; action: 'keys' | 'audit' | 'metrics' };

export interface AuthorizationPolicy {
  /** Persisted query names the soar role may run; '*' for every registered one. */
  soarOperations: '*' | readonly string[];
}

export type Decision = { ok: true } | AuthFailure;

export function authorize(caller: Caller, operation: Operation, policy: AuthorizationPolicy): Decision {
  if (operation.kind === 'admin') {
    return caller.role === 'admin'
      ? { ok: true }
      : forbidden('admin_only', `${caller.subject} (${caller.role}) asked for ${operation.action}`);
  }
  if (caller.role !== 'soar') return { ok: true };
  if (!operation.persisted) return forbidden('persisted_only', `${caller.subject} (soar) sent an ad-hoc document`);
  if (policy.soarOperations !== '*' && !policy.soarOperations.includes(operation.persisted.name))
    return forbidden('operation_not_allowed', `${caller.subject} (soar) asked for ${operation.persisted.name}`);
  return { ok: true };
}

export type Scope = { ok: true; accounts: readonly string[] | '*' } | AuthFailure;

/**
 * The accounts a request reads: the caller's, narrowed to those it names (an `account` argument),
 * refused with 403 when it names one outside its grant. What comes back filters every statement.
 */
export function scopeAccounts(caller: Caller, requested?: readonly string[] | null): Scope {
  if (!requested || requested.length === 0) return { ok: true, accounts: caller.accounts };
  if (caller.accounts === '*') return { ok: true, accounts: [...new Set(requested)].sort() };
  const granted = new Set(caller.accounts);
  const outside = requested.filter((a) => !granted.has(a));
  // The reason is sent; which accounts exist beyond the grant is not.
  if (outside.length > 0) return forbidden('forbidden_account', `${caller.subject} asked for ${outside.join(', ')}`);
  return { ok: true, accounts: [...new Set(requested)].sort() };
}

/** True when the caller's role may change what the server keeps (run a mutation). */
export function mayWrite(caller: Caller): boolean {
  return caller.role === 'analyst' || caller.role === 'admin';
}

/** True when the caller may see rows of this account (for checks on single rows, e.g. a node by id). */
export function mayRead(caller: Caller, account: string | null | undefined): boolean {
  if (caller.accounts === '*') return true;
  return account != null && caller.accounts.includes(account);
}
