/**
 * Event pages started beside the look-up of the entity they belong to. `identity(id) { events }`
 * otherwise runs in two sequential waves: the identity's candidates, then its events keyed on the
 * id found. Most callers pass the id itself, so the events keyed on the caller's text can start at
 * once, through the very loader calls `Identity.events` makes: when the look-up finds that id, the
 * resolver's own calls find the statements already running (the per-request DataLoader caches
 * them) and the pivot is one wave. When it finds another identity (a name, an access key) or none,
 * the resolver asks for its own rows and the started page is only wasted work: the rows a caller
 * sees are always those of the id the look-up found.
 */
import { getArgumentValues, type FieldNode, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { eventConnection, type EventArgs } from './connections';
import type { RequestContext } from './context';
import { eventColumnsOfEdgeNodes, fieldsOf } from './event-columns';
import type { Window } from './models';

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

/** At most this many event lists of one identity are started ahead (a document rarely asks more than one). */
const MAX_PREFETCHED_LISTS = 2;

/**
 * Starts the `events` lists `info`'s field (an `identity` look-up, resolved from `text`) selects on
 * the identity, keyed on `text` and `window` (the identity's window if found under that id), with
 * the parts (edges, pageInfo, totalCount) each selects. Never throws and returns nothing: failures are
 * the resolver's to report when it asks itself. Lists with filters that look things up (identity,
 * resource, address) are left to the resolver, whose look-ups also note what they did not find.
 */
export function prefetchIdentityEvents(ctx: RequestContext, text: string, window: Window, info: GraphQLResolveInfo): void {
  const identityType = info.schema.getType('Identity') as GraphQLObjectType | undefined;
  const eventsField = identityType?.getFields().events;
  if (!eventsField) return;
  const lists = byResponseKey(
    info.fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, info.fragments)).filter((f) => f.name.value === 'events'),
  );
  for (const nodes of lists.slice(0, MAX_PREFETCHED_LISTS)) {
    try {
      const args = getArgumentValues(eventsField, nodes[0], info.variableValues) as EventArgs;
      const filter = args.filter as Record<string, unknown> | null | undefined;
      if (filter && (filter.identity != null || filter.resource != null || filter.ip != null)) continue;
      const parts = byResponseKey(nodes.flatMap((node) => fieldsOf(node.selectionSet, info.fragments)));
      const started = eventConnection(ctx, 'identity', text, window, args).then((connection) =>
        Promise.all(
          parts.map((part) => {
            const name = part[0].name.value;
            if (name === 'edges') return connection.edges(eventColumnsOfEdgeNodes(part, info.fragments));
            if (name === 'pageInfo') return connection.pageInfo();
            if (name === 'totalCount') return connection.totalCount();
            return undefined;
          }),
        ),
      );
      started.catch(() => undefined);
    } catch {
      // Arguments the resolver will reject itself (a bad cursor, too large a page).
    }
  }
}
