/** Account: an AWS account, Azure tenant or GCP project, and the identities seen in it. */
import type { AccountResolvers } from '../../generated/graphql';
import { linkConnection } from '../connections';
import { entityEvents, entityFields } from './common';
import { entityFindings } from './finding';

export const Account: AccountResolvers = {
  ...entityFields,
  accountId: (e) => e.key,
  provider: (e) => e.provider,
  identities: (e, args, ctx) => linkConnection(ctx, 'accountIdentities', e, args),
  events: (e, args, ctx) => entityEvents(ctx, e, args),
  findings: (e, args, ctx) => entityFindings(e, args, ctx),
};
