/**
 * Warm parse + normalize per record, as an ingest worker runs it (it reads tens of thousands of
 * records, so its code is warm): the same real objects, inflated once up front, read again and
 * again by the source; each checkout in its own child process, rounds alternated.
 *
 *   npx tsx bench/parse.ts --input <folder of objects> [--checkouts <dir>,<dir>] [--rounds 3] [--source cloudtrail]
 *
 * A checkout whose source has `parseWhole` (content held whole, no async step per record) is read
 * with it, as its workers read small objects; else with `parse`, the content handed over as one
 * chunk. Reported: CPU (user + sys) µs per record, the best of passes 3–8 of each round (passes 1–2
 * warm the JIT), median over rounds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { machine, parseArgs, table, writeResult } from './lib/measure';
import { median, perCheckout } from './lib/per-checkout';

const args = parseArgs(process.argv.slice(2));
const PASSES = 8;

interface ChildResult {
  objects: number;
  records: number;
  whole: boolean;
  /** CPU µs per record of each pass. */
  passes: number[];
}

async function child(checkout: string, input: string, sourceId: string): Promise<ChildResult> {
  /* eslint-disable @typescript-eslint/consistent-type-imports */
  const objectsModule = (await import(join(checkout, 'etl/objects.ts'))) as typeof import('../etl/objects');
  const sources = (await import(join(checkout, 'etl/sources/index.ts'))) as typeof import('../etl/sources');
  const readState = (await import(join(checkout, 'etl/readers/read-state.ts'))) as typeof import('../etl/readers/read-state');
  /* eslint-enable @typescript-eslint/consistent-type-imports */
  const source = sources.sourceById(sourceId as Parameters<typeof sources.sourceById>[0]);
  const contents: Buffer[] = [];
  for await (const o of objectsModule.listLocalObjects([input])) {
    const stored = readFileSync(o.key);
    contents.push(stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored) : stored);
  }
  const whole = typeof source.parseWhole === 'function';
  const passes: number[] = [];
  let records = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    records = 0;
    const started = process.cpuUsage();
    for (const content of contents) {
      const held = whole ? source.parseWhole!(content, new readState.ReadState(), { key: input }) : null;
      if (held) for (const item of held) records += item ? 1 : 0;
      else {
        const input = readState.attachReadState(
          (async function* () {
            yield content;
          })(),
          new readState.ReadState(),
        );
        for await (const item of source.parse(input, { key: 'object' })) records += item ? 1 : 0;
      }
    }
    const used = process.cpuUsage(started);
    passes.push((used.user + used.system) / records);
  }
  return { objects: contents.length, records, whole, passes };
}

async function main(): Promise<void> {
  const run = await perCheckout(args, __filename, child, (result) => `${result.passes.map((us) => us.toFixed(1)).join(' ')} µs/record`);
  if (!run) return;
  const { input, sourceId, rounds, checkouts, results } = run;
  const rowsOut = checkouts.map((checkout) => {
    const runs = results.get(checkout)!;
    const warm = runs.map((r) => Math.min(...r.passes.slice(2)));
    return [checkout, `${runs[0].objects} / ${runs[0].records}`, runs[0].whole ? 'parseWhole' : 'parse', median(warm).toFixed(1)];
  });
  console.log(table(['checkout', 'objects / records', 'read with', 'warm parse+normalize µs/record'], rowsOut));
  writeResult('parse', { input, sourceId, rounds, results: Object.fromEntries(results), machine: machine() });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
