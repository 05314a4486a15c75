/**
 * `scoutql sample`: realistic raw cloud logs with attack stories woven in, written in each
 * provider's native layout, plus `stories.json` describing every story.
 *
 * Layout: one writer module per log source (`cloudtrail-writer.ts`, `vpcflow.ts`), all drawing
 * on one world model (`world.ts`) and one story plan (`attacks.ts`), so a new source joins the
 * same accounts, people, addresses and timeline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY } from './cloudtrail-baseline';
import { CloudTrailWriter, type CloudTrailStats } from './cloudtrail-writer';
import { planStories } from './attacks';
import { STORIES_FILE, type Story } from './stories';
import { buildWorld, parseStartDate } from './world';
import { VpcFlowWriter, type VpcFlowStats } from './vpcflow';

export interface SampleOptions {
  out: string;
  /** Days of logs (default 7). */
  days?: number;
  /** Any string; the same seed gives byte-identical output. */
  seed?: string;
  /** Multiplies baseline volume (default 1). */
  scale?: number;
  /** First day, YYYY-MM-DD (UTC). */
  start?: string;
  /** Called after each day is written. */
  onDay?: (dayIndex: number, days: number) => void;
}

export interface SampleSummary {
  out: string;
  seed: string;
  days: number;
  scale: number;
  start: string;
  cloudtrail: CloudTrailStats;
  vpcflow: VpcFlowStats;
  stories: { id: string; title: string; start: string }[];
}

export const DEFAULT_START = '2026-11-02';
export const DEFAULT_SEED = 'scoutql';
export const SAMPLE_MANIFEST = 'sample.json';

export function generateSample(options: SampleOptions): SampleSummary {
  const days = options.days ?? 7;
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  const startText = options.start ?? DEFAULT_START;
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error(`--days must be a whole number from 1 to 366, got ${days}`);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1000) throw new Error(`--scale must be a number above 0 and at most 1000, got ${scale}`);
  const start = parseStartDate(startText);
  const world = buildWorld(seed, start, days);
  const plan = planStories(world);

  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, STORIES_FILE), JSON.stringify(plan.stories, null, 2) + '\n');

  const cloudtrail = new CloudTrailWriter(world, scale, options.out);
  const vpcflow = new VpcFlowWriter(world, scale, options.out);
  let cursor = 0;
  let flowCursor = 0;
  for (let d = 0; d < days; d++) {
    const dayStart = start.getTime() + d * DAY;
    const dayRecords = [];
    while (cursor < plan.records.length && plan.records[cursor]!.time < dayStart + DAY) dayRecords.push(plan.records[cursor++]!);
    cloudtrail.writeDay(dayStart, dayRecords);
    const dayFlows = [];
    while (flowCursor < plan.flows.length && plan.flows[flowCursor]!.start * 1000 < dayStart + DAY) dayFlows.push(plan.flows[flowCursor++]!);
    vpcflow.writeDay(dayStart, dayFlows);
    options.onDay?.(d, days);
  }
  cloudtrail.finish();

  const summary: SampleSummary = {
    out: options.out,
    seed,
    days,
    scale,
    start: startText,
    cloudtrail: cloudtrail.stats,
    vpcflow: vpcflow.stats,
    stories: plan.stories.map((s: Story) => ({ id: s.id, title: s.title, start: s.start })),
  };
  const { out: _out, ...manifest } = summary;
  void _out;
  writeFileSync(join(options.out, SAMPLE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return summary;
}
