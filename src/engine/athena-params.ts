/**
 * Execution parameters as Athena takes them. StartQueryExecution's ExecutionParameters is a list
 * of strings, applied in order to the `?` placeholders of the query, each one read as the SQL text
 * of a value, exactly as in `EXECUTE stmt USING 'usa', 12`. So a string must travel as a quoted,
 * escaped literal ('it''s'), a number bare, a timestamp as TIMESTAMP '…'. Athena binds each one as
 * a single value of the statement, so a well-formed literal cannot change the query's shape.
 */
import type { SqlParam } from './types';
import { countPlaceholders } from './athena-sql';

/**
 * A request value as a quoted literal. Core's sqlString (src/core/sql.ts) quotes the same way but is
 * kept apart on purpose: it is for constants and configured paths and must never see a request
 * value (so a search for it finds no request text spliced into SQL), and it throws on a NUL, so the
 * Athena engine would fail a value that DuckDB's prepared statements bind. Here the value does come
 * from the request, and the ExecutionParameters protocol binds it as one value.
 */
function requestValueLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Trino's TIMESTAMP literal for an instant, in UTC, millisecond precision (Athena's timestamp(3)). */
export function timestampLiteral(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new TypeError('query parameter is an invalid Date');
  const iso = value.toISOString(); // 2024-01-01T00:00:00.000Z
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

/** The literal text Athena expects for one parameter. */
export function athenaParameterLiteral(value: SqlParam): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return requestValueLiteral(value);
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`query parameter ${value} is not a finite number`);
      // Integers bare; fractions as DOUBLE (exponent form) so Trino does not read them as DECIMAL.
      return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : value.toExponential();
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    default:
      if (value instanceof Date) return timestampLiteral(value);
      throw new TypeError(`unsupported query parameter type ${typeof value}`);
  }
}

/**
 * ExecutionParameters for a statement, or undefined when it has none (Athena refuses an empty
 * list). Throws when the number of values does not match the number of `?` placeholders.
 */
export function executionParameters(sql: string, params: readonly SqlParam[]): string[] | undefined {
  const placeholders = countPlaceholders(sql);
  if (placeholders !== params.length) {
    throw new RangeError(`query has ${placeholders} '?' placeholder(s) but ${params.length} parameter(s) were given`);
  }
  return params.length === 0 ? undefined : params.map(athenaParameterLiteral);
}
