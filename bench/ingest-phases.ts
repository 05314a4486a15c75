/**
 * Where the ingest's time goes: each phase of etl/ingest.ts run alone, on one thread, over the
 * same objects, using the pipeline's own functions (nothing re-implemented). Read with the
 * `node --cpu-prof` profile of a real run; see bench/README.md.
 *
 *   npx tsx bench/ingest-phases.ts <files or folders…> [--source cloudtrail]
 *
 * Phases: list → sha256 (manifest key) → detect → gunzip only → parse+normalize → append to the
 * RowSpiller (DuckDB appender + lz4 spills) → publishPartitions (partition, sort, ZSTD) → graph.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectObject } from '../etl/detect';
import { materializeGraph } from '../etl/graph';
import { RowSpiller, publishPartitions } from '../etl/lake/row-spiller';
import { ObjectContent, listLocalObjects, sha256Of, type ObjectRef } from '../etl/objects';
import { manifestById, sourceById } from '../etl/sources';
import { identityColumns } from '../etl/sources/types';
import type { SourceId } from '../src/generated/sources';
import { machine, parseArgs, table, writeResult } from './lib/measure';

const argv = process.argv.slice(2);
const inputs = argv.filter((a, i) => !a.startsWith('--') && !(argv[i - 1] ?? '').startsWith('--source'));
const args = parseArgs(argv.filter((a) => !inputs.includes(a)));
const forced = typeof args.get('source') === 'string' ? (String(args.get('source')) as SourceId) : undefined;

async function timed<T>(label: string, phases: [string, number][], work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await work();
  phases.push([label, Number(process.hrtime.bigint() - started) / 1e9]);
  return result;
}

async function main(): Promise<void> {
  const phases: [string, number][] = [];
  const objects = await timed('list objects', phases, async () => {
    const list: ObjectRef[] = [];
    for await (const o of listLocalObjects(inputs)) list.push(o);
    return list;
  });
  await timed('sha256 of every object (main thread)', phases, async () => {
    for (const o of objects) await sha256Of(o);
  });
  const sources = await timed('detect every object (main thread)', phases, async () => {
    const out: (SourceId | null)[] = [];
    for (const o of objects) {
      const v = await detectObject(o, forced);
      out.push(v.kind === 'source' ? v.source.id : null);
    }
    return out;
  });
  const work = objects.flatMap((o, i) => {
    const source = sources[i];
    return source ? [{ o, source }] : [];
  });
  await timed('read + gunzip only', phases, async () => {
    for (const { o } of work) for await (const chunk of new ObjectContent(o)) void chunk;
  });
  const records = await timed('read + parse + normalize', phases, async () => {
    let n = 0;
    for (const { o, source } of work)
      for await (const item of sourceById(source).parse(new ObjectContent(o), { key: o.key })) if (item.kind) n++;
    return n;
  });
  const temp = mkdtempSync(join(tmpdir(), 'scoutql-phases-'));
  try {
    const spiller = await RowSpiller.open({ tempDir: join(temp, 'spill') });
    await timed('read + parse + normalize + append/spill', phases, async () => {
      let n = 0;
      for (const [index, { o, source }] of work.entries()) {
        for await (const item of sourceById(source).parse(new ObjectContent(o), { key: o.key })) {
          if (item.kind !== 'rows') continue;
          item.rows.forEach((row, i) => spiller.append(row, source, index, i === 0));
          if ((++n & 0x3ff) === 0) await spiller.spillIfLarge();
        }
      }
    });
    const spills = await spiller.takeSpills();
    await spiller.close();
    const lake = join(temp, 'lake');
    mkdirSync(join(temp, 'publish'), { recursive: true });
    const { partitions } = await timed('publishPartitions (partition, dedupe, sort, ZSTD 9)', phases, () =>
      publishPartitions(spills, lake, 'phases', join(temp, 'publish'), {
        identityOf: (source) => identityColumns(manifestById(source as SourceId)),
        lakeFiles: () => Promise.resolve([]),
      }),
    );
    const days = [...new Set(partitions.map((p) => p.slice(p.lastIndexOf('day=') + 4)))].sort();
    // The graph step reads the lake layout; the staged partitions sit under lake/ already.
    await timed('graph step', phases, () => materializeGraph({ lake, days }));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  const parseOnly = phases.find(([l]) => l === 'read + parse + normalize')![1];
  const gunzip = phases.find(([l]) => l === 'read + gunzip only')![1];
  const withAppend = phases.find(([l]) => l.startsWith('read + parse + normalize + append'))![1];
  console.log(`${objects.length} objects, ${records} records`);
  console.log(
    table(
      ['phase (one thread)', 's', 'records/s'],
      phases.map(([l, s]) => [l, s.toFixed(2), Math.round(records / s).toLocaleString('en-US')]),
    ),
  );
  console.log(
    `parse + normalize alone ≈ ${(parseOnly - gunzip).toFixed(2)} s; append/spill alone ≈ ${(withAppend - parseOnly).toFixed(2)} s`,
  );
  writeResult('ingest-phases', { inputs, objects: objects.length, records, phases, machine: machine() });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
