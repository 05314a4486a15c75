/**
 * Many analysts on one server (issue #9): a light pivot (an identity's timeline, a graph lookup)
 * must not queue behind whole-window scans of other callers. Three things make that so, each
 * tested on the real DuckDB engine: which statements are heavy, the pool's lanes, and the engine
 * reading the lake's files listed once per commit (no folder listing per statement) while still
 * seeing every new commit.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { EnginePool } from '../../src/api/pool';
import { TABLE_NAMES } from '../../src/core/tables';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { eventsAggregate } from '../../src/queries/aggregate';
import { eventsCount, eventsPage, type EventsQuery } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';

const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-08T00:00:00Z') };
const query = (over: Partial<EventsQuery>): EventsQuery => ({
  pivot: 'none',
  keys: [],
  tables: [...TABLE_NAMES],
  conditions: {},
  window,
  after: null,
  limit: 50,
  descending: true,
  ...over,
});

describe('statement weight', () => {
  const scope = AccountScope.ALL;
  it('an entity timeline is light: its page and count read a few rows of sorted files', () => {
    const identity = query({ pivot: 'identity', keys: ['arn:aws:iam::111122223333:user/alice'] });
    const session = query({ conditions: { session: 'ASIAEXAMPLE' } });
    for (const q of [identity, session]) {
      expect(eventsPage(scope, q).weight).toBe('light');
      expect(eventsCount(scope, q).weight).toBe('light');
    }
  });

  it('a whole window with no entity, and any aggregate, is heavy', () => {
    const day = query({ conditions: { actions: { exact: ['getobject'], like: [] } } });
    expect(eventsPage(scope, day).weight).toBe('heavy');
    expect(eventsCount(scope, day).weight).toBe('heavy');
    const aggregate = eventsAggregate(scope, {
      events: day,
      groupBy: ['action'],
      bucket: null,
      distinct: [],
      order: 'count_desc',
      top: 10,
    });
    expect(aggregate.weight).toBe('heavy');
  });
});

describe('engine pool lanes', () => {
  let duck: DuckDbEngine;
  beforeAll(async () => {
    duck = await DuckDbEngine.open({ connections: 4 });
  });
  afterAll(() => duck.close());

  // Long enough to still be running when the light statement is sent, on any machine.
  const ROWS = 50_000_000;
  const scan = `SELECT count(*) AS n FROM range(${ROWS}) t(x) WHERE x % 7 = 3`;

  it('a light statement runs at once while heavy scans fill their lane and queue', async () => {
    const pool = new EnginePool(duck, { slots: 4, lightReserved: 2 });
    const heavy = Array.from({ length: 4 }, () => pool.query(scan, [], { weight: 'heavy', label: 'scan' }));
    expect(pool.active).toBe(2);
    expect(pool.waiting).toBe(2);
    const light = await pool.query<{ ok: number }>('SELECT 1 AS ok', [], { weight: 'light' });
    expect(light.rows).toEqual([{ ok: 1 }]);
    // The light answer came back while heavy scans were still queued: it did not wait for any of them.
    expect(pool.waiting).toBeGreaterThan(0);
    const counts = await Promise.all(heavy);
    expect(counts.map((r) => r.rows[0].n)).toEqual(Array(4).fill(Math.floor((ROWS - 4) / 7) + 1));
    expect(pool.active).toBe(0);
  }, 120_000);

  it('with no connection kept for light statements, the light one waits behind the heavy ones', async () => {
    const pool = new EnginePool(duck, { slots: 2, lightReserved: 0 });
    const heavy = Array.from({ length: 2 }, () => pool.query(scan, [], { weight: 'heavy' }));
    const light = pool.query('SELECT 1 AS ok', [], { weight: 'light' });
    expect(pool.waiting).toBe(1);
    await light;
    await Promise.all(heavy);
  }, 120_000);
});

describe('lake files listed once per commit', () => {
  const golden = join(__dirname, '..', '..', 'etl', 'sources', 'cloudtrail', 'golden');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scoutql-listed-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const inputOf = (name: string) => {
    const folder = join(dir, `in-${name}`);
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(golden, name), join(folder, name));
    return folder;
  };

  it('views read listed files, and a new commit is seen by the next statement', async () => {
    const lake = join(dir, 'lake');
    await ingest({ inputs: [inputOf('sts-assume-role.json')], lake, geoip: false });
    const engine = await DuckDbEngine.open({ lake });
    try {
      const count = async () => (await engine.query<{ n: number }>('SELECT count(*) AS n FROM api_activity')).rows[0].n;
      const first = await count();
      expect(first).toBeGreaterThan(0);
      // The view names files, not a glob DuckDB would re-list on every statement.
      const view = await engine.query<{ sql: string }>("SELECT sql FROM duckdb_views() WHERE view_name = 'api_activity'");
      expect(view.rows[0].sql).toContain('.parquet');
      expect(view.rows[0].sql).not.toContain('part-*');

      await ingest({ inputs: [inputOf('resource-events.json')], lake, geoip: false });
      expect(await count()).toBeGreaterThan(first);
    } finally {
      await engine.close();
    }
  }, 180_000);
});
