/** Identity: an IAM principal, an Entra ID user, a GCP principal, a service… and its pivots. */
import type { IdentityResolvers } from '../../generated/graphql';
import { eventConnection, linkConnection, windowOf, type EventArgs } from '../connections';
import type { RequestContext } from '../context';
import type { EntityModel, EventConnectionModel } from '../models';
import { entityFields, strings } from './common';
import { entityFindings } from './finding';

/** One person under more names than this is not one person. */
const MAX_LINKED_IDENTITIES = 20;

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

export const Identity: IdentityResolvers = {
  ...entityFields,
  identityId: (e) => e.key,
  kind: (e) => e.kind,
  provider: (e) => e.provider,
  account: (e) => e.account,
  arn: (e) => e.arn,
  name: (e) => e.name,
  names: (e) => {
    const names = strings(e.attrs.names);
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
    const page = await ctx.loaders.neighbours.load({ pivot: 'identityRegions', key: e.key, window, action: null, offset: 0, limit: 1000 });
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
  findings: (e, args, ctx) => entityFindings(e, args, ctx),
};
