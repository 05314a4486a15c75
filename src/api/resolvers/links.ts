/** Links (an edge of a pivot, aggregated over the window) and event connections. */
import type { DomainLinkResolvers, EventConnectionResolvers } from '../../generated/graphql';
import { entityStub, type EntityType, type LinkModel } from '../models';

/** A link's neighbour, fetched with the link; an edge whose entity row is missing still names its neighbour. */
function linkTo(type: EntityType) {
  return { node: (l: LinkModel) => l.node ?? entityStub(type, l.otherKey, l.window) };
}

export const IdentityLink = linkTo('Identity');
export const SessionLink = linkTo('Session');
export const IPAddressLink = linkTo('IPAddress');
export const ResourceLink = linkTo('Resource');
export const UserAgentLink = linkTo('UserAgent');
export const AccountLink = linkTo('Account');

export const DomainLink: DomainLinkResolvers = { domain: (l) => l.otherKey };

/** Each part is fetched only when the document selects it. */
export const EventConnection: EventConnectionResolvers = {
  edges: (c) => c.edges(),
  pageInfo: (c) => c.pageInfo(),
  totalCount: (c) => c.totalCount(),
};
