/**
 * The Hive DDL the local Athena server understands: CREATE DATABASE / SCHEMA, CREATE EXTERNAL
 * TABLE (Parquet, PARTITIONED BY, LOCATION, TBLPROPERTIES incl. partition projection), DROP TABLE,
 * DROP DATABASE. Parsed from tokens; anything else is a clear error, as Athena would give.
 */
import { significant, tokenize, unquoteIdentifier, unquoteString, type SqlToken } from '../../src/engine/athena-sql';

export interface HiveColumn {
  name: string;
  /** Hive type as written, lower case: string, bigint, array<string>, … */
  hiveType: string;
}

export type DdlStatement =
  | { kind: 'create_database'; database: string; ifNotExists: boolean }
  | { kind: 'drop_database'; database: string; ifExists: boolean }
  | { kind: 'drop_table'; database?: string; table: string; ifExists: boolean }
  | {
      kind: 'create_table';
      database?: string;
      table: string;
      ifNotExists: boolean;
      columns: HiveColumn[];
      partitions: HiveColumn[];
      storedAs?: string;
      location: string;
      properties: Record<string, string>;
    };

export class DdlError extends Error {}

/** True when the statement is DDL this server handles (and the Trino dialect rules do not apply). */
export function isDdl(sql: string): boolean {
  const words = significant(tokenize(sql))
    .slice(0, 3)
    .map((t) => t.text.toLowerCase());
  return (
    (words[0] === 'create' && ['external', 'database', 'schema', 'table'].includes(words[1] ?? '')) ||
    (words[0] === 'drop' && ['table', 'database', 'schema'].includes(words[1] ?? ''))
  );
}

export function parseDdl(sql: string): DdlStatement {
  const tokens = significant(tokenize(sql)).filter((t, i, all) => !(t.text === ';' && i === all.length - 1));
  let i = 0;
  const peek = (offset = 0) => tokens[i + offset];
  const word = (offset = 0) => (peek(offset)?.kind === 'word' ? peek(offset).text.toLowerCase() : undefined);
  const expectWord = (w: string) => {
    if (word() !== w)
      throw new DdlError(`line ${lineOf(sql, peek())}: mismatched input '${peek()?.text ?? '<EOF>'}'. Expecting: '${w.toUpperCase()}'`);
    i++;
  };
  const expectOp = (op: string) => {
    if (peek()?.text !== op)
      throw new DdlError(`line ${lineOf(sql, peek())}: mismatched input '${peek()?.text ?? '<EOF>'}'. Expecting: '${op}'`);
    i++;
  };
  const identifier = (): string => {
    const t = peek();
    if (!t) throw new DdlError('unexpected end of statement, expecting a name');
    i++;
    if (t.kind === 'word') return t.text.toLowerCase();
    if (t.kind === 'backtick' || t.kind === 'quoted') return unquoteIdentifier(t.text).toLowerCase();
    throw new DdlError(`line ${lineOf(sql, t)}: expecting a name, got '${t.text}'`);
  };
  const string = (): string => {
    const t = peek();
    if (t?.kind !== 'string' && t?.kind !== 'quoted') throw new DdlError(`line ${lineOf(sql, t)}: expecting a quoted string`);
    i++;
    // Hive DDL also takes "double-quoted" strings (Athena's own examples use them).
    return t.kind === 'string' ? unquoteString(t.text) : unquoteIdentifier(t.text);
  };
  const qualifiedName = (): { database?: string; table: string } => {
    const first = identifier();
    if (peek()?.text === '.') {
      i++;
      return { database: first, table: identifier() };
    }
    return { table: first };
  };
  const ifExists = (): boolean => {
    if (word() === 'if' && word(1) === 'exists') {
      i += 2;
      return true;
    }
    return false;
  };
  const ifNotExists = (): boolean => {
    if (word() === 'if' && word(1) === 'not' && word(2) === 'exists') {
      i += 3;
      return true;
    }
    return false;
  };
  /** A Hive type: a word, optionally with <…> or (…) parameters, kept as text. */
  const hiveType = (): string => {
    const start = peek();
    if (start?.kind !== 'word') throw new DdlError(`line ${lineOf(sql, start)}: expecting a column type`);
    let text = start.text.toLowerCase();
    i++;
    let depth = 0;
    while (peek() && (depth > 0 || peek().text === '<' || peek().text === '(')) {
      const t = peek();
      if (t.text === '<' || t.text === '(') depth++;
      if (t.text === '>' || t.text === ')') depth--;
      text += t.kind === 'word' ? t.text.toLowerCase() : t.kind === 'backtick' ? unquoteIdentifier(t.text) : t.text;
      i++;
      if (depth === 0) break;
    }
    return text;
  };
  const columnList = (): HiveColumn[] => {
    expectOp('(');
    const columns: HiveColumn[] = [];
    for (;;) {
      const name = identifier();
      const type = hiveType();
      if (word() === 'comment') {
        i++;
        string();
      }
      columns.push({ name, hiveType: type });
      if (peek()?.text === ',') {
        i++;
        continue;
      }
      expectOp(')');
      return columns;
    }
  };

  expectWord(word() === 'drop' ? 'drop' : 'create');
  const verb = tokens[0].text.toLowerCase();
  if (verb === 'drop') {
    if (word() === 'table') {
      i++;
      const exists = ifExists();
      return { kind: 'drop_table', ...qualifiedName(), ifExists: exists };
    }
    i++; // DATABASE | SCHEMA
    const exists = ifExists();
    return { kind: 'drop_database', database: identifier(), ifExists: exists };
  }
  if (word() === 'database' || word() === 'schema') {
    i++;
    const notExists = ifNotExists();
    const database = identifier();
    return { kind: 'create_database', database, ifNotExists: notExists };
  }
  if (word() === 'external') i++;
  expectWord('table');
  const notExists = ifNotExists();
  const name = qualifiedName();
  const columns = columnList();
  let partitions: HiveColumn[] = [];
  let storedAs: string | undefined;
  let location: string | undefined;
  const properties: Record<string, string> = {};
  while (i < tokens.length) {
    const w = word();
    if (w === 'comment') {
      i++;
      string();
    } else if (w === 'partitioned') {
      i++;
      expectWord('by');
      partitions = columnList();
    } else if (w === 'stored') {
      i++;
      expectWord('as');
      storedAs = identifier();
    } else if (w === 'location') {
      i++;
      location = string();
    } else if (w === 'tblproperties') {
      i++;
      expectOp('(');
      for (;;) {
        const key = string();
        expectOp('=');
        properties[key] = string();
        if (peek()?.text === ',') {
          i++;
          continue;
        }
        expectOp(')');
        break;
      }
    } else if (w === 'row') {
      // ROW FORMAT SERDE '…' [WITH SERDEPROPERTIES (…)]: accepted, Parquet needs no serde options here.
      while (i < tokens.length && !['stored', 'location', 'tblproperties'].includes(word() ?? '')) i++;
    } else {
      throw new DdlError(`line ${lineOf(sql, peek())}: mismatched input '${peek().text}' in CREATE EXTERNAL TABLE`);
    }
  }
  if (!location) throw new DdlError('CREATE EXTERNAL TABLE needs a LOCATION');
  if (storedAs && storedAs !== 'parquet')
    throw new DdlError(`the local Athena server reads only Parquet tables, not STORED AS ${storedAs.toUpperCase()}`);
  return { kind: 'create_table', ...name, ifNotExists: notExists, columns, partitions, storedAs, location, properties };
}

function lineOf(sql: string, token: SqlToken | undefined): string {
  if (!token) return 'end';
  const before = sql.slice(0, token.start);
  return `${before.split('\n').length}:${token.start - before.lastIndexOf('\n')}`;
}

/** DuckDB type for a Hive column type: string → VARCHAR, array<string> → VARCHAR[], struct<a:int> → STRUCT(a INTEGER). */
export function hiveToDuckType(hiveType: string): string {
  const t = hiveType.trim().toLowerCase();
  const array = /^array<(.+)>$/.exec(t);
  if (array) return `${hiveToDuckType(array[1])}[]`;
  const map = /^map<(.+)>$/.exec(t);
  if (map) {
    const [k, v] = splitTypeArgs(map[1]);
    return `MAP(${hiveToDuckType(k)}, ${hiveToDuckType(v)})`;
  }
  const struct = /^struct<(.+)>$/.exec(t);
  if (struct) {
    const fields = splitTypeArgs(struct[1]).map((f) => {
      const colon = f.indexOf(':');
      return `"${f.slice(0, colon).trim()}" ${hiveToDuckType(f.slice(colon + 1))}`;
    });
    return `STRUCT(${fields.join(', ')})`;
  }
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(t.replace(/\s/g, ''));
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  const simple: Record<string, string> = {
    string: 'VARCHAR',
    varchar: 'VARCHAR',
    char: 'VARCHAR',
    tinyint: 'TINYINT',
    smallint: 'SMALLINT',
    int: 'INTEGER',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP',
    date: 'DATE',
    binary: 'BLOB',
  };
  const base = t.replace(/\(.*\)$/, '');
  const mapped = simple[base];
  if (!mapped) throw new DdlError(`unsupported column type '${hiveType}'`);
  return mapped;
}

function splitTypeArgs(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}
