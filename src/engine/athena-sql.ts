/**
 * A small SQL tokenizer for the Athena (Trino) dialect, shared by the Athena engine (counting `?`
 * placeholders outside strings and comments) and the local Athena server (binding execution
 * parameters, rejecting DuckDB-only syntax, reading Hive DDL). It does not parse: it only
 * knows where strings, quoted identifiers, comments and operators begin and end.
 */

export type SqlTokenKind =
  | 'word' // identifier or keyword
  | 'string' // '…' with '' escapes
  | 'quoted' // "identifier" with "" escapes
  | 'backtick' // `identifier` (Hive DDL only)
  | 'number'
  | 'param' // ?
  | 'dollar_param' // $1 (DuckDB / Postgres only)
  | 'op' // operators and punctuation
  | 'comment'
  | 'space';

export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
  /** Offset of the token's first character in the SQL text. */
  start: number;
}

/** Multi-character operators, longest first, so `->>` wins over `->`. */
const OPERATORS = ['->>', '::', '->', '=>', '<=', '>=', '<>', '!=', '==', '||', '**', '//'];

export class SqlLexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SqlLexError';
  }
}

export function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const push = (kind: SqlTokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(ch)) {
      let end = i + 1;
      while (end < sql.length && /\s/.test(sql[end])) end++;
      push('space', end);
    } else if (ch === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      push('comment', nl === -1 ? sql.length : nl);
    } else if (ch === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close === -1) throw new SqlLexError('unterminated /* comment', i);
      push('comment', close + 2);
    } else if (ch === "'" || ch === '"' || ch === '`') {
      push(ch === "'" ? 'string' : ch === '"' ? 'quoted' : 'backtick', quotedEnd(sql, i, ch));
    } else if (/[0-9]/.test(ch) || (ch === '.' && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))!;
      push('number', i + m[0].length);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i))!;
      push('word', i + m[0].length);
    } else if (ch === '?') {
      push('param', i + 1);
    } else if (ch === '$' && next !== undefined && /[0-9]/.test(next)) {
      const m = /^\$\d+/.exec(sql.slice(i))!;
      push('dollar_param', i + m[0].length);
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i));
      push('op', i + (op ? op.length : 1));
    }
  }
  return tokens;
}

/** End offset (exclusive) of a quoted token starting at `start`; a doubled quote is an escaped one. */
function quotedEnd(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  throw new SqlLexError(`unterminated ${quote === "'" ? 'string literal' : 'quoted identifier'}`, start);
}

/** Tokens that carry meaning: no whitespace, no comments. */
export function significant(tokens: readonly SqlToken[]): SqlToken[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** How many `?` placeholders the statement has (outside strings, identifiers and comments). */
export function countPlaceholders(sql: string): number {
  return tokenize(sql).filter((t) => t.kind === 'param').length;
}

/** The value of a '…' string token, with '' unescaped. */
export function unquoteString(token: string): string {
  return token.slice(1, -1).replace(/''/g, "'");
}

/** The name inside a "…" or `…` identifier token. */
export function unquoteIdentifier(token: string): string {
  const quote = token[0];
  return token
    .slice(1, -1)
    .split(quote + quote)
    .join(quote);
}
