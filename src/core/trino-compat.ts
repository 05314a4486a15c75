/**
 * DuckDB macros that spell common Trino (Athena engine v3) functions DuckDB lacks, widening the
 * dialect both engines run. The local Athena server installs them, and so do the DuckDB engine and
 * the ETL's graph step (src/core/duckdb.ts), so one query text works on both. Each is faithful for
 * the argument types our tables have; the notes say where DuckDB differs.
 */
/** A Trino JSON path with `["key"]` steps rewritten to DuckDB's `."key"` (keys such as x-amz-acl or @type). */
const TRINO_PATH = `regexp_replace(path, '\\["([^"\\\\]*)"\\]', '."\\1"', 'g')`;

/** The elements of `a` with their places, sorted by value then place. */
const BY_VALUE = `list_sort(list_transform(a, (x, i) -> {'v': x, 'i': i}))`;

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
    sql: `CREATE OR REPLACE MACRO json_extract_scalar(j, path) AS CASE WHEN json_type(j, ${TRINO_PATH}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, ${TRINO_PATH}) END`,
    note: 'NULL for an object or array, as Trino; Trino\'s ["key"] path steps become DuckDB\'s ."key"',
  },
  {
    name: 'json_size',
    sql: `CREATE OR REPLACE MACRO json_size(j, path) AS CASE json_type(j, ${TRINO_PATH}) WHEN 'OBJECT' THEN CAST(len(json_keys(j, ${TRINO_PATH})) AS BIGINT) WHEN 'ARRAY' THEN CAST(json_array_length(j, ${TRINO_PATH}) AS BIGINT) ELSE CASE WHEN json_type(j, ${TRINO_PATH}) IS NULL THEN NULL ELSE CAST(0 AS BIGINT) END END`,
    note: 'members of an object or array, 0 for a scalar, NULL when the path is missing (the rules compiler traverses JSON arrays with it)',
  },
  {
    name: 'slice',
    sql: 'CREATE OR REPLACE MACRO slice(a, start, len) AS list_slice(a, start, start + len - 1)',
    note: "Trino's slice(array, start, length) for start ≥ 1 (the first `length` elements from `start`)",
  },
  { name: 'sequence', sql: 'CREATE OR REPLACE MACRO sequence(start, stop) AS generate_series(start, stop)', note: 'two-argument form' },
  {
    // DuckDB's own array_distinct (list_distinct) returns the values in no set order; Trino keeps each
    // value's first place, and evidence lists rely on it (the first ids in time order). Sorting
    // (value, place) pairs keeps it O(n log n): each run of one value keeps its first place.
    name: 'array_distinct',
    sql: `CREATE OR REPLACE MACRO array_distinct(a) AS CASE WHEN a IS NULL THEN NULL ELSE list_transform(list_sort(list_transform(list_filter(list_zip(${BY_VALUE}, list_slice(list_prepend(NULL, ${BY_VALUE}), 1, len(a))), p -> p[2] IS NULL OR p[2].v IS DISTINCT FROM p[1].v), p -> {'i': p[1].i, 'v': p[1].v})), e -> e.v) END`,
    note: "Trino's: each value once, in the order of its first occurrence (one NULL kept)",
  },
  {
    // Trino's aggregate: the distinct elements of a group's arrays, in no set order. Where only their
    // count is needed, cardinality(set_union(x)) spares DuckDB the order-keeping array_distinct above
    // (two sorts of (value, place) pairs; ~3x the hash-based list_distinct on 200k-element lists).
    name: 'set_union',
    // list_distinct drops NULL elements; Trino keeps one (Presto's tests: "nulls inside arrays should be
    // captured"), so a count of distinct values is the same on both engines. NULL arrays add nothing, and a
    // group of only NULL arrays gives [] (no rows: NULL), as in Trino.
    sql: 'CREATE OR REPLACE MACRO set_union(a) AS list_distinct(flatten(list(a))) || CASE WHEN bool_or(list_count(a) < len(a)) THEN [NULL] ELSE [] END',
    note: 'an aggregate (no FILTER or DISTINCT on it); NULL arrays add nothing; one NULL element is kept, as Trino does',
  },
];
