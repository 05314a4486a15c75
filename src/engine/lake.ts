/**
 * The lake's layout on disk and the DuckDB views over it.
 *
 *   <lake>/<table>/source=<s>/account=<a>/region=<r>/day=YYYY-MM-DD/part-*.parquet
 *   <lake>/graph/entities/day=YYYY-MM-DD/part-0.parquet
 *   <lake>/graph/edges/day=YYYY-MM-DD/part-0.parquet
 *
 * Every identifier here comes from etl/tables.ts or the constants below, never from a caller.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GRAPH_TABLES, PARTITION_COLUMNS, TABLES, TABLE_NAMES, type Column, type GraphTableName, type TableName } from '../core/tables';

export { GRAPH_TABLES, type GraphTableName } from '../core/tables';

/** Partition columns typed explicitly: account ids like 123456789012 must stay VARCHAR. */
const EVENT_HIVE_TYPES = "{'source': 'VARCHAR', 'account': 'VARCHAR', 'region': 'VARCHAR', 'day': 'DATE'}";
const GRAPH_HIVE_TYPES = "{'day': 'DATE'}";

/** Single-quoted SQL string literal; used only for paths of the lake the operator configured. */
export function sqlString(text: string): string {
  if (text.includes('\0')) throw new Error('path contains a NUL byte');
  return `'${text.replace(/'/g, "''")}'`;
}

export function tableDir(lake: string, table: TableName): string {
  return join(lake, table);
}

export function graphDir(lake: string, table: GraphTableName): string {
  return join(lake, ...GRAPH_TABLES[table].dir);
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
      else if (isPartFile(entry.name)) return true;
    }
  }
  return false;
}

function isPartFile(name: string): boolean {
  return name.startsWith('part-') && name.endsWith('.parquet');
}

function emptyView(columns: readonly Pick<Column, 'name' | 'type'>[], partitions: readonly { name: string; type: string }[]): string {
  const cols = [...columns, ...partitions].map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

function parquetScan(glob: string, hiveTypes: string): string {
  return `SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = ${hiveTypes}, union_by_name = true)`;
}

const EVENT_PARTITIONS = PARTITION_COLUMNS.map((name) => ({ name, type: name === 'day' ? 'DATE' : 'VARCHAR' }));

/** SELECT text of the view for one event table: its files, or an empty typed relation when there are none yet. */
export function eventViewSelect(lake: string, table: TableName): string {
  const dir = tableDir(lake, table);
  if (!hasPartFiles(dir)) return emptyView(TABLES[table].columns, EVENT_PARTITIONS);
  return parquetScan(join(dir, 'source=*', 'account=*', 'region=*', 'day=*', 'part-*.parquet'), EVENT_HIVE_TYPES);
}

export function graphViewSelect(lake: string, table: GraphTableName): string {
  const dir = graphDir(lake, table);
  if (!hasPartFiles(dir)) return emptyView(GRAPH_TABLES[table].columns, [{ name: 'day', type: 'DATE' }]);
  return parquetScan(join(dir, 'day=*', 'part-*.parquet'), GRAPH_HIVE_TYPES);
}

/** CREATE VIEW statements for every table of the lake, plus which tables had no files (to re-check later). */
export function lakeViewStatements(lake: string): { statements: string[]; emptyDirs: string[] } {
  const statements: string[] = [];
  const emptyDirs: string[] = [];
  for (const table of TABLE_NAMES) {
    const select = eventViewSelect(lake, table);
    if (select.endsWith('WHERE false')) emptyDirs.push(tableDir(lake, table));
    statements.push(`CREATE OR REPLACE VIEW "${table}" AS ${select}`);
  }
  for (const table of Object.keys(GRAPH_TABLES) as GraphTableName[]) {
    const select = graphViewSelect(lake, table);
    if (select.endsWith('WHERE false')) emptyDirs.push(graphDir(lake, table));
    statements.push(`CREATE OR REPLACE VIEW "${table}" AS ${select}`);
  }
  return { statements, emptyDirs };
}

/** The days (YYYY-MM-DD) that have graph partitions, newest last. */
export function graphDays(lake: string): string[] {
  const dir = graphDir(lake, 'graph_entities');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^day=(\d{4}-\d{2}-\d{2})$/.exec(name)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort();
}
