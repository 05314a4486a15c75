/**
 * `scoutql sample`: realistic raw cloud logs with attack stories woven in, written in each
 * provider's native layout, plus `stories.json` describing every story.
 *
 * One world model (`world.ts`) and one story plan (`stories/`, one file per story) feed every
 * source's writer (`etl/sources/<id>/sample.ts`, found through the source folders), so every
 * source sees the same accounts, people, addresses and timeline. Writers work a day at a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LISTED_SOURCE_IDS } from '../../etl/sources/manifests';
import type { SourceId } from '../../src/generated/sources';
import { GEOIP_OVERRIDES_FILE, geoipOverrides } from './geoip-overrides';
import { DAY_MS, ObjectOutput, emptyStats, type SourceStats } from './output';
import { DaySlicer, FeedHub, SamplePlan } from './plan';
import { BASELINE_PLANNERS, PLANNERS } from './stories';
import { STORIES_FILE, type Story } from './story';
import { sampleWriterModules, writersToRun, type SampleDay, type SampleWriter } from './writers';
import { buildWorld, parseStartDate } from './world';

export interface SampleOptions {
  out: string;
  /** Days of logs (default 3). */
  days?: number;
  /** Any string; the same seed gives byte-identical output. */
  seed?: string;
  /** Multiplies baseline volume (default 1). */
  scale?: number;
  /** First day, YYYY-MM-DD (UTC). */
  start?: string;
  /** Sources to write (default: all). Stories are planned whole either way. */
  sources?: readonly SourceId[];
  /**
   * Only the baseline: the same world and ordinary activity, no attack story (stories.json is an
   * empty list). Detection over it measures false positives: what fires here is noise.
   */
  baselineOnly?: boolean;
  /** Called after each day is written. */
  onDay?: (dayIndex: number, days: number) => void;
}

export interface SampleSummary {
  out: string;
  seed: string;
  days: number;
  scale: number;
  start: string;
  sources: SourceId[];
  /** Writers' own counters (CloudTrail log and digest files…), by source, as sample.json has them. */
  sections: Partial<Record<SourceId, Record<string, number>>>;
  /** Files, records and bytes of every source written (CloudTrail digests count as CloudTrail files). */
  bySource: Partial<Record<SourceId, SourceStats>>;
  totals: SourceStats;
  stories: { id: string; title: string; start: string }[];
}

export const DEFAULT_START = '2026-11-02';
export const DEFAULT_SEED = 'scoutql';
/** Three days keep the default sample (every source) near 7k objects, light enough for `npm start` on a laptop. */
export const DEFAULT_DAYS = 3;
export const SAMPLE_MANIFEST = 'sample.json';
export { GEOIP_OVERRIDES_FILE } from './geoip-overrides';
/** Every source the sample writes: every source folder, in listing order. */
export const SAMPLE_SOURCES: readonly SourceId[] = LISTED_SOURCE_IDS;

/** `a,b,c` → source ids, with a clear error for an unknown one. */
export function parseSources(text: string): SourceId[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new Error(`--sources needs at least one of: ${SAMPLE_SOURCES.join(', ')}`);
  const known = (id: string): id is SourceId => (SAMPLE_SOURCES as readonly string[]).includes(id);
  for (const id of ids) if (!known(id)) throw new Error(`unknown source '${id}'; known: ${SAMPLE_SOURCES.join(', ')}`);
  return [...new Set(ids.filter(known))];
}

export function generateSample(options: SampleOptions): SampleSummary {
  const days = options.days ?? DEFAULT_DAYS;
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  const startText = options.start ?? DEFAULT_START;
  const wanted = new Set<SourceId>(options.sources ?? SAMPLE_SOURCES);
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error(`--days must be a whole number from 1 to 366, got ${days}`);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1000)
    throw new Error(`--scale must be a number above 0 and at most 1000, got ${scale}`);
  if (wanted.size === 0) throw new Error('--sources needs at least one source');
  for (const s of wanted) if (!SAMPLE_SOURCES.includes(s)) throw new Error(`unknown source '${s}'`);
  const start = parseStartDate(startText);
  const world = buildWorld(seed, start, days);
  const plan = new SamplePlan();
  for (const planner of PLANNERS) if (!options.baselineOnly || BASELINE_PLANNERS.has(planner)) planner(world, plan);

  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, STORIES_FILE), JSON.stringify(plan.stories, null, 2) + '\n');
  // The documentation addresses' fictional geography, for ingest's GeoIP enrichment.
  writeFileSync(join(options.out, GEOIP_OVERRIDES_FILE), JSON.stringify(geoipOverrides(world, plan.stories), null, 2) + '\n');

  const output = new ObjectOutput(options.out);
  const feeds = new FeedHub();
  // A writer runs unwritten when another needs its feed (S3 access log lines are the S3 requests CloudTrail sees).
  const running = writersToRun(wanted).map((module) => ({
    module,
    writer: module.create({ world, scale, output, write: wanted.has(module.source), feeds }),
  }));
  const slicer = new DaySlicer(plan);
  for (let d = 0; d < days; d++) {
    const dayStart = start.getTime() + d * DAY_MS;
    const day: SampleDay = { start: dayStart, end: dayStart + DAY_MS, items: (channel) => slicer.take(channel, dayStart + DAY_MS) };
    for (const { writer } of running) writer.writeDay(day);
    options.onDay?.(d, days);
  }
  for (const { writer } of running) writer.finish?.();

  const written = new Map<SourceId, SampleWriter>(
    running.filter(({ module }) => wanted.has(module.source)).map(({ module, writer }) => [module.source, writer]),
  );
  const sections: Partial<Record<SourceId, Record<string, number>>> = {};
  const bySource: Partial<Record<SourceId, SourceStats>> = {};
  for (const module of sampleWriterModules()) {
    const writer = written.get(module.source);
    if (module.emptySection) sections[module.source] = writer?.section?.() ?? module.emptySection();
  }
  for (const id of SAMPLE_SOURCES) {
    const writer = written.get(id);
    if (writer) bySource[id] = writer.stats;
  }
  const totals = emptyStats();
  for (const s of Object.values(bySource)) {
    totals.files += s.files;
    totals.records += s.records;
    totals.bytes += s.bytes;
  }

  const summary: SampleSummary = {
    out: options.out,
    seed,
    days,
    scale,
    start: startText,
    sources: SAMPLE_SOURCES.filter((s) => wanted.has(s)),
    sections,
    bySource,
    totals,
    stories: plan.stories.map((s: Story) => ({ id: s.id, title: s.title, start: s.start })),
  };
  // sample.json: the summary without the output folder, each writer's section at the top level.
  const manifest = {
    seed,
    days,
    scale,
    start: startText,
    sources: summary.sources,
    ...sections,
    bySource,
    totals,
    stories: summary.stories,
  };
  writeFileSync(join(options.out, SAMPLE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return summary;
}
