/**
 * Identical statements in flight at once run once (SharedExecutions, issue #14 item 4), over a real
 * DuckDB engine and a lake with a commit chain:
 * - many callers asking the same contextFor at once get the answer an unshared engine gives, with
 *   fewer statements run;
 * - scope: callers of different accounts never share (their statements' parameters differ), each
 *   sees only its own accounts' rows, also when asking at the very same moment;
 * - each caller gets rows of its own (changing one caller's rows changes no other's);
 * - a caller giving up (its deadline) leaves the execution to the others; when all give up it is
 *   cancelled;
 * - the lake version: a caller arriving after a commit moved HEAD starts its own execution and sees
 *   the commit; a lake without a version shares nothing.
 */
import { rmSync } from 'node:fs';
import { ingest } from '../../etl/ingest';
import type { Caller } from '../../src/api/auth/caller';
import { ScoutApi } from '../../src/api/server';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays, lakeHead } from '../../src/engine/lake';
import { SharedExecutions } from '../../src/engine/shared-executions';
import { EngineError, type QueryEngine, type QueryOptions, type QueryResult, type SqlParam, type SqlRow } from '../../src/engine/types';
import { eventsPage } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';
import { TABLE_NAMES } from '../../src/core/tables';
import { LATER_DAY_WINDOW, lakeWithLaterDay } from './fixtures/later-day';

const WINDOW = LATER_DAY_WINDOW;
const W = { from: WINDOW.from.toISOString(), to: WINDOW.to.toISOString() };

let dir: string;
let lake: string;
let laterObjects: string[];
let attackerIp: string;
let engine: DuckDbEngine;

beforeAll(async () => {
  ({ dir, lake, laterObjects, attackerIp } = await lakeWithLaterDay('shared-executions'));
  engine = await DuckDbEngine.open({ lake, connections: 4 });
}, 300_000);
afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The real engine, with each execution held until `release()`: so calls are in flight together
 * however fast DuckDB answers. Counts what reaches the engine and remembers each execution's signal.
 */
class HeldEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  executed = 0;
  readonly signals: (AbortSignal | undefined)[] = [];
  private held: (() => void)[] = [];
  hold = true;
  constructor(private readonly inner: QueryEngine) {}
  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    this.executed++;
    this.signals.push(options?.signal);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (options?.signal?.aborted) throw new EngineError('query cancelled', 'QUERY_CANCELLED');
    return this.inner.query<R>(sql, params, options);
  }
  release(): void {
    for (const go of this.held.splice(0)) go();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Lets the calls made so far reach the held engine (they await a version read and a map look-up first). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs requests over a held engine: every 20 ms, the executions held so far go (DuckDB answers this
 * lake in a few ms), so each wave of statements of requests started together is in flight together.
 */
async function runHeld<T>(held: HeldEngine, pending: Promise<T>[]): Promise<T[]> {
  let done = false;
  const all = Promise.all(pending).finally(() => (done = true));
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    held.release();
  }
  return all;
}

const CONTEXT = `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
  kind found eventCount
  identities(first: 5) { edges { node { identityId } } }
  ips(first: 5) { edges { node { address } } }
  sessions(first: 5) { edges { node { accessKeyId } } }
  resources(first: 5) { edges { relation node { resourceId } } }
  recentEvents(first: 5) { eventId activity account } } }`;

const callerOf = (accounts: readonly string[] | '*'): Caller => ({
  subject: 'apikey:shared-test',
  kind: 'apikey',
  role: 'analyst',
  accounts,
});

async function accountsOfLake(): Promise<string[]> {
  return (await engine.query<{ account: string }>(`SELECT DISTINCT account FROM api_activity ORDER BY account`)).rows.map((r) => r.account);
}

describe('identical statements in flight at once', () => {
  it('run once for many callers of contextFor, who get the answer of an unshared engine', async () => {
    const held = new HeldEngine(engine);
    const shared = new SharedExecutions(held, () => lakeHead(lake));
    const counted = new HeldEngine(engine);
    counted.hold = false;
    const unshared = new ScoutApi({ engine: counted, latestDay: () => graphDays(lake).at(-1) ?? null });
    const api = new ScoutApi({ engine: shared, latestDay: () => graphDays(lake).at(-1) ?? null });
    try {
      const expected = await unshared.execute(CONTEXT, { i: attackerIp, w: W });
      expect(expected.errors).toBeUndefined();
      expect((expected.data as any).contextFor.found).toBe(true);
      const perRequest = counted.executed;
      expect(perRequest).toBeGreaterThan(1);

      const answers = await runHeld(
        held,
        Array.from({ length: 8 }, () => api.execute(CONTEXT, { i: attackerIp, w: W })),
      );
      for (const answer of answers) {
        expect(answer.errors).toBeUndefined();
        expect(answer.data).toEqual(expected.data);
      }
      expect(shared.stats.executed + shared.stats.shared).toBe(8 * perRequest);
      expect(held.executed).toBe(shared.stats.executed);
      // At the least, each request's first statement ran once for all eight.
      expect(shared.stats.shared).toBeGreaterThanOrEqual(7);
    } finally {
      await Promise.all([api.stop(), unshared.stop()]);
    }
  });

  it("never hand one caller another caller's rows: callers of different accounts at once each see their own", async () => {
    const accounts = await accountsOfLake();
    expect(accounts.length).toBeGreaterThanOrEqual(2);
    const [a, b] = accounts;
    const reference = new ScoutApi({ engine, latestDay: () => graphDays(lake).at(-1) ?? null });
    const held = new HeldEngine(engine);
    const shared = new SharedExecutions(held, () => lakeHead(lake));
    const api = new ScoutApi({ engine: shared, latestDay: () => graphDays(lake).at(-1) ?? null });
    const EVENTS = `query($w: TimeWindow!) { events(window: $w, first: 50) { totalCount edges { node { eventId account } } } }`;
    try {
      const alone = await Promise.all([a, b, '*'].map((acc) => reference.execute(EVENTS, { w: W }, callerOf(acc === '*' ? '*' : [acc]))));
      // Both accounts' callers, and an admin, several times each, all in flight together.
      const callers = [a, b, a, b, '*', a, b].map((acc) => callerOf(acc === '*' ? '*' : [acc]));
      const answers = await runHeld(
        held,
        callers.map((caller) => api.execute(EVENTS, { w: W }, caller)),
      );
      for (const [i, answer] of answers.entries()) {
        expect(answer.errors).toBeUndefined();
        const which = callers[i].accounts === '*' ? 2 : callers[i].accounts[0] === a ? 0 : 1;
        expect(answer.data).toEqual(alone[which].data);
        const seen = new Set((answer.data as any).events.edges.map((e: any) => e.node.account));
        if (which < 2) expect(seen).toEqual(new Set([which === 0 ? a : b]));
      }
      // Shared within a scope only: three scopes, so at least three executions, and the repeats shared.
      expect(shared.stats.executed).toBeGreaterThanOrEqual(3);
      expect(shared.stats.shared).toBeGreaterThanOrEqual(4);
    } finally {
      held.release();
      await Promise.all([api.stop(), reference.stop()]);
    }
  });

  it('share only what is identical in text, parameters and their types, window and keys', async () => {
    const accounts = await accountsOfLake();
    const held = new HeldEngine(engine);
    const shared = new SharedExecutions(held, () => lakeHead(lake));
    const base = { tables: TABLE_NAMES, conditions: {}, window: WINDOW, after: null, limit: 20, descending: true } as const;
    const page = (scope: AccountScope) => eventsPage(scope, { ...base, pivot: 'none', keys: [], columns: ['account', 'event_id'] });
    const [pa, pb] = [page(AccountScope.of([accounts[0]])), page(AccountScope.of([accounts[1]]))];
    expect(pa.sql).toBe(pb.sql); // same text: only the bound accounts differ
    const calls = [
      shared.query(pa.sql, pa.params, { days: pa.days }),
      shared.query(pa.sql, pa.params, { days: pa.days, label: 'another label' }),
      shared.query(pb.sql, pb.params, { days: pb.days }),
      shared.query(pa.sql, pa.params), // no window: another read
      shared.query(`SELECT ? AS v`, ['1']),
      shared.query(`SELECT ? AS v`, [1]),
    ];
    await settle();
    expect(held.executed).toBe(5);
    held.release();
    const [ra, ra2, rb, raAll, text, number] = await Promise.all(calls);
    expect(shared.stats).toEqual({ executed: 5, shared: 1 });
    expect(ra2.rows).toEqual(ra.rows);
    expect(new Set(ra.rows.map((r) => r.account))).toEqual(new Set([accounts[0]]));
    expect(new Set(rb.rows.map((r) => r.account))).toEqual(new Set([accounts[1]]));
    expect(raAll.rows.length).toBeGreaterThan(0);
    expect(text.rows).toEqual([{ v: '1' }]);
    expect(number.rows).toEqual([{ v: 1 }]);
    // Rows of their own: changing one caller's rows leaves the other's as they were.
    expect(ra2.rows).not.toBe(ra.rows);
    const before = JSON.stringify(ra2.rows);
    ra.rows[0].account = 'changed';
    ra.rows.pop();
    expect(JSON.stringify(ra2.rows)).toBe(before);
  });

  it('go on for the others when one caller gives up, and are cancelled when all have', async () => {
    const held = new HeldEngine(engine);
    const shared = new SharedExecutions(held, () => lakeHead(lake));
    const sql = `SELECT count(*) AS n FROM api_activity WHERE account <> ?`;
    const first = new AbortController();
    const second = new AbortController();
    const a = shared.query(sql, ['none'], { signal: first.signal });
    const b = shared.query(sql, ['none'], { signal: second.signal });
    await settle();
    expect(held.executed).toBe(1);
    first.abort();
    await expect(a).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(held.signals[0]?.aborted).toBe(false);
    held.release();
    const [row] = (await b).rows;
    expect(Number(row.n)).toBeGreaterThan(0);

    const c1 = new AbortController();
    const c2 = new AbortController();
    const c = shared.query(sql, ['nobody'], { signal: c1.signal });
    const d = shared.query(sql, ['nobody'], { signal: c2.signal });
    await settle();
    expect(held.executed).toBe(2);
    c1.abort();
    c2.abort();
    await expect(c).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    await expect(d).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(held.signals[1]?.aborted).toBe(true);
    // A caller after the cancellation gets an execution of its own, not the cancelled one.
    const e = shared.query(sql, ['nobody']);
    await settle();
    expect(held.executed).toBe(3);
    held.release();
    expect(Number((await e).rows[0].n)).toBeGreaterThan(0);
  });

  it('start anew after a commit moves HEAD (the later caller sees the commit), and share nothing without a version', async () => {
    const held = new HeldEngine(engine);
    const shared = new SharedExecutions(held, () => lakeHead(lake));
    const sql = `SELECT count(*) AS n, max(day) AS last FROM api_activity WHERE account <> ?`;
    const before = shared.query(sql, ['none']);
    await settle();
    const summary = await ingest({ inputs: laterObjects, lake });
    expect(summary.quarantined).toBe(0);
    const after = shared.query(sql, ['none']);
    await settle();
    expect(held.executed).toBe(2);
    held.hold = false;
    held.release();
    const [early, late] = await Promise.all([before, after]);
    expect(shared.stats).toEqual({ executed: 2, shared: 0 });
    const fresh = await DuckDbEngine.open({ lake, connections: 1 });
    try {
      expect(late.rows).toEqual((await fresh.query(sql, ['none'])).rows);
    } finally {
      await fresh.close();
    }
    expect(Number(late.rows[0].n)).toBeGreaterThanOrEqual(Number(early.rows[0].n));

    const unversioned = new SharedExecutions(engine, () => null);
    await Promise.all([unversioned.query(sql, ['none']), unversioned.query(sql, ['none'])]);
    expect(unversioned.stats).toEqual({ executed: 2, shared: 0 });
  });
});
