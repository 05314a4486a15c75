/**
 * The engine seam. Everything above it (queries, resolvers, CLI) neither knows nor cares whether
 * DuckDB or Athena answers. SQL handed to an engine is written in the Athena engine v3 (Trino)
 * dialect that DuckDB also runs, with `?` positional placeholders.
 */
import type { KeyedRead } from '../core/lookup-index';

/** A value bound to a `?` placeholder. Timestamps travel as Date and are bound as TIMESTAMP. */
export type SqlParam = string | number | bigint | boolean | Date | null;

/** A result cell: VARCHAR → string, BIGINT → number (exact below 2^53), TIMESTAMP → Date, arrays → arrays. */
export type SqlValue = string | number | boolean | Date | null | SqlValue[] | { [key: string]: SqlValue };

export type SqlRow = Record<string, SqlValue>;

export interface QueryStats {
  engine: 'duckdb' | 'athena';
  /** Wall time the engine took, in milliseconds. */
  millis: number;
  /** Bytes the engine scanned (Athena bills by this); DuckDB reports what it can estimate or 0. */
  bytesScanned: number;
  /** Athena only: time spent queued and executing. */
  queueMillis?: number;
  executionMillis?: number;
  /** Athena only: the query execution id, for the console or StopQueryExecution. */
  queryId?: string;
}

export interface QueryOptions {
  /** Aborts the query (Athena: StopQueryExecution) when signalled, e.g. at a request deadline. */
  signal?: AbortSignal;
  /** A short label for logs and stats (which query of src/queries ran). */
  label?: string;
  /** light (graph lookups, pivots) or heavy (event scans): a pool in front of the engine may keep slots for light ones. */
  weight?: 'light' | 'heavy';
  /**
   * First and last day (YYYY-MM-DD) of every partition the statement reads, in every table it
   * names: its own `day` filters keep it within them. DuckDB then reads only those days' files;
   * Athena's partition projection prunes by the filters themselves.
   */
  days?: readonly [string, string];
  /**
   * With `days`: every read of these tables keeps only rows holding one of these keys (its own
   * filters say so). DuckDB then reads only the window's files whose lookup index holds a key
   * (src/core/lookup-index.ts; a file without an index is read); Athena ignores it.
   */
  keyed?: KeyedRead;
}

export interface QueryResult<R extends SqlRow = SqlRow> {
  rows: R[];
  stats: QueryStats;
}

export interface QueryEngine {
  readonly name: 'duckdb' | 'athena';
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>>;
  close(): Promise<void>;
}

/** An error the engine raised, safe to show a caller: no SQL text, no stack. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: 'QUERY_FAILED' | 'QUERY_CANCELLED' | 'THROTTLED' | 'TIMEOUT' | 'COST_LIMIT',
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
