/** IPAddress: who and what used an address, its flow peers and DNS. */
import type { IpAddressResolvers } from '../../generated/graphql';
import type { PivotName } from '../../queries/graph';
import { eventConnection, linkConnection } from '../connections';
import { bool, entityFields, str, strings } from './common';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
import { entityFindings } from './finding';

/** Link lists by field, the pivot each loads (a prefetch may answer them with the list that reached the address). */
export const IP_ADDRESS_LISTS = {
  identities: 'ipIdentities',
  sessions: 'ipSessions',
  issuedSessions: 'ipIssuedSessions',
  resources: 'ipResources',
  domains: 'ipDomains',
  resolvedFrom: 'ipResolvedFrom',
  instances: 'ipInstances',
} as const satisfies Record<string, PivotName>;

const PEERS: Record<'OUTBOUND' | 'INBOUND' | 'BOTH', PivotName> = { OUTBOUND: 'ipPeersOut', INBOUND: 'ipPeersIn', BOTH: 'ipPeersBoth' };

export const IPAddress: IpAddressResolvers = {
  ...entityFields,
  address: (e) => e.key,
  isPrivate: (e) => e.kind === 'private',
  // From the graph step's attrs: the ingest's GeoIP / ASN enrichment of the events the address sent.
  country: (e) => str(e.attrs.country),
  asn: (e) => num(e.attrs.asn),
  org: (e) => str(e.attrs.as_org),
  isCloudProvider: (e) => bool(e.attrs.cloud),
  identities: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.identities, e, args),
  sessions: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.sessions, e, args),
  issuedSessions: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.issuedSessions, e, args),
  resources: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.resources, e, args),
  peers: (e, args, ctx) => linkConnection(ctx, PEERS[args.direction ?? 'BOTH'], e, args),
  flows: (e, args, ctx) => eventConnection(ctx, 'ip', e.key, e.window, args, { tables: ['network_activity'] }),
  domains: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.domains, e, args),
  resolvedFrom: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.resolvedFrom, e, args),
  instances: (e, args, ctx) => linkConnection(ctx, IP_ADDRESS_LISTS.instances, e, args),
  sources: (e) => strings(e.attrs.sources).sort(),
  events: (e, args, ctx) => eventConnection(ctx, 'ip', e.key, e.window, args),
  findings: (e, args, ctx) => entityFindings(e, args, ctx),
};
