/**
 * Graph materialization: per-day entities and edges, published atomically, recomputed
 * idempotently, written in SQL Athena accepts as well.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  GRAPH_EDGES_SQL,
  GRAPH_ENTITIES_SQL,
  GRAPH_EVENTS_SQL,
  GRAPH_ISSUED_SQL,
  graphSqlForAthena,
  materializeGraph,
} from '../../etl/graph';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import { findDialectViolation, startAthenaOverLake } from '../../testkit/athena-local';
import { days, tempLake, writeTable } from '../api/fixtures/lake';
import { ADMIN_KEY, BOB, BOB_CONSOLE_KEY, DEVOPS_KEY, DEVOPS_ROLE, storyRows, writeStoryLake } from '../api/fixtures/story';

let lake: string;
let engine: DuckDbEngine;

beforeAll(async () => {
  lake = tempLake();
  await writeStoryLake(lake);
  engine = await DuckDbEngine.open({ lake });
});
afterAll(async () => {
  await engine?.close();
  rmSync(lake, { recursive: true, force: true });
});

const entity = async (type: string, id: string) =>
  (await engine.query(`SELECT * FROM graph_entities WHERE type = ? AND id = ? ORDER BY day`, [type, id])).rows;

test('one partition per day with events, each published as part-0.parquet and no temp file left behind', () => {
  const all = Object.values(storyRows()).flat();
  expect(graphDays(lake)).toEqual(days(all).sort());
  for (const kind of ['entities', 'edges']) {
    for (const day of graphDays(lake)) {
      expect(readdirSync(join(lake, 'graph', kind, `day=${day}`))).toEqual(['part-0.parquet']);
    }
  }
});

test('sessions carry who issued them, from where, with which parent: also when used on a later day', async () => {
  const [issuedDay, usedDay] = await entity('Session', ADMIN_KEY);
  const issued = JSON.parse(issuedDay.attrs as string);
  expect(issued).toMatchObject({
    issued: true,
    issuer_identity: DEVOPS_ROLE,
    issuer_session: DEVOPS_KEY,
    issued_by_action: 'AssumeRole',
    issuer_mfa: false,
  });
  expect(issuedDay.event_count).toBe(0); // issued, not yet used that day
  expect(JSON.parse(usedDay.attrs as string)).toMatchObject({ issued: false });
  expect(usedDay.event_count).toBe(storyRows().api_activity.filter((r) => r.session_id === ADMIN_KEY).length);
  const parents = await engine.query(`SELECT dst_id FROM graph_edges WHERE src_type = 'Session' AND rel = 'issued_by' ORDER BY src_id`);
  expect(parents.rows.map((r) => r.dst_id)).toEqual([DEVOPS_KEY, BOB_CONSOLE_KEY]);
});

test('edges aggregate per day: first seen, last seen and counts match the events', async () => {
  const logins = storyRows().authentication.filter((r) => r.actor_id === BOB);
  const { rows } = await engine.query(
    `SELECT first_seen, last_seen, event_count FROM graph_edges WHERE src_id = ? AND rel = 'from_ip' AND day = DATE '2026-03-02'`,
    [BOB],
  );
  const bobRows = [...logins, ...storyRows().api_activity.filter((r) => r.actor_id === BOB)];
  expect(rows).toEqual([
    {
      first_seen: new Date(Math.min(...bobRows.map((r) => r.time.getTime()))),
      last_seen: new Date(Math.max(...bobRows.map((r) => r.time.getTime()))),
      event_count: bobRows.length,
    },
  ]);
});

test('IP addresses are typed private or public; service host names are not IPs', async () => {
  const lake2 = tempLake();
  try {
    const base = {
      source: 'cloudtrail',
      account: '111122223333',
      region: 'us-east-1',
      time: new Date('2026-04-01T00:00:00Z'),
      class_uid: 6003,
      activity: 'X',
      outcome: 'success',
      actor_id: 'service:ec2.amazonaws.com',
    };
    const ips = [
      '10.1.2.3',
      '172.16.0.1',
      '172.32.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '8.8.8.8',
      'fd00::1',
      '2001:db8::1',
      'ec2.amazonaws.com',
    ];
    await writeTable(
      lake2,
      'api_activity',
      ips.map((ip, i) => ({ ...base, event_id: `e${i}`, src_ip: ip })),
    );
    await materializeGraph({ lake: lake2, days: ['2026-04-01'] });
    const e2 = await DuckDbEngine.open({ lake: lake2 });
    const { rows } = await e2.query(`SELECT id, kind FROM graph_entities WHERE type = 'IPAddress' ORDER BY id`);
    await e2.close();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.kind]))).toEqual({
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.32.0.1': 'public',
      '192.168.1.1': 'private',
      '100.64.0.1': 'private',
      '8.8.8.8': 'public',
      'fd00::1': 'private',
      '2001:db8::1': 'public',
    });
  } finally {
    rmSync(lake2, { recursive: true, force: true });
  }
});

test('re-running a day gives the same graph; a day with no events publishes empty tables', async () => {
  const before = (await engine.query(`SELECT * FROM graph_edges ORDER BY ALL`)).rows;
  await materializeGraph({ lake, days: ['2026-03-02', '2026-03-02', '2026-03-09'] });
  const after = (await engine.query(`SELECT * FROM graph_edges ORDER BY ALL`)).rows;
  expect(after).toEqual(before);
  expect(existsSync(join(lake, 'graph', 'edges', 'day=2026-03-09', 'part-0.parquet'))).toBe(true);
  expect((await engine.query(`SELECT count(*) AS n FROM graph_entities WHERE day = DATE '2026-03-09'`)).rows[0].n).toBe(0);
  await expect(materializeGraph({ lake, days: ['2026-3-2'] })).rejects.toThrow(/bad day/);
  rmSync(join(lake, 'graph', 'edges', 'day=2026-03-09'), { recursive: true });
  rmSync(join(lake, 'graph', 'entities', 'day=2026-03-09'), { recursive: true });
});

test('the graph SQL is Athena (Trino) SQL: no DuckDB-only forms, and Athena computes the same entities', async () => {
  for (const sql of [GRAPH_EVENTS_SQL, GRAPH_ISSUED_SQL, GRAPH_ENTITIES_SQL, GRAPH_EDGES_SQL]) expect(findDialectViolation(sql)).toBeNull();
  const athena = await startAthenaOverLake(lake);
  try {
    const { entities, edges, paramsPerDay } = graphSqlForAthena();
    const day = '2026-03-02';
    const params = Array.from({ length: paramsPerDay }, () => day);
    const fromAthena = (await athena.engine.query(entities, params)).rows;
    const published = (
      await engine.query(
        `SELECT type, id, kind, provider, account, name, arn, first_seen, last_seen, event_count, attrs FROM graph_entities WHERE day = DATE '2026-03-02' ORDER BY type, id`,
      )
    ).rows;
    expect(fromAthena).toEqual(published);
    const edgeCount = (await athena.engine.query(`SELECT count(*) AS n FROM (${edges}) e`, params)).rows[0].n;
    expect(edgeCount).toBe((await engine.query(`SELECT count(*) AS n FROM graph_edges WHERE day = DATE '2026-03-02'`)).rows[0].n);
  } finally {
    await athena.close();
  }
});

test('views: an empty table is a typed empty view, and files arriving later are picked up', async () => {
  const lake3 = tempLake();
  const e3 = await DuckDbEngine.open({ lake: lake3 });
  try {
    expect((await e3.query(`SELECT count(*) AS n FROM dns_activity`)).rows[0].n).toBe(0);
    expect(
      (
        await e3.query(
          `SELECT typeof(account) AS a, typeof(day) AS d, typeof(answers) AS l FROM dns_activity UNION ALL SELECT 'VARCHAR', 'DATE', 'VARCHAR[]' LIMIT 1`,
        )
      ).rows[0],
    ).toEqual({ a: 'VARCHAR', d: 'DATE', l: 'VARCHAR[]' });
    await writeTable(lake3, 'dns_activity', [
      {
        source: 'route53resolver',
        account: '000000000042',
        region: 'us-east-1',
        time: new Date('2026-04-02T00:00:00Z'),
        event_id: 'd1',
        query_name: 'example.com',
        answers: ['192.0.2.1'],
      },
    ]);
    const { rows } = await e3.query(`SELECT account, query_name, answers, day FROM dns_activity`);
    expect(rows).toEqual([
      { account: '000000000042', query_name: 'example.com', answers: ['192.0.2.1'], day: new Date('2026-04-02T00:00:00Z') },
    ]);
  } finally {
    await e3.close();
    rmSync(lake3, { recursive: true, force: true });
  }
});
