/**
 * An investigation's pins and notes (issue 15): written over HTTP by analysts with API keys into the
 * lake's `_investigations/` (one hash-chained object per change), read back by another analyst and
 * by a server started again on the same lake; refused to the read-only soar role; each write one
 * audit line naming the change it stored. Real DuckDB over the story lake, the real audit trail.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, ApiKeyVerifier } from '../../src/api/auth/api-keys';
import { Authenticator } from '../../src/api/auth/authenticate';
import { verifyStream, tailAudit } from '../../src/api/audit/verify';
import { AuditTrail } from '../../src/api/audit/trail';
import { sha256Hex } from '../../src/api/audit/record';
import { InvestigationStore } from '../../src/api/investigations/store';
import { PersistedQueries, sha256 } from '../../src/api/persisted';
import { ScoutApi } from '../../src/api/server';
import { LocalObjectStore } from '../../src/api/store/object-store';
import { INVESTIGATIONS_DIR, isChainTracked } from '../../src/core/lake-layout';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import { tempLake } from './fixtures/lake';
import { ACCOUNT, PROD_ACCOUNT, WINDOW, writeStoryLake } from './fixtures/story';

const PIN = `mutation Pin($inv: String!, $id: String!, $time: DateTime!, $note: String) {
  pinEvent(investigation: $inv, eventId: $id, time: $time, note: $note) { eventId account note pinnedBy }
}`;
const NOTE = `mutation Note($inv: String!, $id: String!, $note: String!) { noteEvent(investigation: $inv, eventId: $id, note: $note) { eventId note notedBy } }`;
const UNPIN = `mutation Unpin($inv: String!, $id: String!) { unpinEvent(investigation: $inv, eventId: $id) }`;
const PINS = `query Pins($inv: String!) { investigation(id: $inv) { id pins { totalCount edges { node {
  eventId time account note pinnedBy notedBy event { eventId account activity } } } } } }`;

let lake: string;
let keysDir: string;
let auditDir: string;
let keys: ApiKeyStore;
const tokens: Record<string, string> = {};

interface Served {
  url: string;
  stop: () => Promise<void>;
}

/** A server on the lake as `scoutql serve` wires one: keys, a soar allow-list holding a write, the audit trail, the lake's investigations. */
async function serve(): Promise<Served> {
  const engine = await DuckDbEngine.open({ lake });
  const audit = await AuditTrail.open({ store: new LocalObjectStore(auditDir) });
  const api = new ScoutApi({
    engine,
    latestDay: () => graphDays(lake).at(-1) ?? null,
    investigations: new InvestigationStore(new LocalObjectStore(join(lake, INVESTIGATIONS_DIR))),
    service: {
      authenticator: new Authenticator({ mode: 'on', oidc: null, apiKeys: new ApiKeyVerifier(keys, { cacheSeconds: 60 }) }),
      registry: new PersistedQueries([{ name: 'pin', sha256: sha256(PIN), document: PIN }]),
      policy: { soarOperations: '*' },
      audit,
    },
  });
  const { url, close } = await api.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    stop: async () => {
      await close();
      await api.stop();
      await audit.close();
      await engine.close();
    },
  };
}

async function post(url: string, token: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': token },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function gql(url: string, who: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const answer = await post(url, tokens[who], { query, variables });
  if (answer.body.errors) throw new Error(JSON.stringify(answer.body.errors));
  return answer.body.data;
}

/** An event of the story lake in an account: id and time. */
async function anEvent(url: string, account: string, n = 0): Promise<{ eventId: string; time: string; activity: string }> {
  const data = await gql(
    url,
    'alice',
    `query($w: TimeWindow!, $a: String!) { events(window: $w, filter: { account: $a }, first: 5) { edges { node { eventId time activity } } } }`,
    { w: WINDOW, a: account },
  );
  return data.events.edges[n].node;
}

let server: Served;

beforeAll(async () => {
  lake = tempLake();
  keysDir = mkdtempSync(join(tmpdir(), 'scoutql-keys-'));
  auditDir = mkdtempSync(join(tmpdir(), 'scoutql-audit-'));
  await writeStoryLake(lake);
  keys = new ApiKeyStore(new LocalObjectStore(keysDir));
  tokens.alice = (await keys.create({ name: 'alice', role: 'analyst', accounts: '*' })).token;
  tokens.bob = (await keys.create({ name: 'bob', role: 'analyst', accounts: [ACCOUNT] })).token;
  tokens.playbook = (await keys.create({ name: 'playbook', role: 'soar', accounts: '*' })).token;
  server = await serve();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  for (const dir of [lake, keysDir, auditDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('pins and notes are kept in the lake: another analyst sees them, and so does a server started again', async () => {
  const inv = 'case-2026-03-bob';
  const dev = await anEvent(server.url, ACCOUNT);
  const prod = await anEvent(server.url, PROD_ACCOUNT);

  const pinned = (await gql(server.url, 'alice', PIN, { inv, id: dev.eventId, time: dev.time, note: 'first sign of bob' })).pinEvent;
  expect(pinned).toEqual({ eventId: dev.eventId, account: ACCOUNT, note: 'first sign of bob', pinnedBy: 'alice' });
  await gql(server.url, 'alice', PIN, { inv, id: prod.eventId, time: prod.time });
  // Pinning again changes nothing.
  expect((await gql(server.url, 'alice', PIN, { inv, id: dev.eventId, time: dev.time, note: 'other' })).pinEvent.note).toBe(
    'first sign of bob',
  );
  // Bob (another analyst, one account) changes the note of the pin he can see.
  expect((await gql(server.url, 'bob', NOTE, { inv, id: dev.eventId, note: 'bob says: the brute force starts here' })).noteEvent).toEqual({
    eventId: dev.eventId,
    note: 'bob says: the brute force starts here',
    notedBy: 'bob',
  });

  // Alice sees both pins, with the event itself; bob only the one in his account.
  const all = (await gql(server.url, 'alice', PINS, { inv })).investigation.pins;
  expect(all.totalCount).toBe(2);
  expect(all.edges.map((e: any) => [e.node.eventId, e.node.account, e.node.note, e.node.pinnedBy, e.node.notedBy]).sort()).toEqual(
    [
      [dev.eventId, ACCOUNT, 'bob says: the brute force starts here', 'alice', 'bob'],
      [prod.eventId, PROD_ACCOUNT, null, 'alice', null],
    ].sort(),
  );
  for (const e of all.edges) expect(e.node.event).toMatchObject({ eventId: e.node.eventId, account: e.node.account });
  expect((await gql(server.url, 'bob', PINS, { inv })).investigation.pins.edges.map((e: any) => e.node.eventId)).toEqual([dev.eventId]);
  // Bob cannot pin, note or unpin what his accounts do not hold.
  const refused = await post(server.url, tokens.bob, { query: PIN, variables: { inv, id: prod.eventId, time: prod.time } });
  expect(refused.body.errors[0].message).toMatch(/no event .* in the accounts this caller may read/);
  expect(
    (await post(server.url, tokens.bob, { query: NOTE, variables: { inv, id: prod.eventId, note: 'x' } })).body.errors[0].message,
  ).toMatch(/is not pinned/);
  expect((await gql(server.url, 'bob', UNPIN, { inv, id: prod.eventId })).unpinEvent).toBe(false);

  // The changes are in the lake, outside the commit chain (they have their own), one object each.
  const store = new LocalObjectStore(join(lake, INVESTIGATIONS_DIR));
  const names = await store.list(inv);
  expect(names).toEqual([1, 2, 3].map((n) => `${inv}/${String(n).padStart(12, '0')}.json`));
  expect(isChainTracked(`${INVESTIGATIONS_DIR}/${names[0]}`)).toBe(false);

  // A server started again on the same lake reads them back.
  await server.stop();
  server = await serve();
  const again = (await gql(server.url, 'alice', PINS, { inv })).investigation.pins;
  expect(again).toEqual(all);

  // Unpin; a pin in another investigation is its own.
  expect((await gql(server.url, 'alice', UNPIN, { inv, id: prod.eventId })).unpinEvent).toBe(true);
  expect((await gql(server.url, 'alice', PINS, { inv })).investigation.pins.totalCount).toBe(1);
  expect((await gql(server.url, 'alice', PINS, { inv: 'another-case' })).investigation.pins.totalCount).toBe(0);
}, 120_000);

test('an edited change breaks the investigation chain and is reported, not read', async () => {
  const inv = 'case-tamper';
  const dev = await anEvent(server.url, ACCOUNT, 1);
  await gql(server.url, 'alice', PIN, { inv, id: dev.eventId, time: dev.time, note: 'kept' });
  await gql(server.url, 'alice', NOTE, { inv, id: dev.eventId, note: 'changed' });
  const first = join(lake, INVESTIGATIONS_DIR, inv, '000000000001.json');
  writeFileSync(first, readFileSync(first, 'utf8').replace('"kept"', '"edited"'));
  // A fresh server (nothing cached) reads the edited file.
  await server.stop();
  server = await serve();
  const answer = await post(server.url, tokens.alice, { query: PINS, variables: { inv } });
  expect(answer.body.errors[0]).toMatchObject({
    message: expect.stringMatching(/000000000002\.json does not follow the change before it/),
    extensions: { code: 'BAD_USER_INPUT' },
  });
  expect(
    (await post(server.url, tokens.alice, { query: PIN, variables: { inv: '../keys', id: 'x', time: dev.time } })).body.errors[0].message,
  ).toMatch(/investigation id/);
}, 120_000);

test('the read-only soar role cannot write, even a persisted mutation; every write is audited with the change it stored', async () => {
  const inv = 'case-audit';
  const dev = await anEvent(server.url, ACCOUNT, 2);
  const variables = { inv, id: dev.eventId, time: dev.time };
  const refused = await post(server.url, tokens.playbook, { documentId: 'pin', variables });
  expect(refused.status).toBe(403);
  expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'read_only_role' });
  expect(await new InvestigationStore(new LocalObjectStore(join(lake, INVESTIGATIONS_DIR))).pins(inv)).toEqual([]);

  const ok = await post(server.url, tokens.alice, { documentId: 'pin', variables });
  expect(ok.status).toBe(200);
  expect(ok.body.data.pinEvent.eventId).toBe(dev.eventId);

  const lines = await tailAudit(new LocalObjectStore(auditDir), { lines: 2 });
  const [forbidden, written] = lines.slice(-2);
  expect(forbidden).toMatchObject({
    caller: { role: 'soar', name: 'playbook' },
    operation: 'Pin',
    persisted: 'pin',
    variables,
    outcome: 'forbidden',
    status: 403,
    reason: 'read_only_role',
  });
  expect(forbidden).not.toHaveProperty('changes');
  const object = readFileSync(join(lake, INVESTIGATIONS_DIR, inv, '000000000001.json'));
  expect(written).toMatchObject({
    caller: { role: 'analyst', name: 'alice' },
    operation: 'Pin',
    outcome: 'ok',
    changes: [{ investigation: inv, seq: 1, action: 'pin', eventId: dev.eventId, sha256: sha256Hex(object) }],
  });
  // The trail stays whole.
  await server.stop();
  expect((await verifyStream(new LocalObjectStore(auditDir), 'main')).problem).toBeFalsy();
  server = await serve();
}, 120_000);

test('writers racing for the same change each land once, in one unbroken chain (create-if-absent, then retry)', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'scoutql-investigations-'));
  try {
    // Two servers' stores over the same folder, eight writes each at once.
    const stores = [new InvestigationStore(new LocalObjectStore(folder)), new InvestigationStore(new LocalObjectStore(folder))];
    const by = { subject: 'apikey:test', role: 'analyst' };
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        stores[i % 2].append('race', { by, action: 'pin', eventId: `e-${i}`, time: '2026-03-02T00:00:00.000Z', account: ACCOUNT }),
      ),
    );
    const fresh = new InvestigationStore(new LocalObjectStore(folder));
    const chain = await fresh.changes('race');
    expect(chain.map((c) => c.change.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect((await fresh.pins('race')).map((p) => p.eventId).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `e-${i}`).sort());
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
