/**
 * The DuckDB views over a local lake folder. Where the files are comes from the lake layout
 * (src/core/lake-layout.ts), the tables and columns from the contract (src/core/tables.ts):
 * nothing here is spelt from a caller's text.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  dayOfPartition,
  findingsGlob,
  findingsTablePath,
  graphGlob,
  graphTablePath,
  isPartFileName,
  tableGlob,
  tablePath,
} from '../core/lake-layout';
import { quoteIdent, sqlString } from '../core/sql';
import {
  FINDINGS_PARTITION_COLUMNS,
  FINDINGS_TABLE,
  GRAPH_TABLES,
  PARTITION_COLUMNS,
  TABLES,
  TABLE_NAMES,
  type Column,
  type GraphTableName,
  type TableName,
} from '../core/tables';

// etl/graph.ts and etl/lake/store-graph.ts still import these from here; they go once etl/ imports src/core.
export { GRAPH_TABLES, type GraphTableName } from '../core/tables';
export { sqlString } from '../core/sql';

const GRAPH_TABLE_NAMES = Object.keys(GRAPH_TABLES) as GraphTableName[];

/** A lake-relative path of the layout ('/'-separated) inside a local lake folder. */
function inLake(lake: string, relative: string): string {
  return join(lake, ...relative.split('/'));
}

export function tableDir(lake: string, table: TableName): string {
  return inLake(lake, tablePath(table));
}

export function graphDir(lake: string, table: GraphTableName): string {
  return inLake(lake, graphTablePath(table));
}

/** True when at least one published part file exists under dir (temp files do not count). */
export function hasPartFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) stack.push(join(current, entry.name));
      else if (isPartFileName(entry.name)) return true;
    }
  }
  return false;
}

interface TypedName {
  name: string;
  type: string;
}

/** Partition columns typed explicitly: account ids like 123456789012 must stay VARCHAR. */
const EVENT_PARTITIONS: TypedName[] = PARTITION_COLUMNS.map((name) => ({ name, type: name === 'day' ? 'DATE' : 'VARCHAR' }));
const GRAPH_PARTITIONS: TypedName[] = [{ name: 'day', type: 'DATE' }];
const FINDINGS_PARTITIONS: TypedName[] = FINDINGS_PARTITION_COLUMNS.map((name) => ({ name, type: name === 'day' ? 'DATE' : 'VARCHAR' }));

const hiveTypes = (partitions: readonly TypedName[]) =>
  `{${partitions.map((p) => `${sqlString(p.name)}: ${sqlString(p.type)}`).join(', ')}}`;

function emptyView(columns: readonly Pick<Column, 'name' | 'type'>[], partitions: readonly TypedName[]): string {
  const cols = [...columns, ...partitions].map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

function parquetScan(glob: string, partitions: readonly TypedName[]): string {
  return `SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = ${hiveTypes(partitions)}, union_by_name = true)`;
}

/** SELECT text of the view for one event table: its files, or an empty typed relation when there are none yet. */
export function eventViewSelect(lake: string, table: TableName): string {
  if (!hasPartFiles(tableDir(lake, table))) return emptyView(TABLES[table].columns, EVENT_PARTITIONS);
  return parquetScan(inLake(lake, tableGlob(table)), EVENT_PARTITIONS);
}

export function graphViewSelect(lake: string, table: GraphTableName): string {
  if (!hasPartFiles(graphDir(lake, table))) return emptyView(GRAPH_TABLES[table].columns, GRAPH_PARTITIONS);
  return parquetScan(inLake(lake, graphGlob(table)), GRAPH_PARTITIONS);
}

export function findingsDir(lake: string): string {
  return inLake(lake, findingsTablePath());
}

/** SELECT text of the findings view: its files with product, account and day, or no rows before the first detect run. */
export function findingsViewSelect(lake: string): string {
  if (!hasPartFiles(findingsDir(lake))) return emptyView(FINDINGS_TABLE.columns, FINDINGS_PARTITIONS);
  return parquetScan(inLake(lake, findingsGlob()), FINDINGS_PARTITIONS);
}

/** CREATE VIEW statements for every table of the lake, plus which tables had no files (to re-check later). */
export function lakeViewStatements(lake: string): { statements: string[]; emptyDirs: string[] } {
  const statements: string[] = [];
  const emptyDirs: string[] = [];
  for (const table of TABLE_NAMES) {
    const select = eventViewSelect(lake, table);
    if (select.endsWith('WHERE false')) emptyDirs.push(tableDir(lake, table));
    statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(table, TABLE_NAMES)} AS ${select}`);
  }
  for (const table of GRAPH_TABLE_NAMES) {
    const select = graphViewSelect(lake, table);
    if (select.endsWith('WHERE false')) emptyDirs.push(graphDir(lake, table));
    statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(table, GRAPH_TABLE_NAMES)} AS ${select}`);
  }
  const findings = findingsViewSelect(lake);
  if (findings.endsWith('WHERE false')) emptyDirs.push(findingsDir(lake));
  statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(FINDINGS_TABLE.name, [FINDINGS_TABLE.name])} AS ${findings}`);
  return { statements, emptyDirs };
}

/** The days (YYYY-MM-DD) that have graph partitions, newest last. */
export function graphDays(lake: string): string[] {
  const dir = graphDir(lake, 'graph_entities');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => dayOfPartition(name))
    .filter((d): d is string => d !== null)
    .sort();
}
