/** UserAgent: a user agent string and the identities that called with it. */
import type { UserAgentResolvers } from '../../generated/graphql';
import { linkConnection } from '../connections';
import { entityEvents, entityFields } from './common';

export const UserAgent: UserAgentResolvers = {
  ...entityFields,
  userAgent: (e) => e.key,
  identities: (e, args, ctx) => linkConnection(ctx, 'userAgentIdentities', e, args),
  events: (e, args, ctx) => entityEvents(ctx, e, args),
};
