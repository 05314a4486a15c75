/**
 * Account scoping of every statement the API runs.
 *
 * A request reads only the accounts (AWS account, Azure tenant, GCP project) its caller may see. An
 * AccountScope says which; every statement builder of src/queries takes one as its first argument
 * and puts it in the Statement it returns, so a statement without a scope does not type-check, and
 * the loaders refuse to run a statement built for another request's scope.
 *
 * What "visible" means, per thing a statement returns:
 * - an event: its `account` (the log's account, a partition column) is in scope;
 * - an entity of a type the graph attributes to an account (Identity, Session, Resource, Account):
 *   its graph row's `account` is in scope (per day, so days attributed elsewhere are left out);
 * - a node the graph keeps without an account (IP address, user agent, domain, region): it appears
 *   in an event of the scope in the window (a sighting). Without this, any caller could list or
 *   pivot to every address of every account.
 */
import { hasColumn, TABLE_NAMES, type NodeType, type TableName } from '../core/tables';
import type { SqlParam } from '../engine/types';
import { placeholders } from '../core/sql';

/** A piece of SQL and the parameters of its `?`s, in order. */
export interface Fragment {
  sql: string;
  params: SqlParam[];
}

const EMPTY: Fragment = { sql: '', params: [] };

export class AccountScope {
  /** Every account: the local caller of `auth: none`, an admin or analyst granted `*`. */
  static readonly ALL = new AccountScope('*');

  private constructor(readonly accounts: '*' | readonly string[]) {}

  /** The scope of a caller's grant ('*' or a list; an empty list sees nothing). */
  static of(accounts: '*' | readonly string[]): AccountScope {
    if (accounts === '*') return AccountScope.ALL;
    return new AccountScope(Object.freeze([...new Set(accounts)].sort()));
  }

  get isAll(): boolean {
    return this.accounts === '*';
  }

  /** True when rows of this account are visible. */
  permits(account: string | null | undefined): boolean {
    return this.accounts === '*' || (account != null && this.accounts.includes(account));
  }

  /** ` AND <column> IN (?, …)`; nothing for every account; ` AND false` for none. */
  restrict(column: string): Fragment {
    if (this.accounts === '*') return EMPTY;
    if (this.accounts.length === 0) return { sql: ' AND false', params: [] };
    return { sql: ` AND ${column} IN (${placeholders(this.accounts.length)})`, params: [...this.accounts] };
  }

  toString(): string {
    return this.accounts === '*' ? '*' : this.accounts.join(',');
  }
}

/** Node types the graph step attributes to an account (graph_entities.account is set). */
const ACCOUNTED: ReadonlySet<NodeType> = new Set<NodeType>(['Identity', 'Session', 'Resource', 'Account']);

/**
 * Where a node kept without an account is sighted in the event tables: the columns whose values are
 * its ids (the same columns the graph step builds those nodes from, etl/graph.ts).
 */
function sightingColumns(type: NodeType, table: TableName): string[] {
  const present = (columns: string[]) => columns.filter((c) => hasColumn(table, c));
  switch (type) {
    case 'IPAddress':
      return present(['src_ip', 'dst_ip', 'answers']);
    case 'UserAgent':
      return present(['user_agent']);
    case 'Domain':
      return present(['query_name']);
    case 'Region':
      return ['region']; // a partition column of every table
    default:
      return [];
  }
}

/** The ids of nodes of a type sighted in the scope's events of these days (one SELECT per table and column). */
function sightings(scope: AccountScope, type: NodeType, days: readonly [string, string]): Fragment {
  const parts: string[] = [];
  const params: SqlParam[] = [];
  for (const table of TABLE_NAMES) {
    for (const column of sightingColumns(type, table)) {
      const restrict = scope.restrict('account');
      const from = column === 'answers' ? `${table} CROSS JOIN UNNEST(answers) AS sighted(value)` : table;
      const value = column === 'answers' ? 'sighted.value' : column;
      parts.push(`SELECT ${value} AS id FROM ${from} WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)${restrict.sql}`);
      params.push(days[0], days[1], ...restrict.params);
    }
  }
  if (parts.length === 0) return { sql: 'SELECT CAST(NULL AS VARCHAR) AS id WHERE false', params: [] };
  return { sql: parts.join(' UNION '), params };
}

/**
 * ` AND <column> IN (…)` keeping only ids of nodes of `type` the scope may see in these days;
 * nothing for every account. `column` holds ids of that type (an entity row's id, an edge end).
 */
export function visibleNodes(scope: AccountScope, type: NodeType, column: string, days: readonly [string, string]): Fragment {
  if (scope.isAll) return EMPTY;
  if (ACCOUNTED.has(type)) {
    const restrict = scope.restrict('account');
    return {
      sql: ` AND ${column} IN (SELECT id FROM graph_entities WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND type = ?${restrict.sql})`,
      params: [days[0], days[1], type, ...restrict.params],
    };
  }
  const seen = sightings(scope, type, days);
  return { sql: ` AND ${column} IN (${seen.sql})`, params: seen.params };
}

/** True for node types whose graph rows carry an account. */
export function isAccounted(type: NodeType): boolean {
  return ACCOUNTED.has(type);
}
