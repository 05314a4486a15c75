/**
 * Who is asking: every API request carries one Caller, with the role that says what it may do and
 * the accounts (AWS account, Azure tenant, GCP project) whose data it may see.
 */

export const ROLES = ['analyst', 'soar', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type CallerKind = 'oidc' | 'apikey' | 'anonymous';

export interface Caller {
  /** Stable identity for the audit trail and per-caller limits: the OIDC subject, `apikey:<id>`, or `anonymous`. */
  subject: string;
  kind: CallerKind;
  role: Role;
  /** Accounts the caller may see; '*' for all. Never empty (such a caller is refused). */
  accounts: readonly string[] | '*';
  /** For people reading the trail: the API key's name, or the token's `name`/`email` claim. */
  name?: string;
}

/** The caller of a server with `auth: none`: one local user who sees everything (today's behaviour). */
export const ANONYMOUS_CALLER: Caller = Object.freeze({ subject: 'anonymous', kind: 'anonymous', role: 'analyst', accounts: '*' });

/** admin > analyst > soar: with several roles granted, the strongest applies. */
export function strongestRole(roles: Iterable<Role>): Role | null {
  let best: Role | null = null;
  const rank: Record<Role, number> = { soar: 1, analyst: 2, admin: 3 };
  for (const role of roles) if (best === null || rank[role] > rank[best]) best = role;
  return best;
}

/** An account id as the lake partitions it (letters, digits, . _ -). */
export const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Merges account grants: any '*' wins; otherwise the sorted union. */
export function unionAccounts(grants: Iterable<readonly string[] | '*'>): readonly string[] | '*' {
  const all = new Set<string>();
  for (const grant of grants) {
    if (grant === '*') return '*';
    for (const account of grant) all.add(account);
  }
  return [...all].sort();
}
