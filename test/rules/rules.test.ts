/**
 * The project's rule set against its own samples: every `<rule>.tests.yml` case goes through the
 * real parser into one lake (the real ingest), then each rule runs over the case's window on
 * DuckDB and on the Athena-protocol server (real SDK, dialect guard on). Both engines must return
 * the same hits; a must-fire case must be in a hit's evidence, a must-not-fire case in none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { QueryEngine } from '../../src/engine/types';
import type { SourceId } from '../../src/generated/sources';
import { PROJECT_RULES_DIR, loadRules, ruleFiles } from '../../src/rules/load';
import type { CompiledRule } from '../../src/rules/model';
import { runRule, type Hit, type TimeWindow } from '../../src/rules/run';
import { startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local';
import { ENGINES, FAST_ATHENA } from '../api/helpers';
import { writeSamples, type SampleCase } from './samples';

const FILES = ruleFiles(PROJECT_RULES_DIR);
const loaded = loadRules([PROJECT_RULES_DIR]);

let root: string;
let cases: SampleCase[] = [];
const engines: { name: string; engine: QueryEngine }[] = [];
let athena: AthenaOverLake | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-rules-'));
  const inputs = join(root, 'inputs');
  const lake = join(root, 'lake');
  cases = await writeSamples(PROJECT_RULES_DIR, inputs);
  for (const source of [...new Set(cases.flatMap((c) => c.sources))] as SourceId[]) {
    const summary = await ingest({ inputs: [join(inputs, source)], lake, source, workers: 1, graph: false });
    expect(summary.quarantined).toBe(0);
  }
  if (ENGINES.includes('duckdb')) engines.push({ name: 'duckdb', engine: await DuckDbEngine.open({ lake }) });
  if (ENGINES.includes('athena')) {
    athena = await startAthenaOverLake(lake, { server: { queuedPolls: 0, runningPolls: 0 }, engine: FAST_ATHENA });
    engines.push({ name: 'athena', engine: athena.engine });
  }
}, 240_000);

afterAll(async () => {
  for (const { name, engine } of engines) if (name === 'duckdb') await engine.close();
  await athena?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('every project rule compiles', () => {
  expect(loaded.problems).toEqual([]);
  expect(loaded.compiled.length).toBeGreaterThan(0);
});

/** What the engines must agree on (times as instants, evidence as a set). */
function comparable(hits: Hit[]) {
  return hits.map((h) => ({ ...h, firstTime: h.firstTime.getTime(), lastTime: h.lastTime.getTime(), evidence: [...h.evidence].sort() }));
}

function rulesOf(file: string, c: SampleCase): CompiledRule[] {
  const inFile = loaded.compiled.filter((r) => r.meta.file.endsWith(file.slice(PROJECT_RULES_DIR.length)));
  if (c.rule) return inFile.filter((r) => r.meta.id === c.rule || r.meta.name === c.rule);
  return inFile.filter((r) => r.standalone);
}

/**
 * The windows a file's cases run in: a case naming its own window (a baseline, whose history lies
 * before it) runs alone; the others share one window spanning all of them, so each rule runs once
 * per engine for them and a must-not-fire case is checked beside its file's must-fire records.
 */
function windowsOf(cases: SampleCase[]): Map<SampleCase, TimeWindow> {
  const shared = cases.filter((c) => !c.ownWindow);
  const span: TimeWindow = {
    from: new Date(Math.min(...shared.map((c) => c.window.from.getTime()))),
    to: new Date(Math.max(...shared.map((c) => c.window.to.getTime()))),
  };
  return new Map(cases.map((c) => [c, c.ownWindow ? c.window : span]));
}

test.each(FILES.map((f) => [f.slice(PROJECT_RULES_DIR.length + 1), f]))(
  '%s: fires on its must-fire samples only, the same on every engine',
  async (_name, file) => {
    const mine = cases.filter((c) => c.ruleFile === file);
    expect(mine.some((c) => c.match)).toBe(true);
    expect(mine.some((c) => !c.match)).toBe(true);
    const windows = windowsOf(mine);
    const runs = new Map<string, Hit[]>();
    const failures: string[] = [];
    for (const c of mine) {
      const rules = rulesOf(file, c);
      expect(rules.length).toBeGreaterThan(0);
      const window = windows.get(c)!;
      for (const rule of rules) {
        const key = `${rule.meta.id}/${rule.meta.name ?? ''}@${window.from.toISOString()}/${window.to.toISOString()}`;
        let hits = runs.get(key);
        if (!hits) {
          const byEngine: Hit[][] = [];
          for (const { engine } of engines) byEngine.push((await runRule(engine, rule, window)).hits);
          for (let i = 1; i < byEngine.length; i++) expect(comparable(byEngine[i])).toEqual(comparable(byEngine[0]));
          hits = byEngine[0];
          runs.set(key, hits);
        }
        const touched = hits.filter((h) => h.evidence.some((id) => c.eventIds.includes(id)));
        if (c.match && touched.length === 0) failures.push(`${c.label}: rule ${rule.meta.id} did not fire (hits: ${hits.length})`);
        if (!c.match && touched.length > 0) failures.push(`${c.label}: rule ${rule.meta.id} fired on ${touched[0].evidence.join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
  },
  120_000,
);

test('a burst is one finding: 40 GetSecretValue in 40 seconds become one hit naming the identity, every call its evidence', async () => {
  const c = cases.find((x) => x.label.endsWith('secrets_read_in_bulk.yml › 40 GetSecretValue in 40 seconds'))!;
  const [rule] = rulesOf(c.ruleFile, c);
  expect(rule.meta.kind).toBe('correlation');
  for (const { engine } of engines) {
    const { hits } = await runRule(engine, rule, c.window);
    const touched = hits.filter((h) => h.evidence.some((id) => c.eventIds.includes(id)));
    expect(touched).toHaveLength(1);
    expect(touched[0]).toMatchObject({
      actor: 'arn:aws:iam::123456789012:user/mallory',
      ip: '198.51.100.77',
      eventCount: 40,
      level: 'high',
      techniques: ['T1555.006'],
    });
    expect([...touched[0].evidence].sort()).toEqual([...c.eventIds].sort());
    expect(touched[0].groupKey).toBe('userIdentity.arn=arn:aws:iam::123456789012:user/mallory');
  }
});
