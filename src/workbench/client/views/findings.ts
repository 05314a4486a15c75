/**
 * Findings grouped by the entities they share (finding groups, as Amazon Detective calls them):
 * two findings about the same identity, session, address or resource are one story. Groups are
 * the connected sets of findings over shared entities.
 */
import { gql, type Connection } from '../api';
import { count, h, message, replaceChildren } from '../dom';
import { entityLink } from '../entities';
import { FINDING_FIELDS, findingList, type FindingFields } from '../findings';
import type { EntityKind, TimeWindow } from '../route';

interface GroupedFinding extends FindingFields {
  identityId: string | null;
  sessionId: string | null;
  sourceIpAddress: string | null;
  resourceIds: string[];
}

const FINDINGS = `query Findings($w: TimeWindow!, $after: String) {
  findings(window: $w, first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${FINDING_FIELDS} identityId sessionId sourceIpAddress resourceIds } }
  }
}`;

function entitiesOf(f: GroupedFinding): { kind: EntityKind; id: string }[] {
  return [
    ...(f.identityId ? [{ kind: 'identity' as const, id: f.identityId }] : []),
    ...(f.sessionId ? [{ kind: 'session' as const, id: f.sessionId }] : []),
    ...(f.sourceIpAddress ? [{ kind: 'ip' as const, id: f.sourceIpAddress }] : []),
    ...f.resourceIds.map((id) => ({ kind: 'resource' as const, id })),
  ];
}

/** Connected groups of findings over shared entity keys (union-find). */
export function groupFindings(
  findings: readonly GroupedFinding[],
): { findings: GroupedFinding[]; shared: { kind: EntityKind; id: string }[] }[] {
  const parent = findings.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const owner = new Map<string, number>();
  findings.forEach((f, i) => {
    for (const e of entitiesOf(f)) {
      const key = `${e.kind}:${e.id}`;
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, GroupedFinding[]>();
  findings.forEach((f, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), f]));
  return [...groups.values()]
    .map((members) => {
      const seen = new Map<string, { kind: EntityKind; id: string; n: number }>();
      for (const f of members)
        for (const e of entitiesOf(f)) {
          const key = `${e.kind}:${e.id}`;
          seen.set(key, { ...e, n: (seen.get(key)?.n ?? 0) + 1 });
        }
      const shared = [...seen.values()].filter((e) => members.length === 1 || e.n > 1).map(({ kind, id }) => ({ kind, id }));
      return { findings: members, shared };
    })
    .sort((a, b) => b.findings.length - a.findings.length);
}

export async function renderFindings(root: HTMLElement, window: TimeWindow): Promise<void> {
  replaceChildren(root, h('h1', {}, 'Findings'), message('loading', 'Loading findings…'));
  const all: GroupedFinding[] = [];
  let after: string | null = null;
  let total = 0;
  for (;;) {
    const { findings }: { findings: Connection<{ node: GroupedFinding }> } = await gql(FINDINGS, { w: window, after });
    total = findings.totalCount;
    all.push(...findings.edges.map((e) => e.node));
    if (!findings.pageInfo.hasNextPage) break;
    after = findings.pageInfo.endCursor;
  }
  const groups = groupFindings(all);
  replaceChildren(
    root,
    h(
      'h1',
      {},
      'Findings ',
      h('span', { class: 'muted', 'data-field': 'findings-total' }, `${count(total)} in ${count(groups.length)} groups`),
    ),
    groups.length === 0 && message('empty', 'No findings in this window.'),
    groups.map((g, i) =>
      h(
        'section',
        { class: 'finding-group', 'data-group': i, 'data-size': g.findings.length },
        h(
          'h2',
          {},
          `${count(g.findings.length)} finding${g.findings.length === 1 ? '' : 's'} about `,
          g.shared.map((e) => [entityLink({ ...e, label: e.id }, window), ' ']),
        ),
        findingList(g.findings),
      ),
    ),
  );
}
