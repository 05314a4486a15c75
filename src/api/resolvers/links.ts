/** Links (an edge of a pivot, aggregated over the window), event connections and edges, and aggregates. */
import type {
  AggregateGroupResolvers,
  DomainLinkResolvers,
  EventAggregateResolvers,
  EventConnectionResolvers,
  EventEdgeResolvers,
} from '../../generated/graphql';
import { TABLE_NAMES, type TableName } from '../../core/tables';
import { LISTED_UNDER } from '../../queries/events';
import type { Dimension } from '../../queries/aggregate';
import { aggregateSpec, dimensionEnum } from '../connections';
import { eventColumnsOfEdges } from '../event-columns';
import { eventClassName } from '../event-fields';
import { entityStub, type AggregateGroupModel, type EntityType, type EventModel, type LinkModel } from '../models';

/** A link's neighbour, fetched with the link; an edge whose entity row is missing still names its neighbour. */
function linkTo(type: EntityType) {
  return { node: (l: LinkModel) => l.node ?? entityStub(type, l.otherKey, l.window), sources: (l: LinkModel) => l.sources };
}

export const IdentityLink = linkTo('Identity');
export const SessionLink = linkTo('Session');
export const IPAddressLink = linkTo('IPAddress');
export const ResourceLink = linkTo('Resource');
export const UserAgentLink = linkTo('UserAgent');
export const AccountLink = linkTo('Account');

export const DomainLink: DomainLinkResolvers = { domain: (l) => l.otherKey, sources: (l) => l.sources };

/** Each part is fetched only when the document selects it. */
export const EventConnection: EventConnectionResolvers = {
  edges: (c, _args, _ctx, info) => c.edges(eventColumnsOfEdges(info)),
  pageInfo: (c) => c.pageInfo(),
  totalCount: (c) => c.totalCount(),
  aggregate: (c, args, ctx) => c.aggregate(aggregateSpec(args, ctx.limits)),
};

/** The classes a record of a table may also be kept in (the pairs of LISTED_UNDER, both ways). */
const OTHER_CLASSES: Record<TableName, TableName[]> = Object.fromEntries(
  TABLE_NAMES.map((t) => [t, TABLE_NAMES.filter((u) => u !== t && (LISTED_UNDER[t] === u || LISTED_UNDER[u] === t))]),
) as Record<TableName, TableName[]>;

export const EventEdge: EventEdgeResolvers = {
  alsoRecordedAs: async (edge, _args, ctx): Promise<EventModel[]> => {
    const { table, row, window } = edge.node;
    const found = await Promise.all(
      OTHER_CLASSES[table].map((other) =>
        ctx.loaders.recordsIn
          .load({ in: other, table, timeKey: row.time_key, eventId: row.event_id })
          .then((rows) => rows.map((r) => ({ table: other, row: r, window }))),
      ),
    );
    return found.flat();
  },
};

export const EventAggregate: EventAggregateResolvers = {
  totalEvents: (a) => a.totalEvents,
  totalGroups: (a) => a.totalGroups,
  groups: (a) => a.groups,
};

const value = (d: Dimension) => (g: AggregateGroupModel) => g.values[d] ?? null;

export const AggregateGroup: AggregateGroupResolvers = {
  bucket: (g) => g.bucket,
  action: value('action'),
  service: value('service'),
  errorCode: value('error_code'),
  outcome: value('outcome'),
  actor: value('actor'),
  session: value('session'),
  sourceIp: value('source_ip'),
  region: value('region'),
  account: value('account'),
  userAgent: value('user_agent'),
  resource: value('resource'),
  class: (g) => {
    const table = g.values.class;
    return table && (TABLE_NAMES as readonly string[]).includes(table) ? eventClassName(table as TableName) : null;
  },
  source: value('source'),
  country: value('country'),
  count: (g) => g.count,
  firstSeen: (g) => g.firstSeen,
  lastSeen: (g) => g.lastSeen,
  distinct: (g) => g.distinct.map((d) => ({ dimension: dimensionEnum(d.dimension), count: d.count })),
};
