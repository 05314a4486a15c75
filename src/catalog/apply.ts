/** Runs the catalog DDL through a query engine (Athena), one statement at a time, in order. */
import type { QueryEngine } from '../engine/types';
import type { CatalogStatement } from './ddl';

export interface AppliedStatement {
  name: string;
  queryId?: string;
  millis: number;
}

export async function applyCatalog(
  engine: QueryEngine,
  statements: readonly CatalogStatement[],
  onApplied?: (applied: AppliedStatement) => void,
): Promise<AppliedStatement[]> {
  const applied: AppliedStatement[] = [];
  for (const statement of statements) {
    const { stats } = await engine.query(statement.sql, [], { label: `catalog:${statement.name}` });
    const entry = { name: statement.name, queryId: stats.queryId, millis: stats.millis };
    applied.push(entry);
    onApplied?.(entry);
  }
  return applied;
}
