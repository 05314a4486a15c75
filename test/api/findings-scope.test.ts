/**
 * Findings stay in their account: over a lake of two accounts with findings in both, a caller
 * scoped to one account sees none of the other's, whichever way it asks: the list, its count, a
 * finding by its id, and the links from entities (an address both accounts saw, an identity,
 * contextFor). An admin (every account) sees both, so the asks do reach the other account's rows.
 */
import type { Caller } from '../../src/api/auth/caller';
import { finding, writeFindings } from '../delivery/findings-fixture';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import { ACCOUNT, ADMIN_KEY, ADMIN_ROLE, BOB, BRUTE_IP, DELETED_BUCKET, PROD_ACCOUNT, WINDOW, writeStoryLake } from './fixtures/story';

/** A's finding: bob signed in from the brute-forcing address. */
const FINDING_A = finding('f-account-a', {
  account: ACCOUNT,
  rule_id: 'aws-console-login-after-failures',
  title: 'Console sign-in succeeds after failures',
  actor_id: BOB,
  session_id: null,
  src_ip: BRUTE_IP,
  resources: [],
  time: new Date('2026-03-02T03:00:14Z'),
  created_at: new Date('2026-03-02T03:00:14Z'),
  evidence_event_ids: ['evt-0001', 'evt-0004'],
});
/** B's finding: the Admin role deleted a bucket. It also names the brute-forcing address, which A saw too. */
const FINDING_B = finding('f-account-b', {
  account: PROD_ACCOUNT,
  rule_id: 'aws-s3-bucket-deleted',
  title: 'S3 bucket deleted',
  level: 'critical',
  severity: 5,
  actor_id: ADMIN_ROLE,
  session_id: ADMIN_KEY,
  src_ip: BRUTE_IP,
  resources: [DELETED_BUCKET],
  time: new Date('2026-03-02T03:20:00Z'),
  created_at: new Date('2026-03-02T03:20:00Z'),
});

const lake = lakeForFile(async (dir) => {
  await writeStoryLake(dir);
  await writeFindings(dir, [FINDING_A, FINDING_B]);
});

const callerOf = (accounts: readonly string[] | '*'): Caller => ({
  subject: 'apikey:scope-test',
  kind: 'apikey',
  role: 'analyst',
  accounts,
});
const A_CALLER = callerOf([ACCOUNT]);
const ADMIN = callerOf('*');

const ASKS = `query($w: TimeWindow!, $id: ID!) {
  findings(window: $w) { totalCount edges { node { id findingId account } } }
  critical: findings(window: $w, level: CRITICAL) { totalCount }
  byRule: findings(window: $w, rule: "aws-s3-bucket-deleted") { totalCount }
  node(id: $id, window: $w) { id ... on Finding { findingId } }
  ip(address: "${BRUTE_IP}", window: $w) { findings { totalCount edges { node { findingId } } } }
  admin: identity(id: "${ADMIN_ROLE}", window: $w) { findings { totalCount } }
  context: contextFor(indicator: "${BRUTE_IP}", window: $w) { findingCount findings { findingId } }
}`;

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);
  let t: TestApi;
  let idOfB: string;
  const ask = async (caller: Caller) => {
    const r = await t.api.execute(ASKS, { w: WINDOW, id: idOfB }, caller);
    expect(r.errors).toBeUndefined();
    return r.data as any;
  };
  beforeAll(async () => {
    t = api();
    const all = await t.api.execute(
      `query($w: TimeWindow!) { findings(window: $w) { edges { node { id findingId } } } }`,
      { w: WINDOW },
      ADMIN,
    );
    idOfB = (all.data as any).findings.edges.find((e: any) => e.node.findingId === FINDING_B.finding_id).node.id;
  });

  test('an admin sees both accounts’ findings, by every ask', async () => {
    const data = await ask(ADMIN);
    expect(data.findings.edges.map((e: any) => [e.node.findingId, e.node.account]).sort()).toEqual([
      [FINDING_A.finding_id, ACCOUNT],
      [FINDING_B.finding_id, PROD_ACCOUNT],
    ]);
    expect(data.findings.totalCount).toBe(2);
    expect(data.critical.totalCount).toBe(1);
    expect(data.byRule.totalCount).toBe(1);
    expect(data.node).toEqual({ id: idOfB, findingId: FINDING_B.finding_id });
    expect(data.ip.findings.totalCount).toBe(2);
    expect(data.admin.findings.totalCount).toBe(1);
    expect(data.context.findings.map((f: any) => f.findingId).sort()).toEqual([FINDING_A.finding_id, FINDING_B.finding_id]);
  });

  test("a caller scoped to one account never sees the other's findings: list, counts, by id, through an address both saw, an identity, contextFor", async () => {
    const data = await ask(A_CALLER);
    expect(data.findings).toEqual({
      totalCount: 1,
      edges: [{ node: { id: expect.any(String), findingId: FINDING_A.finding_id, account: ACCOUNT } }],
    });
    expect(data.critical.totalCount).toBe(0);
    expect(data.byRule.totalCount).toBe(0);
    // B's finding by its id: nothing, as for an id that does not exist.
    expect(data.node).toBeNull();
    // The brute-forcing address is A's too: from it, only A's finding.
    expect(data.ip.findings).toEqual({ totalCount: 1, edges: [{ node: { findingId: FINDING_A.finding_id } }] });
    // B's identity is not A's to see at all.
    expect(data.admin).toBeNull();
    expect(data.context.findings).toEqual([{ findingId: FINDING_A.finding_id }]);
    expect(data.context.findingCount).toBe(1);
    // Nothing of B's finding anywhere in the answer.
    expect(JSON.stringify(data)).not.toMatch(new RegExp(`${FINDING_B.finding_id}|${PROD_ACCOUNT}|aws-s3-bucket-deleted`));
  });
});
