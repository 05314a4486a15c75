/**
 * Parse + normalize and the RowSpiller's append, per record, over the same real objects, for one or
 * more checkouts in the same run (each in its own child process, rounds alternated): how much CPU
 * the parser and the hand-over of rows to DuckDB cost, before and after a change to either.
 *
 *   npx tsx bench/append.ts --input <folder of objects> [--checkouts <dir>,<dir>] [--rounds 3] [--source cloudtrail]
 *
 * Per child, CPU = user + sys of the whole process (DuckDB's thread included), in phases:
 *   gunzip     read + gunzip every object, nothing else
 *   parse      read + gunzip + the source's parse (JSON.parse, normalize), rows kept in memory
 *   append     RowSpiller.append of every row (spillIfLarge every 1,024 records, as bench/ingest-phases.ts)
 *   spill      takeSpills(): the last rows written out as lz4 Parquet
 * Reported: µs per record for parse − gunzip, µs per row for append and for append + spill.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, parseArgs, table, writeResult } from './lib/measure';
import { median, perCheckout } from './lib/per-checkout';

const args = parseArgs(process.argv.slice(2));

interface ChildResult {
  checkout: string;
  objects: number;
  records: number;
  rows: number;
  cpu: { gunzip: number; parse: number; append: number; spill: number };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function child(checkout: string, input: string, sourceId: string): Promise<ChildResult> {
  // The checkout's own modules (and so its own @duckdb/node-api), by absolute path.
  /* eslint-disable @typescript-eslint/consistent-type-imports */
  const objectsModule = (await import(join(checkout, 'etl/objects.ts'))) as typeof import('../etl/objects');
  const sources = (await import(join(checkout, 'etl/sources/index.ts'))) as typeof import('../etl/sources');
  const spillerModule = (await import(join(checkout, 'etl/lake/row-spiller.ts'))) as typeof import('../etl/lake/row-spiller');
  /* eslint-enable @typescript-eslint/consistent-type-imports */
  const source = sources.sourceById(sourceId as Parameters<typeof sources.sourceById>[0]);
  const objects = [];
  for await (const o of objectsModule.listLocalObjects([input])) objects.push(o);

  let started = cpuSeconds();
  for (const o of objects) for await (const chunk of new objectsModule.ObjectContent(o)) void chunk;
  const gunzip = cpuSeconds() - started;

  type Rows = Extract<Awaited<ReturnType<typeof source.parse> extends AsyncIterable<infer I> ? I : never>, { kind: 'rows' }>;
  const parsed: { index: number; rows: Rows['rows'] }[] = [];
  started = cpuSeconds();
  for (const [index, o] of objects.entries())
    for await (const item of source.parse(new objectsModule.ObjectContent(o), { key: o.key }))
      if (item.kind === 'rows') parsed.push({ index, rows: item.rows });
  const parse = cpuSeconds() - started;

  const temp = mkdtempSync(join(tmpdir(), 'scoutql-append-'));
  try {
    const spiller = await spillerModule.RowSpiller.open({ tempDir: join(temp, 'spill') });
    let rows = 0;
    started = cpuSeconds();
    for (let n = 0; n < parsed.length; n++) {
      const { index, rows: recordRows } = parsed[n];
      for (let i = 0; i < recordRows.length; i++) spiller.append(recordRows[i], source.manifest.id, index, i === 0);
      rows += recordRows.length;
      if (((n + 1) & 0x3ff) === 0) await spiller.spillIfLarge();
    }
    const append = cpuSeconds() - started;
    started = cpuSeconds();
    await spiller.takeSpills();
    const spill = cpuSeconds() - started;
    await spiller.close();
    return { checkout, objects: objects.length, records: parsed.length, rows, cpu: { gunzip, parse, append, spill } };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const run = await perCheckout(args, __filename, child, (result) => JSON.stringify(result.cpu));
  if (!run) return;
  const { input, sourceId, rounds, checkouts, results } = run;
  const rowsOut = checkouts.map((checkout) => {
    const runs = results.get(checkout)!;
    const { records, rows, objects } = runs[0];
    const us = (f: (r: ChildResult) => number, n: number) => ((median(runs.map(f)) / n) * 1e6).toFixed(1);
    return [
      checkout,
      `${objects} / ${records} / ${rows}`,
      us((r) => r.cpu.parse - r.cpu.gunzip, records),
      us((r) => r.cpu.append, rows),
      us((r) => r.cpu.append + r.cpu.spill, rows),
    ];
  });
  console.log(
    table(['checkout', 'objects / records / rows', 'parse+normalize µs/record', 'append µs/row', 'append+spill µs/row'], rowsOut),
  );
  writeResult('append', { input, sourceId, rounds, results: Object.fromEntries(results), machine: machine() });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
