/**
 * The attack stories woven into the sample logs, as written to `stories.json` beside them.
 * Tests anywhere in the project load that file and check their answers against it: each story
 * says who did what, when, from where, with which credentials, and the exact event ids.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceId } from '../../src/generated/sources';
import { LISTED_SOURCE_IDS } from '../sources/manifests';

export const STORIES_FILE = 'stories.json';

/** Every log source the sample writes: all of the project's sources. */
export const SAMPLE_SOURCES = LISTED_SOURCE_IDS;
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

export interface StoryExpectations {
  'console-brute-force': {
    targetUser: string;
    failedLogins: number;
    attackerIp: string;
    attackerCountry: string;
    successIp: string;
    successCountry: string;
    successEventId: string;
    successMfaUsed: boolean;
    /** The console session key the attacker's later calls carry. */
    consoleSessionKey: string;
    followUpEventNames: string[];
  };
  'public-bucket-exposure': {
    bucket: string;
    bucketArn: string;
    changedBy: string;
    /** The configuration changes, in order. */
    changeEventNames: string[];
    changeEventIds: string[];
    anonymousGetObjects: number;
    anonymousListObjects: number;
    anonymousIps: string[];
    firstAnonymousAccess: string;
  };
  'access-denied-probing': {
    actor: string;
    accessKeyId: string;
    deniedCount: number;
    deniedServices: string[];
    deniedErrorCodes: string[];
    /** The first successful call after the denials began (GetCallerIdentity before them aside). */
    successAfterDenials: { eventId: string; eventName: string; time: string };
  };
  'role-chain-privilege-escalation': {
    /** user → RoleA → RoleB */
    chain: [string, string, string];
    /** Credentials at each hop: the user's AKIA key, then the ASIA keys the two AssumeRole calls issued. */
    sessions: [string, string, string];
    assumeRoleEventIds: [string, string];
    sensitiveActions: { eventName: string; eventId: string; accessKeyId: string; target: string }[];
    createdAccessKeyId: string;
  };
  'cloudtrail-tampering': {
    actor: string;
    trailArn: string;
    stopLoggingEventId: string;
    deleteTrailEventId: string;
  };
  'ssh-open-to-world': {
    actor: string;
    groupId: string;
    groupArn: string;
    ruleId: string;
    port: number;
    cidr: string;
    instanceId: string;
    interfaceId: string;
    eventId: string;
    /** Accepted SSH flow records from the internet to the instance after the change. */
    sshFlowsAccepted: number;
    sshFlowSources: string[];
  };
  'unused-region-activity': {
    actor: string;
    accessKeyId: string;
    unusedRegion: string;
    eventCount: number;
    runInstancesEventId: string;
    instanceIds: string[];
  };
  'scanner-user-agents': {
    actor: string;
    accessKeyId: string;
    tools: string[];
    userAgents: string[];
    eventCount: number;
    deniedCount: number;
  };
  'entra-brute-force-aws-federation': {
    upn: string;
    /** The same person in each source: Entra ID, the SAML subject in CloudTrail, the federated role. */
    actors: { azuread: string; saml: string; role: string };
    tenantId: string;
    attackerIp: string;
    attackerCountry: string;
    /** Countries the user normally signs in from. */
    usualCountries: string[];
    failedSignIns: number;
    failedErrorCode: string;
    /** Entra sign-in ids: the successful password sign-in, then the sign-in to the AWS app. */
    successSignInId: string;
    awsAppSignInId: string;
    assumeRoleWithSamlEventId: string;
    roleArn: string;
    sessionKey: string;
    followUpEventNames: string[];
    followUpEventIds: string[];
  };
  's3-exfiltration': {
    instanceId: string;
    interfaceId: string;
    privateIp: string;
    roleArn: string;
    sessionKey: string;
    bucket: string;
    /** S3 request ids: each is a CloudTrail requestID and an S3 server access log request id. */
    requestIds: string[];
    cloudTrailEventIds: string[];
    getObjects: number;
    bytesRead: number;
    attackerIp: string;
    /** Flow records from the instance's interface to the attacker, and the bytes they carry. */
    flowsOut: number;
    flowBytesOut: number;
    firstFlow: string;
  };
  'malicious-domain-lookup': {
    instanceId: string;
    vpcId: string;
    domain: string;
    resolvedIp: string;
    queries: number;
    queryEventIds: string[];
    firstQuery: string;
  };
  'gcp-key-from-attacker': {
    serviceAccount: string;
    actor: string;
    keyName: string;
    projectId: string;
    attackerIp: string;
    methods: string[];
    insertIds: string[];
    createdKeyName: string;
  };
  'alb-scanner': {
    ip: string;
    userAgents: string[];
    requests: number;
    notFound: number;
    paths: string[];
    loadBalancerArn: string;
  };
}

export type StoryId = keyof StoryExpectations;
export const STORY_IDS: readonly StoryId[] = [
  'console-brute-force',
  'public-bucket-exposure',
  'access-denied-probing',
  'role-chain-privilege-escalation',
  'cloudtrail-tampering',
  'ssh-open-to-world',
  'unused-region-activity',
  'scanner-user-agents',
  'entra-brute-force-aws-federation',
  's3-exfiltration',
  'malicious-domain-lookup',
  'gcp-key-from-attacker',
  'alb-scanner',
];

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
