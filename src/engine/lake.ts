/**
 * The DuckDB views over a local lake folder. Each view's SELECT comes from src/core/duckdb.ts (the
 * one place a local table is read as Parquet, shared with the ETL); where the files are, from the
 * lake layout (src/core/lake-layout.ts); the tables from the contract (src/core/tables.ts):
 * nothing here is spelt from a caller's text.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { eventTableSelect, findingsTableSelect, graphTableSelect, listPartFiles } from '../core/duckdb';
import {
  COMMIT_HEAD_FILE,
  LOOKUP_INDEX_DIR,
  dayOfPartition,
  findingsTablePath,
  graphTablePath,
  lookupIndexFile,
  tablePath,
} from '../core/lake-layout';
import type { KeyedRead } from '../core/lookup-index';
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
    /** The lookup index files listed with them (src/core/lookup-index.ts), by the part file they index. */
    private readonly lookupIndexes: ReadonlyMap<string, string>,
  ) {}

  static fromFiles(lake: string, files: ReadonlyMap<LakeTable, readonly string[]>, lookupFiles: readonly string[] = []): LakeListing {
    const listedIndexes = new Set(lookupFiles);
    const lookupIndexes = new Map<string, string>();
    for (const list of files.values())
      for (const file of list) {
        const index = inLake(lake, lookupIndexFile(relative(lake, file).split(sep).join('/')));
        if (listedIndexes.has(index)) lookupIndexes.set(file, index);
      }
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
    return new LakeListing(lake, byDay, lookupIndexes);
  }

  /** The lookup index of a part file, if the listing has one (a file without one is always read). */
  lookupIndexOf(file: string): string | undefined {
    return this.lookupIndexes.get(file);
  }

  /** Every lookup index of the listing. */
  lookupIndexFiles(): IterableIterator<string> {
    return this.lookupIndexes.values();
  }

  /**
   * The lookup indexes a keyed statement's read of days from..to would consult: those of the
   * window's files of the keyed tables the statement names (for the engine to load before windowReads).
   */
  lookupIndexesFor(sql: string, from: string, to: string, keyed: KeyedRead): string[] {
    const out: string[] = [];
    for (const [table, named] of NAMED) {
      if (!(keyed.tables as readonly string[]).includes(table) || !named.test(sql)) continue;
      for (const file of this.filesOn(table, from, to) ?? []) {
        const index = this.lookupIndexes.get(file);
        if (index) out.push(index);
      }
    }
    return out;
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
   *
   * `holding`: for a keyed statement (QueryOptions.keyed), the files of a table that may hold its
   * keys (the engine asks the lookup indexes); the statement's own key filter still decides the rows.
   * `inMemory`: tables whose view reads a table held in memory, left to their view.
   */
  windowReads(sql: string, from: string, to: string, holding?: KeyedFiles, inMemory?: { has(table: LakeTable): boolean }): string[] {
    const entries: string[] = [];
    for (const [table, named] of NAMED) {
      // A table held in memory (DuckDbEngine's graph tables) is read through its view: no footers to open.
      if (!named.test(sql) || inMemory?.has(table)) continue;
      const listed = this.filesOn(table, from, to);
      if (listed === undefined) return [];
      const files = holding ? holding(table, listed) : listed;
      entries.push(`${quoteIdent(table, LAKE_TABLES)} AS NOT MATERIALIZED (${tableSelect(this.lake, table, files)})`);
    }
    return entries;
  }
}

/**
 * The statements loading a graph table's listed files into a DuckDB table `into` (same columns and
 * types as its view, `day` included), sorted by day and the key its look-ups filter on so DuckDB's
 * per-block min / max skips most of it.
 */
export function graphTableLoad(lake: string, table: GraphTableName, files: readonly string[], into: string): string {
  const order = GRAPH_SORT[table];
  return `CREATE TABLE ${into} AS SELECT * FROM (${tableSelect(lake, table, files)}) ORDER BY ${order}`;
}

/** What graph look-ups filter on, per table (src/queries/graph.ts): entities by type and id, edges by source. */
const GRAPH_SORT: Record<GraphTableName, string> = {
  graph_entities: 'day, type, id',
  graph_edges: 'day, src_type, src_id',
  graph_coverage: 'day, source, account',
};

/** The graph tables of the lake. */
export { GRAPH_TABLE_NAMES };

/** Of a table's files, those a keyed statement must read (the others hold none of its keys). */
export type KeyedFiles = (table: LakeTable, files: readonly string[]) => readonly string[];

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
  if (!listed) return { statements, emptyDirs };
  const lookupFiles = TABLE_NAMES.flatMap((table) => listPartFiles(inLake(lake, `${LOOKUP_INDEX_DIR}/${tablePath(table)}`)));
  return { statements, emptyDirs, listing: LakeListing.fromFiles(lake, listedFiles, lookupFiles) };
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
