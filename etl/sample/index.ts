/**
 * `scoutql sample`: realistic raw cloud logs with attack stories woven in, written in each
 * provider's native layout, plus `stories.json` describing every story.
 *
 * Layout: one writer module per log source (`cloudtrail-writer.ts`, `vpcflow.ts`, `s3access.ts`,
 * `alb.ts`, `cloudfront.ts`, `route53resolver.ts`, `azuread.ts`, `azureactivity.ts`,
 * `nsgflow.ts`, `gcpaudit.ts`), all drawing on one world model (`world.ts`) and one story plan
 * (`attacks.ts` for the AWS stories, `cross-stories.ts` for those that cross sources), so every
 * source sees the same accounts, people, addresses and timeline. Writers work a day at a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlbWriter } from './alb';
import { planStories, type PlannedFlow } from './attacks';
import { AzureActivityWriter } from './azureactivity';
import { AzureAdWriter } from './azuread';
import { DAY } from './cloudtrail-baseline';
import type { PlannedRecord } from './cloudtrail-records';
import { CloudFrontWriter } from './cloudfront';
import { CloudTrailWriter, type CloudTrailStats } from './cloudtrail-writer';
import { planEstate } from './cross-stories';
import { GcpAuditWriter } from './gcpaudit';
import { NsgFlowWriter } from './nsgflow';
import { ObjectOutput, takeDay, type SourceStats } from './output';
import { Route53ResolverWriter } from './route53resolver';
import { S3AccessWriter } from './s3access';
import { SAMPLE_SOURCES, STORIES_FILE, type Story, type StorySource } from './stories';
import { buildWorld, parseStartDate } from './world';
import { VpcFlowWriter, type VpcFlowStats } from './vpcflow';

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
  sources?: readonly StorySource[];
  /** Called after each day is written. */
  onDay?: (dayIndex: number, days: number) => void;
}

export interface SampleSummary {
  out: string;
  seed: string;
  days: number;
  scale: number;
  start: string;
  sources: StorySource[];
  cloudtrail: CloudTrailStats;
  vpcflow: VpcFlowStats;
  /** Files, records and bytes of every source written (CloudTrail digests count as CloudTrail files). */
  bySource: Partial<Record<StorySource, SourceStats>>;
  totals: SourceStats;
  stories: { id: string; title: string; start: string }[];
}

export const DEFAULT_START = '2026-11-02';
export const DEFAULT_SEED = 'scoutql';
/** Three days keep the default sample (every source) near 7k objects, light enough for `npm start` on a laptop. */
export const DEFAULT_DAYS = 3;
export const SAMPLE_MANIFEST = 'sample.json';
export { SAMPLE_SOURCES };

/** `a,b,c` → source ids, with a clear error for an unknown one. */
export function parseSources(text: string): StorySource[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new Error(`--sources needs at least one of: ${SAMPLE_SOURCES.join(', ')}`);
  for (const id of ids) {
    if (!(SAMPLE_SOURCES as readonly string[]).includes(id)) throw new Error(`unknown source '${id}'; known: ${SAMPLE_SOURCES.join(', ')}`);
  }
  return [...new Set(ids)] as StorySource[];
}

export function generateSample(options: SampleOptions): SampleSummary {
  const days = options.days ?? DEFAULT_DAYS;
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  const startText = options.start ?? DEFAULT_START;
  const sources = new Set<StorySource>(options.sources ?? SAMPLE_SOURCES);
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error(`--days must be a whole number from 1 to 366, got ${days}`);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1000)
    throw new Error(`--scale must be a number above 0 and at most 1000, got ${scale}`);
  if (sources.size === 0) throw new Error('--sources needs at least one source');
  for (const s of sources) if (!(SAMPLE_SOURCES as readonly string[]).includes(s)) throw new Error(`unknown source '${s}'`);
  const start = parseStartDate(startText);
  const world = buildWorld(seed, start, days);
  const aws = planStories(world);
  const estate = planEstate(world);
  const stories: Story[] = [...aws.stories, ...estate.stories];
  const records: PlannedRecord[] = [...aws.records, ...estate.records].sort((a, b) => a.time - b.time);
  const flows: PlannedFlow[] = [...aws.flows, ...estate.flows].sort((a, b) => a.start - b.start);

  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, STORIES_FILE), JSON.stringify(stories, null, 2) + '\n');

  const output = new ObjectOutput(options.out);
  const on = (s: StorySource) => sources.has(s);
  const s3access = on('s3access') ? new S3AccessWriter(world, output) : undefined;
  // S3 access log lines are the S3 requests CloudTrail sees, so CloudTrail runs (unwritten) for them.
  const cloudtrail =
    on('cloudtrail') || s3access
      ? new CloudTrailWriter(world, scale, output, {
          write: on('cloudtrail'),
          ...(s3access ? { observe: (r: PlannedRecord) => s3access.observe(r) } : {}),
        })
      : undefined;
  const vpcflow = on('vpcflow') ? new VpcFlowWriter(world, scale, output) : undefined;
  const alb = on('alb') ? new AlbWriter(world, scale, output) : undefined;
  const cloudfront = on('cloudfront') ? new CloudFrontWriter(world, scale, output) : undefined;
  const resolver = on('route53resolver') ? new Route53ResolverWriter(world, scale, output) : undefined;
  const azuread = on('azuread') ? new AzureAdWriter(world, output) : undefined;
  const azureactivity = on('azureactivity') ? new AzureActivityWriter(world, scale, output) : undefined;
  const nsgflow = on('nsgflow') ? new NsgFlowWriter(world, scale, output) : undefined;
  const gcpaudit = on('gcpaudit') ? new GcpAuditWriter(world, scale, output) : undefined;

  const cursors = { records: { at: 0 }, flows: { at: 0 }, azure: { at: 0 }, alb: { at: 0 }, dns: { at: 0 }, gcp: { at: 0 } };
  for (let d = 0; d < days; d++) {
    const dayStart = start.getTime() + d * DAY;
    const dayEnd = dayStart + DAY;
    const dayRecords = takeDay(records, cursors.records, dayEnd, (r) => r.time);
    const dayFlows = takeDay(flows, cursors.flows, dayEnd, (f) => f.start * 1000);
    const dayAzure = takeDay(estate.azuread, cursors.azure, dayEnd, (l) => l.time);
    const dayAlb = takeDay(estate.alb, cursors.alb, dayEnd, (l) => l.time);
    const dayDns = takeDay(estate.resolver, cursors.dns, dayEnd, (l) => l.time);
    const dayGcp = takeDay(estate.gcp, cursors.gcp, dayEnd, (l) => l.time);
    cloudtrail?.writeDay(dayStart, dayRecords);
    s3access?.flush();
    vpcflow?.writeDay(dayStart, dayFlows);
    alb?.writeDay(dayStart, dayAlb);
    cloudfront?.writeDay(dayStart);
    resolver?.writeDay(dayStart, dayDns);
    azuread?.writeDay(dayStart, dayAzure);
    azureactivity?.writeDay(dayStart);
    nsgflow?.writeDay(dayStart);
    gcpaudit?.writeDay(dayStart, dayGcp);
    options.onDay?.(d, days);
  }
  cloudtrail?.finish();

  const none = (): SourceStats => ({ files: 0, records: 0, bytes: 0 });
  const ctStats: CloudTrailStats =
    on('cloudtrail') && cloudtrail ? cloudtrail.stats : { logFiles: 0, digestFiles: 0, records: 0, bytes: 0 };
  const bySource: Partial<Record<StorySource, SourceStats>> = {};
  if (on('cloudtrail'))
    bySource.cloudtrail = { files: ctStats.logFiles + ctStats.digestFiles, records: ctStats.records, bytes: ctStats.bytes };
  const writers: [StorySource, { stats: SourceStats } | undefined][] = [
    ['vpcflow', vpcflow],
    ['s3access', s3access],
    ['alb', alb],
    ['cloudfront', cloudfront],
    ['route53resolver', resolver],
    ['azuread', azuread],
    ['azureactivity', azureactivity],
    ['nsgflow', nsgflow],
    ['gcpaudit', gcpaudit],
  ];
  for (const [id, writer] of writers) if (writer) bySource[id] = writer.stats;
  const totals = none();
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
    sources: SAMPLE_SOURCES.filter((s) => sources.has(s)),
    cloudtrail: ctStats,
    vpcflow: vpcflow?.stats ?? none(),
    bySource,
    totals,
    stories: stories.map((s: Story) => ({ id: s.id, title: s.title, start: s.start })),
  };
  const { out: _out, ...manifest } = summary;
  void _out;
  writeFileSync(join(options.out, SAMPLE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return summary;
}
