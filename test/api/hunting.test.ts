/**
 * A hunter's questions that used to need paging every event out, or answered a silent zero: counts
 * and time buckets pushed down to the engine (a burst, a spray, a rare action), filters by pattern,
 * plain name and range, clear errors for malformed values, and the lake's own map. Expected values
 * are computed from the story's rows (test/api/fixtures/story.ts), on DuckDB and on Athena alike.
 */
import { isIP } from 'node:net';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import type { TableName } from '../../src/core/tables';
import { ADMIN_ROLE, ALICE, BOB, BRUTE_IP, CAROL, WINDOW, storyRows, writeStoryLake } from './fixtures/story';
import { writeTable, type FixtureRow } from './fixtures/lake';
import { materializeGraph } from '../../etl/graph';

const lake = lakeForFile(writeStoryLake);

/** Every row of the story, with its table. */
const ROWS: (FixtureRow & { table: TableName })[] = Object.entries(storyRows()).flatMap(([table, rows]) =>
  rows.map((row) => ({ ...row, table: table as TableName })),
);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const ipv4 = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inSlash24 = (address: unknown, prefix: string) =>
  typeof address === 'string' && isIP(address) === 4 && ipv4(address) >>> 8 === ipv4(`${prefix}.0`) >>> 8;

const EVENTS = `query($w: TimeWindow!, $f: EventFilter) { events(filter: $f, window: $w) { totalCount } }`;

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });
  const count = async (f: Record<string, unknown>) => (await t.data(EVENTS, { w: WINDOW, f })).events.totalCount as number;
  const errorOf = async (document: string, variables: Record<string, unknown> = {}) => {
    const r = await t.gql(document, { w: WINDOW, ...variables });
    expect(r.errors?.length).toBe(1);
    return r.errors![0];
  };

  test('a burst: sign-ins per address and minute, with the distinct users tried, in one engine statement', async () => {
    const logins = ROWS.filter((r) => r.activity === 'ConsoleLogin' && r.src_ip === BRUTE_IP);
    const r = await t.gql(
      `query($w: TimeWindow!) { events(filter: { action: "consolelogin" }, window: $w) {
        aggregate(groupBy: [SOURCE_IP], bucket: MINUTE, distinct: [ACTOR], top: 5) {
          totalEvents totalGroups groups { bucket sourceIp count firstSeen lastSeen distinct { dimension count } }
        } } }`,
      { w: WINDOW },
    );
    expect(r.errors).toBeUndefined();
    const agg = (r.data as any).events.aggregate;
    expect(agg.totalEvents).toBe(logins.length);
    expect(agg.groups).toEqual([
      {
        bucket: '2026-03-02T03:00:00.000Z',
        sourceIp: BRUTE_IP,
        count: logins.length,
        firstSeen: '2026-03-02T03:00:00.000Z',
        lastSeen: '2026-03-02T03:00:14.000Z',
        distinct: [{ dimension: 'ACTOR', count: new Set(logins.map((l) => l.actor_id)).size }],
      },
    ]);
    // Pushed down: the aggregate is one statement, not pages of events pulled into Node.
    expect((r.extensions?.stats as any).queries).toBe(1);
  });

  test('a spray: failed sign-ins grouped by the user tried, busiest first, ties by name', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) { events(filter: { outcome: FAILURE, action: "ConsoleLogin" }, window: $w) {
        aggregate(groupBy: [ACTOR], orderBy: COUNT_DESC) { totalEvents totalGroups groups { actor count } } } }`,
      { w: WINDOW },
    );
    expect(data.events.aggregate).toEqual({
      totalEvents: 3,
      totalGroups: 3,
      groups: [ALICE, BOB, CAROL].sort().map((actor) => ({ actor, count: 1 })),
    });
  });

  test("a rare action: an identity's actions, rarest first, and its activity per hour", async () => {
    const own = ROWS.filter((r) => r.actor_id === ADMIN_ROLE);
    const actions = new Map<string, number>();
    for (const r of own) actions.set(str(r.activity)!, (actions.get(str(r.activity)!) ?? 0) + 1);
    const data = await t.data(
      `query($w: TimeWindow!) { identity(id: "${ADMIN_ROLE}", window: $w) {
        events { aggregate(groupBy: [ACTION], orderBy: COUNT_ASC, top: 2) { totalEvents totalGroups groups { action count } } }
        activity(bucket: HOUR) { start count }
      } }`,
      { w: WINDOW },
    );
    const expected = [...actions].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    expect(data.identity.events.aggregate).toEqual({
      totalEvents: own.length,
      totalGroups: actions.size,
      groups: expected.slice(0, 2).map(([action, n]) => ({ action, count: n })),
    });
    const hours = new Map<string, number>();
    for (const r of own) {
      const hour = new Date(Math.floor(r.time.getTime() / 3_600_000) * 3_600_000).toISOString();
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
    }
    expect(data.identity.activity).toEqual([...hours].sort().map(([start, n]) => ({ start, count: n })));
  });

  test('filters that used to answer a silent zero: patterns, any case, plain user names, CIDR ranges, text', async () => {
    const deletes = ROWS.filter((r) => str(r.activity)?.startsWith('Delete')).length;
    expect(deletes).toBeGreaterThan(1);
    expect(await count({ action: 'Delete*' })).toBe(deletes);
    expect(await count({ action: 'deletetrail' })).toBe(ROWS.filter((r) => r.activity === 'DeleteTrail').length);
    expect(await count({ actions: ['DeleteTrail', 'deletebucket'] })).toBe(
      ROWS.filter((r) => r.activity === 'DeleteTrail' || r.activity === 'DeleteBucket').length,
    );
    // A user by its plain name finds what its full ARN finds.
    const bobs = ROWS.filter((r) => r.actor_id === BOB).length;
    expect(bobs).toBeGreaterThan(0);
    expect(await count({ identity: BOB })).toBe(bobs);
    expect(await count({ identity: 'bob' })).toBe(bobs);
    const inRange = ROWS.filter((r) => inSlash24(r.src_ip, '192.0.2') || inSlash24(r.dst_ip, '192.0.2')).length;
    expect(inRange).toBeGreaterThan(1);
    expect(await count({ ip: '192.0.2.0/24' })).toBe(inRange);
    expect(await count({ hasError: true })).toBe(ROWS.filter((r) => r.error_code != null).length);
    expect(await count({ errorCode: 'accessdenied*' })).toBe(ROWS.filter((r) => str(r.error_code)?.startsWith('AccessDenied')).length);
    expect(await count({ text: 'BOB-MAINT' })).toBe(
      ROWS.filter((r) => [r.request_parameters, r.user_agent, r.url].some((v) => str(v)?.toLowerCase().includes('bob-maint'))).length,
    );
    expect(await count({ service: 'sts' })).toBe(ROWS.filter((r) => r.service === 'sts.amazonaws.com').length);
  });

  test('malformed values are BAD_USER_INPUT naming the argument; what the lake does not know is said in extensions.notFound', async () => {
    for (const address of ['999.1.1.1', 'not-an-ip']) {
      const error = await errorOf(`query($w: TimeWindow!) { ip(address: "${address}", window: $w) { address } }`);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/^address is not an IP address/);
    }
    for (const [f, argument] of [
      [{ ip: '10.0.0.0/33' }, 'filter.ip'],
      [{ action: '*' }, 'filter.action'],
      [{ action: 'Delete Trail' }, 'filter.action'],
      [{ identity: 'arn:aws' }, 'filter.identity'],
    ] as const) {
      const error = await errorOf(EVENTS, { f });
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message.startsWith(argument)).toBe(true);
    }
    const r = await t.gql(`query($w: TimeWindow!) { identity(id: "nobody-here", window: $w) { identityId } }`, { w: WINDOW });
    expect(r.errors).toBeUndefined();
    expect((r.data as any).identity).toBeNull();
    expect((r.extensions as any).notFound).toEqual([
      expect.objectContaining({
        field: 'identity',
        value: 'nobody-here',
        window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' },
      }),
    ]);
  });

  test('the lake says what it holds: sources with their accounts and records, its time range, and its coverage per day', async () => {
    const bySource = new Map<string, { records: Set<string>; accounts: Set<string> }>();
    for (const r of ROWS) {
      const entry = bySource.get(str(r.source)!) ?? { records: new Set(), accounts: new Set() };
      entry.records.add(`${str(r.event_id)}`);
      entry.accounts.add(str(r.account)!);
      bySource.set(str(r.source)!, entry);
    }
    const times = ROWS.map((r) => r.time.getTime());
    const data = await t.data(
      `query($w: TimeWindow!) { lake {
        timeRange { from to }
        sources { source accounts records }
        coverage(window: $w, bucket: DAY) { buckets series { source account records counts } }
      } }`,
      { w: WINDOW },
    );
    expect(data.lake.timeRange).toEqual({
      from: new Date(Math.min(...times)).toISOString(),
      to: new Date(Math.max(...times)).toISOString(),
    });
    expect(data.lake.sources).toEqual(
      [...bySource]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([source, e]) => ({ source, accounts: [...e.accounts].sort(), records: e.records.size })),
    );
    expect(data.lake.coverage.buckets).toHaveLength(7);
    // Each series' days add up to its records, and all of them to the lake's.
    for (const s of data.lake.coverage.series) expect(s.counts.reduce((a: number, b: number) => a + b, 0)).toBe(s.records);
    expect(data.lake.coverage.series.reduce((a: number, s: any) => a + s.records, 0)).toBe(
      data.lake.sources.reduce((a: number, s: any) => a + s.records, 0),
    );
  });
  /** The story's records per series (source, account, region) and bucket, each record once, counted here from the rows. */
  const expectedCoverage = (from: string, to: string, sizeMs: number) => {
    const [start, end] = [Date.parse(from), Date.parse(to)];
    const buckets: string[] = [];
    for (let b = Math.floor(start / sizeMs) * sizeMs; b < end; b += sizeMs) buckets.push(new Date(b).toISOString());
    const seen = new Set<string>();
    const series = new Map<string, { source: string; account: string; region: string; counts: number[] }>();
    for (const r of ROWS) {
      const time = r.time.getTime();
      const record = `${str(r.source)}|${str(r.event_id)}`;
      if (time < start || time >= end || seen.has(record)) continue;
      seen.add(record);
      const key = `${str(r.source)}|${str(r.account)}|${str(r.region)}`;
      const entry = series.get(key) ?? {
        source: str(r.source)!,
        account: str(r.account)!,
        region: str(r.region)!,
        counts: buckets.map(() => 0),
      };
      entry.counts[buckets.indexOf(new Date(Math.floor(time / sizeMs) * sizeMs).toISOString())] += 1;
      series.set(key, entry);
    }
    const silentBetween = (counts: number[]) => {
      const used = counts.flatMap((n, i) => (n > 0 ? [i] : []));
      return used.length === 0 ? 0 : counts.slice(used[0], used.at(-1)! + 1).filter((n) => n === 0).length;
    };
    return {
      buckets,
      series: [...series.values()]
        .map((s) => ({ ...s, records: s.counts.reduce((a, b) => a + b, 0), silentBuckets: silentBetween(s.counts) }))
        .sort((a, b) => `${a.source}|${a.account}|${a.region}`.localeCompare(`${b.source}|${b.account}|${b.region}`)),
    };
  };
  const COVERAGE = `query($w: TimeWindow!, $b: TimeBucket!, $source: String) { lake { coverage(window: $w, bucket: $b, source: $source) {
    bucket buckets series { source account region records counts silentBuckets } } } }`;
  const coverageOf = async (w: { from: string; to: string }, b: string, source?: string) => {
    const c = (await t.data(COVERAGE, { w, b, source })).lake.coverage;
    return {
      ...c,
      series: [...c.series].sort((x: any, y: any) =>
        `${x.source}|${x.account}|${x.region}`.localeCompare(`${y.source}|${y.account}|${y.region}`),
      ),
    };
  };

  test('coverage per minute: the brute force and the role chain minute by minute, with the silent minutes between records counted', async () => {
    const w = { from: '2026-03-02T03:00:00.000Z', to: '2026-03-02T03:30:00.000Z' };
    const expected = expectedCoverage(w.from, w.to, 60_000);
    // The window holds records of more than one series, and silent minutes between them.
    expect(expected.series.some((s) => s.silentBuckets > 0)).toBe(true);
    expect(await coverageOf(w, 'MINUTE')).toEqual({ bucket: 'MINUTE', ...expected });
    // One source asked for: only its series.
    const cloudtrail = await coverageOf(w, 'MINUTE', 'cloudtrail');
    expect(cloudtrail.series).toEqual(expected.series.filter((s) => s.source === 'cloudtrail'));
  });

  test('coverage per hour over two days: whole hours, zeros where a series falls silent, silentBuckets between its first and last record', async () => {
    const w = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z' };
    const expected = expectedCoverage(w.from, w.to, 3_600_000);
    expect(expected.buckets).toHaveLength(48);
    expect(expected.series.some((s) => s.silentBuckets > 0)).toBe(true);
    expect(await coverageOf(w, 'HOUR')).toEqual({ bucket: 'HOUR', ...expected });
    // A window that starts inside an hour counts that hour whole (the coverage table's unit is the hour).
    const inside = await coverageOf({ from: '2026-03-02T03:30:00.000Z', to: '2026-03-02T04:00:00.000Z' }, 'HOUR');
    expect(inside).toEqual({ bucket: 'HOUR', ...expectedCoverage('2026-03-02T03:00:00.000Z', '2026-03-02T04:00:00.000Z', 3_600_000) });
  });

  test("the default window: the server days ending with the day of the lake's last record, used by lookups given no window", async () => {
    const last = Math.max(...ROWS.map((r) => r.time.getTime()));
    const end = Math.floor(last / 86_400_000) * 86_400_000 + 86_400_000;
    const expected = { from: new Date(end - 7 * 86_400_000).toISOString(), to: new Date(end).toISOString() };
    const data = await t.data(`{ lake { defaultWindow { from to } } }`);
    expect(data.lake.defaultWindow).toEqual(expected);
    // A lookup without a window answers as the same lookup over the default window.
    const LOOKUP = `query($w: TimeWindow) { ip(address: "${BRUTE_IP}", window: $w) { eventCount identities { totalCount } } }`;
    const windowless = await t.data(LOOKUP, {});
    expect(windowless).toEqual(await t.data(LOOKUP, { w: expected }));
    // The story lies inside the default window: the windowless lookup finds all of it.
    expect(windowless).toEqual(await t.data(LOOKUP, { w: WINDOW }));
    expect(windowless.ip.eventCount).toBeGreaterThanOrEqual(ROWS.filter((r) => r.src_ip === BRUTE_IP).length);
  });
});

/** The story plus one record dated 9999, kept at ingest (as --keep-outlier-times keeps it). */
const outlierLake = lakeForFile(async (dir) => {
  await writeStoryLake(dir);
  const { table: _table, ...first } = ROWS.find((r) => r.table === 'api_activity')!;
  const outlier: FixtureRow = {
    ...first,
    time: new Date('9999-01-01T00:00:00Z'),
    event_id: 'evt-from-the-future',
  };
  await writeTable(dir, 'api_activity', [outlier]);
  await materializeGraph({ lake: dir, days: ['9999-01-01'] });
});

describe.each(ENGINES)('a record dated 9999, on %s', (engine) => {
  const api = apiForDescribe(outlierLake, engine);

  test('does not move the default window off the real data; the time range still shows it', async () => {
    const t = api();
    const last = Math.max(...ROWS.map((r) => r.time.getTime()));
    const end = Math.floor(last / 86_400_000) * 86_400_000 + 86_400_000;
    const data = await t.data(
      `query($w: TimeWindow) { lake { timeRange { to } defaultWindow { from to } } ip(address: "${BRUTE_IP}") { eventCount } inStory: ip(address: "${BRUTE_IP}", window: $w) { eventCount } }`,
      { w: WINDOW },
    );
    expect(data.lake.defaultWindow).toEqual({ from: new Date(end - 7 * 86_400_000).toISOString(), to: new Date(end).toISOString() });
    // The time range shows the outlier, so it can be found and removed. (Athena's catalog projects
    // day partitions up to today only: there the record is out of every table, the range included.)
    expect(data.lake.timeRange.to).toBe(
      engine === 'duckdb' ? '9999-01-01T00:00:00.000Z' : new Date(Math.max(...ROWS.map((r) => r.time.getTime()))).toISOString(),
    );
    // Lookups without a window still find the real records.
    expect(data.ip.eventCount).toBeGreaterThan(0);
    expect(data.ip.eventCount).toBe(data.inStory.eventCount);
  });
});
