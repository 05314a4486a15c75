/**
 * The DuckDB views over a local lake folder. Each view's SELECT comes from src/core/duckdb.ts (the
 * one place a local table is read as Parquet, shared with the ETL); where the files are, from the
 * lake layout (src/core/lake-layout.ts); the tables from the contract (src/core/tables.ts):
 * nothing here is spelt from a caller's text.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { eventTableSelect, findingsTableSelect, graphTableSelect, listPartFiles } from '../core/duckdb';
import { COMMIT_HEAD_FILE, dayOfPartition, findingsTablePath, graphTablePath, tablePath } from '../core/lake-layout';
import { quoteIdent } from '../core/sql';
import { FINDINGS_TABLE, GRAPH_TABLES, TABLE_NAMES, type GraphTableName, type TableName } from '../core/tables';

export { hasPartFiles } from '../core/duckdb';

const GRAPH_TABLE_NAMES = Object.keys(GRAPH_TABLES) as GraphTableName[];

/** A lake-relative path of the layout ('/'-separated) inside a local lake folder. */
function inLake(lake: string, relative: string): string {
  return join(lake, ...relative.split('/'));
}

/** A table with no files yet reads as an empty typed relation (core/duckdb.ts ends it with WHERE false). */
const isEmptySelect = (select: string) => select.endsWith('WHERE false');

/** Every table the engine has a view of: the event tables, the graph tables, findings. */
export type LakeTable = TableName | GraphTableName | typeof FINDINGS_TABLE.name;
const LAKE_TABLES: readonly LakeTable[] = [...TABLE_NAMES, ...GRAPH_TABLE_NAMES, FINDINGS_TABLE.name];

/** Whether a statement names a table: its name as a whole word (a false hit only adds an unused CTE). */
const NAMED: readonly [LakeTable, RegExp][] = LAKE_TABLES.map((table) => [table, new RegExp(`\\b${table}\\b`, 'i')]);

/** Where a table's files are in a local lake folder. */
function tableDir(lake: string, table: LakeTable): string {
  if ((TABLE_NAMES as readonly string[]).includes(table)) return inLake(lake, tablePath(table as TableName));
  if (table === FINDINGS_TABLE.name) return inLake(lake, findingsTablePath());
  return inLake(lake, graphTablePath(table as GraphTableName));
}

/** The SELECT text reading these files of a table (or its glob when `files` is undefined); src/core/duckdb.ts spells it. */
function tableSelect(lake: string, table: LakeTable, files: readonly string[] | undefined): string {
  if ((TABLE_NAMES as readonly string[]).includes(table)) return eventTableSelect(lake, table as TableName, files);
  if (table === FINDINGS_TABLE.name) return findingsTableSelect(lake, files);
  return graphTableSelect(lake, table as GraphTableName, files);
}

/**
 * The lake's files per table and day, as listed at one commit HEAD (the same listing the views are
 * made from). A statement bounded to a few days reads only those days' files (windowReads) instead
 * of the view over every file: DuckDB then opens the footers of the window's files only, where a
 * view's `union_by_name` scan binds every file of the table before the `day` filter prunes them.
 */
export class LakeListing {
  private constructor(
    private readonly lake: string,
    /** Per table, per day (YYYY-MM-DD), the day's files; files outside a `day=` folder are kept under ''. */
    private readonly byDay: ReadonlyMap<LakeTable, ReadonlyMap<string, readonly string[]>>,
  ) {}

  static fromFiles(lake: string, files: ReadonlyMap<LakeTable, readonly string[]>): LakeListing {
    const byDay = new Map<LakeTable, Map<string, string[]>>();
    for (const [table, list] of files) {
      const days = new Map<string, string[]>();
      for (const file of list) {
        const day = dayOfPartition(file.split(sep).join('/')) ?? '';
        const same = days.get(day);
        if (same) same.push(file);
        else days.set(day, [file]);
      }
      byDay.set(table, days);
    }
    return new LakeListing(lake, byDay);
  }

  /**
   * A table's files on the days from..to (YYYY-MM-DD, inclusive), or undefined when the table has
   * a file outside any `day=` folder (it cannot be bounded: read the view).
   */
  filesOn(table: LakeTable, from: string, to: string): string[] | undefined {
    const days = this.byDay.get(table);
    if (!days) return [];
    if (days.has('')) return undefined;
    const out: string[] = [];
    for (const [day, files] of days) if (day >= from && day <= to) out.push(...files);
    return out.sort();
  }

  /**
   * `WITH`-list entries (`name AS NOT MATERIALIZED (SELECT … FROM read_parquet([files]))`) for the
   * lake tables a statement names, each reading only the files of the days from..to. A CTE of a
   * table's name shadows its view for that statement alone. Empty when the statement names none.
   *
   * Only for statements whose every read of every table is bounded to those days by its own `day`
   * filter (QueryOptions.days): the statement's filters stay as they were, so the rows are the
   * view's rows. Table names come from the contract, file paths from the listing (quoted by
   * sqlString in src/core/duckdb.ts); nothing here comes from a caller.
   */
  windowReads(sql: string, from: string, to: string): string[] {
    const entries: string[] = [];
    for (const [table, named] of NAMED) {
      if (!named.test(sql)) continue;
      const files = this.filesOn(table, from, to);
      if (files === undefined) return [];
      entries.push(`${quoteIdent(table, LAKE_TABLES)} AS NOT MATERIALIZED (${tableSelect(this.lake, table, files)})`);
    }
    return entries;
  }
}

/**
 * CREATE VIEW statements for every table of the lake, plus which tables had no files (to re-check
 * later). `listed`: each view reads its table's files listed now (see lakeHead for when to list
 * again) instead of a glob every statement re-lists; the same listing, per day, comes back as
 * `listing` for statements bounded to a window (LakeListing.windowReads).
 */
export function lakeViewStatements(lake: string, listed = false): { statements: string[]; emptyDirs: string[]; listing?: LakeListing } {
  const statements: string[] = [];
  const emptyDirs: string[] = [];
  const listedFiles = new Map<LakeTable, readonly string[]>();
  for (const table of LAKE_TABLES) {
    const dir = tableDir(lake, table);
    const files = listed ? listPartFiles(dir) : undefined;
    if (files) listedFiles.set(table, files);
    const select = tableSelect(lake, table, files);
    if (isEmptySelect(select)) emptyDirs.push(dir);
    statements.push(`CREATE OR REPLACE VIEW ${quoteIdent(table, LAKE_TABLES)} AS ${select}`);
  }
  return { statements, emptyDirs, ...(listed ? { listing: LakeListing.fromFiles(lake, listedFiles) } : {}) };
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
