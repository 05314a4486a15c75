import { join } from 'node:path';
import type { TableName } from '../../src/core/tables';

/**
 * Where things live in a lake folder. Event tables are hive-partitioned
 * (`<table>/source=…/account=…/region=…/day=…/part-*.parquet`); the underscore folders hold
 * bookkeeping that readers never glob. (Lake-relative paths for any store: see ./store.ts.)
 */
export const lakePaths = (lake: string) => ({
  table: (table: TableName) => join(lake, table),
  manifestDir: join(lake, '_manifest'),
  quarantineDir: join(lake, '_quarantine'),
  oversizeDir: join(lake, '_oversize'),
  stagingDir: join(lake, '_staging'),
  lockFile: join(lake, '_lock'),
});

/** Days whose graph must be rebuilt: a marker file per day, published with the rows that touched it. */
export const GRAPH_PENDING_DIR = '_graph_pending';

/** Partition values come from log content; keep them to characters that are safe in a path. */
export function safePartitionValue(value: string | null | undefined, fallback: string): string {
  if (!value) return fallback;
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '.' || cleaned === '..' ? fallback : cleaned;
}
