/**
 * Dialect drift: SQL that DuckDB runs but Athena (Trino) rejects must fail on the local Athena
 * server too, while the Trino spellings both engines run keep working.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { findDialectViolation } from '../../testkit/athena-local';
import { startAthenaLocal, type AthenaLocalServer } from '../../testkit/athena-local';
import { EngineError } from '../../src/engine/types';
import { localEngine } from './helpers';

/** DuckDB-only SQL, each of which DuckDB itself accepts (checked below), with what the error must name. */
const DUCKDB_ONLY: [string, RegExp][] = [
  ['SELECT 1::BIGINT AS x', /:: cast/],
  ['SELECT list_value(1, 2) AS l', /list_value/],
  ['SELECT struct_pack(a := 1) AS s', /struct_pack|:= |\bslice/],
  ["SELECT 'Abc' ILIKE 'a%' AS m", /ILIKE/],
  ['SELECT x FROM (VALUES (1), (2)) t(x) QUALIFY row_number() OVER (ORDER BY x) = 1', /QUALIFY/],
  ['SELECT * EXCLUDE (x) FROM (VALUES (1, 2)) t(x, y)', /EXCLUDE/],
  ["SELECT * FROM read_parquet('/tmp/x.parquet')", /read_parquet/],
  ['SELECT [1, 2] AS l', /list literal/],
  ["SELECT {'a': 1} AS s", /struct or map literal/],
  ['SELECT x FROM (VALUES (1), (2)) t(x) LIMIT 1 OFFSET 1', /OFFSET n LIMIT m/],
  ["SELECT CAST('1' AS STRING) AS s", /STRING/],
  ["SELECT CAST(ARRAY['a'] AS VARCHAR[]) AS a", /VARCHAR\[\]/],
  ["SELECT DATE '2024-01-01' + INTERVAL '1 day' AS d", /unit inside the string/],
  ["SELECT DATE '2024-01-01' + INTERVAL 1 DAY AS d", /unquoted value/],
  ["SELECT strftime(TIMESTAMP '2024-01-01 00:00:00', '%Y') AS y", /strftime/],
  ["SELECT regexp_matches('abc', 'b') AS m", /regexp_matches/],
  ["SELECT string_agg(x, ',') AS s FROM (VALUES ('a'), ('b')) t(x)", /string_agg/],
  ['SELECT x, count(*) AS n FROM (VALUES (1)) t(x) GROUP BY ALL', /GROUP BY ALL/],
  ['SELECT 7 // 2 AS q', /\/\/ integer division/],
  ['SELECT ifnull(NULL, 1) AS v', /ifnull/],
  ["SELECT 'abc'[1:2] AS s", /slice/],
  ['FROM (VALUES (1)) t(x) SELECT x', /starting with FROM/],
  ['SELECT arg_max(x, y) AS m FROM (VALUES (1, 2)) t(x, y)', /arg_max/],
  ['SELECT 1 AS a; SELECT 2 AS b', /more than one statement/],
  ['SELECT `x` FROM (VALUES (1)) t(x)', /backtick/],
];

/** Trino spellings of the same things, which DuckDB runs too: the shared dialect. */
const SHARED: [string, unknown[]][] = [
  ['SELECT CAST(1 AS bigint) AS x', [{ x: 1 }]],
  ['SELECT ARRAY[1, 2] AS l', [{ l: ['1', '2'] }]],
  ["SELECT lower('Abc') LIKE lower('a%') AS m", [{ m: true }]],
  ['SELECT x FROM (VALUES (1), (2), (3)) t(x) ORDER BY x OFFSET 1 LIMIT 1', [{ x: 2 }]],
  ["SELECT DATE '2024-01-01' + INTERVAL '1' DAY AS d", [{ d: new Date('2024-01-02T00:00:00Z') }]],
  ["SELECT CAST('1' AS varchar) AS s", [{ s: '1' }]],
  ["SELECT contains(ARRAY['a', 'b'], 'b') AS c, split_part('a.b', '.', 2) AS p", [{ c: true, p: 'b' }]],
  ['SELECT coalesce(NULL, 1) AS v, max_by(x, y) AS m FROM (VALUES (1, 2), (3, 1)) t(x, y)', [{ v: 1, m: 1 }]],
  ["SELECT date_trunc('day', TIMESTAMP '2024-01-01 05:00:00') AS d", [{ d: new Date('2024-01-01T00:00:00Z') }]],
  ["SELECT \"x\" FROM (VALUES ('v')) AS t(\"x\") WHERE strpos('abc', 'b') > 0", [{ x: 'v' }]],
  ["SELECT 'a::b' AS s, '[1:2]' AS t -- a :: in a comment\n", [{ s: 'a::b', t: '[1:2]' }]],
];

describe('dialect guard', () => {
  test.each(DUCKDB_ONLY)('rejects %s', async (sql, message) => {
    const violation = findDialectViolation(sql);
    expect(violation?.message).toMatch(message);
    expect(violation?.message).toMatch(/^SYNTAX_ERROR: line \d+:\d+: /);
  });

  test('DuckDB really does accept those statements (so only the guard catches them)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const accepted: string[] = [];
    for (const [sql] of DUCKDB_ONLY) {
      if (/read_parquet|; SELECT|`/.test(sql)) continue; // needs a file / several statements / backticks are DuckDB-valid but not worth a fixture
      try {
        await conn.runAndReadAll(sql);
        accepted.push(sql);
      } catch (err) {
        accepted.push(`REJECTED BY DUCKDB: ${sql}: ${(err as { message: string }).message.split('\n')[0]}`);
      }
    }
    conn.closeSync();
    db.closeSync();
    expect(accepted.filter((s) => s.startsWith('REJECTED'))).toEqual([]);
  });

  test.each(SHARED)('accepts the Trino form %s', (sql) => {
    expect(findDialectViolation(sql)).toBeNull();
  });
});

describe('through the local Athena server', () => {
  let server: AthenaLocalServer;
  beforeAll(async () => {
    server = await startAthenaLocal();
  });
  afterAll(() => server.close());

  test('DuckDB-only SQL fails the query as Athena would', async () => {
    const engine = localEngine(server.endpoint);
    for (const sql of ['SELECT 1::BIGINT AS x', "SELECT 'Abc' ILIKE 'a%' AS m", 'SELECT x FROM (VALUES (1), (2)) t(x) LIMIT 1 OFFSET 1']) {
      const err = await engine.query(sql).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).message).toMatch(/failed: SYNTAX_ERROR/);
    }
    await engine.close();
  });

  test.each(SHARED)('the shared form runs: %s', async (sql, expected) => {
    const engine = localEngine(server.endpoint);
    expect((await engine.query(sql)).rows).toEqual(expected);
    await engine.close();
  });

  test('common Trino functions DuckDB lacks work through the compatibility macros', async () => {
    const engine = localEngine(server.endpoint);
    const { rows } = await engine.query(
      "SELECT regexp_like('AKIAEXAMPLE', '^AKIA') AS key, cardinality(ARRAY['a', 'b']) AS n, array_join(ARRAY['a', 'b'], ',') AS joined, arrays_overlap(ARRAY['a'], ARRAY['a', 'c']) AS overlap, to_unixtime(TIMESTAMP '2024-01-01 00:00:00') AS epoch",
    );
    expect(rows).toEqual([{ key: true, n: 2, joined: 'a,b', overlap: true, epoch: 1704067200 }]);
    await engine.close();
  });

  test('set_union counts as Trino does: one NULL element kept, NULL arrays add nothing, no rows give NULL', async () => {
    const engine = localEngine(server.endpoint);
    const count = async (values: string, where = '') =>
      (await engine.query(`SELECT cardinality(set_union(x)) AS n FROM (VALUES ${values}) t(x) ${where}`)).rows[0]?.n;
    expect(await count("(ARRAY['a', 'b']), (ARRAY['b', NULL]), (CASE WHEN false THEN ARRAY['z'] END), (ARRAY[NULL, 'c'])")).toBe(4);
    expect(await count("(ARRAY['a', 'b']), (ARRAY['b', 'a'])")).toBe(2);
    expect(await count("(CASE WHEN false THEN ARRAY['z'] END), (CASE WHEN false THEN ARRAY['z'] END)")).toBe(0);
    expect(await count("(ARRAY['a'])", 'WHERE false')).toBeNull();
    await engine.close();
  });

  test('a double-quoted "string" is an identifier, and fails as in Athena', async () => {
    const engine = localEngine(server.endpoint);
    await expect(engine.query(`SELECT x FROM (VALUES ('a')) t(x) WHERE x = "a"`)).rejects.toThrow(/COLUMN_NOT_FOUND/);
    await engine.close();
  });

  test('a parameter that is not a literal is refused', async () => {
    const { AthenaClient, StartQueryExecutionCommand, GetQueryExecutionCommand } = await import('@aws-sdk/client-athena');
    const client = new AthenaClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { QueryExecutionId } = await client.send(
      new StartQueryExecutionCommand({ QueryString: 'SELECT ? AS v', ExecutionParameters: ['1 UNION SELECT secret FROM t'] }),
    );
    let state = '';
    let reason = '';
    for (let i = 0; i < 10 && !['FAILED', 'SUCCEEDED'].includes(state); i++) {
      const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      state = QueryExecution!.Status!.State!;
      reason = QueryExecution!.Status!.StateChangeReason ?? '';
    }
    expect(state).toBe('FAILED');
    expect(reason).toMatch(/not a literal value/);
    client.destroy();
  });
});
