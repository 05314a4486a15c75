/** Resource: anything with an ARN or provider id (bucket, instance, network interface, role…) and its pivots. */
import { parseArn } from '../../core/arn';
import type { ResourceResolvers } from '../../generated/graphql';
import { cidrMatcher, eventConnection, filteredLinkConnection, linkConnection, type EventArgs } from '../connections';
import type { RequestContext } from '../context';
import { apiError } from '../errors';
import type { EntityModel, EventConnectionModel } from '../models';
import { EMPTY_EVENTS, entityFields } from './common';
import { entityFindings } from './finding';

/** The id of an ec2 resource of this kind (`instance/i-…`, `network-interface/eni-…`) in an ARN of any partition. */
function ec2Id(key: string, kind: 'instance' | 'network-interface'): string | null {
  const arn = parseArn(key);
  if (arn?.service !== 'ec2') return null;
  const pattern = kind === 'instance' ? /^instance\/(i-[0-9a-f]+)$/ : /^network-interface\/(eni-[0-9a-f]+)$/;
  return pattern.exec(arn.resource)?.[1] ?? null;
}

/** The bucket of an S3 bucket ARN (`arn:<partition>:s3:::name`), not of an object's. */
function bucketName(key: string): string | null {
  const arn = parseArn(key);
  return arn?.service === 's3' && arn.region === '' && arn.account === '' && !arn.resource.includes('/') ? arn.resource : null;
}

/** An instance's flows (its interfaces' records, or records naming it), or a network interface's own. */
function flowsOf(ctx: RequestContext, e: EntityModel, args: EventArgs): Promise<EventConnectionModel> {
  const eni = ec2Id(e.key, 'network-interface');
  if (eni) return eventConnection(ctx, 'none', '*', e.window, args, { tables: ['network_activity'], extra: { interfaceIds: [eni] } });
  // Batched across instances: one query joins the flows to the interfaces the graph ties to each.
  if (ec2Id(e.key, 'instance')) return eventConnection(ctx, 'instance', e.key, e.window, args, { tables: ['network_activity'] });
  return Promise.resolve(EMPTY_EVENTS);
}

/** DNS lookups about a resource: the queries an instance made, or the names of a bucket's S3 endpoints. */
function dnsActivityOf(ctx: RequestContext, e: EntityModel, args: EventArgs): Promise<EventConnectionModel> {
  if (ec2Id(e.key, 'instance')) return eventConnection(ctx, 'instance', e.key, e.window, args, { tables: ['dns_activity'] });
  const bucket = bucketName(e.key);
  if (bucket)
    return eventConnection(ctx, 'none', '*', e.window, args, { tables: ['dns_activity'], extra: { dnsNamePrefix: `${bucket}.s3` } });
  return Promise.resolve(EMPTY_EVENTS);
}

export const Resource: ResourceResolvers = {
  ...entityFields,
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
  dnsActivity: (e, args, ctx) => dnsActivityOf(ctx, e, args),
  interfaces: (e, args, ctx) => linkConnection(ctx, 'resourceInterfaces', e, args),
  instances: (e, args, ctx) => linkConnection(ctx, 'resourceInstances', e, args),
  addresses: (e, args, ctx) => linkConnection(ctx, 'resourceAddresses', e, args),
  domains: (e, args, ctx) => linkConnection(ctx, 'resourceDomains', e, args),
  flows: (e, args, ctx) => flowsOf(ctx, e, args),
  findings: (e, args, ctx) => entityFindings(e, args, ctx),
};
