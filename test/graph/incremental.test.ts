/**
 * The graph step is incremental (issue #14): an ingest merges only the day's new event and
 * findings files into the day's graph state, and the graph it finishes is, row for row, the one a
 * single ingest of all the objects builds, findings included. `scoutql graph rebuild` (a full
 * rebuild from every file) gives the same graph again.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { cloudTrailRecord, scoutql, tempDir } from '../etl/helpers';
import { REAL_CLI } from '../cli';
import { envelope } from '../s3/helpers';
import { graphObjects, graphTables, inBatches } from './batches';

let dir: string;
let objects: string[];
let once: Record<string, unknown[][]>;

beforeAll(async () => {
  dir = tempDir('graph-incremental');
  // The sample (one day of every source) is spread over all the batches; of the golden files, those whose rows fall on
  // the findings' days, the only other days that batches split (every other golden file's day is rebuilt whole in one
  // batch, as in the single ingest: the same path twice, at about 0.4 s of graph step per day and 86 days in all).
  objects = graphObjects(dir, { sample: true, sources: ['apigateway', 'guardduty', 'securityhub'] });
  const lake = join(dir, 'once');
  await ingest({ inputs: objects, lake, outlierTimes: 'keep', workers: 1 });
  once = await graphTables(lake);
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the graph from ingests of 5 batches equals the graph of one ingest of them all, findings included', async () => {
  expect(once.entities.length).toBeGreaterThan(100);
  // GuardDuty's and Security Hub's findings are in it (they name entities as events do).
  expect(once.edges.some((e) => e[0] === 'Finding')).toBe(true);
  const lake = join(dir, 'batches');
  const modes: string[] = [];
  for (const batch of inBatches(objects, 5)) {
    const summary = await ingest({ inputs: batch, lake, outlierTimes: 'keep', workers: 1 });
    for (const step of summary.graph ?? []) modes.push(`${step.day} ${step.mode}`);
  }
  // Later batches merged into days earlier ones had started, reading none of those days' earlier files;
  // the findings' days among them (events first, then findings, then events again).
  expect(modes.filter((m) => m.startsWith('2024-03-04') || m.startsWith('2024-03-05'))).toContain(`2024-03-05 merge`);
  const batched = await graphTables(lake);
  expect(batched.entities).toEqual(once.entities);
  expect(batched.edges).toEqual(once.edges);
  expect(batched.coverage).toEqual(once.coverage);
}, 300_000);

test('a merge reads only the new object: the files a day already holds are not read again', async () => {
  const lake = join(dir, 'one-by-one');
  const input = tempDir('graph-incremental-objects');
  const day = '2024-03-01'; // cloudTrailRecord(i) with i % 3 = 0
  const objectOf = (name: string, ids: number[]) => {
    const path = join(input, name);
    writeFileSync(path, envelope(ids.map((i) => cloudTrailRecord(i))));
    return path;
  };
  const first = await ingest({ inputs: [objectOf('a.json', [0, 3, 6])], lake, outlierTimes: 'keep', workers: 1 });
  expect(first.graph).toEqual([{ day, mode: 'rebuild', files_read: 1 }]);
  for (const [n, name] of ['b.json', 'c.json', 'd.json'].entries()) {
    const next = await ingest({ inputs: [objectOf(name, [9 + 3 * n])], lake, outlierTimes: 'keep', workers: 1 });
    // One object, one event file: that is all the graph step reads, however many the day holds.
    expect(next.graph).toEqual([{ day, mode: 'merge', files_read: 1 }]);
  }
  const [identities] = (await graphTables(lake)).entities.filter(
    (e) => e[0] === 'Identity' && e[1] === 'arn:aws:iam::123456789012:user/Alice0',
  );
  expect(identities[9]).toBe(2); // records 0 and 15 (Alice0), first in a.json, then in d.json
  expect(existsSync(join(lake, '_graph_state', `day=${day}`, 'inputs.json'))).toBe(true);
  // The repair command rebuilds the day from all its files: the same graph.
  const merged = await graphTables(lake);
  const rebuild = scoutql(['graph', 'rebuild', '--lake', lake, '--json'], {}, REAL_CLI);
  expect(rebuild.status).toBe(0);
  expect(JSON.parse(rebuild.stdout)).toMatchObject({ days: [{ day, mode: 'rebuild' }], filesRead: { [day]: 4 } });
  expect(await graphTables(lake)).toEqual(merged);
}, 120_000);
