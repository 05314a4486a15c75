/**
 * SOAR-ready context over real HTTP: `GET /api/context/{indicator}` and GraphQL `contextFor`'s
 * verdict, counts, window and workbench link, on a lake of two accounts with findings in both.
 * Callers sign in as a playbook would (an API key as X-API-Key or Bearer, an OIDC token from a local
 * issuer), scoped to their accounts; every answer is checked against the OpenAPI document the
 * server serves (docs/openapi.json), with the schema validator the project already has (zod).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiKeyStore } from '../../src/api/auth/api-keys';
import { tailAudit } from '../../src/api/audit/verify';
import { LocalObjectStore } from '../../src/api/store/object-store';
import type { FindingRow } from '../../src/core/tables';
import { startOidcIssuer, type OidcIssuer } from '../../testkit/oidc-issuer';
import { finding, writeFindings } from '../delivery/findings-fixture';
import { ACCOUNT_A, ACCOUNT_B, WINDOW, twoAccountRows, writeLake } from './fixtures/two-accounts';
import { bearer, configIn, post, startTestService } from './helpers';

const BRUTE_IP = '192.0.2.45'; // shared by both accounts' copies of the story
const BOB_A = `arn:aws:iam::${ACCOUNT_A}:user/bob`;
const BACKUPS = 'arn:aws:s3:::prod-backups';
const PUBLIC_URL = 'https://scoutql.acme.example/hunt/';

let dir: string;
let lake: string;
let issuer: OidcIssuer;

/** Findings of A and B (what the verdict weighs): B's must never reach a caller of A. */
function findingRows(): FindingRow[] {
  const at = (iso: string) => new Date(iso);
  const mine = { account: ACCOUNT_A, actor_id: null, session_id: null, src_ip: null, resources: [] as string[] };
  return [
    finding('f-a-high', {
      ...mine,
      rule_id: 'aws-console-brute-force',
      title: 'Console brute force then success',
      level: 'high',
      severity: 4,
      src_ip: BRUTE_IP,
      actor_id: BOB_A,
      created_at: at('2026-03-02T03:01:00Z'),
      time: at('2026-03-02T03:01:00Z'),
    }),
    finding('f-a-low', {
      ...mine,
      rule_id: 'aws-new-user-agent',
      title: 'New user agent',
      level: 'low',
      severity: 2,
      src_ip: BRUTE_IP,
      created_at: at('2026-03-02T03:02:00Z'),
      time: at('2026-03-02T03:02:00Z'),
    }),
    finding('f-a-medium', {
      ...mine,
      rule_id: 'aws-s3-bucket-deleted',
      title: 'Bucket deleted',
      level: 'medium',
      severity: 3,
      resources: [BACKUPS],
      created_at: at('2026-03-03T10:00:00Z'),
      time: at('2026-03-03T10:00:00Z'),
    }),
    finding('f-b-critical', {
      ...mine,
      account: ACCOUNT_B,
      rule_id: 'aws-cloudtrail-stopped',
      level: 'critical',
      severity: 5,
      src_ip: BRUTE_IP,
      created_at: at('2026-03-02T05:00:00Z'),
      time: at('2026-03-02T05:00:00Z'),
    }),
  ];
}

let service: Awaited<ReturnType<typeof startTestService>>;
let keyA: string;
let keyAll: string;
let soarListed: string;
/** The served OpenAPI document's response schema, as a validator. */
let validContext: z.ZodType;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-soar-'));
  lake = join(dir, 'lake');
  mkdirSync(lake);
  const rows = twoAccountRows();
  await writeLake(lake, [rows.rowsA, rows.rowsB]);
  await writeFindings(lake, findingRows());
  issuer = await startOidcIssuer();
  const keys = new ApiKeyStore(new LocalObjectStore(join(lake, '_keys')));
  keyA = (await keys.create({ name: 'playbook-a', role: 'analyst', accounts: [ACCOUNT_A] })).token;
  keyAll = (await keys.create({ name: 'admin', role: 'admin', accounts: '*' })).token;
  soarListed = (await keys.create({ name: 'soar-a', role: 'soar', accounts: [ACCOUNT_A] })).token;
  const config = configIn(
    dir,
    `engine:
  lake: lake
server:
  publicUrl: ${PUBLIC_URL}
audit:
  stream: soar
auth:
  oidc:
    audience: scoutql
    roles: { sec-analysts: analyst, playbooks: soar }
    accounts: { sec-analysts: ['${ACCOUNT_A}'], playbooks: ['${ACCOUNT_A}'] }
  apiKeys: { cacheSeconds: 0 }
  soarOperations: [api/context, 04-context-for-indicator]
limits:
  ratePerMinute: 0
  concurrentQueriesPerCaller: 0
`,
    { SCOUTQL_AUTH__OIDC__ISSUER: issuer.issuer },
  );
  service = await startTestService(config);
  const document = await (await fetch(`${service.url}/api/openapi.json`)).json();
  validContext = z.fromJSONSchema(document.components.schemas.IndicatorContext);
}, 120_000);

afterAll(async () => {
  await service?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function context(indicator: string, headers: Record<string, string>, query: Record<string, string> = WINDOW) {
  const params = new URLSearchParams(query);
  const response = await fetch(`${service.url}/api/context/${encodeURIComponent(indicator)}?${params.toString()}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Asserts the answer matches the OpenAPI response schema, showing what does not. */
function expectValid(body: unknown): void {
  const checked = validContext.safeParse(body);
  expect(checked.success ? 'valid' : checked.error.issues).toBe('valid');
}

describe('GET /api/context/{indicator}', () => {
  test("the brute-forcing address: verdict 3 from A's HIGH finding, reasons, counts, related, findings, window, link", async () => {
    const answer = await context(BRUTE_IP, { 'x-api-key': keyA });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expectValid(answer.body);
    const c = answer.body;
    expect(c).toMatchObject({
      indicator: BRUTE_IP,
      kind: 'IP_ADDRESS',
      found: true,
      kinds: { tried: ['IP_ADDRESS'], found: ['IP_ADDRESS'] },
      matches: [{ kind: 'IP_ADDRESS', foundAs: 'IPAddress', id: BRUTE_IP }],
      window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' },
    });
    // B's CRITICAL finding names the same (shared) address, but A's caller never sees it.
    expect(c.verdict.score).toBe(3);
    expect(c.verdict.label).toBe('MALICIOUS');
    expect(c.verdict.reasons.map((r: any) => [r.code, r.score, r.level, r.count, r.rules])).toEqual([
      ['FINDINGS', 3, 'HIGH', 1, ['aws-console-brute-force']],
      ['FINDINGS', 1, 'LOW', 1, ['aws-new-user-agent']],
      ['SEEN', 1, null, c.counts.events, []],
    ]);
    expect(c.findings.map((f: any) => [f.findingId, f.level, f.account])).toEqual([
      ['f-a-low', 'LOW', ACCOUNT_A],
      ['f-a-high', 'HIGH', ACCOUNT_A],
    ]);
    expect(c.counts.findings).toBe(2);
    // The failed and the successful console logins of the story, from this address in A.
    expect(c.counts.events).toBeGreaterThan(0);
    expect(c.firstSeen).toBe('2026-03-02T03:00:00.000Z');
    expect(c.related.identities.map((i: any) => i.id)).toEqual(
      expect.arrayContaining([BOB_A, `arn:aws:iam::${ACCOUNT_A}:user/alice`, `arn:aws:iam::${ACCOUNT_A}:user/carol`]),
    );
    expect(c.counts.identities).toBe(c.related.identities.length);
    expect(JSON.stringify(c)).not.toContain(ACCOUNT_B);
    expect(c.workbenchUrl).toBe(
      'https://scoutql.acme.example/hunt/ui/#/context/192.0.2.45?from=2026-03-01T00%3A00%3A00.000Z&to=2026-03-08T00%3A00%3A00.000Z',
    );

    // An admin (every account) sees B's CRITICAL finding too.
    const all = await context(BRUTE_IP, bearer(keyAll));
    expectValid(all.body);
    expect(all.body.verdict.reasons.map((r: any) => [r.code, r.level])).toEqual([
      ['FINDINGS', 'CRITICAL'],
      ['FINDINGS', 'HIGH'],
      ['FINDINGS', 'LOW'],
      ['SEEN', null],
    ]);
    expect(all.body.counts.findings).toBe(3);
  });

  test('a bucket with a MEDIUM finding is 2; a known user with none is 1; nothing matched is 0, with "no hits" told from "no data"', async () => {
    const bucket = await context('prod-backups', { 'x-api-key': keyA });
    expectValid(bucket.body);
    expect(bucket.body.matches).toContainEqual({ kind: 'BUCKET', foundAs: 'Resource', id: BACKUPS });
    expect(bucket.body.verdict).toMatchObject({ score: 2, label: 'SUSPICIOUS' });
    expect(bucket.body.findings.map((f: any) => f.findingId)).toEqual(['f-a-medium']);

    const alice = await context(`arn:aws:iam::${ACCOUNT_A}:user/alice`, { 'x-api-key': keyA });
    expectValid(alice.body);
    expect(alice.body.verdict).toMatchObject({ score: 1, label: 'NO_FINDINGS', reasons: [{ code: 'SEEN', score: 1 }] });
    expect(alice.body.findings).toEqual([]);

    const nothing = await context('no-such-thing.invalid', { 'x-api-key': keyA });
    expectValid(nothing.body);
    expect(nothing.body).toMatchObject({ found: false, kind: 'USER_NAME', matches: [], firstSeen: null, lastSeen: null });
    expect(nothing.body.kinds.found).toEqual([]);
    expect(nothing.body.verdict).toMatchObject({ score: 0, label: 'UNKNOWN', reasons: [{ code: 'NOT_SEEN', score: 0 }] });

    const before = await context(BRUTE_IP, { 'x-api-key': keyA }, { from: '2025-01-01T00:00:00Z', to: '2025-01-08T00:00:00Z' });
    expectValid(before.body);
    expect(before.body.verdict).toMatchObject({ score: 0, reasons: [{ code: 'NO_DATA' }] });
  });

  test("B's own entities are not found for a caller of A (same scoping as GraphQL)", async () => {
    const bBucket = await context('arn:aws:s3:::bravo-backups', { 'x-api-key': keyA });
    expect(bBucket.body).toMatchObject({ found: false, verdict: { score: 0 } });
    const asAdmin = await context('arn:aws:s3:::bravo-backups', bearer(keyAll));
    expect(asAdmin.body.found).toBe(true);
    // Narrowing to an account outside the grant is refused, as on /graphql.
    const outside = await context(BRUTE_IP, { 'x-api-key': keyA, 'x-scoutql-accounts': ACCOUNT_B });
    expect([outside.status, outside.body.errors[0].extensions]).toEqual([403, { code: 'FORBIDDEN', reason: 'forbidden_account' }]);
  });

  test('auth: X-API-Key, Bearer API key, Bearer OIDC token; none is 401; soar only with api/context on its allow-list', async () => {
    const token = await issuer.mint({ groups: ['sec-analysts'] }, { subject: 'ana' });
    for (const headers of [{ 'x-api-key': keyA }, bearer(keyA), bearer(token)]) {
      const answer = await context(BRUTE_IP, headers, { ...WINDOW, limit: '1' });
      expect(answer.status).toBe(200);
      expect(answer.body.related.identities).toHaveLength(1);
      expect(answer.body.findings).toHaveLength(1);
    }
    const anonymous = await context(BRUTE_IP, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await context(BRUTE_IP, { 'x-api-key': 'sq_nope' })).status).toBe(401);
    // A soar key runs the route (its allow-list names api/context) and the persisted queries listed.
    expect((await context(BRUTE_IP, { 'x-api-key': soarListed })).status).toBe(200);
    const playbook = bearer(await issuer.mint({ groups: ['playbooks'] }, { subject: 'xsoar' }));
    expect((await context(BRUTE_IP, playbook)).status).toBe(200);
  });

  test('bad input is a 400 with a code; other methods 405; the audit trail names the route', async () => {
    const headers = { 'x-api-key': keyA };
    const bad = async (query: Record<string, string>) => {
      const answer = await context(BRUTE_IP, headers, query);
      return [answer.status, answer.body.errors[0].extensions.code];
    };
    expect(await bad({ from: '2026-03-01T00:00:00Z' })).toEqual([400, 'BAD_REQUEST']);
    expect(await bad({ ...WINDOW, limit: '1000' })).toEqual([400, 'BAD_REQUEST']);
    expect(await bad({ from: 'yesterday', to: 'today' })).toEqual([400, 'BAD_USER_INPUT']);
    expect(await bad({ from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })).toEqual([400, 'WINDOW_TOO_LARGE']);
    const empty = await fetch(`${service.url}/api/context/`, { headers });
    expect(empty.status).toBe(400);
    const posted = await fetch(`${service.url}/api/context/${BRUTE_IP}`, { method: 'POST', headers });
    expect([posted.status, posted.headers.get('allow')]).toEqual([405, 'GET']);
    // A CIDR range keeps its slash unencoded in the path.
    const range = await fetch(`${service.url}/api/context/192.0.2.0/24?${new URLSearchParams(WINDOW).toString()}`, { headers });
    const ranged = await range.json();
    expect([range.status, ranged.kind, ranged.indicator]).toEqual([200, 'CIDR', '192.0.2.0/24']);
    expectValid(ranged);
    expect(ranged.verdict.score).toBe(3); // the range holds the brute-forcing address

    const lines = await tailAudit(new LocalObjectStore(join(lake, '_audit')), { stream: 'soar', lines: 10_000 });
    const routeLines = lines.filter((l) => l.persisted === 'api/context');
    expect(routeLines.length).toBeGreaterThan(5);
    expect(routeLines.find((l) => l.outcome === 'ok')).toMatchObject({
      caller: { kind: 'apikey', role: 'analyst', name: 'playbook-a' },
      operation: 'SoarContext',
      accounts: [ACCOUNT_A],
      variables: { indicator: BRUTE_IP, window: WINDOW },
    });
    expect(routeLines.find((l) => l.status === 400 && l.outcome === 'error')).toBeDefined();
  });
});

describe('GraphQL contextFor: the same verdict, window and link', () => {
  test('contextFor carries kindsFound, verdict, findingCount, window and workbenchUrl, equal to the route', async () => {
    const answer = await post(
      service.url,
      {
        query: `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
          kind found kindsFound findingCount workbenchUrl window { from to }
          verdict { score label reasons { code score level count rules text } }
          findings(first: 5) { findingId }
        } }`,
        variables: { i: BRUTE_IP, w: WINDOW },
      },
      { 'x-api-key': keyA },
    );
    expect(answer.status).toBe(200);
    const c = answer.body.data.contextFor;
    const rest = (await context(BRUTE_IP, { 'x-api-key': keyA })).body;
    expect(c.verdict).toEqual(rest.verdict);
    expect(c.findingCount).toBe(rest.counts.findings);
    expect(c.findings.map((f: any) => f.findingId)).toEqual(rest.findings.map((f: any) => f.findingId));
    expect([c.kindsFound, c.window, c.workbenchUrl]).toEqual([rest.kinds.found, rest.window, rest.workbenchUrl]);
    expect(c.verdict.reasons[0].text).toBe('1 high finding names what it matched (aws-console-brute-force)');
  });

  test('persisted queries run over GET for playbooks (by name, variables as JSON text)', async () => {
    const params = new URLSearchParams({
      documentId: '04-context-for-indicator',
      variables: JSON.stringify({ indicator: BRUTE_IP, window: WINDOW }),
    });
    const response = await fetch(`${service.url}/graphql?${params.toString()}`, {
      headers: { 'x-api-key': soarListed, 'apollo-require-preflight': 'true' },
    });
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body.data.contextFor).toMatchObject({ kind: 'IP_ADDRESS', found: true });
  });
});

describe('the OpenAPI document', () => {
  test('served at /api/openapi.json, equal to docs/openapi.json (plus the server URL), OpenAPI 3.1 with both auth schemes', async () => {
    const served = await (await fetch(`${service.url}/api/openapi.json`)).json();
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
    expect(served.servers).toEqual([{ url: 'https://scoutql.acme.example/hunt' }]);
    delete served.servers;
    expect(served).toEqual(committed);
    expect(committed.openapi).toBe('3.1.0');
    expect(Object.keys(committed.paths)).toEqual(['/api/context/{indicator}', '/graphql']);
    expect(committed.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    // Every $ref points at a schema the document holds.
    const refs = [...JSON.stringify(committed).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) expect(committed.components.schemas).toHaveProperty(ref);
    // The schema is strict: what it does not describe is refused.
    const answer = (await context(BRUTE_IP, { 'x-api-key': keyA })).body;
    expect(validContext.safeParse({ ...answer, extra: 1 }).success).toBe(false);
    expect(validContext.safeParse({ ...answer, verdict: { ...answer.verdict, score: 4 } }).success).toBe(false);
    // Refusals match the Error schema.
    const errorSchema = z.fromJSONSchema(committed.components.schemas.Error);
    expect(errorSchema.safeParse((await context(BRUTE_IP, {})).body).success).toBe(true);
  });
});
