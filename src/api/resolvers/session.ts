/** Session (credentials) and SessionIssuance: who obtained them, with what, from where; role chains both ways. */
import type { SessionIssuanceResolvers, SessionResolvers } from '../../generated/graphql';
import { eventConnection, linkConnection } from '../connections';
import type { RequestContext } from '../context';
import type { NamingAttribute, PivotName } from '../../queries/graph';
import { entityStub, type EntityModel, type EntityType, type IssuanceModel } from '../models';
import { bool, entityFields, loadEntity, str } from './common';
import { entityFindings } from './finding';

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

/** The issuing sessions, root first, ending with this one; stops at a cycle or the hop limit. */
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

/** Link lists by field, the pivot each loads (a prefetch may answer them with the list that reached the session). */
export const SESSION_LISTS = {
  children: 'sessionChildren',
  ips: 'sessionIps',
  resources: 'sessionResources',
  userAgents: 'sessionUserAgents',
  federatedFrom: 'sessionFederatedFrom',
} as const satisfies Record<string, PivotName>;

/** Entities by field that an attribute of the session names (a prefetch may fetch them with the list that reached it). */
export const SESSION_NAMED = {
  identity: { entity: 'Identity', attr: 'identity' },
} as const satisfies Record<string, { entity: EntityType; attr: NamingAttribute }>;

export const Session: SessionResolvers = {
  ...entityFields,
  sessionId: (e) => e.key,
  accessKeyId: (e) => (/^A[SK]IA[A-Z0-9]+$/.test(e.key) ? e.key : null),
  kind: (e) => e.kind,
  provider: (e) => e.provider,
  account: (e) => e.account,
  name: (e) => e.name,
  mfa: (e) => bool(e.attrs.mfa),
  identity: (e, _a, ctx) => loadEntity(ctx, SESSION_NAMED.identity.entity, str(e.attrs[SESSION_NAMED.identity.attr]), e.window),
  issuedBy: (e) => issuanceOf(e),
  parent: (e, _a, ctx) => loadEntity(ctx, 'Session', str(e.attrs.issuer_session), e.window),
  children: (e, args, ctx) => linkConnection(ctx, SESSION_LISTS.children, e, args),
  chain: (e, _a, ctx) => sessionChain(ctx, e),
  ips: (e, args, ctx) => linkConnection(ctx, SESSION_LISTS.ips, e, args),
  resources: (e, args, ctx) => linkConnection(ctx, SESSION_LISTS.resources, e, args),
  userAgents: (e, args, ctx) => linkConnection(ctx, SESSION_LISTS.userAgents, e, args),
  events: (e, args, ctx) => eventConnection(ctx, 'session', e.key, e.window, args),
  federatedFrom: (e, args, ctx) => linkConnection(ctx, SESSION_LISTS.federatedFrom, e, args),
  findings: (e, args, ctx) => entityFindings(e, args, ctx),
};

export const SessionIssuance: SessionIssuanceResolvers = {
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
    const row = await ctx.loaders.issuingEvent(i.issuedSessionId, i.eventId, i.time.toISOString().slice(0, 10));
    return row ? { table: 'api_activity', row, window: i.window } : null;
  },
};
