/**
 * An S3 lake queried by the Athena engine (local Athena server reading the local S3 server, the
 * catalog DDL from src/catalog) answers exactly as DuckDB does over the same data ingested into a
 * local lake.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { applyCatalog, catalogStatements } from '../../src/catalog';
import { type AthenaEngine } from '../../src/engine/athena';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { QueryEngine, SqlRow } from '../../src/engine/types';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { localEngine } from '../athena/helpers';
import { cloudTrailRecord, tempDir } from '../etl/helpers';
import { cloudTrailInputs, envelope, startS3Env, type S3Env } from './helpers';

const LAKE = 's3://athena-lake/prod/lake';

let s3env: S3Env;
let athenaServer: AthenaLocalServer;
let athena: AthenaEngine;
let duck: DuckDbEngine;

beforeAll(async () => {
  s3env = await startS3Env(['athena-lake', 'scoutql-results']);
  const input = cloudTrailInputs();
  // A second account in another region, so the enum projections have more than one value to find.
  writeFileSync(
    join(input, 'other-account.json'),
    envelope(
      Array.from({ length: 7 }, (_, i) => cloudTrailRecord(600 + i, { recipientAccountId: '210987654321', awsRegion: 'eu-west-1' })),
    ),
  );
  const localLake = tempDir('athena-s3-local');
  await ingest({ inputs: [input], lake: LAKE });
  await ingest({ inputs: [input], lake: localLake });

  athenaServer = await startAthenaLocal({ s3Client: s3env.s3.client });
  const admin = localEngine(athenaServer.endpoint);
  await applyCatalog(admin, catalogStatements({ lake: LAKE, database: 'scoutql', accounts: ['123456789012', '210987654321'] }));
  await admin.close();
  athena = localEngine(athenaServer.endpoint, { database: 'scoutql' });
  duck = await DuckDbEngine.open({ lake: localLake });
});

afterAll(async () => {
  await athena?.close();
  await duck?.close();
  await athenaServer?.close();
  await s3env?.close();
});

/** Rows as plain JSON (dates as ISO text, numbers as numbers), so both engines' answers compare. */
async function answer(engine: QueryEngine, sql: string, params: unknown[] = []): Promise<unknown[]> {
  const { rows } = await engine.query<SqlRow>(sql, params as never);
  return JSON.parse(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}

test('event counts per account, region, day and identity agree', async () => {
  const sql = `SELECT account, region, CAST(day AS VARCHAR) AS day, actor_id, count(*) AS n, min(time) AS first_seen
    FROM api_activity WHERE day BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'
    GROUP BY account, region, day, actor_id ORDER BY account, region, day, actor_id`;
  const fromAthena = await answer(athena, sql);
  expect(fromAthena.length).toBeGreaterThan(5);
  expect(fromAthena).toEqual(await answer(duck, sql));
  expect(fromAthena.some((r) => (r as { account: string }).account === '210987654321')).toBe(true);
});

test('a pivot by parameter reads the same rows, and the graph tables match', async () => {
  const events = `SELECT event_id, activity, src_ip, resources FROM api_activity
    WHERE day BETWEEN DATE '2024-03-01' AND DATE '2024-03-31' AND actor_id = ? ORDER BY event_id`;
  const actor = 'arn:aws:iam::123456789012:user/Alice3';
  const fromAthena = await answer(athena, events, [actor]);
  expect(fromAthena.length).toBeGreaterThan(0);
  expect(fromAthena).toEqual(await answer(duck, events, [actor]));

  const graph = `SELECT CAST(day AS VARCHAR) AS day, type, count(*) AS n, sum(event_count) AS events
    FROM graph_entities WHERE day BETWEEN DATE '2024-03-01' AND DATE '2024-03-31' GROUP BY day, type ORDER BY day, type`;
  const graphFromAthena = await answer(athena, graph);
  expect(graphFromAthena.length).toBeGreaterThan(3);
  expect(graphFromAthena).toEqual(await answer(duck, graph));
});
