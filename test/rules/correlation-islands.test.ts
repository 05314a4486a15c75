/**
 * A correlation run on its own reports one hit per island of overlapping candidate windows, with
 * every member event of the island as evidence (the statement merges them in SQL; runRule's merge
 * then has nothing left to do). Checked on DuckDB and on the Athena-protocol server: bursts whose
 * windows overlap, touch, tie on a timestamp, and a sparse group that must not fire. And the
 * CloudTrail fields the lake keeps typed columns for (readOnly, userIdentity.type) are read from
 * them, not parsed out of every event's raw JSON.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { QueryEngine } from '../../src/engine/types';
import { compileDocuments } from '../../src/rules/compile';
import { parseRuleText } from '../../src/rules/load';
import type { CompiledRule } from '../../src/rules/model';
import { boundStatement, runRule } from '../../src/rules/run';
import { startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local';
import { ENGINES, FAST_ATHENA } from '../api/helpers';

const user = (name: string) => ({
  type: 'IAMUser',
  arn: `arn:aws:iam::123456789012:user/${name}`,
  accountId: '123456789012',
  accessKeyId: `AKIA${name.toUpperCase()}`,
  userName: name,
});

/** [event id, user, time (HH:MM:SS on 2024-05-01), denied?] */
const EVENTS: [string, string, string, boolean][] = [
  // Alice: five denied calls whose windows of three overlap (one island), a success inside it (not a member) …
  ['a1', 'Alice', '10:00:00', true],
  ['a2', 'Alice', '10:01:00', true],
  ['a3', 'Alice', '10:02:00', true],
  ['a-ok', 'Alice', '10:02:30', false],
  ['a4', 'Alice', '10:03:00', true],
  ['a5', 'Alice', '10:04:00', true],
  // … a second burst later (its own island) …
  ['a6', 'Alice', '10:20:00', true],
  ['a7', 'Alice', '10:21:00', true],
  ['a8', 'Alice', '10:22:00', true],
  // … whose last window touches the next one's start (closed windows that touch merge) …
  ['a9', 'Alice', '10:22:00', true],
  ['a10', 'Alice', '10:26:00', true],
  // … and three at one instant: a window of no length.
  ['a11', 'Alice', '10:40:00', true],
  ['a12', 'Alice', '10:40:00', true],
  ['a13', 'Alice', '10:40:00', true],
  // Bob: denied calls too far apart to make three in five minutes.
  ['b1', 'Bob', '10:00:00', true],
  ['b2', 'Bob', '10:04:00', true],
  ['b3', 'Bob', '10:09:30', true],
];

const RULE = `title: Call denied
id: denied
name: denied
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    errorCode: AccessDenied
  condition: selection
---
title: Three denied calls in five minutes
id: denied-burst
level: medium
correlation:
  type: event_count
  rules: [denied]
  group-by: [userIdentity.arn]
  timespan: 5m
  condition:
    gte: 3
`;

const BURST = 150;
const BURST_START = '2024-05-03T11:00:00Z';
/** Burst event i: ids count down as time goes on (c-149 first), so no order by id or hash is the time order. */
const burstId = (i: number) => `c-${String(BURST - 1 - i).padStart(3, '0')}`;

let root: string;
let athena: AthenaOverLake | undefined;
const engines: { name: string; engine: QueryEngine }[] = [];
let rule: CompiledRule;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-islands-'));
  const inputs = join(root, 'in');
  mkdirSync(inputs);
  const records = EVENTS.map(([id, name, time, denied]) => ({
    eventVersion: '1.08',
    userIdentity: user(name),
    eventTime: `2024-05-01T${time}Z`,
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    eventType: 'AwsApiCall',
    readOnly: id === 'a-ok' ? false : true,
    recipientAccountId: '123456789012',
    eventID: id,
    ...(denied ? { errorCode: 'AccessDenied', errorMessage: 'not authorized' } : {}),
  }));
  // Another day: Carol's burst of BURST denied calls, one a second, their ids in the reverse of time order.
  const burst = Array.from({ length: BURST }, (_, i) => ({
    ...records[0],
    userIdentity: user('Carol'),
    eventTime: new Date(Date.parse(BURST_START) + i * 1000).toISOString().replace('.000Z', 'Z'),
    eventID: burstId(i),
    errorCode: 'AccessDenied',
    errorMessage: 'not authorized',
  }));
  writeFileSync(join(inputs, 'trail.json'), JSON.stringify({ Records: [...records, ...burst] }));
  await ingest({ inputs: [inputs], lake: join(root, 'lake'), source: 'cloudtrail', workers: 1, graph: false });
  if (ENGINES.includes('duckdb')) engines.push({ name: 'duckdb', engine: await DuckDbEngine.open({ lake: join(root, 'lake') }) });
  if (ENGINES.includes('athena')) {
    athena = await startAthenaOverLake(join(root, 'lake'), { server: { queuedPolls: 0, runningPolls: 0 }, engine: FAST_ATHENA });
    engines.push({ name: 'athena', engine: athena.engine });
  }
  const { documents, problems } = parseRuleText('islands.yml', RULE);
  expect(problems).toEqual([]);
  const outcome = compileDocuments(documents);
  expect(outcome.problems).toEqual([]);
  rule = outcome.compiled.find((r) => r.meta.id === 'denied-burst')!;
}, 120_000);

afterAll(async () => {
  for (const { name, engine } of engines) if (name === 'duckdb') await engine.close();
  await athena?.close();
  rmSync(root, { recursive: true, force: true });
});

const WINDOW = { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-02T00:00:00Z') };
const at = (time: string) => new Date(`2024-05-01T${time}Z`).toISOString();

test.each(ENGINES)('one hit per island of overlapping windows, with all its events, on %s', async (name) => {
  const { engine } = engines.find((e) => e.name === name)!;
  const run = await runRule(engine, rule, WINDOW);
  expect(run.truncated).toBe(false);
  const hits = run.hits.map((h) => ({
    first: h.firstTime.toISOString(),
    last: h.lastTime.toISOString(),
    // As a set: DuckDB's array_distinct does not keep the order the evidence was aggregated in.
    evidence: [...h.evidence].sort(),
    count: h.eventCount,
    actor: h.actor,
  }));
  const alice = 'arn:aws:iam::123456789012:user/Alice';
  expect(hits).toEqual([
    { first: at('10:00:00'), last: at('10:04:00'), evidence: ['a1', 'a2', 'a3', 'a4', 'a5'], count: 5, actor: alice },
    { first: at('10:20:00'), last: at('10:26:00'), evidence: ['a10', 'a6', 'a7', 'a8', 'a9'], count: 5, actor: alice },
    { first: at('10:40:00'), last: at('10:40:00'), evidence: ['a11', 'a12', 'a13'], count: 3, actor: alice },
  ]);
});

test.each(ENGINES)('readOnly and userIdentity.type match on their columns, without the raw record, on %s', async (name) => {
  const { engine } = engines.find((e) => e.name === name)!;
  const text = `title: Write by a user
id: write
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    readOnly: false
    userIdentity.type: IAMUser
  condition: selection
`;
  const { documents } = parseRuleText('write.yml', text);
  const [write] = compileDocuments(documents).compiled;
  expect(boundStatement(write, WINDOW, 10).sql).not.toMatch(/\braw\b/);
  expect((await runRule(engine, write, WINDOW)).hits.map((h) => h.evidence)).toEqual([['a-ok']]);
});

test.each(ENGINES)('evidence is in time order, and a hit of more than 100 events keeps the first 100, on %s', async (name) => {
  const { engine } = engines.find((e) => e.name === name)!;
  const alice = (await runRule(engine, rule, WINDOW)).hits.map((h) => h.evidence);
  // Two events at one instant (a8, a9) go by id; a10 is last though it sorts first by id.
  expect(alice[1]).toEqual(['a6', 'a7', 'a8', 'a9', 'a10']);
  const run = await runRule(engine, rule, { from: new Date('2024-05-03T00:00:00Z'), to: new Date('2024-05-04T00:00:00Z') });
  expect(run.hits).toHaveLength(1);
  const [hit] = run.hits;
  expect(hit.eventCount).toBe(BURST);
  expect(hit.evidence).toEqual(Array.from({ length: 100 }, (_, i) => burstId(i)));
});
