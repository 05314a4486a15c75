/**
 * SQL text helpers shared by every layer that writes SQL. Values from users always travel as
 * `?` parameters; literals here are only for what the operator configured (lake paths) or for
 * constants of the code, and identifiers only from allow-lists.
 */

/** Single-quoted SQL string literal, for paths and constants, never for request values. */
export function sqlString(text: string): string {
  if (text.includes('\0')) throw new Error('SQL string contains a NUL byte');
  return `'${text.replace(/'/g, "''")}'`;
}

/** `?, ?, ?` for a list of parameters. */
export function placeholders(count: number): string {
  if (count < 1) throw new Error('placeholders: need at least one value');
  return Array.from({ length: count }, () => '?').join(', ');
}

/** A double-quoted identifier, for names taken from an allow-list (table and column names of the contract). */
export function quoteIdent(name: string, allowed: readonly string[]): string {
  if (!allowed.includes(name)) throw new Error(`identifier '${name}' is not allowed here`);
  return `"${name.replace(/"/g, '""')}"`;
}
