// The macros live in src/core/trino-compat.ts: the ETL's graph step runs the same Trino SQL on DuckDB and may import only src/core.
export { TRINO_COMPAT_MACROS } from '../core/trino-compat';
