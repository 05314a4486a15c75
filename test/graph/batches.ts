/**
 * Shared by the incremental graph tests (issue #14): one set of objects covering every source (a
 * one-day sample with its stories, and every source's golden files, GuardDuty and Security Hub
 * findings among them), cut into batches in their order, and a lake's graph tables as rows.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MANIFESTS, sourceFolder } from '../../etl/sources';
import { sqlString } from '../../src/core/sql';
import { generateSample } from '../../testkit/sample';
import { cloudTrailRecord } from '../etl/helpers';

/**
 * Every object (file) of the inputs, in the order a single ingest of them reads them. Two CloudTrail
 * objects on the days of the GuardDuty and Security Hub examples come first and last, so batches
 * merge findings into a day's events and events into a day's findings.
 */
export function graphObjects(dir: string, options: { sample: boolean; sources?: readonly string[] }): string[] {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  if (options.sample) generateSample({ out: logs, days: 1, seed: 'graph-incremental', scale: 0.02 });
  const extra = join(dir, 'around-findings');
  mkdirSync(extra, { recursive: true });
  const onFindingsDay = (name: string, ids: number[]) => {
    const path = join(extra, name);
    const records = ids.map((i) =>
      cloudTrailRecord(i, {
        eventTime: `2024-03-0${4 + (i % 2)}T${String(10 + i).padStart(2, '0')}:00:00Z`,
        sourceIPAddress: '203.0.113.150',
      }),
    );
    writeFileSync(path, JSON.stringify({ Records: records }));
    return path;
  };
  const files: string[] = [onFindingsDay('first.json', [1, 2, 3])];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('.expected.json')) files.push(path);
    }
  };
  walk(logs);
  for (const m of MANIFESTS) if (!options.sources || options.sources.includes(m.id)) walk(join(sourceFolder(m.id), 'golden'));
  files.push(onFindingsDay('last.json', [4, 5, 6]));
  return files;
}

/** `items` cut into `n` runs of consecutive items (the order kept: the first copy of an event wins either way). */
export function inBatches<T>(items: readonly T[], n: number): T[][] {
  const size = Math.ceil(items.length / n);
  return Array.from({ length: n }, (_, i) => items.slice(i * size, (i + 1) * size)).filter((b) => b.length > 0);
}

/** Every row of a local lake's graph tables (entities, edges, coverage, with their day), in one order. */
export async function graphTables(lake: string): Promise<Record<string, unknown[][]>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const out: Record<string, unknown[][]> = {};
    for (const table of ['entities', 'edges', 'coverage']) {
      const glob = sqlString(join(lake, 'graph', table, 'day=*', 'part-0.parquet'));
      const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet(${glob}, hive_partitioning = true) ORDER BY ALL`);
      out[table] = reader.getRows().map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v === null ? null : String(v))));
    }
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
