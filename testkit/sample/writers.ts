/**
 * The sample writers: one per source, in `etl/sources/<id>/sample.ts` (exported as `sampleWriter`),
 * found through the source folders the registry lists. Each writes its source's objects in the
 * layout its provider delivers them, a day at a time, from the shared world and the stories' plan.
 */
import { join } from 'node:path';
import { MANIFESTS, loadExport, sourceFolder } from '../../etl/sources/manifests';
import type { SourceId } from '../../src/generated/sources';
import type { ObjectOutput, SourceStats } from './output';
import type { FeedHub, StoryChannel } from './plan';
import type { World } from './world';

export interface SampleWriterContext {
  world: World;
  /** Multiplies baseline volume. */
  scale: number;
  output: ObjectOutput;
  /** False when the writer runs only to feed another writer: it computes its records but writes no object. */
  write: boolean;
  feeds: FeedHub;
}

/** One day of the sample, as a writer sees it. */
export interface SampleDay {
  /** Midnight UTC, ms since the epoch. */
  start: number;
  end: number;
  /** The stories' items of a channel that fall before the end of this day (not handed out before), in time order. */
  items<T>(channel: StoryChannel<T>): T[];
}

export interface SampleWriter {
  /** Objects, records and bytes written. */
  readonly stats: SourceStats;
  writeDay(day: SampleDay): void;
  /** After the last day (CloudTrail's last digests). */
  finish?(): void;
  /** This writer's own counters for sample.json (see SampleWriterModule.emptySection). */
  section?(): Record<string, number>;
}

export interface SampleWriterModule {
  source: SourceId;
  /** Feeds of other writers this one reads: their writers run before it, unwritten when only this one is asked for. */
  reads?: readonly { producer: SourceId; name: string }[];
  /**
   * Counters the writer adds to sample.json under its source id, beside `bySource` (the same shape,
   * zeroed, when the source is not written, so the file's shape does not depend on `--sources`).
   */
  emptySection?: () => Record<string, number>;
  create(ctx: SampleWriterContext): SampleWriter;
}

export function defineSampleWriter(module: SampleWriterModule): SampleWriterModule {
  return module;
}

function isWriterModule(value: unknown, id: SourceId): value is SampleWriterModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { source?: unknown }).source === id &&
    typeof (value as { create?: unknown }).create === 'function'
  );
}

let loaded: readonly SampleWriterModule[] | null = null;

/** Every source's sample writer, in the sources' listing order. */
export function sampleWriterModules(): readonly SampleWriterModule[] {
  loaded ??= MANIFESTS.map((manifest) => {
    const file = join(sourceFolder(manifest.id), 'sample');
    const module = loadExport(file, 'sampleWriter');
    if (!isWriterModule(module, manifest.id)) {
      throw new Error(`${file}.ts: \`sampleWriter\` must be defineSampleWriter({ source: '${manifest.id}', create, … })`);
    }
    return module;
  });
  return loaded;
}

/** The writers that must run for `wanted`: those, and the producers of the feeds they read, producers first. */
export function writersToRun(wanted: ReadonlySet<SourceId>): SampleWriterModule[] {
  const modules = sampleWriterModules();
  const byId = new Map(modules.map((m) => [m.source, m]));
  const order: SampleWriterModule[] = [];
  const visiting = new Set<SourceId>();
  const visit = (module: SampleWriterModule): void => {
    if (order.includes(module)) return;
    if (visiting.has(module.source)) throw new Error(`sample writers read each other's feeds in a cycle at ${module.source}`);
    visiting.add(module.source);
    for (const read of module.reads ?? []) {
      const producer = byId.get(read.producer);
      if (!producer)
        throw new Error(`the ${module.source} sample writer reads '${read.name}' from ${read.producer}, which has no sample writer`);
      visit(producer);
    }
    visiting.delete(module.source);
    order.push(module);
  };
  for (const module of modules) if (wanted.has(module.source)) visit(module);
  return order;
}
