/** Resolvers: thin glue from the schema to loaders and src/queries. No SQL here. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { CORE_COLUMNS, TABLES, type TableName } from '../core/tables';
import type { Resolvers } from '../generated/graphql';
import { eventByKey, issuingEvent } from '../queries/events';
import { identityCandidates, listEntities, type EntityRow } from '../queries/graph';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { fromGlobalId, offsetCursor, parseOffsetCursor, toGlobalId } from './ids';
import { checkFirst } from './limits';
import { entityFromRow } from './loaders';
import type { EntityModel, EntityType, EventConnectionModel, EventModel, IssuanceModel, LinkConnectionModel, Window } from './models';
import { ENTITY_TYPES } from './models';
import {
  TABLE_CLASS,
  checkText,
  cidrMatcher,
  entityStub,
  eventConnection,
  type EventArgs,
  filteredLinkConnection,
  linkConnection,
  resolveResource,
  rootPivot,
  windowOf,
} from './connections';
import { indicatorContext, indicatorContextResolvers } from './indicator';

const EVENT_TYPE_NAME: Record<TableName, string> = {
  api_activity: 'ApiActivity',
  authentication: 'Authentication',
  network_activity: 'NetworkActivity',
  http_activity: 'HttpActivity',
  dns_activity: 'DnsActivity',
};
const TABLE_BY_TYPE_NAME = Object.fromEntries(Object.entries(EVENT_TYPE_NAME).map(([t, n]) => [n, t])) as Record<string, TableName>;

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('not a date-time');
    return date.toISOString();
  },
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

function parseDateTime(value: unknown): Date {
  // Full ISO 8601 with a zone: no locale-dependent parsing of free text.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)) {
    throw apiError('DateTime must be ISO 8601 text, e.g. 2026-03-02T03:05:00Z', 'BAD_USER_INPUT');
  }
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw apiError('DateTime is not a valid instant', 'BAD_USER_INPUT');
  return date;
}

const loadEntity = (ctx: RequestContext, type: EntityType, key: string | null | undefined, window: Window) =>
  key ? ctx.loaders.entity.load({ type, key, window }) : Promise.resolve(null);

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

const ASSUMED_ROLE_ARN = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

async function resolveIdentity(ctx: RequestContext, text: string, window: Window): Promise<EntityModel | null> {
  checkText(text, 'id');
  const m = ASSUMED_ROLE_ARN.exec(text);
  const derived = m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null;
  // A role's principal id (AROA…:session-name) carries the role session name.
  const sessionName = /^AROA[A-Z0-9]{8,}:(.+)$/.exec(text)?.[1] ?? null;
  const statement = identityCandidates(text, derived, window, sessionName);
  const { rows } = await ctx.engine.query<{ id: string }>(statement.sql, statement.params, { label: statement.label, signal: ctx.signal });
  for (const row of rows) {
    const found = await loadEntity(ctx, 'Identity', row.id, window);
    if (found) return found;
  }
  // An assumed-role ARN names a role whose path the ARN drops: match the role by name.
  if (m) {
    const byName = identityCandidates(m[3], null, window);
    const { rows: named } = await ctx.engine.query<{ id: string }>(byName.sql, byName.params, { label: byName.label, signal: ctx.signal });
    const role = named.find((r) => r.id.includes(`:${m[2]}:role/`));
    if (role) return loadEntity(ctx, 'Identity', role.id, window);
  }
  return null;
}

async function loadEvent(ctx: RequestContext, table: TableName, timeKey: string, eventId: string): Promise<EventModel | null> {
  const statement = eventByKey(table, timeKey, eventId, ctx.caller.allowedAccounts);
  const { rows } = await ctx.engine.query(statement.sql, statement.params, { label: statement.label, signal: ctx.signal });
  const row = rows[0];
  if (!row) return null;
  const time = row.time as Date;
  return { table, row, window: { from: time, to: new Date(time.getTime() + 1) } };
}

async function nodeById(ctx: RequestContext, id: string, window: Window): Promise<(EntityModel | EventModel) | null> {
  const { type, key } = fromGlobalId(id);
  if ((ENTITY_TYPES as readonly string[]).includes(type)) return loadEntity(ctx, type as EntityType, key, window);
  const table = TABLE_BY_TYPE_NAME[type];
  if (table) {
    const bar = key.indexOf('|');
    if (bar < 0 || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(key.slice(0, bar)))
      throw apiError('not a valid node id', 'BAD_USER_INPUT');
    return loadEvent(ctx, table, key.slice(0, bar), key.slice(bar + 1));
  }
  throw apiError('not a valid node id', 'BAD_USER_INPUT');
}

function isEvent(value: EntityModel | EventModel): value is EventModel {
  return 'table' in value && 'row' in value;
}

function issuanceOf(session: EntityModel): IssuanceModel | null {
  const a = session.attrs;
  if (a.issued !== true) return null;
  const issuedAt = str(a.issued_at);
  return {
    issuedSessionId: session.key,
    action: str(a.issued_by_action),
    issuerIdentity: str(a.issuer_identity),
    issuerSession: str(a.issuer_session),
    roleArn: str(a.role_arn),
    sourceIp: str(a.source_ip),
    mfa: bool(a.issuer_mfa),
    time: issuedAt ? new Date(`${issuedAt.replace(' ', 'T')}Z`) : null,
    eventId: str(a.issued_event_id),
    window: session.window,
  };
}

/** Resolvers every entity type shares. */
const entityCommon = {
  id: (e: EntityModel) => toGlobalId(e.type, e.key),
  firstSeen: (e: EntityModel) => e.firstSeen,
  lastSeen: (e: EntityModel) => e.lastSeen,
  eventCount: (e: EntityModel) => e.eventCount,
};

const linkCommon = {
  node: (
    l: { node: EntityModel | null; otherType: string; otherKey: string; window: Window },
    _args: unknown,
    _ctx: RequestContext,
    info: { parentType: { name: string } },
  ) => {
    if (l.node) return l.node;
    // An edge whose entity row is missing still names its neighbour.
    const type = info.parentType.name.replace(/Link$/, '') as EntityType;
    return entityStub(type, l.otherKey, l.window);
  },
};

/** Event fields shared by every class, then each class's own columns (camelCase of etl/tables.ts). */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const CORE_EVENT_FIELDS = {
  id: (e: EventModel) => toGlobalId(EVENT_TYPE_NAME[e.table], `${String(e.row.time_key)}|${String(e.row.event_id)}`),
  eventId: (e: EventModel) => e.row.event_id,
  time: (e: EventModel) => e.row.time,
  class: (e: EventModel) => TABLE_CLASS[e.table],
  source: (e: EventModel) => e.row.source,
  account: (e: EventModel) => e.row.account,
  region: (e: EventModel) => e.row.region,
  activity: (e: EventModel) => e.row.activity,
  service: (e: EventModel) => e.row.service,
  outcome: (e: EventModel) => e.row.outcome,
  errorCode: (e: EventModel) => e.row.error_code,
  errorMessage: (e: EventModel) => e.row.error_message,
  actorId: (e: EventModel) => e.row.actor_id,
  actorType: (e: EventModel) => e.row.actor_type,
  actorName: (e: EventModel) => e.row.actor_name,
  actorArn: (e: EventModel) => e.row.actor_arn,
  actor: (e: EventModel, _a: unknown, ctx: RequestContext) => loadEntity(ctx, 'Identity', str(e.row.actor_id), e.window),
  session: (e: EventModel, _a: unknown, ctx: RequestContext) => loadEntity(ctx, 'Session', str(e.row.session_id), e.window),
  sourceIp: (e: EventModel, _a: unknown, ctx: RequestContext) => loadEntity(ctx, 'IPAddress', str(e.row.src_ip), e.window),
  sourceIpAddress: (e: EventModel) => e.row.src_ip,
  userAgent: (e: EventModel) => e.row.user_agent,
  resourceIds: (e: EventModel) => (Array.isArray(e.row.resources) ? e.row.resources : []),
  resources: async (e: EventModel, _a: unknown, ctx: RequestContext) => {
    const ids = (Array.isArray(e.row.resources) ? e.row.resources : []).filter((r): r is string => typeof r === 'string');
    const found = await Promise.all(ids.map((id) => loadEntity(ctx, 'Resource', id, e.window)));
    return found.map((r, i) => r ?? entityStub('Resource', ids[i], e.window));
  },
  raw: (e: EventModel) => e.row.raw,
};

function classResolvers(table: TableName): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const column of TABLES[table].columns.slice(CORE_COLUMNS.length)) {
    const field = camel(column.name);
    own[field] = (e: EventModel) => e.row[column.name] ?? (column.type === 'VARCHAR[]' ? [] : null);
  }
  if (TABLES[table].columns.some((c) => c.name === 'dst_ip')) {
    own.destinationIp = (e: EventModel, _a: unknown, ctx: RequestContext) => loadEntity(ctx, 'IPAddress', str(e.row.dst_ip), e.window);
  }
  if (table === 'api_activity') {
    own.issuedSession = (e: EventModel, _a: unknown, ctx: RequestContext) =>
      loadEntity(ctx, 'Session', str(e.row.issued_session_id), e.window);
  }
  return { ...CORE_EVENT_FIELDS, ...own };
}

async function sessionChain(ctx: RequestContext, session: EntityModel): Promise<EntityModel[]> {
  const chain = [session];
  const seen = new Set([session.key]);
  let current = session;
  for (let hop = 0; hop < ctx.limits.maxChainHops; hop++) {
    const parentKey = str(current.attrs.issuer_session);
    if (!parentKey || seen.has(parentKey)) break;
    seen.add(parentKey);
    const parent = (await loadEntity(ctx, 'Session', parentKey, session.window)) ?? entityStub('Session', parentKey, session.window);
    chain.push(parent);
    current = parent;
  }
  return chain.reverse();
}

const INSTANCE_ARN = /^arn:aws[\w-]*:ec2:[^:]*:[^:]*:instance\/(i-[0-9a-f]+)$/;
const ENI_ARN = /^arn:aws[\w-]*:ec2:[^:]*:[^:]*:network-interface\/(eni-[0-9a-f]+)$/;

/** An instance's flows (its interfaces' records, or records naming it), or a network interface's own. */
function resolveResourceFlows(ctx: RequestContext, e: EntityModel, args: EventArgs): Promise<EventConnectionModel> {
  const eni = ENI_ARN.exec(e.key)?.[1];
  if (eni) return eventConnection(ctx, 'none', '*', e.window, args, { tables: ['network_activity'], extra: { interfaceIds: [eni] } });
  // Batched across instances: one query joins the flows to the interfaces the graph ties to each.
  if (INSTANCE_ARN.test(e.key)) return eventConnection(ctx, 'instance', e.key, e.window, args, { tables: ['network_activity'] });
  return Promise.resolve(EMPTY_EVENTS);
}

/** The identity's sign-ins and those of the identities it federated as (its SAML subject in CloudTrail). */
async function signInsAcrossProviders(ctx: RequestContext, e: EntityModel, args: EventArgs): Promise<EventConnectionModel> {
  const window = windowOf(ctx, e.window, args.window);
  const linked = await ctx.loaders.neighbours.load({
    pivot: 'identityFederatedAs',
    key: e.key,
    window,
    action: null,
    offset: 0,
    limit: MAX_LINKED_IDENTITIES,
  });
  const identities = [e.key, ...linked.links.map((l) => l.otherKey)];
  return eventConnection(ctx, 'none', '*', e.window, args, { tables: ['authentication'], extra: { signInsOf: identities } });
}
/** One person under more names than this is not one person. */
const MAX_LINKED_IDENTITIES = 20;

const EMPTY_EVENTS: EventConnectionModel = {
  edges: async () => [],
  pageInfo: async () => ({ hasNextPage: false, endCursor: null }),
  totalCount: async () => 0,
};

export const resolvers: Resolvers = {
  DateTime,
  Node: {
    __resolveType: (value) => (isEvent(value) ? EVENT_TYPE_NAME[value.table] : value.type) as never,
  },
  Entity: { __resolveType: (value) => value.type },
  Event: { __resolveType: (value) => EVENT_TYPE_NAME[value.table] as never },
  Link: { __resolveType: () => null },

  Query: {
    node: (_p, args, ctx) => nodeById(ctx, args.id, windowOf(ctx, null, args.window)),
    identity: (_p, args, ctx) => resolveIdentity(ctx, args.id, windowOf(ctx, null, args.window)),
    identities: async (_p, args, ctx): Promise<LinkConnectionModel> => {
      const window = windowOf(ctx, null, args.window);
      const first = checkFirst(args.first, ctx.limits);
      const offset = parseOffsetCursor(args.after);
      const statement = listEntities(
        'Identity',
        window,
        args.kind == null ? null : checkText(args.kind, 'kind'),
        offset,
        first + 1,
        ctx.caller.allowedAccounts,
      );
      const result = await ctx.engine.query(statement.sql, statement.params, { label: statement.label, signal: ctx.signal });
      const rows = result.rows as unknown as (EntityRow & { rn: number; total: number })[];
      const links = rows.map((row) => {
        const node = entityFromRow(row, 'Identity', window);
        ctx.loaders.entity.prime({ type: 'Identity', key: node.key, window }, node);
        return {
          cursor: offsetCursor(Number(row.rn)),
          relation: 'seen',
          firstSeen: node.firstSeen!,
          lastSeen: node.lastSeen!,
          eventCount: node.eventCount,
          otherType: 'Identity',
          otherKey: node.key,
          node,
          window,
        };
      });
      const edges = links.slice(0, first);
      return {
        edges,
        pageInfo: { hasNextPage: links.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: Number(rows[0]?.total ?? 0),
      };
    },
    ip: (_p, args, ctx) => loadEntity(ctx, 'IPAddress', checkText(args.address, 'address'), windowOf(ctx, null, args.window)),
    resource: (_p, args, ctx) => resolveResource(ctx, args.id, windowOf(ctx, null, args.window)),
    session: (_p, args, ctx) => loadEntity(ctx, 'Session', checkText(args.id, 'id'), windowOf(ctx, null, args.window)),
    account: (_p, args, ctx) => loadEntity(ctx, 'Account', checkText(args.id, 'id'), windowOf(ctx, null, args.window)),
    events: (_p, args, ctx) => {
      const { pivot, key } = rootPivot(args.filter);
      return eventConnection(ctx, pivot, key, null, args);
    },
    contextFor: (_p, args, ctx) => indicatorContext(ctx, checkText(args.indicator.trim(), 'indicator'), windowOf(ctx, null, args.window)),
  },

  Identity: {
    ...entityCommon,
    identityId: (e) => e.key,
    kind: (e) => e.kind,
    provider: (e) => e.provider,
    account: (e) => e.account,
    arn: (e) => e.arn,
    name: (e) => e.name,
    names: (e) => {
      const names = Array.isArray(e.attrs.names) ? (e.attrs.names as unknown[]).filter((n): n is string => typeof n === 'string') : [];
      return names.length > 0 ? names : e.name ? [e.name] : [];
    },
    accessKeys: async (e, _a, ctx) => {
      const page = await ctx.loaders.neighbours.load({
        pivot: 'identitySessions',
        key: e.key,
        window: e.window,
        action: null,
        offset: 0,
        limit: 100,
      });
      return page.links.map((l) => l.otherKey).filter((k) => /^A[SK]IA[A-Z0-9]+$/.test(k));
    },
    sessions: (e, args, ctx) => linkConnection(ctx, 'identitySessions', e, args),
    issuedSessions: (e, args, ctx) => linkConnection(ctx, 'identityIssuedSessions', e, args),
    ips: (e, args, ctx) => linkConnection(ctx, 'identityIps', e, args),
    resources: (e, args, ctx) => linkConnection(ctx, 'identityResources', e, args),
    userAgents: (e, args, ctx) => linkConnection(ctx, 'identityUserAgents', e, args),
    accounts: (e, args, ctx) => linkConnection(ctx, 'identityAccounts', e, args),
    regions: async (e, args, ctx) => {
      const window = windowOf(ctx, e.window, args.window);
      const page = await ctx.loaders.neighbours.load({
        pivot: 'identityRegions',
        key: e.key,
        window,
        action: null,
        offset: 0,
        limit: 1000,
      });
      return page.links.map((l) => ({ region: l.otherKey, firstSeen: l.firstSeen, lastSeen: l.lastSeen, eventCount: l.eventCount }));
    },
    events: (e, args, ctx) => eventConnection(ctx, 'identity', e.key, e.window, args),
    signIns: (e, args, ctx) =>
      args.acrossProviders
        ? signInsAcrossProviders(ctx, e, args)
        : eventConnection(ctx, 'identity', e.key, e.window, args, { tables: ['authentication'] }),
    federatedSessions: (e, args, ctx) => linkConnection(ctx, 'identityFederatedSessions', e, args),
    federatedRoles: (e, args, ctx) => linkConnection(ctx, 'identityFederatedRoles', e, args),
    federatedAs: (e, args, ctx) => linkConnection(ctx, 'identityFederatedAs', e, args),
    federatedFrom: (e, args, ctx) => linkConnection(ctx, 'identityFederatedFrom', e, args),
  },

  Session: {
    ...entityCommon,
    sessionId: (e) => e.key,
    accessKeyId: (e) => (/^A[SK]IA[A-Z0-9]+$/.test(e.key) ? e.key : null),
    kind: (e) => e.kind,
    provider: (e) => e.provider,
    account: (e) => e.account,
    name: (e) => e.name,
    mfa: (e) => bool(e.attrs.mfa),
    identity: (e, _a, ctx) => loadEntity(ctx, 'Identity', str(e.attrs.identity), e.window),
    issuedBy: (e) => issuanceOf(e),
    parent: (e, _a, ctx) => loadEntity(ctx, 'Session', str(e.attrs.issuer_session), e.window),
    children: (e, args, ctx) => linkConnection(ctx, 'sessionChildren', e, args),
    chain: (e, _a, ctx) => sessionChain(ctx, e),
    ips: (e, args, ctx) => linkConnection(ctx, 'sessionIps', e, args),
    resources: (e, args, ctx) => linkConnection(ctx, 'sessionResources', e, args),
    userAgents: (e, args, ctx) => linkConnection(ctx, 'sessionUserAgents', e, args),
    events: (e, args, ctx) => eventConnection(ctx, 'session', e.key, e.window, args),
    federatedFrom: (e, args, ctx) => linkConnection(ctx, 'sessionFederatedFrom', e, args),
  },

  SessionIssuance: {
    action: (i) => i.action,
    roleArn: (i) => i.roleArn,
    sourceIpAddress: (i) => i.sourceIp,
    mfa: (i) => i.mfa,
    time: (i) => i.time,
    eventId: (i) => i.eventId,
    identity: (i, _a, ctx) => loadEntity(ctx, 'Identity', i.issuerIdentity, i.window),
    session: (i, _a, ctx) => loadEntity(ctx, 'Session', i.issuerSession, i.window),
    sourceIp: (i, _a, ctx) => loadEntity(ctx, 'IPAddress', i.sourceIp, i.window),
    event: async (i, _a, ctx) => {
      if (!i.eventId || !i.time) return null;
      const statement = issuingEvent(i.issuedSessionId, i.eventId, i.time.toISOString().slice(0, 10), ctx.caller.allowedAccounts);
      const { rows } = await ctx.engine.query(statement.sql, statement.params, { label: statement.label, signal: ctx.signal });
      return rows[0] ? { table: 'api_activity', row: rows[0], window: i.window } : null;
    },
  },

  Resource: {
    ...entityCommon,
    resourceId: (e) => e.key,
    kind: (e) => e.kind,
    provider: (e) => e.provider,
    account: (e) => e.account,
    arn: (e) => e.arn,
    name: (e) => e.name,
    actors: (e, args, ctx) => linkConnection(ctx, 'resourceActors', e, args),
    sessions: (e, args, ctx) => linkConnection(ctx, 'resourceSessions', e, args),
    sourceIps: (e, args, ctx) => {
      if (!args.outside || args.outside.length === 0) return linkConnection(ctx, 'resourceIps', e, args);
      if (args.outside.length > 100) throw apiError('outside takes at most 100 ranges', 'BAD_USER_INPUT');
      const known = cidrMatcher(args.outside);
      return filteredLinkConnection(ctx, 'resourceIps', e, args, (address) => !known(address));
    },
    events: (e, args, ctx) => eventConnection(ctx, 'resource', e.key, e.window, args),
    httpActivity: (e, args, ctx) => eventConnection(ctx, 'resource', e.key, e.window, args, { tables: ['http_activity'] }),
    dnsActivity: (e, args, ctx) => {
      const bucket = /^arn:aws[\w-]*:s3:::([^/]+)$/.exec(e.key)?.[1];
      const instance = /:instance\/(i-[0-9a-f]+)$/.exec(e.key)?.[1];
      if (!bucket && !instance)
        return { edges: async () => [], pageInfo: async () => ({ hasNextPage: false, endCursor: null }), totalCount: async () => 0 };
      if (instance) return eventConnection(ctx, 'instance', e.key, e.window, args, { tables: ['dns_activity'] });
      return eventConnection(ctx, 'none', '*', e.window, args, { tables: ['dns_activity'], extra: { dnsNamePrefix: `${bucket}.s3` } });
    },
    interfaces: (e, args, ctx) => linkConnection(ctx, 'resourceInterfaces', e, args),
    instances: (e, args, ctx) => linkConnection(ctx, 'resourceInstances', e, args),
    addresses: (e, args, ctx) => linkConnection(ctx, 'resourceAddresses', e, args),
    domains: (e, args, ctx) => linkConnection(ctx, 'resourceDomains', e, args),
    flows: (e, args, ctx) => resolveResourceFlows(ctx, e, args),
  },

  IPAddress: {
    ...entityCommon,
    address: (e) => e.key,
    isPrivate: (e) => e.kind === 'private',
    identities: (e, args, ctx) => linkConnection(ctx, 'ipIdentities', e, args),
    sessions: (e, args, ctx) => linkConnection(ctx, 'ipSessions', e, args),
    issuedSessions: (e, args, ctx) => linkConnection(ctx, 'ipIssuedSessions', e, args),
    resources: (e, args, ctx) => linkConnection(ctx, 'ipResources', e, args),
    peers: (e, args, ctx) =>
      linkConnection(
        ctx,
        args.direction === 'OUTBOUND' ? 'ipPeersOut' : args.direction === 'INBOUND' ? 'ipPeersIn' : 'ipPeersBoth',
        e,
        args,
      ),
    flows: (e, args, ctx) => eventConnection(ctx, 'ip', e.key, e.window, args, { tables: ['network_activity'] }),
    domains: (e, args, ctx) => linkConnection(ctx, 'ipDomains', e, args),
    resolvedFrom: (e, args, ctx) => linkConnection(ctx, 'ipResolvedFrom', e, args),
    instances: (e, args, ctx) => linkConnection(ctx, 'ipInstances', e, args),
    sources: (e) =>
      Array.isArray(e.attrs.sources) ? (e.attrs.sources as unknown[]).filter((x): x is string => typeof x === 'string').sort() : [],
    events: (e, args, ctx) => eventConnection(ctx, 'ip', e.key, e.window, args),
  },

  Account: {
    ...entityCommon,
    accountId: (e) => e.key,
    provider: (e) => e.provider,
    identities: (e, args, ctx) => linkConnection(ctx, 'accountIdentities', e, args),
  },

  UserAgent: {
    ...entityCommon,
    userAgent: (e) => e.key,
    identities: (e, args, ctx) => linkConnection(ctx, 'userAgentIdentities', e, args),
  },

  IdentityLink: linkCommon,
  SessionLink: linkCommon,
  IPAddressLink: linkCommon,
  ResourceLink: linkCommon,
  UserAgentLink: linkCommon,
  AccountLink: linkCommon,
  DomainLink: { domain: (l) => l.otherKey },
  EventConnection: { edges: (c) => c.edges(), pageInfo: (c) => c.pageInfo(), totalCount: (c) => c.totalCount() },
  IndicatorContext: indicatorContextResolvers,

  ApiActivity: classResolvers('api_activity'),
  Authentication: classResolvers('authentication'),
  NetworkActivity: classResolvers('network_activity'),
  HttpActivity: classResolvers('http_activity'),
  DnsActivity: classResolvers('dns_activity'),
};
