/**
 * DuckDB macros that spell common Trino (Athena engine v3) functions DuckDB lacks, widening the
 * dialect both engines run. The local Athena server installs them, and so do the DuckDB engine and
 * the ETL's graph step (src/core/duckdb.ts), so one query text works on both. Each is faithful for
 * the argument types our tables have; the notes say where DuckDB differs.
 */
export const TRINO_COMPAT_MACROS: readonly { name: string; sql: string; note?: string }[] = [
  { name: 'regexp_like', sql: 'CREATE OR REPLACE MACRO regexp_like(s, pattern) AS regexp_matches(s, pattern)' },
  { name: 'cardinality', sql: 'CREATE OR REPLACE MACRO cardinality(a) AS len(a)', note: "arrays only (shadows DuckDB's map cardinality)" },
  { name: 'array_join', sql: 'CREATE OR REPLACE MACRO array_join(a, sep) AS array_to_string(a, sep)' },
  { name: 'arrays_overlap', sql: 'CREATE OR REPLACE MACRO arrays_overlap(a, b) AS list_has_any(a, b)' },
  { name: 'to_unixtime', sql: 'CREATE OR REPLACE MACRO to_unixtime(ts) AS epoch(ts)' },
  { name: 'from_unixtime', sql: 'CREATE OR REPLACE MACRO from_unixtime(seconds) AS to_timestamp(seconds)' },
  { name: 'from_iso8601_timestamp', sql: 'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)' },
  {
    name: 'json_extract_scalar',
    sql: 'CREATE OR REPLACE MACRO json_extract_scalar(j, path) AS json_extract_string(j, path)',
    note: 'Trino gives NULL for a non-scalar; DuckDB gives its JSON text',
  },
];
