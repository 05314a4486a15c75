/**
 * Which columns of the lake an event list must read for the document asking: the fields selected
 * on its events (across aliases, fragments and type conditions) mapped to the columns behind them
 * by the same field list the SDL is generated from (src/api/event-fields.ts). A page that does not
 * show `raw` then never reads it: it is most of every event file.
 *
 * Conservative by construction: a field this map does not know (one added to the schema by hand
 * later) makes the list read every column, so an answer never loses a value to the narrowing.
 */
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { TABLE_NAMES } from '../core/tables';
import type { EventColumns } from '../queries/events';
import { eventFields } from './event-fields';

/**
 * Event field name → the columns it reads, over every event type. The id, class and partitions are
 * read from what every row carries (time, id, table, source, account, region): no column of their own.
 */
const COLUMNS_OF_FIELD: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, Set<string>>([['__typename', new Set()]]);
  for (const table of TABLE_NAMES) {
    for (const field of eventFields(table)) {
      const columns = map.get(field.name) ?? new Set<string>();
      if (field.kind === 'column' || field.kind === 'link') columns.add(field.column.name);
      map.set(field.name, columns);
    }
  }
  return new Map([...map].map(([name, columns]) => [name, [...columns]]));
})();

/** Fields of an EventEdge that read nothing beyond the keys of the row (cursor; alsoRecordedAs looks up by id). */
const EDGE_FIELDS_WITHOUT_COLUMNS = new Set(['__typename', 'cursor', 'alsoRecordedAs']);

type Fragments = GraphQLResolveInfo['fragments'];

/** Every field node of a selection set, fragments and inline fragments flattened (type conditions ignored: a union is safe). */
export function fieldsOf(selectionSet: SelectionSetNode | undefined, fragments: Fragments, seen = new Set<string>()): FieldNode[] {
  if (!selectionSet) return [];
  const out: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) out.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(selection.selectionSet, fragments, seen));
    else {
      const name = selection.name.value;
      // Validation rejects fragment cycles; the guard only keeps this walk finite whatever it is handed.
      if (seen.has(name)) continue;
      seen.add(name);
      const fragment: FragmentDefinitionNode | undefined = fragments[name];
      if (fragment) out.push(...fieldsOf(fragment.selectionSet, fragments, seen));
    }
  }
  return out;
}

/** The columns the event fields of these selection sets read; null (every column) if one field is unknown. */
function columnsOfEventSelections(sets: readonly (SelectionSetNode | undefined)[], fragments: Fragments): EventColumns {
  const columns = new Set<string>();
  for (const set of sets) {
    for (const field of fieldsOf(set, fragments)) {
      const read = COLUMNS_OF_FIELD.get(field.name.value);
      if (read === undefined) return null;
      for (const column of read) columns.add(column);
    }
  }
  return [...columns].sort();
}

/** Columns for a resolver returning events (`recentEvents: [Event!]!`): its own selection is the events'. */
export function eventColumnsOfList(info: GraphQLResolveInfo): EventColumns {
  return columnsOfEventSelections(
    info.fieldNodes.map((node) => node.selectionSet),
    info.fragments,
  );
}

/** Columns for `EventConnection.edges`: the selection of `node` under each edge. */
export function eventColumnsOfEdges(info: GraphQLResolveInfo): EventColumns {
  return eventColumnsOfEdgeNodes(info.fieldNodes, info.fragments);
}

/** The same for the field nodes of one `edges` response key (what the executor hands its resolver as `fieldNodes`). */
export function eventColumnsOfEdgeNodes(edgeNodes: readonly FieldNode[], fragments: Fragments): EventColumns {
  const nodes: (SelectionSetNode | undefined)[] = [];
  for (const edges of edgeNodes) {
    for (const field of fieldsOf(edges.selectionSet, fragments)) {
      if (field.name.value === 'node') nodes.push(field.selectionSet);
      else if (!EDGE_FIELDS_WITHOUT_COLUMNS.has(field.name.value)) return null;
    }
  }
  return columnsOfEventSelections(nodes, fragments);
}
