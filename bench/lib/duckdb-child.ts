/**
 * Runs one DuckDB baseline in its own process, so its peak RSS is measured the same way as the
 * ScoutQL CLI's. Argument: a JSON file `{ sql: string, threads: number, memoryLimit?: string }`.
 * Prints `{ "seconds": …, "rows": … }` (the statement's own wall time and the rows it wrote).
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

interface Spec {
  sql: string;
  threads: number;
  memoryLimit?: string;
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Spec;
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(spec.threads),
    ...(spec.memoryLimit ? { memory_limit: spec.memoryLimit } : {}),
  });
  const connection = await instance.connect();
  const started = process.hrtime.bigint();
  const reader = await connection.runAndReadAll(spec.sql);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // COPY returns the number of rows written.
  const rows = Number(reader.getRows()[0]?.[0] ?? 0);
  connection.closeSync();
  instance.closeSync();
  process.stdout.write(JSON.stringify({ seconds, rows }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`duckdb baseline failed: ${(err as Error).message}\n`);
  process.exit(1);
});
