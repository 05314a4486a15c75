/** Parameter literals, result text parsing and configuration of the Athena engine, without a server. */
import { athenaParameterLiteral, executionParameters } from '../../src/engine/athena-params';
import { parseAthenaValue } from '../../src/engine/athena-values';
import { athenaConfigFromEnv, parseByteSize } from '../../src/engine/athena-config';
import { bindParameters } from '../../testkit/athena-local';

describe('parameter literals', () => {
  test.each([
    ["it's", "'it''s'"],
    ["''", "''''''"],
    [42, '42'],
    [-7, '-7'],
    [2.5, '2.5e+0'],
    [1e21, '1e+21'],
    [12345678901234567890n, '12345678901234567890'],
    [true, 'TRUE'],
    [false, 'FALSE'],
    [null, 'NULL'],
    [new Date('2024-01-01T00:00:00Z'), "TIMESTAMP '2024-01-01 00:00:00.000'"],
  ] as const)('%p → %s', (value, literal) => {
    expect(athenaParameterLiteral(value)).toBe(literal);
  });

  test('bad values are refused', () => {
    expect(() => athenaParameterLiteral(Number.NaN)).toThrow(/finite/);
    expect(() => athenaParameterLiteral(new Date('nope'))).toThrow(/invalid Date/);
  });

  test('placeholders in strings, quoted identifiers and comments do not count', () => {
    expect(executionParameters(`SELECT '?', "?" FROM t -- ?\nWHERE a = ? /* ? */`, ['x'])).toEqual(["'x'"]);
    expect(executionParameters('SELECT 1', [])).toBeUndefined();
  });

  test('the local server binds each literal in place of its ? and nothing else', () => {
    expect(bindParameters("SELECT '?' AS q, ? AS a, ? AS b", ["'it''s'", '5'])).toBe("SELECT '?' AS q,  'it''s'  AS a,  5  AS b");
    expect(() => bindParameters('SELECT ?', ["'a' OR 1=1"])).toThrow(/not a literal/);
    expect(() => bindParameters('SELECT ?', ["'unterminated"])).toThrow(/not a valid literal/);
    expect(() => bindParameters('SELECT ?, ?', ["'a'"])).toThrow(/expected 2 but found 1/);
  });
});

describe('result text to values', () => {
  test.each([
    ['abc', 'varchar', 'abc'],
    ['42', 'bigint', 42],
    ['-3', 'integer', -3],
    ['1.0E10', 'double', 1e10],
    ['NaN', 'double', Number.NaN],
    ['12.34', 'decimal', 12.34],
    ['true', 'boolean', true],
    ['false', 'boolean', false],
    ['2024-01-02 03:04:05.678', 'timestamp', new Date('2024-01-02T03:04:05.678Z')],
    ['2024-01-02 03:04:05.678901', 'timestamp(6)', new Date('2024-01-02T03:04:05.678Z')],
    ['2024-01-02 03:04:05.000 UTC', 'timestamp with time zone', new Date('2024-01-02T03:04:05Z')],
    ['2024-01-02 03:04:05.000 +02:00', 'timestamp with time zone', new Date('2024-01-02T01:04:05Z')],
    ['2024-01-02', 'date', new Date('2024-01-02T00:00:00Z')],
    ['{"a":[1,2],"b":"x"}', 'json', { a: [1, 2], b: 'x' }],
    ['[a, b]', 'array', ['a', 'b']],
    ['[]', 'array', []],
    ['[1, null, 3]', 'array(bigint)', [1, null, 3]],
    ['[{"a": 1, "b": [2, 3]}, {"c": null}]', 'array', ['{"a": 1, "b": [2, 3]}', '{"c": null}']],
    ['[[a, b], [c]]', 'array(array(varchar))', [['a', 'b'], ['c']]],
    ['[[a, b], [c]]', 'array', ['[a, b]', '[c]']],
    ['{k1=v1, k2=v2}', 'map', { k1: 'v1', k2: 'v2' }],
    ['{id=1, tags=[x, y]}', 'row', { id: '1', tags: '[x, y]' }],
    ['{id=1, name=x}', 'row(id integer, name varchar)', { id: 1, name: 'x' }],
  ] as const)('%s as %s', (text, type, expected) => {
    expect(parseAthenaValue(text, type)).toEqual(expected);
  });

  test('NULL is an absent VarCharValue; an empty string stays a string', () => {
    expect(parseAthenaValue(undefined, 'varchar')).toBeNull();
    expect(parseAthenaValue('', 'varchar')).toBe('');
  });
});

describe('configuration', () => {
  test('reads SCOUTQL_ATHENA_* variables and requires a scan limit', () => {
    const env = {
      SCOUTQL_ATHENA_DATABASE: 'scoutql',
      SCOUTQL_ATHENA_REGION: 'eu-west-1',
      SCOUTQL_ATHENA_OUTPUT_LOCATION: 's3://results/x/',
      SCOUTQL_ATHENA_MAX_BYTES_SCANNED: '10GiB',
      SCOUTQL_ATHENA_BUDGET_BYTES: '1TB',
    };
    expect(athenaConfigFromEnv(env)).toMatchObject({
      database: 'scoutql',
      region: 'eu-west-1',
      maxBytesScanned: 10 * 1024 ** 3,
      budget: { bytes: 1e12, windowMs: 3_600_000 },
    });
    expect(() => athenaConfigFromEnv({ ...env, SCOUTQL_ATHENA_MAX_BYTES_SCANNED: '' })).toThrow(/maxBytesScanned/);
    expect(() => athenaConfigFromEnv({ ...env, SCOUTQL_ATHENA_OUTPUT_LOCATION: '/tmp/x' })).toThrow(/s3:\/\//);
    expect(() => athenaConfigFromEnv({ ...env, SCOUTQL_ATHENA_DATABASE: 'x; drop' })).toThrow(/plain identifier/);
  });

  test('byte sizes', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('500MB')).toBe(500e6);
    expect(parseByteSize('2 GiB')).toBe(2 * 1024 ** 3);
    expect(() => parseByteSize('lots')).toThrow(/not a byte size/);
  });
});
