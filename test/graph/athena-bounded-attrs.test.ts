/**
 * List attributes are bounded the same on both graph paths (issue #14): the full-day SQL Athena runs
 * (graphSqlForAthena, here on the local Athena server) keeps an identity's first GRAPH_ATTR_VALUES
 * names in sort order, as the DuckDB graph step's mergeable state does, so both give the same entities.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRAPH_ATTR_VALUES, graphSqlForAthena } from '../../etl/graph';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { startAthenaOverLake } from '../../testkit/athena-local';
import { cloudTrailRecord, tempDir } from '../etl/helpers';

const SHARED = 'arn:aws:iam::123456789012:user/shared';
const NAMES = GRAPH_ATTR_VALUES + 50;

let lake: string;
let engine: DuckDbEngine;

beforeAll(async () => {
  const input = tempDir('bounded-attrs-input');
  const folder = join(input, 'AWSLogs', '123456789012', 'CloudTrail', 'us-east-2', '2024', '03', '01');
  mkdirSync(folder, { recursive: true });
  // One identity under more names in a day than the bound (a federated principal, a renamed user…); all on 2024-03-01.
  const records = Array.from({ length: NAMES }, (_, j) =>
    cloudTrailRecord(3 * j, {
      userIdentity: { type: 'IAMUser', arn: SHARED, accountId: '123456789012', userName: `n${String(NAMES - j).padStart(3, '0')}` },
    }),
  );
  writeFileSync(join(folder, 'trail.json'), JSON.stringify({ Records: records }));
  lake = tempDir('bounded-attrs-lake');
  await ingest({ inputs: [input], lake, workers: 1 });
  engine = await DuckDbEngine.open({ lake });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(lake, { recursive: true, force: true });
});

test('an identity with more names than the bound: both paths keep the first 100 in sort order, and agree', async () => {
  const published = (
    await engine.query(
      `SELECT type, id, kind, provider, account, name, arn, first_seen, last_seen, event_count, attrs FROM graph_entities WHERE day = DATE '2024-03-01' ORDER BY type, id`,
    )
  ).rows;
  const shared = published.find((r) => r.type === 'Identity' && r.id === SHARED);
  const expected = Array.from({ length: NAMES }, (_, j) => `n${String(j + 1).padStart(3, '0')}`).slice(0, GRAPH_ATTR_VALUES);
  expect(JSON.parse(shared!.attrs as string).names).toEqual(expected);

  const athena = await startAthenaOverLake(lake);
  try {
    const { entities, paramsPerDay } = graphSqlForAthena();
    const fromAthena = (
      await athena.engine.query(
        entities,
        Array.from({ length: paramsPerDay }, () => '2024-03-01'),
      )
    ).rows;
    expect(fromAthena).toEqual(published);
  } finally {
    await athena.close();
  }
}, 120_000);
