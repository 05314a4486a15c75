/**
 * What resolvers pass between each other: plain objects built from query rows.
 * Codegen maps the GraphQL types onto these (codegen.yml `mappers`).
 */
import type { EntityType, TableName } from '../core/tables';
import type { SqlRow } from '../engine/types';
import type { Dimension, NewBehaviourRow } from '../queries/aggregate';
import type { EventColumns } from '../queries/events';
import type { Window } from '../queries/sql';

export type { EntityType } from '../core/tables';
export type { Window } from '../queries/sql';

/** An entity aggregated over the days of a window. */
export interface EntityModel {
  type: EntityType;
  /** The entity's own id (ARN, address, access key id…), not the global id. */
  key: string;
  kind: string | null;
  provider: string | null;
  account: string | null;
  name: string | null;
  arn: string | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
  eventCount: number;
  /** attrs of the days, merged: later non-null values fill earlier gaps; `names` is the union. */
  attrs: Record<string, unknown>;
  /** The window it was looked up in; pivots default to it. */
  window: Window;
}

export interface LinkModel {
  cursor: string;
  relation: string;
  firstSeen: Date;
  lastSeen: Date;
  eventCount: number;
  /** Flow links: bytes and packets the flows carried (absent for other relations). */
  bytes?: number | null;
  packets?: number | null;
  /** Log sources whose events make the link (empty when not known, e.g. a lake written before sources were kept). */
  sources: string[];
  otherType: string;
  otherKey: string;
  /** The neighbour, fetched in the same query as the link. */
  node: EntityModel | null;
  /** The window the link was aggregated over; the neighbour's pivots default to it. */
  window: Window;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface LinkConnectionModel {
  edges: LinkModel[];
  pageInfo: PageInfoModel;
  totalCount: number;
}

/**
 * An event as src/queries/events.ts selects it: every column of every event table (NULL where its
 * table lacks one), the partitions, and its time as the engine renders it (`time_key`, full precision,
 * for cursors and ids).
 */
export type EventRow = SqlRow & {
  time: Date;
  time_key: string;
  event_id: string;
  event_table: TableName;
  source: string;
  account: string;
  region: string;
};

export interface EventModel {
  table: TableName;
  row: EventRow;
  window: Window;
}

export interface EventEdgeModel {
  cursor: string;
  node: EventModel;
}

/** Each part is fetched only when the document selects it. */
export interface EventConnectionModel {
  /** The page's edges, reading only `columns` of each event (null or none given: every column). */
  edges: (columns?: EventColumns) => Promise<EventEdgeModel[]>;
  pageInfo: () => Promise<PageInfoModel>;
  totalCount: () => Promise<number>;
  aggregate: (spec: AggregateSpec) => Promise<AggregateModel>;
  /** Values first seen at or after `since` (these events span a look-back before it), per dimension. */
  newBehaviour: (spec: { since: Date; top: number }) => Promise<NewBehaviourRow[]>;
}

/** What an aggregate of an event list asks for (the list gives the events). */
export interface AggregateSpec {
  groupBy: readonly Dimension[];
  bucket: 'minute' | 'hour' | 'day' | null;
  distinct: readonly Dimension[];
  order: 'count_desc' | 'count_asc' | 'time';
  top: number;
}

export interface AggregateGroupModel {
  bucket: Date | null;
  /** The group's value of each dimension it is grouped by. */
  values: Partial<Record<Dimension, string | null>>;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  distinct: { dimension: Dimension; count: number }[];
}

export interface AggregateModel {
  totalEvents: number;
  totalGroups: number;
  groups: AggregateGroupModel[];
}

/** The Lake type resolves everything from the request context. */
export type LakeModel = Record<string, never>;

export interface IssuanceModel {
  /** The credentials that were issued. */
  issuedSessionId: string;
  action: string | null;
  issuerIdentity: string | null;
  issuerSession: string | null;
  roleArn: string | null;
  sourceIp: string | null;
  mfa: boolean | null;
  time: Date | null;
  eventId: string | null;
  window: Window;
}

export type IndicatorKind =
  | 'IP_ADDRESS'
  | 'CIDR'
  | 'ACCESS_KEY'
  | 'ARN'
  | 'USER_NAME'
  | 'EMAIL'
  | 'ACCOUNT_ID'
  | 'INSTANCE_ID'
  | 'BUCKET'
  | 'RESOURCE_NAME'
  | 'DOMAIN'
  | 'UNKNOWN';

/** One thing an indicator turned out to be: an entity, or a domain that was looked up. */
export interface IndicatorMatchModel {
  kind: IndicatorKind;
  foundAs: EntityType | 'Domain';
  entity: EntityModel | null;
  domain: string | null;
}

export interface IndicatorContextModel {
  indicator: string;
  kind: IndicatorKind;
  window: Window;
  /** Every kind tried, in order. */
  tried: IndicatorKind[];
  /** Everything found, best first; the first one drives the related lists. */
  matches: IndicatorMatchModel[];
  /** The first match's entity (null for a domain, a CIDR range or nothing). */
  entity: EntityModel | null;
  /** For a domain match: the normalized name. */
  domain: string | null;
  /** For a CIDR indicator: the addresses of the lake in the range (the related lists follow them). */
  cidr: { range: string; addresses: EntityModel[] } | null;
}

/** An entity known only by its key (an edge or event names it, the graph has no row for it in the window). */
export function entityStub(type: EntityType, key: string, window: Window): EntityModel {
  return {
    type,
    key,
    kind: null,
    provider: null,
    account: null,
    name: null,
    arn: null,
    firstSeen: null,
    lastSeen: null,
    eventCount: 0,
    attrs: {},
    window,
  };
}

/** A findings row as src/queries/findings.ts selects it, lists parsed (see src/core/tables.ts FINDINGS_TABLE). */
export interface FindingRecord {
  findingId: string;
  product: string;
  account: string;
  /** The version's time as the engine renders it (full precision), for its global id. */
  timeKey: string;
  time: Date;
  ruleId: string;
  ruleKind: string | null;
  title: string;
  description: string | null;
  level: string;
  severity: number;
  productSeverity: number | null;
  techniques: string[];
  tactics: string[];
  firstSeen: Date;
  lastSeen: Date;
  actorId: string | null;
  sessionId: string | null;
  srcIp: string | null;
  resources: string[];
  region: string | null;
  evidenceEventIds: string[];
  evidenceTables: string[];
  evidenceCount: number;
  groupKey: string | null;
  createdAt: Date;
  raw: string | null;
}

export interface FindingModel {
  finding: FindingRecord;
  /** The window it was listed in; its links (identity, session…) default to it. */
  window: Window;
}

export interface FindingEdgeModel {
  cursor: string;
  node: FindingModel;
}

export interface FindingConnectionModel {
  edges: FindingEdgeModel[];
  pageInfo: PageInfoModel;
  totalCount: number;
}
