/** Custom scalars. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { apiError } from '../errors';

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('not a date-time');
    return date.toISOString();
  },
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

function parseDateTime(value: unknown): Date {
  // Full ISO 8601 with a zone: no locale-dependent parsing of free text.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)) {
    throw apiError('DateTime must be ISO 8601 text, e.g. 2026-03-02T03:05:00Z', 'BAD_USER_INPUT');
  }
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw apiError('DateTime is not a valid instant', 'BAD_USER_INPUT');
  return date;
}
