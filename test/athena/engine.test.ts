/**
 * The Athena engine through the REAL @aws-sdk/client-athena against the local Athena-protocol
 * server: parameters, paging, types, the query state walk, failures, throttling, deadlines and
 * the cost guard.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { EngineError } from '../../src/engine/types';
import { localEngine, tempDir, TEST_CREDENTIALS } from './helpers';

let server: AthenaLocalServer;
let lake: string;

beforeAll(async () => {
  lake = tempDir('athena-engine');
  server = await startAthenaLocal({ localBuckets: { 'test-lake': lake } });
});
afterAll(async () => {
  await server.close();
  rmSync(lake, { recursive: true, force: true });
});

const engineError = async (promise: Promise<unknown>): Promise<EngineError> => {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error('expected the query to fail');
};

describe('parameters travel as literals', () => {
  const hostile = [
    "it's",
    "x' OR '1'='1",
    "'; DROP TABLE users; --",
    'a ? inside',
    'back\\slash and "double" quotes',
    'multi\nline -- not a comment',
    'ünïcödé ✓',
    '',
  ];

  test('strings come back exactly, whatever quotes or SQL they contain', async () => {
    const engine = localEngine(server.endpoint);
    for (const value of hostile) {
      const { rows } = await engine.query('SELECT ? AS v, length(?) AS n', [value, value]);
      expect(rows).toEqual([{ v: value, n: [...value].length }]);
    }
    await engine.close();
  });

  test('an injection string filters as a value and matches nothing', async () => {
    const engine = localEngine(server.endpoint);
    const sql = "SELECT name FROM (VALUES ('alice'), ('bob')) AS t(name) WHERE name = ?";
    expect((await engine.query(sql, ["x' OR '1'='1"])).rows).toEqual([]);
    expect((await engine.query(sql, ['bob'])).rows).toEqual([{ name: 'bob' }]);
    await engine.close();
  });

  test('numbers, booleans, timestamps and NULL bind with their types', async () => {
    const engine = localEngine(server.endpoint);
    const when = new Date('2024-03-04T05:06:07.089Z');
    const { rows } = await engine.query('SELECT ? AS i, ? AS neg, ? AS f, ? AS big, ? AS yes, ? AS ts, ? AS nothing, ? + 1 AS next', [
      42,
      -7,
      2.5,
      9007199254740993n,
      true,
      when,
      null,
      41,
    ]);
    expect(rows).toEqual([{ i: 42, neg: -7, f: 2.5, big: 9007199254740992, yes: true, ts: when, nothing: null, next: 42 }]);
    await engine.close();
  });

  test('a placeholder count that does not match the parameters is refused before any call', async () => {
    const engine = localEngine(server.endpoint);
    const before = server.calls.length;
    await expect(engine.query("SELECT ? AS a, '?' AS literal", [])).rejects.toThrow(/1 '\?' placeholder\(s\) but 0 parameter/);
    expect(server.calls.length).toBe(before);
    await engine.close();
  });
});

describe('results', () => {
  test('a 2,600-row result is read over every page and equals DuckDB reading the same files', async () => {
    // The lake table: 2,600 rows in Parquet, declared with Athena DDL, read back through the protocol.
    const dir = join(lake, 'numbers');
    mkdirSync(dir, { recursive: true });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT i::BIGINT AS n, 'row ' || i AS label, i % 7 = 0 AS lucky, TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i) AS seen_at FROM range(1, 2601) t(i)) TO '${dir}/part-0.parquet' (FORMAT parquet)`,
    );
    const expected = (
      await conn.runAndReadAll(`SELECT n, label, lucky, seen_at FROM read_parquet('${dir}/*.parquet') ORDER BY n`)
    ).getRowObjectsJS();
    conn.closeSync();
    db.closeSync();

    const engine = localEngine(server.endpoint);
    await engine.query(
      "CREATE EXTERNAL TABLE numbers (n bigint, label string, lucky boolean, seen_at timestamp) STORED AS PARQUET LOCATION 's3://test-lake/numbers/'",
    );
    const pagesBefore = server.calls.filter((c) => c.operation === 'GetQueryResults').length;
    const { rows, stats } = await engine.query('SELECT n, label, lucky, seen_at FROM numbers ORDER BY n');
    const pages = server.calls.filter((c) => c.operation === 'GetQueryResults').length - pagesBefore;

    expect(rows).toHaveLength(2600);
    expect(pages).toBe(3); // header + 2,600 rows at 1,000 per page
    expect(rows).toEqual(expected.map((r) => ({ n: Number(r.n), label: r.label, lucky: r.lucky, seen_at: r.seen_at })));
    expect(stats.bytesScanned).toBeGreaterThan(0);
    await engine.close();
  });

  test('Athena types map to JavaScript values', async () => {
    const engine = localEngine(server.endpoint);
    const { rows } = await engine.query(
      `SELECT CAST('text' AS varchar) AS s, CAST(1 AS tinyint) AS ti, CAST(2 AS smallint) AS si, CAST(3 AS integer) AS i, CAST(4 AS bigint) AS bi,
              CAST(1.5 AS double) AS d, CAST(0.25 AS real) AS r, CAST(12.34 AS decimal(10, 2)) AS dec, true AS b,
              TIMESTAMP '2024-01-02 03:04:05.678' AS ts, DATE '2024-01-02' AS dt,
              ARRAY['a', 'b'] AS arr, ARRAY[1, 2] AS nums, MAP(ARRAY['k1', 'k2'], ARRAY['v1', 'v2']) AS m,
              CAST(ROW(1, 'x') AS ROW(id integer, name varchar)) AS rw, CAST(NULL AS varchar) AS nothing, '' AS empty,
              ARRAY['{"a": 1, "b": 2}', 'plain'] AS json_texts, CAST(ARRAY['x, y', '{"k": [1, 2]}'] AS JSON) AS exact`,
    );
    expect(rows).toEqual([
      {
        s: 'text',
        ti: 1,
        si: 2,
        i: 3,
        bi: 4,
        d: 1.5,
        r: 0.25,
        dec: 12.34,
        b: true,
        ts: new Date('2024-01-02T03:04:05.678Z'),
        dt: new Date('2024-01-02T00:00:00Z'),
        arr: ['a', 'b'],
        nums: ['1', '2'],
        m: { k1: 'v1', k2: 'v2' },
        rw: { id: '1', name: 'x' },
        nothing: null,
        empty: '',
        json_texts: ['{"a": 1, "b": 2}', 'plain'],
        exact: ['x, y', '{"k": [1, 2]}'],
      },
    ]);
    await engine.close();
  });
});

describe('query lifecycle', () => {
  test('GetQueryExecution walks QUEUED → RUNNING → SUCCEEDED and reports statistics', async () => {
    const client = new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const { QueryExecutionId } = await client.send(
      new StartQueryExecutionCommand({ QueryString: 'SELECT 1 AS one', QueryExecutionContext: { Database: 'default' } }),
    );
    const states: string[] = [];
    for (let i = 0; i < 200 && states[states.length - 1] !== 'SUCCEEDED'; i++) {
      const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      states.push(QueryExecution!.Status!.State!);
      if (QueryExecution!.Status!.State === 'SUCCEEDED') {
        expect(QueryExecution!.Statistics!.EngineExecutionTimeInMillis).toEqual(expect.any(Number));
        expect(QueryExecution!.Status!.CompletionDateTime).toBeInstanceOf(Date);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // A busy machine may show RUNNING more than once; the order of the states is what matters.
    expect(states.filter((state, i) => state !== states[i - 1])).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    client.destroy();
  });

  test('a FAILED query is an EngineError with the reason but without the SQL or its values', async () => {
    const engine = localEngine(server.endpoint);
    server.failNext("HIVE_BAD_DATA: Error parsing field value 'secret-value' for field 3");
    const err = await engineError(engine.query('SELECT ? AS token', ['secret-value']));
    expect(err.code).toBe('QUERY_FAILED');
    expect(err.message).toMatch(/^Athena query [0-9a-f-]+ failed: HIVE_BAD_DATA/);
    expect(err.message).not.toContain('secret-value');
    expect(err.message).not.toContain('SELECT');
    await engine.close();
  });

  test('an unknown table fails the query', async () => {
    const engine = localEngine(server.endpoint);
    const err = await engineError(engine.query('SELECT * FROM no_such_table'));
    expect(err.code).toBe('QUERY_FAILED');
    expect(err.message).toMatch(/TABLE_NOT_FOUND/);
    await engine.close();
  });

  test('throttled calls are retried with backoff until they pass', async () => {
    const engine = localEngine(server.endpoint);
    const before = server.calls.length;
    server.throttle(2, 'StartQueryExecution');
    server.throttle(1, 'GetQueryResults', 'ThrottlingException');
    const { rows } = await engine.query('SELECT 7 AS seven');
    expect(rows).toEqual([{ seven: 7 }]);
    const ops = server.calls.slice(before).map((c) => c.operation);
    expect(ops.filter((o) => o === 'StartQueryExecution')).toHaveLength(3);
    expect(ops.filter((o) => o === 'GetQueryResults')).toHaveLength(2);
    await engine.close();
  });

  test('a Start retried after a lost answer runs the query once (same ClientRequestToken)', async () => {
    const client = new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const input = { QueryString: 'SELECT 1 AS once', ClientRequestToken: 'token-0123456789-0123456789-0123456789' };
    const first = await client.send(new StartQueryExecutionCommand(input));
    const again = await client.send(new StartQueryExecutionCommand(input));
    expect(again.QueryExecutionId).toBe(first.QueryExecutionId);
    const listed = await client.send(new ListQueryExecutionsCommand({}));
    expect(listed.QueryExecutionIds!.filter((id) => id === first.QueryExecutionId)).toHaveLength(1);
    client.destroy();
  });

  test('throttling that outlasts the retries is a THROTTLED EngineError', async () => {
    const engine = localEngine(server.endpoint, { maxRetries: 2 });
    server.throttle(3, 'StartQueryExecution');
    const err = await engineError(engine.query('SELECT 1 AS one'));
    expect(err.code).toBe('THROTTLED');
    await engine.close();
  });

  test('an aborted signal (request deadline) stops the running query', async () => {
    const engine = localEngine(server.endpoint);
    server.holdQueries(1);
    const deadline = AbortSignal.timeout(150);
    const err = await engineError(engine.query('SELECT 1 AS slow', [], { signal: deadline }));
    expect(err.code).toBe('TIMEOUT');
    const queryId = /query ([0-9a-f-]+) stopped/.exec(err.message)?.[1];
    expect(queryId).toBeDefined();
    expect(server.stoppedQueryIds).toContain(queryId);
    const client = new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    expect(QueryExecution!.Status!.State).toBe('CANCELLED');
    client.destroy();
    await engine.close();
  });
});

describe('cost guard', () => {
  test('a query scanning past maxBytesScanned is stopped with COST_LIMIT', async () => {
    const costly = await startAthenaLocal({ bytesScanned: () => 5_000, runningPolls: 3 });
    const engine = localEngine(costly.endpoint, { maxBytesScanned: 1_000 });
    const err = await engineError(engine.query('SELECT 1 AS one'));
    expect(err.code).toBe('COST_LIMIT');
    expect(err.message).toMatch(/5000 bytes, over the limit of 1000/);
    expect(costly.stoppedQueryIds).toHaveLength(1);
    await engine.close();
    await costly.close();
  });

  test('the rolling budget refuses to start queries once spent, and stats report bytes per query', async () => {
    const costly = await startAthenaLocal({ bytesScanned: () => 4_000 });
    const engine = localEngine(costly.endpoint, { maxBytesScanned: 10_000, budget: { bytes: 6_000, windowMs: 60_000 } });
    expect((await engine.query('SELECT 1 AS one')).stats.bytesScanned).toBe(4_000);
    expect((await engine.query('SELECT 2 AS two')).stats.bytesScanned).toBe(4_000);
    const starts = costly.calls.filter((c) => c.operation === 'StartQueryExecution').length;
    const err = await engineError(engine.query('SELECT 3 AS three'));
    expect(err.code).toBe('COST_LIMIT');
    expect(costly.calls.filter((c) => c.operation === 'StartQueryExecution').length).toBe(starts);
    await engine.close();
    await costly.close();
  });

  test('result reuse answers a repeated query without scanning', async () => {
    const costly = await startAthenaLocal({ bytesScanned: () => 4_000 });
    const engine = localEngine(costly.endpoint, { resultReuseMaxAgeMinutes: 10 });
    const first = await engine.query('SELECT ? AS v', ['x']);
    const second = await engine.query('SELECT ? AS v', ['x']);
    const other = await engine.query('SELECT ? AS v', ['y']);
    expect(first.stats.bytesScanned).toBe(4_000);
    expect(second.stats.bytesScanned).toBe(0);
    expect(second.rows).toEqual(first.rows);
    expect(other.rows).toEqual([{ v: 'y' }]);
    await engine.close();
    await costly.close();
  });
});

test('an unreachable endpoint is a clear EngineError', async () => {
  const engine = localEngine('http://127.0.0.1:9', { maxRetries: 0 });
  const err = await engine.query('SELECT 1 AS one').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(EngineError);
  expect((err as EngineError).message).toMatch(/^Athena StartQueryExecution failed: .*ECONNREFUSED/);
  await engine.close();
});
