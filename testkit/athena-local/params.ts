/**
 * ExecutionParameters the way Athena applies them: the i-th value replaces the i-th `?` of the
 * query (outside strings, identifiers and comments), and each value must be the SQL text of one
 * constant (a quoted string, a number, TRUE/FALSE/NULL, or a typed literal such as
 * TIMESTAMP '2024-01-01 00:00:00.000'). An unquoted word, an unbalanced quote or extra tokens are
 * refused, so a value can never add SQL to the statement.
 */
import { significant, tokenize, type SqlToken } from '../../src/engine/athena-sql';

const TYPED_LITERALS = new Set([
  'timestamp',
  'date',
  'time',
  'decimal',
  'real',
  'double',
  'char',
  'varchar',
  'json',
  'ipaddress',
  'uuid',
  'x',
  'u&',
]);

export class ParameterError extends Error {}

/** Checks one execution parameter is a single constant; returns its text unchanged. */
export function checkParameterLiteral(value: string, index: number): string {
  let tokens: SqlToken[];
  try {
    tokens = significant(tokenize(value));
  } catch {
    throw new ParameterError(`execution parameter ${index + 1} is not a valid literal (unbalanced quote)`);
  }
  const words = tokens.map((t) => (t.kind === 'word' ? t.text.toLowerCase() : t.kind));
  const ok =
    (tokens.length === 1 && (tokens[0].kind === 'string' || tokens[0].kind === 'number' || ['true', 'false', 'null'].includes(words[0]))) ||
    (tokens.length === 2 && tokens[0].kind === 'op' && (tokens[0].text === '-' || tokens[0].text === '+') && tokens[1].kind === 'number') ||
    (tokens.length === 2 && tokens[0].kind === 'word' && TYPED_LITERALS.has(words[0]) && tokens[1].kind === 'string');
  if (!ok) throw new ParameterError(`execution parameter ${index + 1} is not a literal value; quote strings as 'text'`);
  return value;
}

/** The statement with every `?` replaced by its parameter. */
export function bindParameters(sql: string, parameters: readonly string[]): string {
  const tokens = tokenize(sql);
  const placeholders = tokens.filter((t) => t.kind === 'param').length;
  if (placeholders !== parameters.length) {
    throw new ParameterError(`Incorrect number of parameters: expected ${placeholders} but found ${parameters.length}`);
  }
  let p = 0;
  return tokens.map((t) => (t.kind === 'param' ? ` ${checkParameterLiteral(parameters[p], p++)} ` : t.text)).join('');
}
