/**
 * The attack stories woven into the sample logs, as written to `stories.json` beside them.
 * Tests anywhere in the project load that file and check their answers against it: each story
 * says who did what, when, from where, with which credentials, and the exact event ids. Each story
 * is one file in stories/ with its expectations (`expect`, typed per story id).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceId } from '../../src/generated/sources';
import type { StoryExpectations, StoryId } from './stories';

export type { StoryExpectations, StoryId } from './stories';

export const STORIES_FILE = 'stories.json';

export type StorySource = SourceId;

/** One step of a story, in time order. */
export interface StoryStep {
  source: StorySource;
  /** ISO time (CloudTrail eventTime, or a flow record's window start). */
  time: string;
  account: string;
  region: string;
  /** eventName for CloudTrail; `flow` for a flow record. */
  action: string;
  outcome: 'success' | 'failure';
  /**
   * The record's id as the lake's `event_id` holds it: CloudTrail eventID, S3 request id, Entra
   * sign-in / audit id, Activity eventDataId, GCP insertId, CloudFront x-edge-request-id, or the
   * sha1 of the raw line for ALB and Resolver records (absent for VPC flow records).
   */
  eventId?: string;
  /** actor_id (see the identity conventions), when the step has an actor. */
  actor?: string;
  ip?: string;
  accessKeyId?: string;
  errorCode?: string;
}

export interface StoryBase {
  title: string;
  /** MITRE ATT&CK technique id. */
  technique: string;
  summary: string;
  account: string;
  /** Main region (the story may touch others; see `steps`). */
  region: string;
  start: string;
  end: string;
  /** actor_ids (identity conventions): IAM user ARN, role ARN, `anonymous`… */
  actors: string[];
  ips: string[];
  /** Country each of `ips` stands for (the addresses are documentation addresses). */
  ipCountries: Record<string, string>;
  accessKeys: string[];
  resources: string[];
  userAgents: string[];
  /** Every CloudTrail eventID that belongs to the story. */
  eventIds: string[];
  /** Sources the story shows in, with the lake `event_id`s of its records in each (VPC flows have none). */
  sources: Partial<Record<StorySource, string[]>>;
  steps: StoryStep[];
}

export type Story<I extends StoryId = StoryId> = { [K in I]: StoryBase & { id: K; expect: StoryExpectations[K] } }[I];

/** Reads `stories.json` from a sample output folder. */
export function readStories(dir: string): Story[] {
  const stories = JSON.parse(readFileSync(join(dir, STORIES_FILE), 'utf8')) as Story[];
  if (!Array.isArray(stories)) throw new Error(`${STORIES_FILE} in ${dir} is not an array`);
  return stories;
}

export function storyById<I extends StoryId>(stories: readonly Story[], id: I): Story<I> {
  const story = stories.find((s) => s.id === id);
  if (!story) throw new Error(`no story '${id}'`);
  return story as Story<I>;
}
