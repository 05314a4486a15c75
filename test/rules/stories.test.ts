/**
 * The project's rule set on the sample, as a daily detect run sees it: every attack story makes the
 * rules its file names fire, with the story's own events among their evidence; the baseline-only
 * sample (the same world, no attack) makes only the explained baselines fire.
 */
import { relative, resolve } from 'node:path';
import type { FindingRow } from '../../src/core/tables';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { detectFindings } from '../../src/rules/detect';
import { PROJECT_RULES_DIR, loadRules } from '../../src/rules/load';
import { readStories, type Story } from '../../testkit/sample/story';
import { EXPLAINED_BASELINE_FINDINGS, STORY_IDS, STORY_RULES } from '../../testkit/sample/stories';
import { cachedSampleLake } from '../sample/cached';

/** Three days (the first is history for the baselines), at a third of the default volume to keep the suite quick. */
const START = '2026-11-02';
const DAYS = 3;
const SCALE = 0.3;

/** What fires on ordinary activity, and why (shared with bench/detect.ts). */
const EXPLAINED_NOISE = EXPLAINED_BASELINE_FINDINGS;

const loaded = loadRules([PROJECT_RULES_DIR]);
const fileOfRule = new Map(loaded.compiled.map((r) => [r.meta.id, relative(resolve(PROJECT_RULES_DIR), resolve(r.meta.file))]));

const runs: Record<'full' | 'baselineOnly', { stories: Story[]; findings: FindingRow[] }> = {
  full: { stories: [], findings: [] },
  baselineOnly: { stories: [], findings: [] },
};

/**
 * The sample written, ingested and searched one day at a time, as `ingest --detect` of each day's
 * delivery would. The sample and its lake are built once per version of the code that shapes them
 * (test/sample/cached.ts); detection runs every time.
 */
async function sampleFindings(mode: 'full' | 'baselineOnly'): Promise<{ stories: Story[]; findings: FindingRow[] }> {
  const { logs, lake } = await cachedSampleLake(
    { days: DAYS, scale: SCALE, start: START, baselineOnly: mode === 'baselineOnly' },
    { workers: 1, graph: false },
  );
  const engine = await DuckDbEngine.open({ lake });
  const findings: FindingRow[] = [];
  try {
    for (let d = 0; d < DAYS; d++) {
      const from = new Date(Date.parse(`${START}T00:00:00Z`) + d * 86_400_000);
      const outcome = await detectFindings(engine, loaded.compiled, { window: { from, to: new Date(from.getTime() + 86_400_000) } });
      expect(outcome.failed).toEqual([]);
      expect(outcome.refused).toEqual([]);
      findings.push(...outcome.findings);
    }
  } finally {
    await engine.close();
  }
  return { stories: readStories(logs), findings };
}

beforeAll(async () => {
  runs.full = await sampleFindings('full');
  runs.baselineOnly = await sampleFindings('baselineOnly');
}, 600_000);

test('every rule a story names is a project rule file', () => {
  const files = new Set(fileOfRule.values());
  for (const id of STORY_IDS)
    for (const file of STORY_RULES[id]) expect({ story: id, file, known: files.has(file) }).toMatchObject({ known: true });
});

test.each(STORY_IDS.filter((id) => STORY_RULES[id].length > 0))('story %s: the rules it names fire on its events', (id) => {
  const story = runs.full.stories.find((s) => s.id === id)!;
  const events = new Set([...story.eventIds, ...Object.values(story.sources).flat()]);
  const firing = new Set(
    runs.full.findings.filter((f) => (f.evidence_event_ids ?? []).some((e) => events.has(e))).map((f) => fileOfRule.get(f.rule_id)),
  );
  expect(STORY_RULES[id].filter((file) => !firing.has(file))).toEqual([]);
});

test('the baseline-only sample tells no story, and only the explained baselines fire on it', () => {
  expect(runs.baselineOnly.stories).toEqual([]);
  const byFile = new Map<string, number>();
  for (const f of runs.baselineOnly.findings) {
    const file = fileOfRule.get(f.rule_id) ?? f.rule_id;
    byFile.set(file, (byFile.get(file) ?? 0) + 1);
  }
  const unexplained = [...byFile].filter(([file]) => !(file in EXPLAINED_NOISE));
  expect(unexplained).toEqual([]);
  // The attack rules that fire on the full sample stay silent without the attacks.
  const attackRules = new Set(
    runs.full.findings.map((f) => fileOfRule.get(f.rule_id)).filter((file) => file && !(file in EXPLAINED_NOISE)),
  );
  expect(attackRules.size).toBeGreaterThan(15);
  for (const file of attackRules) expect(byFile.get(file!) ?? 0).toBe(0);
});
