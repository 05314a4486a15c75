/**
 * Lists of an entity started beside the look-up of the entity itself. `identity(id) { events }` or
 * `resource(id: bucket) { actors sessions }` otherwise run in sequential waves: the look-up, then
 * the lists keyed on the key it found. Most callers pass what the key will be (an identity's id, a
 * bucket whose ARN is `arn:aws:s3:::<name>`), so the lists keyed on that guess can start at once,
 * through the very resolvers and loader calls the document's fields make: when the look-up finds
 * that key, the fields' own calls find the statements already running (the per-request DataLoader
 * caches them by key) and the look-up and its lists are one wave. When it finds another key (a
 * name, an access key, a bucket of another partition) or nothing, the fields ask for their own rows
 * and the started statements are only wasted work: the rows a caller sees are always those of the
 * key the look-up found.
 */
import {
  getArgumentValues,
  getNamedType,
  isObjectType,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
} from 'graphql';
import type { NamingAttribute, PivotName } from '../queries/graph';
import { linkKey, type LinkArgs } from './connections';
import type { RequestContext } from './context';
import { eventColumnsOfEdgeNodes, fieldsOf } from './event-columns';
import type { FollowKey, NeighbourKey } from './loaders';
import { entityStub, type EntityModel, type EntityType, type EventConnectionModel, type Window } from './models';

/** A field resolver as the generated types allow it to be written here: a plain function of the entity. */
type FieldResolver = (entity: EntityModel, args: never, ctx: RequestContext, info: GraphQLResolveInfo) => unknown;

/** Of a type's resolvers, these fields' (each a plain function: one written as `{ resolve }` is left out). */
export function resolversOf(resolvers: object, names: readonly string[]): Readonly<Record<string, FieldResolver>> {
  const out: Record<string, FieldResolver> = {};
  for (const name of names) {
    const resolver: unknown = (resolvers as Record<string, unknown>)[name];
    if (typeof resolver === 'function') out[name] = resolver as FieldResolver;
  }
  return out;
}

/** Field nodes by response key (alias or name), in document order: one resolver call each. */
function byResponseKey(nodes: readonly FieldNode[]): FieldNode[][] {
  const groups = new Map<string, FieldNode[]>();
  for (const node of nodes) {
    const key = node.alias?.value ?? node.name.value;
    const group = groups.get(key);
    if (group) group.push(node);
    else groups.set(key, [node]);
  }
  return [...groups.values()];
}

/**
 * What a neighbour type's fields ask that its list's own statement can answer too (a second hop):
 * link lists by field (the pivot each loads through linkConnection), and entities an attribute
 * names by field (a session's `identity`). The resolvers' files declare them beside the resolvers.
 */
export interface Followable {
  lists: Readonly<Record<string, PivotName>>;
  named?: Readonly<Record<string, { entity: EntityType; attr: NamingAttribute }>>;
}

/** At most this many second hops per list. */
const MAX_FOLLOWS = 4;

/** The node type of a link list field (`…Connection { edges { node } }`), if it is one. */
function linkNodeType(field: GraphQLField<unknown, unknown>): GraphQLObjectType | null {
  const connection = getNamedType(field.type);
  const edges = isObjectType(connection) ? connection.getFields().edges : undefined;
  const edge = edges ? getNamedType(edges.type) : undefined;
  const node = edge && isObjectType(edge) ? edge.getFields().node : undefined;
  const type = node ? getNamedType(node.type) : undefined;
  return type && isObjectType(type) ? type : null;
}

/**
 * The second hops `nodes` (a link list's field nodes) select of their neighbours that `followable`
 * knows: pages keyed as the neighbour's own field would key them (a field with its own window, or
 * arguments it would reject, is left to ask for itself).
 */
function followsOf(
  ctx: RequestContext,
  nodes: readonly FieldNode[],
  field: GraphQLField<unknown, unknown>,
  info: GraphQLResolveInfo,
  followable: Readonly<Partial<Record<string, Followable>>>,
): FollowKey[] {
  const nodeType = linkNodeType(field);
  const known = nodeType ? followable[nodeType.name] : undefined;
  if (!nodeType || !known) return [];
  const under = (parents: readonly FieldNode[], name: string) =>
    parents.flatMap((n) => fieldsOf(n.selectionSet, info.fragments)).filter((f) => f.name.value === name);
  const selected = byResponseKey(under(under(nodes, 'edges'), 'node').flatMap((n) => fieldsOf(n.selectionSet, info.fragments)));
  const follows: FollowKey[] = [];
  for (const [first] of selected) {
    const name = first.name.value;
    const named = known.named?.[name];
    if (named) follows.push(named);
    const pivot = known.lists[name];
    const definition = nodeType.getFields()[name];
    if (!pivot || !definition) continue;
    try {
      const args = getArgumentValues(definition, first, info.variableValues) as LinkArgs;
      if (args.window != null) continue;
      const { action, offset, limit } = linkKey(ctx, pivot, { key: '', window: null }, args);
      follows.push({ pivot, action, offset, limit });
    } catch {
      // Arguments the field will reject itself.
    }
  }
  return follows.slice(0, MAX_FOLLOWS);
}

/** The request's context with neighbour pages loaded together with these second hops. */
function withFollows(ctx: RequestContext, follow: readonly FollowKey[]): RequestContext {
  if (follow.length === 0) return ctx;
  const neighbours = { load: (key: NeighbourKey) => ctx.loaders.neighbours.load({ ...key, follow }) };
  return { ...ctx, loaders: { ...ctx.loaders, neighbours } };
}

/** At most this many lists of one entity are started ahead. */
const MAX_PREFETCHED_LISTS = 6;

/** Filter arguments whose resolution looks things up itself (and notes what it did not find): left to the field. */
const LOOKUP_FILTERS = ['identity', 'resource', 'ip'];

/**
 * Starts the lists `info`'s field (a look-up of an entity of `type`) selects among `fields`, as the
 * fields would for an entity keyed `key` over `window`, with the parts (edges, pageInfo, totalCount)
 * an event list selects. Never throws and returns nothing: failures are the fields' to report when
 * they ask themselves. `fields` are the type's resolvers (only those that read the key and window).
 */
export function prefetchLists(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  type: EntityType,
  key: string,
  window: Window,
  fields: Readonly<Record<string, FieldResolver>>,
  followable: Readonly<Partial<Record<string, Followable>>> = {},
): void {
  const objectType = info.schema.getType(type) as GraphQLObjectType | undefined;
  if (!objectType) return;
  const definitions = objectType.getFields();
  const entity = entityStub(type, key, window);
  const selected = byResponseKey(info.fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, info.fragments))).filter(
    (nodes) => fields[nodes[0].name.value] !== undefined && definitions[nodes[0].name.value] !== undefined,
  );
  for (const nodes of selected.slice(0, MAX_PREFETCHED_LISTS)) {
    const name = nodes[0].name.value;
    try {
      const args = getArgumentValues(definitions[name], nodes[0], info.variableValues);
      const filter = args.filter as Record<string, unknown> | null | undefined;
      if (filter && LOOKUP_FILTERS.some((f) => filter[f] != null)) continue;
      // A list's second hops (its neighbours' own lists and named entities) ride on its statement.
      const listCtx = withFollows(ctx, followsOf(ctx, nodes, definitions[name], info, followable));
      const started = Promise.resolve(fields[name](entity, args as never, listCtx, info)).then((result) =>
        isEventConnection(result) ? startEventParts(result, nodes, info) : undefined,
      );
      started.catch(() => undefined);
    } catch {
      // Arguments the field will reject itself (a bad cursor, too large a page).
    }
  }
}

function isEventConnection(value: unknown): value is EventConnectionModel {
  return typeof value === 'object' && value !== null && typeof (value as EventConnectionModel).edges === 'function';
}

/** The parts of an event list the document selects, as EventConnection's resolvers ask for them. */
function startEventParts(connection: EventConnectionModel, nodes: readonly FieldNode[], info: GraphQLResolveInfo): Promise<unknown> {
  const parts = byResponseKey(nodes.flatMap((node) => fieldsOf(node.selectionSet, info.fragments)));
  return Promise.all(
    parts.map((part) => {
      const name = part[0].name.value;
      if (name === 'edges') return connection.edges(eventColumnsOfEdgeNodes(part, info.fragments));
      if (name === 'pageInfo') return connection.pageInfo();
      if (name === 'totalCount') return connection.totalCount();
      return Promise.resolve(undefined);
    }),
  );
}
