/**
 * How a statement reads the graph's edges by their destination end (an `in` leg of a pivot, an
 * access key's identity): `FROM` this text, the edges table under a name of its own. Every engine
 * runs it as written (Trino and DuckDB: a table alias); the embedded engine, when it holds the graph
 * in memory, points exactly this text at its copy of the edges ordered by destination
 * (src/engine/duckdb.ts), whose per-block min / max then skip the edges of other destinations: the
 * copy it holds for the source end is ordered by source, so a destination look-up reads every edge.
 */
export const EDGES_BY_DESTINATION_ALIAS = 'edges_by_destination';

/** `FROM` + this: the edges table read by its destination end (columns may be qualified by the alias). */
export const EDGES_BY_DESTINATION = `graph_edges AS ${EDGES_BY_DESTINATION_ALIAS}`;
