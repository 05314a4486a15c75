/** Finding: a hit of a ScoutQL rule or a GuardDuty / Security Hub finding, linked to its entities and evidence. */
import { FINDING_LEVELS, TABLE_NAMES, type FindingLevel as Level, type FindingProduct as Product, type TableName } from '../../core/tables';
import type { FindingLevel, FindingProduct, FindingResolvers, TimeWindow } from '../../generated/graphql';
import type { FindingsFilter, FindingsPivot } from '../../queries/findings';
import { eventConnection, windowOf } from '../connections';
import type { RequestContext } from '../context';
import { apiError } from '../errors';
import { offsetCursor, parseOffsetCursor, toGlobalId } from '../ids';
import { checkFirst, checkText } from '../limits';
import type { EntityModel, FindingConnectionModel, FindingRecord, Window } from '../models';
import { loadEntity } from './common';

const levelOf = (level: FindingLevel): Level => level.toLowerCase() as Level;
const productOf = (product: FindingProduct) => product.toLowerCase() as Product;

export interface FindingsArgs {
  window?: TimeWindow | null;
  level?: FindingLevel | null;
  technique?: string | null;
  rule?: string | null;
  product?: FindingProduct | null;
  first?: number | null;
  after?: string | null;
}

/** The filter of a findings field's arguments, checked. */
export function findingsFilter(args: FindingsArgs): FindingsFilter {
  const technique = args.technique == null ? null : checkText(args.technique, 'technique');
  if (technique !== null && !/^T\d{4}(\.\d{3})?$/i.test(technique))
    throw apiError('technique is an ATT&CK technique id such as T1078 or T1078.004', 'BAD_USER_INPUT');
  return {
    minLevel: args.level ? levelOf(args.level) : null,
    technique,
    rule: args.rule == null ? null : checkText(args.rule, 'rule'),
    product: args.product ? productOf(args.product) : null,
  };
}

/** A page of findings: all of the window (pivot none) or those naming one entity. */
export async function findingConnection(
  ctx: RequestContext,
  pivot: FindingsPivot,
  key: string,
  inherited: Window | null,
  args: FindingsArgs,
): Promise<FindingConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const offset = parseOffsetCursor(args.after);
  const window = windowOf(ctx, inherited, args.window);
  const page = await ctx.loaders.findings.load({ pivot, key, filter: findingsFilter(args), window, offset, limit: Math.max(first, 1) });
  const edges = page.findings.slice(0, first).map(({ finding, rank }) => ({ cursor: offsetCursor(rank), node: { finding, window } }));
  return {
    edges,
    pageInfo: { hasNextPage: page.findings.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: page.total,
  };
}

/** `findings` on an entity: Identity, Session, IPAddress, Resource and Account each pivot on their own key. */
const ENTITY_PIVOT: Partial<Record<EntityModel['type'], FindingsPivot>> = {
  Identity: 'identity',
  Session: 'session',
  IPAddress: 'ip',
  Resource: 'resource',
  Account: 'account',
};

export function entityFindings(e: EntityModel, args: FindingsArgs, ctx: RequestContext): Promise<FindingConnectionModel> {
  const pivot = ENTITY_PIVOT[e.type];
  if (!pivot) throw new Error(`no findings pivot for ${e.type}`);
  return findingConnection(ctx, pivot, e.key, e.window, { level: args.level, first: args.first, after: args.after, window: args.window });
}

const findingKey = (f: FindingRecord) => `${f.product}|${f.timeKey}|${f.findingId}`;

export const Finding: FindingResolvers = {
  id: ({ finding }) => toGlobalId('Finding', findingKey(finding)),
  findingId: ({ finding }) => finding.findingId,
  product: ({ finding }) => finding.product.toUpperCase() as FindingProduct,
  ruleId: ({ finding }) => finding.ruleId,
  ruleKind: ({ finding }) => finding.ruleKind,
  title: ({ finding }) => finding.title,
  description: ({ finding }) => finding.description,
  level: ({ finding }) =>
    ((FINDING_LEVELS as readonly string[]).includes(finding.level) ? finding.level : 'medium').toUpperCase() as FindingLevel,
  severity: ({ finding }) => finding.severity,
  productSeverity: ({ finding }) => finding.productSeverity,
  techniques: ({ finding }) => finding.techniques,
  tactics: ({ finding }) => finding.tactics,
  firstSeen: ({ finding }) => finding.firstSeen,
  lastSeen: ({ finding }) => finding.lastSeen,
  time: ({ finding }) => finding.time,
  createdAt: ({ finding }) => finding.createdAt,
  account: ({ finding }) => finding.account,
  region: ({ finding }) => finding.region,
  identityId: ({ finding }) => finding.actorId,
  identity: ({ finding, window }, _a, ctx) => loadEntity(ctx, 'Identity', finding.actorId, window),
  sessionId: ({ finding }) => finding.sessionId,
  session: ({ finding, window }, _a, ctx) => loadEntity(ctx, 'Session', finding.sessionId, window),
  sourceIpAddress: ({ finding }) => finding.srcIp,
  ip: ({ finding, window }, _a, ctx) => loadEntity(ctx, 'IPAddress', finding.srcIp, window),
  resourceIds: ({ finding }) => finding.resources,
  resources: async ({ finding, window }, _a, ctx) =>
    (await Promise.all(finding.resources.map((id) => loadEntity(ctx, 'Resource', id, window)))).filter((e): e is EntityModel => e !== null),
  evidenceCount: ({ finding }) => finding.evidenceCount,
  evidenceEventIds: ({ finding }) => finding.evidenceEventIds,
  evidence: ({ finding }, args, ctx) => {
    // The evidence lies within the finding's own time range, in the tables its rule reads.
    const window = { from: finding.firstSeen, to: new Date(finding.lastSeen.getTime() + 1) };
    const tables = finding.evidenceTables.filter((t): t is TableName => (TABLE_NAMES as readonly string[]).includes(t));
    return eventConnection(
      ctx,
      'none',
      '*',
      window,
      { first: args.first, after: args.after },
      { tables, extra: { eventIds: finding.evidenceEventIds } },
    );
  },
  groupKey: ({ finding }) => finding.groupKey,
  raw: ({ finding }) => finding.raw,
};
