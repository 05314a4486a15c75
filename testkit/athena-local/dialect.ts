/**
 * Dialect drift guard of the local Athena server: SQL that DuckDB runs but Athena engine v3
 * (Trino) rejects must fail here too, or tests on the local server would pass queries that break
 * in AWS. Each rule names the Trino form to use instead. The list covers what a developer fluent
 * in DuckDB reaches for; it is not a Trino parser. (Things both engines reject, such as a
 * double-quoted "string" used as a value, are left to DuckDB's own error.)
 */
import { significant, tokenize, type SqlLexError, type SqlToken } from '../../src/engine/athena-sql';

/** DuckDB functions (and aliases) that Trino does not have, with the Trino spelling. */
const DUCKDB_ONLY_FUNCTIONS: Record<string, string> = {
  list_value: 'ARRAY[…]',
  list_pack: 'ARRAY[…]',
  struct_pack: 'CAST(ROW(…) AS ROW(name type, …))',
  struct_extract: 'row.field',
  list_contains: 'contains(array, value)',
  list_has: 'contains(array, value)',
  array_contains: 'contains(array, value)',
  list_extract: 'element_at(array, i)',
  list_element: 'element_at(array, i)',
  list_concat: 'concat(a, b)',
  list_distinct: 'array_distinct(array)',
  list_sort: 'array_sort(array)',
  list_aggregate: 'reduce(…) or an aggregate over UNNEST',
  list_transform: 'transform(array, x -> …)',
  list_filter: 'filter(array, x -> …)',
  array_length: 'cardinality(array)',
  len: 'length(string) or cardinality(array)',
  list: 'array_agg(x)',
  string_agg: "array_join(array_agg(x), ',')",
  group_concat: "array_join(array_agg(x), ',')",
  string_split: 'split(string, delimiter)',
  str_split: 'split(string, delimiter)',
  regexp_matches: 'regexp_like(string, pattern)',
  regexp_full_match: "regexp_like(string, '^…$')",
  strftime: 'date_format(ts, format)',
  strptime: 'date_parse(string, format)',
  epoch_ms: 'from_unixtime(ms / 1000.0) or to_unixtime(ts) * 1000',
  epoch: 'to_unixtime(ts)',
  to_timestamp: 'from_unixtime(seconds)',
  make_timestamp: "TIMESTAMP '…' or from_unixtime",
  make_date: "DATE '…'",
  date_part: 'extract(part FROM ts) or year(ts), hour(ts)…',
  datepart: 'extract(part FROM ts)',
  datediff: 'date_diff(unit, a, b)',
  datesub: 'date_add(unit, -n, ts)',
  ifnull: 'coalesce(a, b)',
  nvl: 'coalesce(a, b)',
  arg_max: 'max_by(x, y)',
  arg_min: 'min_by(x, y)',
  argmax: 'max_by(x, y)',
  argmin: 'min_by(x, y)',
  generate_series: 'sequence(start, stop)',
  range: 'sequence(start, stop)',
  json_extract_string: 'json_extract_scalar(json, path)',
  json_extract_path_text: 'json_extract_scalar(json, path)',
  read_parquet: 'a table declared with CREATE EXTERNAL TABLE',
  parquet_scan: 'a table declared with CREATE EXTERNAL TABLE',
  read_csv: 'a table declared with CREATE EXTERNAL TABLE',
  read_csv_auto: 'a table declared with CREATE EXTERNAL TABLE',
  read_json: 'a table declared with CREATE EXTERNAL TABLE',
  read_json_auto: 'a table declared with CREATE EXTERNAL TABLE',
  glob: 'a table declared with CREATE EXTERNAL TABLE',
  contains_any: 'arrays_overlap(a, b)',
  list_has_any: 'arrays_overlap(a, b)',
  suffix: 'ends with: substr / strpos',
  prefix: 'starts_with(string, prefix)',
};

/** DuckDB type names Trino rejects in CAST. */
const DUCKDB_ONLY_TYPES: Record<string, string> = {
  string: 'varchar',
  text: 'varchar',
  hugeint: 'bigint or decimal(38, 0)',
  uhugeint: 'decimal(38, 0)',
  ubigint: 'bigint',
  uinteger: 'bigint',
  usmallint: 'integer',
  utinyint: 'smallint',
  int1: 'tinyint',
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double',
  blob: 'varbinary',
  bytea: 'varbinary',
  timestamptz: 'timestamp with time zone',
  struct: 'row(…)',
  list: 'array(…)',
};

/** Statements that start this way are DuckDB-only. */
const DUCKDB_ONLY_STATEMENTS = new Set([
  'pragma',
  'install',
  'load',
  'attach',
  'detach',
  'copy',
  'export',
  'import',
  'summarize',
  'checkpoint',
  'set',
  'reset',
  'from',
  'pivot',
  'unpivot',
  'create_macro',
  'vacuum',
]);

const DUCKDB_ONLY_KEYWORDS: Record<string, string> = {
  ilike: "lower(x) LIKE lower('pattern')",
  qualify: 'a subquery filtering on the window function',
  asof: 'a correlated subquery or window function',
  positional: 'an explicit join key',
  anti: 'NOT EXISTS (…)',
  semi: 'EXISTS (…)',
  pivot: 'conditional aggregation (count_if, sum(CASE …))',
  unpivot: 'CROSS JOIN UNNEST',
  sample: 'TABLESAMPLE BERNOULLI (p)',
  columns: 'explicit column names',
  glob: 'LIKE or regexp_like',
  similar: 'regexp_like',
};

/** Words that end an expression, so a following `[` is a subscript and not a list literal. */
const EXPRESSION_END_KEYWORDS = new Set(['array', 'end']);

export interface DialectViolation {
  /** Athena-style error message, e.g. `SYNTAX_ERROR: line 1:8: …`. */
  message: string;
}

export function findDialectViolation(sql: string): DialectViolation | null {
  let tokens: SqlToken[];
  try {
    tokens = significant(tokenize(sql));
  } catch (err) {
    return { message: `SYNTAX_ERROR: ${(err as SqlLexError).message}` };
  }
  const at = (t: SqlToken) => position(sql, t.start);
  const fail = (t: SqlToken, what: string, instead: string) => ({
    message: `SYNTAX_ERROR: line ${at(t)}: ${what} is not supported by Athena engine v3 (Trino); use ${instead}`,
  });
  const lower = (t: SqlToken | undefined) => (t && t.kind === 'word' ? t.text.toLowerCase() : undefined);

  const first = lower(tokens[0]);
  if (first && DUCKDB_ONLY_STATEMENTS.has(first))
    return fail(tokens[0], `a statement starting with ${first.toUpperCase()}`, 'SELECT … FROM …');
  if (first === 'create' && ['macro', 'function', 'sequence', 'type', 'secret'].includes(lower(tokens[1]) ?? '')) {
    return fail(tokens[1], `CREATE ${tokens[1].text.toUpperCase()}`, 'plain SQL');
  }

  const castDepth: number[] = []; // paren depths at which a CAST( / TRY_CAST( was opened
  let depth = 0;
  let sawLimit = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    const word = lower(t);

    if (t.kind === 'backtick') return fail(t, 'a `backtick` identifier in a query', 'a "double-quoted" identifier');
    if (t.kind === 'dollar_param') return fail(t, `the ${t.text} placeholder`, '? with ExecutionParameters');
    if (t.kind === 'op') {
      switch (t.text) {
        case '::':
          return fail(t, 'the :: cast', 'CAST(x AS type)');
        case '->>':
          return fail(t, 'the ->> JSON operator', 'json_extract_scalar(json, path)');
        case '==':
          return fail(t, 'the == operator', '=');
        case '//':
          return fail(t, 'the // integer division operator', 'a / b on integers, or floor(a / b)');
        case '**':
          return fail(t, 'the ** operator', 'power(a, b)');
        case '{':
          return fail(t, 'a {…} struct or map literal', 'ROW(…) or MAP(ARRAY[…], ARRAY[…])');
        case ':':
          return fail(t, 'slice syntax x[a:b]', 'slice(array, start, length) or substr(string, start, length)');
        case ';':
          if (next) return fail(next, 'more than one statement', 'one statement per query');
          break;
        case '(':
          depth++;
          break;
        case ')':
          depth--;
          if (castDepth[castDepth.length - 1] === depth + 1) castDepth.pop();
          break;
        case '[': {
          const subscript =
            prev !== undefined &&
            (prev.kind === 'quoted' ||
              prev.kind === 'string' ||
              (prev.kind === 'op' && (prev.text === ')' || prev.text === ']')) ||
              (prev.kind === 'word' && (EXPRESSION_END_KEYWORDS.has(prev.text.toLowerCase()) || !isKeyword(prev.text))));
          if (!subscript) return fail(t, 'a [ … ] list literal', 'ARRAY[ … ]');
          break;
        }
        case '*':
          if (
            ['exclude', 'replace', 'rename'].includes(lower(next) ?? '') &&
            (prev?.text === ',' || lower(prev) === 'select' || prev?.text === '.')
          ) {
            return fail(next, `SELECT * ${next.text.toUpperCase()}`, 'an explicit column list');
          }
          break;
      }
      continue;
    }
    if (t.kind !== 'word' || !word) continue;

    if (next?.kind === 'op' && next.text === '(') {
      if (word === 'cast' || word === 'try_cast') castDepth.push(depth + 1);
      // A function call (not a keyword followed by a parenthesis such as IN (…) or AS (…)).
      const instead = DUCKDB_ONLY_FUNCTIONS[word];
      if (instead && !(prev?.kind === 'op' && prev.text === '.')) return fail(t, `function ${word}()`, instead);
    }
    if (
      word in DUCKDB_ONLY_KEYWORDS &&
      !(next?.kind === 'op' && next.text === '(') &&
      prev?.text !== '.' &&
      !(word === 'columns' || word === 'glob')
    ) {
      // Column names such as "sample" are fine when quoted; bare, these words start DuckDB-only syntax.
      if (!(word === 'sample' && lower(prev) !== 'using')) return fail(t, word.toUpperCase(), DUCKDB_ONLY_KEYWORDS[word]);
    }
    if ((word === 'columns' || word === 'glob') && next?.text === '(' && prev?.text !== '.')
      return fail(t, `${word.toUpperCase()}(…)`, DUCKDB_ONLY_KEYWORDS[word]);
    if (word === 'as' && castDepth.length > 0 && castDepth[castDepth.length - 1] === depth) {
      const typeToken = next;
      const typeName = lower(typeToken);
      if (typeName && typeName in DUCKDB_ONLY_TYPES) return fail(typeToken, `type ${typeName.toUpperCase()}`, DUCKDB_ONLY_TYPES[typeName]);
      // DuckDB's VARCHAR[] list type: Trino spells it array(varchar).
      const after = tokens[i + 2];
      if (typeName && after?.kind === 'op' && after.text === '[')
        return fail(after, `type ${typeName.toUpperCase()}[]`, `array(${typeName})`);
    }
    if ((word === 'group' || word === 'order') && lower(next) === 'by' && lower(tokens[i + 2]) === 'all') {
      return fail(tokens[i + 2], `${word.toUpperCase()} BY ALL`, 'explicit expressions');
    }
    if (word === 'interval') {
      // Trino: INTERVAL '1' DAY. DuckDB also takes INTERVAL 1 DAY and INTERVAL '1 day'.
      const value = next?.kind === 'op' && (next.text === '-' || next.text === '+') ? tokens[i + 2] : next;
      const unit = lower(tokens[tokens.indexOf(value) + 1]);
      if (value?.kind !== 'string') return fail(t, 'INTERVAL with an unquoted value', "INTERVAL '1' DAY");
      if (!unit || !INTERVAL_UNITS.has(unit)) return fail(t, "INTERVAL with the unit inside the string ('1 day')", "INTERVAL '1' DAY");
    }
    if (word === 'limit') sawLimit = true;
    if (word === 'offset' && sawLimit && depthOf(tokens, i) === depthOf(tokens, lastIndexOfWord(tokens, 'limit', i))) {
      return fail(t, 'LIMIT … OFFSET …', 'OFFSET n LIMIT m (OFFSET comes first in Trino)');
    }
  }
  return null;
}

const INTERVAL_UNITS = new Set([
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'years',
  'months',
  'days',
  'hours',
  'minutes',
  'seconds',
]);

/** Trino reserved words (a `[` after one cannot be a subscript). */
const KEYWORDS = new Set(
  'select from where and or not in is null as on by group order having union all distinct case when then else join left right inner outer full cross with values exists between like limit offset'.split(
    ' ',
  ),
);
function isKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase());
}

function lastIndexOfWord(tokens: readonly SqlToken[], word: string, before: number): number {
  for (let i = before - 1; i >= 0; i--) if (tokens[i].kind === 'word' && tokens[i].text.toLowerCase() === word) return i;
  return -1;
}

/** Parenthesis depth at token index i. */
function depthOf(tokens: readonly SqlToken[], index: number): number {
  let depth = 0;
  for (let i = 0; i < index; i++) {
    const t = tokens[i];
    if (t.kind === 'op' && t.text === '(') depth++;
    else if (t.kind === 'op' && t.text === ')') depth--;
  }
  return depth;
}

/** `line:column` (1-based), as Trino reports positions. */
export function position(sql: string, offset: number): string {
  const before = sql.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${line}:${column}`;
}
