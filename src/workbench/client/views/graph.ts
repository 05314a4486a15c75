/**
 * The graph view (Cytoscape.js): start from an entity, expand a node's neighbours a page at a
 * time, read a node's details beside the graph without leaving it, collapse a node back to what it
 * was before it was expanded, fold a node's neighbours of one type into one node (and unfold them),
 * narrow the graph to the links active in part of the window with a time slider, and open the
 * picked nodes' events in the event grid (same window). Every node and edge is one the API returned
 * for the window.
 */
import cytoscape from 'cytoscape';
import { gql, type Connection } from '../api';
import { count, download, facts, h, message, replaceChildren, time } from '../dom';
import { ENTITY_REF, entityLink, entityRef, KIND_LABEL, type EntityRef, type EntityRefFields } from '../entities';
import { entityHref, href, type EntityKind, type TimeWindow } from '../route';
import { KINDS } from './entity';

/** Neighbours per page of each link connection. */
export const GRAPH_PAGE = 10;

/** The link connections a node of each kind expands through (fields from this table only). */
const NEIGHBOURS: Record<EntityKind, readonly string[]> = {
  identity: ['sessions', 'ips', 'resources', 'accounts'],
  session: ['ips', 'resources', 'children'],
  ip: ['identities', 'sessions', 'resources', 'peers'],
  resource: ['actors', 'sessions', 'sourceIps'],
  account: ['identities'],
};

interface LinkEdge {
  relation: string;
  eventCount: number;
  firstSeen: string;
  lastSeen: string;
  node: EntityRefFields;
}

/** Neighbours of one node and one kind drawn as one node. */
interface Fold {
  parent: string;
  kind: string;
  members: string[];
}

const HOUR = 3_600_000;

interface Expansion {
  /** Per connection: the cursor of the next page, or done. */
  cursors: Map<string, { after: string | null; done: boolean }>;
  /** Nodes this expansion brought in or linked to, and the edges it drew. */
  nodes: Set<string>;
  edges: Set<string>;
}

function expandQuery(kind: EntityKind, fields: readonly string[]): string {
  const spec = KINDS[kind];
  const connections = fields
    .map(
      (field, i) =>
        `${field}(first: $first, after: $after${i}, window: $w) { totalCount pageInfo { hasNextPage endCursor } edges { relation eventCount firstSeen lastSeen node { ...EntityRef } } }`,
    )
    .join('\n');
  const cursorVars = fields.map((_, i) => `$after${i}: String`).join(', ');
  return `query Expand($id: String!, $w: TimeWindow!, $first: Int!${cursorVars ? `, ${cursorVars}` : ''}) {
    entity: ${spec.lookup}(${spec.argument}: $id, window: $w) { ${connections} }
  }
  ${ENTITY_REF}`;
}

const nodeId = (ref: { kind: string; id: string }): string => `${ref.kind}:${ref.id}`;

/** The last part of an ARN or path, for a label that fits a node. */
function shortLabel(ref: EntityRef): string {
  const tail = ref.id.split(/[/:]/).filter(Boolean).pop() ?? ref.id;
  return tail.length > 28 ? `${tail.slice(0, 27)}…` : tail;
}

export async function renderGraph(root: HTMLElement, kind: EntityKind, id: string, window: TimeWindow): Promise<void> {
  const canvas = h('div', { class: 'graph-canvas', id: 'graph-canvas' });
  const details = h('aside', { class: 'graph-details', id: 'graph-details' }, message('empty', 'Select a node to see its details.'));
  const nodeList = h('ul', { class: 'graph-nodes', id: 'graph-nodes', 'aria-label': 'Nodes in the graph' });
  const status = h('p', { class: 'muted', id: 'graph-status', role: 'status' });
  // The time slider: hour steps over the window; a link shows while its first..last seen overlaps the range.
  const windowStart = Date.parse(window.from);
  const windowEnd = Date.parse(window.to);
  const steps = Math.max(1, Math.ceil((windowEnd - windowStart) / HOUR));
  const timeFrom = h('input', { type: 'range', id: 'graph-time-from', min: 0, max: steps, value: 0, 'aria-label': 'Show links from' });
  const timeTo = h('input', { type: 'range', id: 'graph-time-to', min: 0, max: steps, value: steps, 'aria-label': 'Show links until' });
  const timeLabel = h('span', { 'data-field': 'graph-time-range' });
  const atStep = (step: number): number => Math.min(windowEnd, windowStart + step * HOUR);
  const openGrid = h('button', { type: 'button', id: 'graph-open-grid', onclick: () => openSelection() }, 'Open picked in event grid');
  const start: EntityRef = { kind, id, label: id };
  replaceChildren(
    root,
    h(
      'h1',
      {},
      'Graph from ',
      entityLink(start, window),
      ' ',
      h('button', { type: 'button', id: 'graph-png', onclick: () => exportPng() }, 'PNG'),
      h('button', { type: 'button', id: 'graph-json', onclick: () => exportJson() }, 'JSON'),
    ),
    h(
      'div',
      { class: 'graph-layout' },
      canvas,
      h(
        'div',
        { class: 'graph-side' },
        details,
        status,
        h('fieldset', { class: 'graph-time', id: 'graph-time' }, h('legend', {}, 'Time'), timeFrom, timeTo, timeLabel),
        h('details', { open: true }, h('summary', {}, 'Nodes'), openGrid, nodeList),
      ),
    ),
  );

  const cy = cytoscape({
    container: canvas,
    wheelSensitivity: 0.3,
    // A small graph fitted to the canvas would be drawn huge.
    maxZoom: 1.4,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'font-size': 10,
          'text-valign': 'bottom',
          'text-margin-y': 3,
          'text-wrap': 'ellipsis',
          'text-max-width': '110px',
          width: 22,
          height: 22,
          'background-color': '#888',
        },
      },
      { selector: 'node[kind = "identity"]', style: { 'background-color': '#2f6fb3', shape: 'ellipse' } },
      { selector: 'node[kind = "session"]', style: { 'background-color': '#7a4fb5', shape: 'round-rectangle' } },
      { selector: 'node[kind = "ip"]', style: { 'background-color': '#c2571a', shape: 'diamond' } },
      { selector: 'node[kind = "resource"]', style: { 'background-color': '#2e8b57', shape: 'rectangle' } },
      { selector: 'node[kind = "account"]', style: { 'background-color': '#555', shape: 'hexagon' } },
      { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#111' } },
      { selector: 'node[kind = "fold"]', style: { shape: 'round-octagon', 'background-color': '#98a2b3', width: 30, height: 30 } },
      { selector: '.folded, .off-time', style: { display: 'none' } },
      { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#f2b705' } },
      {
        selector: 'edge',
        style: {
          width: 1.5,
          'line-color': '#aab',
          'curve-style': 'bezier',
          label: 'data(relation)',
          'font-size': 8,
          color: '#667',
          'text-rotation': 'autorotate',
        },
      },
    ],
  });

  const startKey = nodeId(start);
  /** Which expansions hold each node (the start node is held by 'start'). */
  const holders = new Map<string, Set<string>>();
  const refs = new Map<string, EntityRef>();
  const expansions = new Map<string, Expansion>();
  const folds = new Map<string, Fold>();
  /** Nodes picked (list checkboxes) for the event grid. */
  const picked = new Set<string>();

  const addNode = (ref: EntityRef, holder: string): string => {
    const key = nodeId(ref);
    if (!holders.has(key)) {
      holders.set(key, new Set());
      refs.set(key, ref);
      cy.add({ group: 'nodes', data: { id: key, kind: ref.kind, label: shortLabel(ref) } });
    }
    holders.get(key)?.add(holder);
    return key;
  };

  /** Hides the links outside the slider's range and the nodes no shown link reaches (the start node always shows). */
  const applyTime = (): void => {
    const from = atStep(Math.min(Number(timeFrom.value), Number(timeTo.value)));
    const to = atStep(Math.max(Number(timeFrom.value), Number(timeTo.value)));
    timeLabel.textContent = `${time(new Date(from).toISOString())} → ${time(new Date(to).toISOString())}`;
    timeLabel.dataset.from = new Date(from).toISOString();
    timeLabel.dataset.to = new Date(to).toISOString();
    cy.batch(() => {
      cy.edges().forEach((edge) => {
        const first = edge.data('firstSeen') as number | undefined;
        const last = edge.data('lastSeen') as number | undefined;
        const inRange = first === undefined || last === undefined || (last >= from && first < to);
        if (inRange) edge.removeClass('off-time');
        else edge.addClass('off-time');
      });
      cy.nodes().forEach((node) => {
        const reached = node.id() === startKey || node.connectedEdges().not('.off-time').nonempty();
        if (reached) node.removeClass('off-time');
        else node.addClass('off-time');
      });
    });
  };

  const shown = (key: string): boolean => {
    const node = cy.getElementById(key);
    return !node.empty() && !node.hasClass('folded') && !node.hasClass('off-time');
  };

  const relayout = (): void => {
    applyTime();
    const nodes = cy.nodes().not('.folded').not('.off-time');
    const visible = nodes.union(nodes.edgesWith(nodes).not('.off-time'));
    // A tree from the start node: deterministic, and each expansion's page sits one level further out.
    visible.layout({ name: 'breadthfirst', roots: [startKey], spacingFactor: 1.75, animate: false }).run();
    cy.fit(visible, 30);
    for (const key of [...picked]) if (!shown(key)) picked.delete(key);
    const item = (key: string, label: string, attrs: Record<string, string | number | null>) =>
      h(
        'li',
        { 'data-node': key, ...attrs },
        h('input', {
          type: 'checkbox',
          'data-pick': key,
          checked: picked.has(key),
          'aria-label': `Pick ${label}`,
          onchange: (e) => {
            if ((e.target as HTMLInputElement).checked) picked.add(key);
            else picked.delete(key);
            openGrid.disabled = picked.size === 0;
          },
        }),
        h('button', { type: 'button', class: 'link', onclick: () => select(key) }, label),
      );
    replaceChildren(nodeList, [
      ...[...refs.entries()]
        .filter(([key]) => shown(key))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, ref]) => item(key, `${KIND_LABEL[ref.kind]}: ${ref.id}`, { class: expansions.has(key) ? 'expanded' : null })),
      ...[...folds.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, fold]) =>
          h(
            'li',
            { 'data-node': key, 'data-count': fold.members.length, class: 'fold' },
            h('button', { type: 'button', class: 'link', onclick: () => select(key) }, cy.getElementById(key).data('label') as string),
          ),
        ),
    ]);
    openGrid.disabled = picked.size === 0;
    status.textContent = `${count(nodes.length)} nodes, ${count(visible.edges().length)} links shown`;
    root.dataset.graphState = 'idle';
  };

  const foldsOf = (parent: string): string[] => [...folds.entries()].filter(([, f]) => f.parent === parent).map(([k]) => k);

  /** Folds the node's neighbours of each kind (two or more, not expanded themselves) into one node per kind. */
  const fold = (key: string): void => {
    const expansion = expansions.get(key);
    if (!expansion) return;
    const byKind = new Map<string, string[]>();
    for (const other of expansion.nodes) {
      const ref = refs.get(other);
      if (!ref || other === startKey || other === key || expansions.has(other) || cy.getElementById(other).hasClass('folded')) continue;
      byKind.set(ref.kind, [...(byKind.get(ref.kind) ?? []), other]);
    }
    for (const [kind, members] of byKind) {
      if (members.length < 2) continue;
      const foldKey = `fold:${key}:${kind}`;
      folds.set(foldKey, { parent: key, kind, members });
      for (const member of members) cy.getElementById(member).addClass('folded');
      cy.add({
        group: 'nodes',
        data: { id: foldKey, kind: 'fold', label: `${members.length} × ${KIND_LABEL[kind as EntityRef['kind']]}` },
      });
      cy.add({ group: 'edges', data: { id: `${foldKey}|edge`, source: key, target: foldKey, relation: 'folded' } });
    }
    relayout();
    showDetails(key);
  };

  const unfold = (key: string): void => {
    for (const foldKey of foldsOf(key)) {
      for (const member of folds.get(foldKey)?.members ?? []) cy.getElementById(member).removeClass('folded');
      cy.getElementById(foldKey).remove();
      folds.delete(foldKey);
    }
  };

  const expand = async (key: string): Promise<void> => {
    const ref = refs.get(key);
    if (!ref || ref.kind === 'useragent') return;
    let expansion = expansions.get(key);
    if (!expansion) {
      expansion = {
        cursors: new Map(NEIGHBOURS[ref.kind].map((f) => [f, { after: null, done: false }])),
        nodes: new Set(),
        edges: new Set(),
      };
      expansions.set(key, expansion);
    }
    const fields = [...expansion.cursors.entries()].filter(([, c]) => !c.done).map(([f]) => f);
    if (fields.length === 0) return;
    // A new page joins the neighbours one by one; fold again to fold it too.
    unfold(key);
    root.dataset.graphState = 'loading';
    status.textContent = 'Expanding…';
    const variables: Record<string, unknown> = { id: ref.id, w: window, first: GRAPH_PAGE };
    fields.forEach((f, i) => (variables[`after${i}`] = expansion.cursors.get(f)?.after ?? null));
    const data = await gql<{ entity: Record<string, Connection<LinkEdge>> | null }>(expandQuery(ref.kind, fields), variables);
    for (const field of fields) {
      const links = data.entity?.[field];
      const cursor = expansion.cursors.get(field);
      if (!cursor) continue;
      cursor.after = links?.pageInfo.endCursor ?? null;
      cursor.done = !links?.pageInfo.hasNextPage;
      for (const link of links?.edges ?? []) {
        const other = entityRef(link.node);
        if (!other) continue;
        const otherKey = addNode(other, key);
        expansion.nodes.add(otherKey);
        const edgeKey = `${key}|${field}|${link.relation}|${otherKey}`;
        if (otherKey !== key && cy.getElementById(edgeKey).empty()) {
          cy.add({
            group: 'edges',
            data: {
              id: edgeKey,
              source: key,
              target: otherKey,
              relation: link.relation,
              owner: key,
              firstSeen: Date.parse(link.firstSeen),
              lastSeen: Date.parse(link.lastSeen),
            },
          });
          expansion.edges.add(edgeKey);
        }
      }
    }
    cy.getElementById(key).addClass('expanded');
    relayout();
    showDetails(key);
  };

  /** Undoes a node's expansion: its edges go, and so do the nodes nothing else holds (their own expansions first). */
  const collapse = (key: string): void => {
    const expansion = expansions.get(key);
    if (!expansion) return;
    unfold(key);
    expansions.delete(key);
    for (const edge of expansion.edges) cy.getElementById(edge).remove();
    for (const other of expansion.nodes) {
      const held = holders.get(other);
      held?.delete(key);
      if (held && held.size === 0) {
        collapse(other);
        cy.getElementById(other).remove();
        holders.delete(other);
        refs.delete(other);
      }
    }
    cy.getElementById(key).removeClass('expanded');
    relayout();
    showDetails(key);
  };

  const select = (key: string): void => {
    cy.nodes().unselect();
    cy.getElementById(key).select();
    showDetails(key);
  };

  const showDetails = (key: string): void => {
    const folded = folds.get(key);
    if (folded) {
      return replaceChildren(
        details,
        h('h2', {}, `Folded: ${KIND_LABEL[folded.kind as EntityRef['kind']]}`),
        h('p', { class: 'node-id', 'data-selected': key }, `${folded.members.length} neighbours of ${folded.parent}`),
        h(
          'div',
          { class: 'node-actions' },
          h(
            'button',
            { type: 'button', id: 'graph-unfold', onclick: () => (unfold(folded.parent), relayout(), showDetails(folded.parent)) },
            'Unfold',
          ),
        ),
        h(
          'ul',
          {},
          folded.members.map((m) => h('li', { 'data-member': m }, refs.get(m)?.id ?? m)),
        ),
      );
    }
    const ref = refs.get(key);
    if (!ref) return replaceChildren(details, message('empty', 'Select a node to see its details.'));
    const expansion = expansions.get(key);
    const more = !expansion || [...expansion.cursors.values()].some((c) => !c.done);
    const facts$ = h('div', {}, message('loading', 'Loading…'));
    replaceChildren(
      details,
      h('h2', {}, KIND_LABEL[ref.kind]),
      h(
        'p',
        { class: 'node-id', 'data-selected': key },
        ref.kind === 'useragent' ? ref.id : h('a', { href: entityHref(ref.kind, ref.id, window) }, ref.id),
      ),
      h(
        'div',
        { class: 'node-actions' },
        h(
          'button',
          { type: 'button', id: 'graph-expand', disabled: !more, onclick: () => void expand(key).catch(showError) },
          expansion ? 'Expand more' : 'Expand',
        ),
        h('button', { type: 'button', id: 'graph-collapse', disabled: !expansion, onclick: () => collapse(key) }, 'Collapse'),
        h('button', { type: 'button', id: 'graph-fold', disabled: !expansion, onclick: () => fold(key) }, 'Fold by type'),
        h(
          'button',
          {
            type: 'button',
            id: 'graph-unfold',
            disabled: foldsOf(key).length === 0,
            onclick: () => (unfold(key), relayout(), showDetails(key)),
          },
          'Unfold',
        ),
      ),
      facts$,
    );
    if (ref.kind === 'useragent') return replaceChildren(facts$);
    const spec = KINDS[ref.kind];
    gql<{ entity: { firstSeen: string | null; lastSeen: string | null; eventCount: number } | null }>(
      `query Node($id: String!, $w: TimeWindow!) { entity: ${spec.lookup}(${spec.argument}: $id, window: $w) { firstSeen lastSeen eventCount } }`,
      { id: ref.id, w: window },
    )
      .then(({ entity }) =>
        replaceChildren(
          facts$,
          facts([
            ['eventCount', 'Events', count(entity?.eventCount)],
            ['firstSeen', 'First seen', time(entity?.firstSeen)],
            ['lastSeen', 'Last seen', time(entity?.lastSeen)],
          ]),
        ),
      )
      .catch((err: unknown) => replaceChildren(facts$, message('error', String(err))));
  };

  const showError = (err: unknown): void => {
    root.dataset.graphState = 'error';
    status.textContent = err instanceof Error ? err.message : String(err);
  };

  const exportPng = (): void => {
    const link = h('a', { href: cy.png({ full: true, bg: '#ffffff', scale: 2 }), download: 'scoutql-graph.png' });
    document.body.appendChild(link);
    link.click();
    link.remove();
  };
  /** The picked nodes' events in the event grid, in this window. */
  const openSelection = (): void => {
    const params = new URLSearchParams();
    for (const key of [...picked].sort()) params.append('n', key);
    location.hash = href(['selection'], window, {}).replace('?', `?${params.toString()}&`);
  };

  const exportJson = (): void => {
    const nodes = [...refs.entries()].map(([key, ref]) => ({ id: key, kind: ref.kind, entity: ref.id }));
    const edges = cy
      .edges()
      .map((e) => ({ source: e.data('source') as string, target: e.data('target') as string, relation: e.data('relation') as string }));
    download('scoutql-graph.json', 'application/json', JSON.stringify({ window, nodes, edges }, null, 1));
  };

  cy.on('tap', 'node', (event: cytoscape.EventObject) => showDetails((event.target as cytoscape.NodeSingular).id()));
  const onSlide = (): void => {
    relayout();
  };
  timeFrom.addEventListener('input', onSlide);
  timeTo.addEventListener('input', onSlide);
  addNode(start, 'start');
  relayout();
  select(startKey);
}
