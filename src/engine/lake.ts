/**
 * The DuckDB views over a local lake folder. Each view's SELECT comes from src/core/duckdb.ts (the
 * one place a local table is read as Parquet, shared with the ETL); where the files are, from the
 * lake layout (src/core/lake-layout.ts); the tables from the contract (src/core/tables.ts):
 * nothing here is spelt from a caller's text.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventTableSelect, findingsTableSelect, graphTableSelect, listPartFiles } from '../core/duckdb';
import { COMMIT_HEAD_FILE, dayOfPartition, findingsTablePath, graphTablePath, tablePath } from '../core/lake-layout';
import { quoteIdent } from '../core/sql';
import { FINDINGS_TABLE, GRAPH_TABLES, TABLE_NAMES, type GraphTableName } from '../core/tables';

export { hasPartFiles } from '../core/duckdb';

const GRAPH_TABLE_NAMES = Object.keys(GRAPH_TABLES) as GraphTableName[];

/** A lake-relative path of the layout ('/'-separated) inside a local lake folder. */
function inLake(lake: string, relative: string): string {
  return join(lake, ...relative.split('/'));
}

/** A table with no files yet reads as an empty typed relation (core/duckdb.ts ends it with WHERE false). */
const isEmptySelect = (select: string) => select.endsWith('WHERE false');

/**
 * CREATE VIEW statements for every table of the lake, plus which tables had no files (to re-check
 * later). `listed`: each view reads its table's files listed now (see lakeHead for when to list
 * again) instead of a glob every statement re-lists.
 */
export function lakeViewStatements(lake: string, listed = false): { statements: string[]; emptyDirs: string[] } {
  const statements: string[] = [];
  const emptyDirs: string[] = [];
  const filesOf = (dir: string) => (listed ? listPartFiles(dir) : undefined);
  for (const table of TABLE_NAMES) {
    const dir = inLake(lake, tablePath(table));
    const select = eventTableSelect(lake, table, filesOf(dir));
    if (isEmptySelect(select)) emptyDirs.push(dir);
    statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(table, TABLE_NAMES)} AS ${select}`);
  }
  for (const table of GRAPH_TABLE_NAMES) {
    const dir = inLake(lake, graphTablePath(table));
    const select = graphTableSelect(lake, table, filesOf(dir));
    if (isEmptySelect(select)) emptyDirs.push(dir);
    statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(table, GRAPH_TABLE_NAMES)} AS ${select}`);
  }
  const findingsDir = inLake(lake, findingsTablePath());
  const findings = findingsTableSelect(lake, filesOf(findingsDir));
  if (isEmptySelect(findings)) emptyDirs.push(findingsDir);
  statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(FINDINGS_TABLE.name, [FINDINGS_TABLE.name])} AS ${findings}`);
  return { statements, emptyDirs };
}

/**
 * The lake's commit HEAD (`_commits/HEAD`), or null for a lake without a commit chain. Every file
 * the engine reads is published by a commit that moves HEAD, so an unchanged HEAD means unchanged
 * file lists: one small read per statement instead of listing every partition folder.
 */
export function lakeHead(lake: string): string | null {
  try {
    return readFileSync(inLake(lake, COMMIT_HEAD_FILE), 'utf8');
  } catch {
    return null;
  }
}

/** The days (YYYY-MM-DD) that have graph partitions, newest last. */
export function graphDays(lake: string): string[] {
  const dir = inLake(lake, graphTablePath('graph_entities'));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => dayOfPartition(name))
    .filter((d): d is string => d !== null)
    .sort();
}
