/**
 * Events of several entities at once (the nodes picked in the graph): one event grid per entity,
 * each paging through that entity's own events connection in the investigation window, with its
 * exports. `#/selection?n=identity:…&n=ip:…&from=…&to=…`.
 */
import { h, message, replaceChildren } from '../dom';
import { entityLink, KIND_LABEL } from '../entities';
import { isEntityKind, type EntityKind, type TimeWindow } from '../route';
import { KINDS } from './entity';
import { entityEventPages, eventGrid } from './grid';

/** `kind:id` (the graph's node keys) for the kinds that have an events connection; others are left out. */
export function parseNodes(keys: readonly string[]): { kind: EntityKind; id: string }[] {
  return keys.flatMap((key) => {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const id = key.slice(colon + 1);
    return colon > 0 && isEntityKind(kind) && id ? [{ kind, id }] : [];
  });
}

export function renderSelection(root: HTMLElement, keys: readonly string[], window: TimeWindow): void {
  const nodes = parseNodes(keys);
  if (nodes.length === 0) {
    replaceChildren(root, h('h1', {}, 'Events of the picked entities'), message('empty', 'Nothing picked: pick nodes in the graph first.'));
    return;
  }
  replaceChildren(
    root,
    h('h1', {}, `Events of ${nodes.length} picked ${nodes.length === 1 ? 'entity' : 'entities'}`),
    nodes.map(({ kind, id }) => {
      const spec = KINDS[kind];
      return h(
        'div',
        { class: 'selection-grid', 'data-grid-for': `${kind}:${id}` },
        h('h2', {}, `${KIND_LABEL[kind]} `, entityLink({ kind, id, label: id }, window)),
        eventGrid(entityEventPages(spec.lookup, spec.argument, id, window), `${kind}-${id.replace(/[^A-Za-z0-9._-]+/g, '_')}-events`),
      );
    }),
  );
}
