/**
 * contextFor: recognize an indicator (IP, access key, ARN, user name, bucket, domain) and hand
 * back its neighbourhood in one call, for SOAR playbooks that enrich an alert.
 */
import { isIP } from 'node:net';
import type { IndicatorContextResolvers } from '../generated/graphql';
import type { RequestContext } from './context';
import { eventConnection, linkConnection, resolveResource } from './connections';
import type { PivotName } from '../queries/graph';
import type { EventPivot } from '../queries/events';
import type { EntityModel, IndicatorContextModel, IndicatorKind, LinkConnectionModel, Window } from './models';
import { identityCandidates } from '../queries/graph';

const ACCESS_KEY = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

export async function indicatorContext(ctx: RequestContext, indicator: string, window: Window): Promise<IndicatorContextModel> {
  const base = { indicator, window, entity: null, domain: null };
  if (isIP(indicator)) {
    return { ...base, kind: 'IP_ADDRESS', entity: await ctx.loaders.entity.load({ type: 'IPAddress', key: indicator, window }) };
  }
  if (ACCESS_KEY.test(indicator)) {
    return { ...base, kind: 'ACCESS_KEY', entity: await ctx.loaders.entity.load({ type: 'Session', key: indicator, window }) };
  }
  if (indicator.startsWith('arn:')) {
    const isPrincipal = /^arn:[^:]+:(iam::\d*:(user|role|root)|sts::\d*:(assumed-role|federated-user))/.test(indicator);
    const entity = isPrincipal ? await findIdentity(ctx, indicator, window) : await resolveResource(ctx, indicator, window);
    return { ...base, kind: 'ARN', entity };
  }
  // A bare word or dotted name: a bucket if the lake knows one by that name, else a domain or a user name.
  const bucket = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(indicator) ? await resolveResource(ctx, indicator, window) : null;
  if (bucket) return { ...base, kind: 'BUCKET', entity: bucket };
  if (DOMAIN.test(indicator)) return { ...base, kind: 'DOMAIN', domain: indicator.toLowerCase().replace(/\.$/, '') };
  const identity = await findIdentity(ctx, indicator, window);
  return { ...base, kind: identity ? 'USER_NAME' : 'UNKNOWN', entity: identity };
}

async function findIdentity(ctx: RequestContext, text: string, window: Window): Promise<EntityModel | null> {
  const m = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(text);
  const statement = identityCandidates(text, m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null, window);
  const { rows } = await ctx.engine.query<{ id: string }>(statement.sql, statement.params, { label: statement.label, signal: ctx.signal });
  return rows[0] ? ctx.loaders.entity.load({ type: 'Identity', key: rows[0].id, window }) : null;
}

const EMPTY: LinkConnectionModel = { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 };

/** Which pivot answers "related X" for each kind of matched entity. */
const RELATED: Record<'identities' | 'ips' | 'resources' | 'sessions', Partial<Record<string, PivotName>>> = {
  identities: { IPAddress: 'ipIdentities', Resource: 'resourceActors', UserAgent: 'userAgentIdentities', Account: 'accountIdentities' },
  ips: { Identity: 'identityIps', Session: 'sessionIps', Resource: 'resourceIps', IPAddress: 'ipPeersBoth' },
  resources: { Identity: 'identityResources', Session: 'sessionResources', IPAddress: 'ipResources' },
  sessions: { Identity: 'identitySessions', IPAddress: 'ipSessions', Resource: 'resourceSessions', Session: 'sessionChildren' },
};

function related(which: keyof typeof RELATED) {
  return async (c: IndicatorContextModel, args: { first?: number | null }, ctx: RequestContext): Promise<LinkConnectionModel> => {
    if (c.domain && which === 'ips') return linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args);
    if (!c.entity) return EMPTY;
    if (which === 'identities' && c.entity.type === 'Identity') {
      const e = c.entity;
      return {
        edges: [
          {
            cursor: '',
            relation: 'self',
            firstSeen: e.firstSeen!,
            lastSeen: e.lastSeen!,
            eventCount: e.eventCount,
            otherType: 'Identity',
            otherKey: e.key,
            node: e,
            window: c.window,
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
        totalCount: 1,
      };
    }
    if (which === 'identities' && c.entity.type === 'Session') {
      const identity =
        typeof c.entity.attrs.identity === 'string'
          ? await ctx.loaders.entity.load({ type: 'Identity', key: c.entity.attrs.identity, window: c.window })
          : null;
      if (!identity) return EMPTY;
      return {
        edges: [
          {
            cursor: '',
            relation: 'uses',
            firstSeen: c.entity.firstSeen!,
            lastSeen: c.entity.lastSeen!,
            eventCount: c.entity.eventCount,
            otherType: 'Identity',
            otherKey: identity.key,
            node: identity,
            window: c.window,
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
        totalCount: 1,
      };
    }
    const pivot = RELATED[which][c.entity.type];
    return pivot ? linkConnection(ctx, pivot, c.entity, args) : EMPTY;
  };
}

const EVENT_PIVOT: Partial<Record<string, EventPivot>> = {
  Identity: 'identity',
  Session: 'session',
  IPAddress: 'ip',
  Resource: 'resource',
};

export const indicatorContextResolvers: IndicatorContextResolvers<RequestContext> = {
  indicator: (c) => c.indicator,
  kind: (c) => c.kind,
  found: async (c, _a, ctx) => {
    if (c.entity) return true;
    if (!c.domain) return false;
    const page = await linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, { first: 1 });
    return page.totalCount > 0;
  },
  identity: (c) => (c.entity?.type === 'Identity' ? c.entity : null),
  session: (c) => (c.entity?.type === 'Session' ? c.entity : null),
  ip: (c) => (c.entity?.type === 'IPAddress' ? c.entity : null),
  resource: (c) => (c.entity?.type === 'Resource' ? c.entity : null),
  queriedBy: (c, args, ctx) => (c.domain ? linkConnection(ctx, 'domainIps', { key: c.domain, window: c.window }, args) : null),
  firstSeen: (c) => c.entity?.firstSeen ?? null,
  lastSeen: (c) => c.entity?.lastSeen ?? null,
  eventCount: (c) => c.entity?.eventCount ?? 0,
  identities: related('identities'),
  ips: related('ips'),
  resources: related('resources'),
  sessions: related('sessions'),
  recentEvents: async (c, args, ctx) => {
    const first = args.first ?? 10;
    if (c.domain) {
      const page = await eventConnection(
        ctx,
        'none',
        '*',
        c.window,
        { first },
        { tables: ['dns_activity', 'http_activity'], descending: true, extra: { domain: c.domain } },
      );
      return (await page.edges()).map((e) => e.node);
    }
    const pivot = c.entity ? EVENT_PIVOT[c.entity.type] : undefined;
    if (!c.entity || !pivot) return [];
    const page = await eventConnection(ctx, pivot, c.entity.key, c.window, { first }, { descending: true });
    return (await page.edges()).map((e) => e.node);
  },
};
