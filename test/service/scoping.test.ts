/**
 * Every SQL statement the API runs is filtered by the caller's accounts, pivots included: a caller
 * scoped to account A, over a lake holding A and B, walks every field of the schema (driven by
 * introspection) from every root field with every id, address and name of both accounts, follows
 * every object it reaches, and finds nothing of B. Real HTTP, a real API key (scrypt hash) for A.
 *
 * The same walk by an admin (every account) finds every string of B's data, so the walk does reach
 * it; A's caller finds every string of A's.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from '../../src/api/auth/api-keys';
import { eventTypeName } from '../../src/api/event-fields';
import { toGlobalId } from '../../src/api/ids';
import { LocalObjectStore } from '../../src/api/store/object-store';
import type { TableName } from '../../src/core/tables';
import { ACCOUNT_A, ACCOUNT_B, WINDOW, twoAccountRows, writeLake, type TwoAccountLake } from './fixtures/two-accounts';
import { bearer, configIn, post, startTestService } from './helpers';
import { visibleStrings, walkApi, type Ask, type WalkResult } from './walker';

/** Columns whose values name something a caller can look up (identities, sessions, addresses, resources, names, domains). */
const ID_COLUMNS = [
  'account',
  'actor_id',
  'actor_arn',
  'actor_name',
  'session_id',
  'session_name',
  'issued_session_id',
  'issued_role_arn',
  'src_ip',
  'dst_ip',
  'resources',
  'bucket',
  'user_agent',
  'query_name',
  'answers',
  'instance_id',
  'interface_id',
] as const;

let dir: string;
let fixture: TwoAccountLake;
let candidates: string[];
let globalIds: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-scoping-'));
  fixture = twoAccountRows();
  mkdirSync(join(dir, 'ab', 'lake'), { recursive: true });
  await writeLake(join(dir, 'ab', 'lake'), [fixture.rowsA, fixture.rowsB]);
  // What an attacker scoped to A would try: every id, address and name either account's logs hold.
  const strings = new Set<string>();
  const events: string[] = [];
  for (const rows of [fixture.rowsA, fixture.rowsB])
    for (const [table, list] of Object.entries(rows) as [TableName, (typeof rows)[TableName]][])
      for (const row of list) {
        for (const column of ID_COLUMNS) {
          const value = row[column];
          if (typeof value === 'string') strings.add(value);
          if (Array.isArray(value)) for (const v of value as string[]) strings.add(v);
        }
        events.push(toGlobalId(eventTypeName(table), `${row.time.toISOString().slice(0, 19).replace('T', ' ')}|${row.event_id as string}`));
      }
  candidates = [...strings].sort();
  // Entities have root lookups by key (tried with every candidate); node(id) adds events and user agents.
  globalIds = [...events, ...candidates.map((c) => toGlobalId('UserAgent', c))];
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A team server over a lake: API keys on, no rate limits (the walk is many requests). */
async function serve(lakeDir: string, keys: { name: string; role: 'analyst' | 'admin'; accounts: string[] | '*' }[]) {
  const config = configIn(
    lakeDir,
    'engine:\n  lake: lake\nauth:\n  apiKeys: { cacheSeconds: 60 }\nlimits:\n  ratePerMinute: 0\n  concurrentQueriesPerCaller: 0\n',
  );
  const store = new ApiKeyStore(new LocalObjectStore(join(lakeDir, 'lake', '_keys')));
  const tokens: Record<string, string> = {};
  for (const key of keys) tokens[key.name] = (await store.create(key)).token;
  const service = await startTestService(config);
  const ask =
    (token: string): Ask =>
    (query, variables) =>
      post(service.url, { query, variables }, bearer(token));
  return { service, tokens, ask };
}

const walk = (ask: Ask, values = candidates, ids = globalIds): Promise<WalkResult> =>
  walkApi(ask, { candidates: values, globalIds: ids, window: WINDOW });

/** A refusal of the caller's own value for the argument's kind (every candidate is tried at every root, `ip(address: <an access key>)` too). */
const isInputRefusal = (error: { extensions?: { code?: string } }) => error.extensions?.code === 'BAD_USER_INPUT';

/**
 * The strings of the answers a caller could read (echoes of its own values left out: the indicator,
 * contextFor's workbenchUrl, built from the indicator and window only, `extensions.notFound`, an input
 * refusal, and an investigation's id: the name the caller asked for, whatever it is; its pins are kept).
 */
function shown(result: WalkResult): Set<string> {
  const out = new Set<string>();
  for (const answer of result.answers) {
    if (answer.status !== 200) continue;
    const { errors = [], ...rest } = answer.body as { errors?: { extensions?: { code?: string } }[] };
    const readable = [rest, errors.filter((error) => !isInputRefusal(error))];
    for (const s of visibleStrings(readable, new Set(['indicator', 'workbenchUrl', 'notFound', 'Investigation.id']))) out.add(s);
  }
  return out;
}

const containsAny = (texts: Set<string>, needles: readonly string[]) =>
  needles.filter((needle) => [...texts].some((text) => text.includes(needle)));

test('a caller of account A walks every field from every root and finds nothing of account B', async () => {
  const ab = await serve(join(dir, 'ab'), [
    { name: 'analyst-a', role: 'analyst', accounts: [ACCOUNT_A] },
    { name: 'admin', role: 'admin', accounts: '*' },
  ]);
  try {
    const scoped = await walk(ab.ask(ab.tokens['analyst-a']));
    // The control walk starts from B's own ids (the ones that find B's data).
    const inB = new Set(fixture.onlyB);
    const everything = await walk(
      ab.ask(ab.tokens.admin),
      candidates.filter((c) => inB.has(c)),
      [],
    );

    // Nothing but answers, and a 403 only where A's caller named an account other than A outright.
    for (const answer of scoped.answers) {
      if (answer.status === 403) {
        expect(answer.body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'forbidden_account' });
        expect(answer.query).toMatch(/\{ account\(id: \$value/);
        expect(answer.variables.value).not.toBe(ACCOUNT_A);
      } else {
        expect(answer.status).toBe(200);
        expect((answer.body.errors ?? []).filter((error: { extensions?: { code?: string } }) => !isInputRefusal(error))).toEqual([]);
      }
    }
    expect(scoped.answers.filter((a) => a.status === 403).map((a) => a.variables.value)).toContain(ACCOUNT_B);
    const seenByA = shown(scoped);
    expect(containsAny(seenByA, fixture.onlyB)).toEqual([]);
    // Not an empty walk: A's own data is there, every piece of it.
    expect(containsAny(seenByA, fixture.onlyA).sort()).toEqual([...fixture.onlyA].sort());
    // The walk can find B's data: an admin sees it all.
    expect(containsAny(shown(everything), fixture.onlyB).sort()).toEqual([...fixture.onlyB].sort());
    expect(scoped.reached.size).toBeGreaterThan(40);
  } finally {
    await ab.service.close();
  }
}, 600_000); // contextFor's verdict and findings add statements to every indicator the walk tries
