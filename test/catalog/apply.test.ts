/**
 * The catalog DDL applied through the Athena engine (real SDK) to the local Athena server, then
 * queried over a small Parquet lake written by DuckDB in the ETL's layout: on a local folder and
 * on the local S3 server (s3rver).
 */
import { rmSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { applyCatalog, catalogStatements, discoverPartitionValues } from '../../src/catalog';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { startS3Local, type S3Local } from '../../testkit/s3-local';
import { EngineError } from '../../src/engine/types';
import { localEngine, tempDir, writeLakeTable, type LakeRow } from '../athena/helpers';

const ALICE = 'arn:aws:iam::111122223333:user/alice';
const BOB = 'arn:aws:iam::444455556666:role/Deploy';
const ROWS: LakeRow[] = [
  {
    time: '2024-05-01 10:00:00',
    actor_id: ALICE,
    activity: 'ListBuckets',
    src_ip: '198.51.100.7',
    resources: [],
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
  },
  {
    time: '2024-05-01 11:30:00',
    actor_id: ALICE,
    activity: 'GetObject',
    src_ip: '198.51.100.7',
    resources: ['arn:aws:s3:::finance', 'arn:aws:s3:::finance/q1.xlsx'],
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
  },
  {
    time: '2024-05-02 09:15:00',
    actor_id: BOB,
    activity: 'AssumeRole',
    src_ip: '203.0.113.9',
    resources: ['arn:aws:iam::444455556666:role/Deploy'],
    source: 'cloudtrail',
    account: '444455556666',
    region: 'eu-west-1',
  },
  {
    time: '2024-05-02 23:59:59',
    actor_id: BOB,
    activity: 'ConsoleLogin',
    src_ip: '203.0.113.9',
    resources: [],
    source: 'cloudtrail',
    account: '444455556666',
    region: 'global',
  },
];

let lake: string;
beforeAll(async () => {
  lake = tempDir('catalog-lake');
  await writeLakeTable(lake, 'api_activity', ROWS);
});
afterAll(() => rmSync(lake, { recursive: true, force: true }));

/** The checks every lake location must pass once the DDL is applied. */
async function queryTheLake(server: AthenaLocalServer, lakeUri: string): Promise<void> {
  const { accounts, regions } = discoverPartitionValues(lake);
  expect(accounts).toEqual(['111122223333', '444455556666']);
  const admin = localEngine(server.endpoint);
  const applied = await applyCatalog(admin, catalogStatements({ lake: lakeUri, database: 'scoutql', accounts, extraRegions: regions }));
  expect(applied.map((a) => a.name)).toContain('graph_edges');
  await admin.close();

  const engine = localEngine(server.endpoint, { database: 'scoutql' });
  const perDay = await engine.query(
    'SELECT day, account, count(*) AS events FROM api_activity WHERE day BETWEEN ? AND ? GROUP BY day, account ORDER BY day, account',
    [new Date('2024-05-01T00:00:00Z'), new Date('2024-05-02T00:00:00Z')],
  );
  expect(perDay.rows).toEqual([
    { day: new Date('2024-05-01T00:00:00Z'), account: '111122223333', events: 2 },
    { day: new Date('2024-05-02T00:00:00Z'), account: '444455556666', events: 2 },
  ]);
  // Day and account come from the partition paths and count(*) from the footers: no column chunk read.
  expect(perDay.stats.bytesScanned).toBe(0);

  const touched = await engine.query(
    'SELECT time, activity, resources, region FROM api_activity WHERE actor_id = ? AND contains(resources, ?) ORDER BY time',
    [ALICE, 'arn:aws:s3:::finance/q1.xlsx'],
  );
  expect(touched.rows).toEqual([
    {
      time: new Date('2024-05-01T11:30:00Z'),
      activity: 'GetObject',
      resources: ['arn:aws:s3:::finance', 'arn:aws:s3:::finance/q1.xlsx'],
      region: 'us-east-1',
    },
  ]);
  expect(touched.stats.bytesScanned).toBeGreaterThan(0);

  // Tables with no files yet answer empty, typed.
  expect((await engine.query('SELECT count(*) AS n FROM dns_activity')).rows).toEqual([{ n: 0 }]);
  expect((await engine.query('SELECT count(*) AS n FROM scoutql.graph_edges')).rows).toEqual([{ n: 0 }]);
  await engine.close();
}

test('DDL applied, then the lake queried, on a local folder', async () => {
  const server = await startAthenaLocal({ localBuckets: { 'acme-lake': lake } });
  try {
    await queryTheLake(server, 's3://acme-lake');
  } finally {
    await server.close();
  }
});

test('DDL applied, then the lake queried, on the local S3 server', async () => {
  let s3: S3Local | undefined;
  let server: AthenaLocalServer | undefined;
  try {
    s3 = await startS3Local({ buckets: ['acme-lake', 'scoutql-results'] });
    expect(await s3.uploadDir(lake, 'acme-lake', 'prod/lake')).toBeGreaterThanOrEqual(3);
    server = await startAthenaLocal({ s3Client: s3.client, writeResultsToS3: true });
    await queryTheLake(server, 's3://acme-lake/prod/lake');

    // As in Athena, each result is also a CSV file under the output location.
    const engine = localEngine(server.endpoint, { database: 'scoutql' });
    const { stats } = await engine.query('SELECT activity, resources FROM api_activity WHERE activity = ?', ['GetObject']);
    await engine.close();
    const object = await s3.client.send(new GetObjectCommand({ Bucket: 'scoutql-results', Key: `athena/${stats.queryId}.csv` }));
    expect(await object.Body!.transformToString()).toBe(
      '"activity","resources"\n"GetObject","[arn:aws:s3:::finance, arn:aws:s3:::finance/q1.xlsx]"\n',
    );
  } finally {
    await server?.close();
    await s3?.close();
  }
});

describe('partition projection as Athena applies it', () => {
  let server: AthenaLocalServer;
  beforeAll(async () => {
    server = await startAthenaLocal({ localBuckets: { 'acme-lake': lake } });
  });
  afterAll(() => server.close());

  test('an account missing from the enum is invisible', async () => {
    const admin = localEngine(server.endpoint);
    await applyCatalog(admin, catalogStatements({ lake: 's3://acme-lake', database: 'only_alice', accounts: ['111122223333'] }));
    await admin.close();
    const engine = localEngine(server.endpoint, { database: 'only_alice' });
    expect((await engine.query('SELECT DISTINCT account FROM api_activity')).rows).toEqual([{ account: '111122223333' }]);
    await engine.close();
  });

  test('with injected account projection a query must pin account', async () => {
    const admin = localEngine(server.endpoint);
    await applyCatalog(admin, catalogStatements({ lake: 's3://acme-lake', database: 'per_account' }));
    await admin.close();
    const engine = localEngine(server.endpoint, { database: 'per_account' });
    const err = await engine.query('SELECT count(*) AS n FROM api_activity').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).message).toMatch(/CONSTRAINT_VIOLATION: For the injected projected partition column account/);
    expect((await engine.query('SELECT count(*) AS n FROM api_activity WHERE account = ?', ['444455556666'])).rows).toEqual([{ n: 2 }]);
    await engine.close();
  });

  test('days before the projection range are invisible', async () => {
    const admin = localEngine(server.endpoint);
    await applyCatalog(
      admin,
      catalogStatements({ lake: 's3://acme-lake', database: 'recent', accounts: ['111122223333', '444455556666'], since: '2024-05-02' }),
    );
    await admin.close();
    const engine = localEngine(server.endpoint, { database: 'recent' });
    expect((await engine.query('SELECT count(*) AS n FROM api_activity')).rows).toEqual([{ n: 2 }]);
    await engine.close();
  });
});

test('startAthenaOverLake: one call from a lake folder to an Athena engine over it', async () => {
  const { startAthenaOverLake } = await import('../../testkit/athena-local');
  const athena = await startAthenaOverLake(lake);
  try {
    const { rows, stats } = await athena.engine.query('SELECT account, count(*) AS n FROM api_activity GROUP BY account ORDER BY account');
    expect(rows).toEqual([
      { account: '111122223333', n: 2 },
      { account: '444455556666', n: 2 },
    ]);
    expect(stats.engine).toBe('athena');
  } finally {
    await athena.close();
  }
});
