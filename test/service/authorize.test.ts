/** The authorization model: what each role may do, and the accounts a request reads. */
import { authorize, mayRead, scopeAccounts, type Operation } from '../../src/api/auth/authorize';
import { ANONYMOUS_CALLER, type Caller } from '../../src/api/auth/caller';

const analyst: Caller = { subject: 'alice', kind: 'oidc', role: 'analyst', accounts: ['111111111111'] };
const soar: Caller = {
  subject: 'apikey:0123456789abcdef',
  kind: 'apikey',
  role: 'soar',
  accounts: ['111111111111', '222222222222'],
  name: 'soar',
};
const admin: Caller = { subject: 'bob', kind: 'oidc', role: 'admin', accounts: '*' };

const adHoc: Operation = { kind: 'graphql', persisted: null };
const contextHunt: Operation = { kind: 'graphql', persisted: { name: '04-context-for-indicator', sha256: 'a'.repeat(64) } };
const otherHunt: Operation = { kind: 'graphql', persisted: { name: '01-public-bucket', sha256: 'b'.repeat(64) } };
const keys: Operation = { kind: 'admin', action: 'keys' };
const auditOp: Operation = { kind: 'admin', action: 'audit' };

const policy = { soarOperations: ['04-context-for-indicator'] };

function decide(caller: Caller, operation: Operation, soarOperations: '*' | string[] = policy.soarOperations): string {
  const decision = authorize(caller, operation, { soarOperations });
  return decision.ok ? 'ok' : `${decision.status} ${decision.reason}`;
}

test('analyst: ad-hoc and persisted queries, no administration', () => {
  expect(decide(analyst, adHoc)).toBe('ok');
  expect(decide(analyst, otherHunt)).toBe('ok');
  expect(decide(analyst, keys)).toBe('403 admin_only');
  expect(decide(analyst, auditOp)).toBe('403 admin_only');
});

test('soar: persisted queries on its allow-list only, never an ad-hoc document', () => {
  expect(decide(soar, contextHunt)).toBe('ok');
  expect(decide(soar, otherHunt)).toBe('403 operation_not_allowed');
  expect(decide(soar, otherHunt, '*')).toBe('ok');
  expect(decide(soar, adHoc)).toBe('403 persisted_only');
  expect(decide(soar, adHoc, '*')).toBe('403 persisted_only');
  expect(decide(soar, keys)).toBe('403 admin_only');
});

test('admin: everything; the anonymous caller of auth none is an analyst of every account', () => {
  for (const op of [adHoc, otherHunt, keys, auditOp]) expect(decide(admin, op)).toBe('ok');
  expect(decide(ANONYMOUS_CALLER, adHoc)).toBe('ok');
  expect(decide(ANONYMOUS_CALLER, keys)).toBe('403 admin_only');
});

test('accounts: the grant by default, narrowed on request, 403 for an account outside it', () => {
  expect(scopeAccounts(soar)).toEqual({ ok: true, accounts: ['111111111111', '222222222222'] });
  expect(scopeAccounts(soar, ['222222222222'])).toEqual({ ok: true, accounts: ['222222222222'] });
  const outside = scopeAccounts(soar, ['222222222222', '333333333333']);
  expect(outside).toMatchObject({ ok: false, status: 403, reason: 'forbidden_account' });
  expect(scopeAccounts(admin)).toEqual({ ok: true, accounts: '*' });
  expect(scopeAccounts(admin, ['333333333333', '333333333333'])).toEqual({ ok: true, accounts: ['333333333333'] });
  expect(mayRead(analyst, '111111111111')).toBe(true);
  expect(mayRead(analyst, '222222222222')).toBe(false);
  expect(mayRead(analyst, null)).toBe(false);
  expect(mayRead(admin, null)).toBe(true);
});
