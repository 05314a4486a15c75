/**
 * How a story is told: a Teller plans its records into the sources' channels (CloudTrail records,
 * VPC flows, other sources' lines) and writes down each step, then the story itself with its
 * expectations. Stories sit at fixed fractions of the sample's time span (`anchor`), so a one-day
 * sample holds all of them, and a week spreads them out.
 */
import { cloudTrailRecords, type PlannedRecord } from '../../etl/sources/cloudtrail/sample';
import { buildRecord, type CallSpec, type JsonObject } from '../../etl/sources/cloudtrail/sample-records';
import { vpcFlows, type PlannedFlow } from '../../etl/sources/vpcflow/sample';
import { DAY_MS, HOUR_MS } from './output';
import type { SamplePlan, StoryChannel } from './plan';
import { Rng } from './prng';
import type { Story, StoryBase, StoryExpectations, StoryId, StorySource, StoryStep } from './story';
import type { World } from './world';

export const MINUTE = 60_000;

/** Plans one story (or the stories told together) into the plan. */
export type StoryPlanner = (world: World, plan: SamplePlan) => void;

/**
 * A story's planner: the story draws from its own random stream, `<seed>:<stream>:<id>`, so
 * stories do not shift one another. AWS-only stories use the `story` stream, stories across sources
 * the `estate-story` stream (they came later; the labels keep every id the sample writes). `tell`
 * returns the story, or the stories it tells together (in the order stories.json lists them).
 */
export function storyPlanner<I extends StoryId>(
  id: I,
  stream: 'story' | 'estate-story',
  tell: (teller: Teller) => Story | readonly Story[],
): StoryPlanner {
  return (world, plan) => {
    const told = tell(new Teller(new Rng(`${world.seed}:${stream}:${id}`), world, plan));
    for (const story of ([] as readonly Story[]).concat(told)) plan.addStory(story);
  };
}

/** Collects a story's records and steps as it is told, planning each record into its source's channel. */
export class Teller {
  readonly records: PlannedRecord[] = [];
  readonly steps: StoryStep[] = [];
  readonly flows: PlannedFlow[] = [];

  constructor(
    readonly rng: Rng,
    readonly world: World,
    readonly plan: SamplePlan,
  ) {}

  /** A CloudTrail call of the story, as a step. */
  call(spec: CallSpec, actor: string): PlannedRecord {
    const planned = this.record(buildRecord(this.rng, spec));
    const r = planned.record;
    const identity = r.userIdentity as JsonObject;
    const response = r.responseElements as JsonObject | null;
    const failed = typeof r.errorCode === 'string' || (response !== null && response.ConsoleLogin === 'Failure');
    const step: StoryStep = {
      source: 'cloudtrail',
      time: r.eventTime as string,
      account: spec.account,
      region: spec.region,
      action: r.eventName as string,
      outcome: failed ? 'failure' : 'success',
      eventId: r.eventID as string,
      actor,
      ip: r.sourceIPAddress as string,
    };
    if (typeof identity.accessKeyId === 'string' && identity.accessKeyId !== '') step.accessKeyId = identity.accessKeyId;
    if (typeof r.errorCode === 'string') step.errorCode = r.errorCode;
    this.steps.push(step);
    return planned;
  }

  /** A CloudTrail record built elsewhere (a console login), as a step. */
  add(planned: PlannedRecord, actor: string): PlannedRecord {
    this.record(planned);
    const r = planned.record;
    const response = r.responseElements as JsonObject | null;
    this.steps.push({
      source: 'cloudtrail',
      time: r.eventTime as string,
      account: planned.account,
      region: planned.region,
      action: r.eventName as string,
      outcome: response && response.ConsoleLogin === 'Failure' ? 'failure' : 'success',
      eventId: r.eventID as string,
      actor,
      ip: r.sourceIPAddress as string,
    });
    return planned;
  }

  /** A CloudTrail record that is not a step of its own (baseline activity around a story). */
  record(planned: PlannedRecord): PlannedRecord {
    this.records.push(planned);
    this.plan.add(cloudTrailRecords, planned);
    return planned;
  }

  /** A flow record, as a step. */
  flow(flow: PlannedFlow): void {
    this.planFlow(flow);
    this.steps.push({
      source: 'vpcflow',
      time: new Date(flow.start * 1000).toISOString(),
      account: flow.account,
      region: flow.region,
      action: 'flow',
      outcome: flow.action === 'ACCEPT' ? 'success' : 'failure',
      ip: flow.srcAddr,
    });
  }

  /** A flow record that is not a step of its own (the answering direction). */
  planFlow(flow: PlannedFlow): void {
    this.flows.push(flow);
    this.plan.add(vpcFlows, flow);
  }

  /** A line of another source's log (its writer's channel); the story notes the step itself. */
  emit<T>(channel: StoryChannel<T>, item: T): void {
    this.plan.add(channel, item);
  }

  /** A step seen in a source other than CloudTrail (the writer of that source holds the record). */
  note(step: StoryStep): void {
    this.steps.push(step);
  }

  story<I extends StoryId>(
    id: I,
    head: { title: string; technique: string; summary: string; account: string; region: string; actors: string[]; resources: string[] },
    ipCountries: Record<string, string>,
    expect: StoryExpectations[I],
  ): Story<I> {
    this.steps.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const times = this.steps.map((s) => s.time);
    const uniq = (xs: (string | undefined)[]): string[] => [...new Set(xs.filter((x): x is string => !!x))];
    const ips = uniq(this.steps.map((s) => s.ip)).filter((ip) => !ip.endsWith('.amazonaws.com'));
    const base: StoryBase = {
      ...head,
      start: times[0],
      end: times[times.length - 1],
      ips,
      ipCountries: Object.fromEntries(ips.map((ip) => [ip, ipCountries[ip] ?? this.world.ipCountry[ip] ?? 'unknown'])),
      accessKeys: uniq(this.steps.map((s) => s.accessKeyId)),
      userAgents: uniq(this.records.map((r) => r.record.userAgent as string)),
      eventIds: this.records.map((r) => r.record.eventID as string),
      sources: sourcesOf(this.steps),
      steps: this.steps,
    };
    return { id, ...base, expect };
  }
}

function sourcesOf(steps: readonly StoryStep[]): Partial<Record<StorySource, string[]>> {
  const out: Partial<Record<StorySource, string[]>> = {};
  for (const step of steps) {
    const ids = (out[step.source] ??= []);
    if (step.eventId && !ids.includes(step.eventId)) ids.push(step.eventId);
  }
  return out;
}

/** A time at a fraction of the span, on the day it falls on, at hh:mm UTC plus a seeded jitter. */
export function anchor(world: World, rng: Rng, fraction: number, hh: number, mm: number): number {
  const day = Math.min(world.days - 1, Math.floor(fraction * world.days));
  return world.start.getTime() + day * DAY_MS + hh * HOUR_MS + mm * MINUTE + rng.int(0, 240) * 1000;
}
