/**
 * Detection quality for bench/detect.ts: recall over the sample's attack stories and false
 * positives over its baseline-only mode (the same world and ordinary activity, no attack), measured
 * the way test/rules/stories.test.ts checks them: the sample of 3 days from 2026-11-02 at scale 0.3
 * (every source), ingested, the project's rules run one day at a time as `ingest --detect` would.
 * A story is found when every rule its file names fires with one of the story's events among its
 * evidence. The two lakes are cached in bench/out/, keyed by the code that writes them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ingest } from '../../etl/ingest';
import type { FindingRow } from '../../src/core/tables';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { detectFindings } from '../../src/rules/detect';
import { PROJECT_RULES_DIR } from '../../src/rules/load';
import type { CompiledRule } from '../../src/rules/model';
import { generateSample } from '../../testkit/sample';
import { readStories, type Story } from '../../testkit/sample/story';
import { EXPLAINED_BASELINE_FINDINGS, STORY_IDS, STORY_RULES } from '../../testkit/sample/stories';
import { OUT, codeFingerprint } from './measure';

const START = '2026-11-02';
const DAYS = 3;
const SCALE = 0.3;
const DAY_MS = 86_400_000;

export interface StoryRecall {
  story: string;
  /** Rule files the story names. */
  rules: readonly string[];
  /** Of those, the ones that did not fire on the story's events. */
  missing: string[];
  found: boolean;
}

export interface FalsePositive {
  file: string;
  findings: number;
  /** Why it fires on ordinary activity, when that is known and accepted; null for a false positive. */
  explained: string | null;
}

export interface DetectQuality {
  sample: { start: string; days: number; scale: number };
  recall: StoryRecall[];
  /** Stories whose file names no rule (nothing to find them by). */
  storiesWithoutRules: string[];
  baselineOnly: { events: number; findings: number; byFile: FalsePositive[] };
  full: { events: number; findings: number };
}

/** The sample's lake (full or baseline-only), built unless the cache holds one for the current code. */
async function qualityLake(mode: 'full' | 'baseline-only'): Promise<{ lake: string; logs: string }> {
  const dir = join(OUT, `detect-quality-${mode}-s${SCALE}-d${DAYS}-${codeFingerprint(['testkit/sample', 'etl', 'src/core'])}`);
  const logs = join(dir, 'logs');
  const lake = join(dir, 'lake');
  const marker = join(dir, '.complete.json');
  if (existsSync(marker)) return { lake, logs };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`building the ${mode} quality lake in ${dir} (cached for later runs) …`);
  generateSample({ out: logs, days: DAYS, scale: SCALE, start: START, baselineOnly: mode === 'baseline-only' });
  const summary = await ingest({ inputs: [logs], lake, workers: 1, graph: false });
  writeFileSync(marker, JSON.stringify({ written: summary.written, quarantined: summary.quarantined }, null, 2));
  return { lake, logs };
}

/** Every rule over each day of the lake, as a daily detect run sees it. */
async function findingsOf(lake: string, rules: readonly CompiledRule[]): Promise<{ findings: FindingRow[]; events: number }> {
  const engine = await DuckDbEngine.open({ lake });
  try {
    const findings: FindingRow[] = [];
    for (let d = 0; d < DAYS; d++) {
      const from = new Date(Date.parse(`${START}T00:00:00Z`) + d * DAY_MS);
      const outcome = await detectFindings(engine, rules, { window: { from, to: new Date(from.getTime() + DAY_MS) } });
      for (const failed of [...outcome.failed, ...outcome.refused])
        console.warn(`rule ${failed.ruleId} (${failed.title}): ${failed.reason}`);
      findings.push(...outcome.findings);
    }
    return { findings, events: eventsIn(lake) };
  } finally {
    await engine.close();
  }
}

function eventsIn(lake: string): number {
  const marker = join(lake, '..', '.complete.json');
  return existsSync(marker) ? Number((JSON.parse(readFileSync(marker, 'utf8')) as { written?: number }).written ?? 0) : 0;
}

export async function measureDetectQuality(rules: readonly CompiledRule[]): Promise<DetectQuality> {
  const fileOfRule = new Map(rules.map((r) => [r.meta.id, relative(resolve(PROJECT_RULES_DIR), resolve(r.meta.file))]));
  const full = await qualityLake('full');
  const baseline = await qualityLake('baseline-only');
  const fullRun = await findingsOf(full.lake, rules);
  const baselineRun = await findingsOf(baseline.lake, rules);

  const stories: Story[] = readStories(full.logs);
  const recall: StoryRecall[] = [];
  const storiesWithoutRules: string[] = [];
  for (const id of STORY_IDS) {
    const named = STORY_RULES[id];
    if (named.length === 0) {
      storiesWithoutRules.push(id);
      continue;
    }
    const story = stories.find((s) => s.id === id);
    const events = new Set(story ? [...story.eventIds, ...Object.values(story.sources).flat()] : []);
    const firing = new Set(
      fullRun.findings.filter((f) => (f.evidence_event_ids ?? []).some((e) => events.has(e))).map((f) => fileOfRule.get(f.rule_id)),
    );
    const missing = named.filter((file) => !firing.has(file));
    recall.push({ story: id, rules: named, missing, found: missing.length === 0 });
  }

  const counts = new Map<string, number>();
  for (const f of baselineRun.findings) {
    const file = fileOfRule.get(f.rule_id) ?? f.rule_id;
    counts.set(file, (counts.get(file) ?? 0) + 1);
  }
  const byFile = [...counts]
    .map(([file, findings]) => ({ file, findings, explained: EXPLAINED_BASELINE_FINDINGS[file] ?? null }))
    .sort((a, b) => Number(a.explained !== null) - Number(b.explained !== null) || b.findings - a.findings);
  return {
    sample: { start: START, days: DAYS, scale: SCALE },
    recall,
    storiesWithoutRules,
    baselineOnly: { events: baselineRun.events, findings: baselineRun.findings.length, byFile },
    full: { events: fullRun.events, findings: fullRun.findings.length },
  };
}
