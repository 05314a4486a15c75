/**
 * Errors a caller may see. Anything else (engine failures, bugs) is reported as an internal
 * error with no message detail, no SQL and no stack.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { EngineError } from '../engine/types';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'WINDOW_TOO_LARGE'
  | 'PAGE_TOO_LARGE'
  | 'QUERY_TOO_DEEP'
  | 'QUERY_TOO_COMPLEX'
  | 'DOCUMENT_TOO_LARGE'
  | 'FORBIDDEN'
  | 'ENGINE_ERROR'
  | 'LAKE_TAMPERED';

export function apiError(message: string, code: ErrorCode): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** Codes whose message is written by us for the caller and is safe to pass on as is. */
const SAFE_CODES = new Set<string>([
  'BAD_USER_INPUT',
  'WINDOW_TOO_LARGE',
  'PAGE_TOO_LARGE',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'DOCUMENT_TOO_LARGE',
  'FORBIDDEN',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'LAKE_TAMPERED',
]);

/**
 * Apollo's formatError: keep our own messages, hide everything else from the caller. What is
 * hidden goes to `onHidden` (the operator's log), with its cause.
 */
export function errorFormatter(onHidden: (error: unknown) => void = () => {}) {
  return (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, onHidden);
}

export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onHidden: (error: unknown) => void = () => {},
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const codeValue = formatted.extensions?.code;
  const code = typeof codeValue === 'string' ? codeValue : '';
  const base = { locations: formatted.locations, path: formatted.path };
  if (original instanceof EngineError || (original instanceof GraphQLError && original.originalError instanceof EngineError)) {
    const engineError = (original instanceof EngineError ? original : original.originalError) as EngineError;
    onHidden(engineError);
    const message =
      engineError.code === 'QUERY_FAILED'
        ? 'the query engine could not answer this request'
        : `the query engine stopped: ${engineError.code.toLowerCase()}`;
    return { ...base, message, extensions: { code: 'ENGINE_ERROR', reason: engineError.code } };
  }
  if (SAFE_CODES.has(code)) {
    // A refusal's reason code (forbidden_account) is ours too, and tells a client what to fix.
    const reason = formatted.extensions?.reason;
    return { ...base, message: formatted.message, extensions: { code, ...(typeof reason === 'string' ? { reason } : {}) } };
  }
  onHidden(original);
  return { ...base, message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
