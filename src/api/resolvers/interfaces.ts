/** Which object type an interface value is. */
import type { EntityResolvers, EventResolvers, LinkResolvers, NodeResolvers } from '../../generated/graphql';
import { eventTypeName } from '../event-fields';
import type { EntityModel, EventModel, FindingModel } from '../models';

function isEvent(value: EntityModel | EventModel | FindingModel): value is EventModel {
  return 'table' in value && 'row' in value;
}

export const Node: NodeResolvers = {
  __resolveType: (value) => ('finding' in value ? 'Finding' : isEvent(value) ? eventTypeName(value.table) : value.type),
};
export const Entity: EntityResolvers = { __resolveType: (value) => value.type };
export const Event: EventResolvers = { __resolveType: (value) => eventTypeName(value.table) };
/** No field returns the Link interface itself: each pivot returns its concrete link type. */
export const Link: LinkResolvers = { __resolveType: () => null };
