/** Turning loader pages into Relay connections; argument checks live here so resolvers stay thin. */
import { isIP } from 'node:net';
import { TABLE_NAMES, type TableName } from '../core/tables';
import type { EventFilter, TimeWindow } from '../generated/graphql';
import type { EventConditions, EventPivot } from '../queries/events';
import type { PivotName } from '../queries/graph';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { tableOfClass } from './event-fields';
import { jsonCursor, offsetCursor, parseJsonCursor, parseOffsetCursor } from './ids';
import { checkFirst, checkText, checkWindow } from './limits';
import type { EntityModel, EventConnectionModel, EventEdgeModel, LinkConnectionModel, PageInfoModel, Window } from './models';

/** The pivot's own window when given, else the window the parent entity was looked up in. */
export function windowOf(ctx: RequestContext, inherited: Window | null, given: TimeWindow | null | undefined): Window {
  if (given) return checkWindow(given, ctx.limits);
  return inherited ?? ctx.defaultWindow;
}

export async function linkConnection(
  ctx: RequestContext,
  pivot: PivotName,
  from: EntityModel | { key: string; window: Window },
  args: { first?: number | null; after?: string | null; window?: TimeWindow | null; action?: string | null },
): Promise<LinkConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const offset = parseOffsetCursor(args.after);
  const window = windowOf(ctx, from.window, args.window);
  const action = args.action == null ? null : checkText(args.action, 'action');
  if (first === 0) {
    const probe = await ctx.loaders.neighbours.load({ pivot, key: from.key, window, action, offset, limit: 1 });
    return { edges: [], pageInfo: { hasNextPage: probe.links.length > 0, endCursor: null }, totalCount: probe.total };
  }
  const page = await ctx.loaders.neighbours.load({ pivot, key: from.key, window, action, offset, limit: first });
  const edges = page.links.slice(0, first);
  return { edges, pageInfo: { hasNextPage: page.links.length > first, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.total };
}

/** Links filtered in memory (CIDR ranges SQL cannot test portably), paged over the filtered list. */
export async function filteredLinkConnection(
  ctx: RequestContext,
  pivot: PivotName,
  from: EntityModel,
  args: { first?: number | null; after?: string | null; window?: TimeWindow | null; action?: string | null },
  keep: (otherKey: string) => boolean,
): Promise<LinkConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const offset = parseOffsetCursor(args.after);
  const window = windowOf(ctx, from.window, args.window);
  const action = args.action == null ? null : checkText(args.action, 'action');
  const scanLimit = ctx.limits.maxPageSize * 10;
  const page = await ctx.loaders.neighbours.load({ pivot, key: from.key, window, action, offset: 0, limit: scanLimit });
  const kept = page.links.filter((l) => keep(l.otherKey)).map((l, i) => ({ ...l, cursor: offsetCursor(i + 1) }));
  const edges = kept.slice(offset, offset + first);
  return {
    edges,
    pageInfo: { hasNextPage: kept.length > offset + first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: kept.length,
  };
}

export interface EventArgs {
  filter?: EventFilter | null;
  first?: number | null;
  after?: string | null;
  window?: TimeWindow | null;
}

const OUTCOMES = { SUCCESS: 'success', FAILURE: 'failure', UNKNOWN: 'unknown' } as const;

export function conditionsOf(filter: EventFilter | null | undefined): { conditions: EventConditions; tables: TableName[] } {
  const f = filter ?? {};
  const text = (v: string | null | undefined, what: string) => (v == null ? null : checkText(v, what));
  const conditions: EventConditions = {
    identity: text(f.identity, 'filter.identity'),
    session: text(f.session, 'filter.session'),
    ip: text(f.ip, 'filter.ip'),
    resource: text(f.resource, 'filter.resource'),
    action: text(f.action, 'filter.action'),
    outcome: f.outcome ? OUTCOMES[f.outcome] : null,
    errorCode: text(f.errorCode, 'filter.errorCode'),
    source: text(f.source, 'filter.source'),
    account: text(f.account, 'filter.account'),
  };
  const tables = f.classes && f.classes.length > 0 ? [...new Set(f.classes.map(tableOfClass))] : [...TABLE_NAMES];
  return { conditions, tables };
}

export async function eventConnection(
  ctx: RequestContext,
  pivot: EventPivot,
  key: string,
  inherited: Window | null,
  args: EventArgs,
  options: { tables?: readonly TableName[]; descending?: boolean; extra?: EventConditions } = {},
): Promise<EventConnectionModel> {
  const first = checkFirst(args.first, ctx.limits);
  const window = windowOf(ctx, inherited, args.window);
  const { conditions, tables: filterTables } = conditionsOf(args.filter);
  const tables = options.tables ? filterTables.filter((t) => options.tables!.includes(t)) : filterTables;
  let after = null;
  if (args.after) {
    const c = parseJsonCursor(args.after);
    const validTime = (x: unknown) => typeof x === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(x);
    if (
      !Array.isArray(c) ||
      c.length !== 3 ||
      !c.every((x) => typeof x === 'string') ||
      !validTime(c[0]) ||
      !TABLE_NAMES.includes(c[2] as TableName)
    ) {
      throw apiError('after is not a cursor from this connection', 'BAD_USER_INPUT');
    }
    after = { timeKey: c[0], eventId: c[1], table: c[2] };
  }
  const key_ = {
    pivot,
    key,
    tables,
    conditions: { ...conditions, ...options.extra },
    window,
    after,
    limit: Math.max(first, 1),
    descending: options.descending ?? false,
  };
  // Page and count are each fetched only if the document asks for them (a count alone is one query).
  let loaded: Promise<{ edges: EventEdgeModel[]; pageInfo: PageInfoModel }> | null = null;
  const page = () =>
    (loaded ??= ctx.loaders.events.load(key_).then((p) => {
      const edges = p.rows.slice(0, first).map((r) => ({
        cursor: jsonCursor([r.cursor.timeKey, r.cursor.eventId, r.cursor.table]),
        node: { table: r.table, row: r.row, window },
      }));
      return { edges, pageInfo: { hasNextPage: p.hasMore || p.rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
    }));
  return {
    edges: async () => (await page()).edges,
    pageInfo: async () => (await page()).pageInfo,
    totalCount: () => ctx.loaders.eventsCount.load({ ...key_, after: null, limit: 0 }),
  };
}

/** Picks the most selective filter field as the batching pivot for a root `events` query. */
export function rootPivot(filter: EventFilter | null | undefined): { pivot: EventPivot; key: string } {
  if (filter?.identity) return { pivot: 'identity', key: filter.identity };
  if (filter?.session) return { pivot: 'session', key: filter.session };
  if (filter?.resource) return { pivot: 'resource', key: filter.resource };
  if (filter?.ip) return { pivot: 'ip', key: filter.ip };
  return { pivot: 'none', key: '*' };
}

/** Parses CIDR ranges (v4 and v6) into a matcher; bad ranges are a user error. */
export function cidrMatcher(ranges: readonly string[]): (address: string) => boolean {
  const parsed = ranges.map((range, index) => {
    const [addr, bitsText] = range.split('/');
    const version = isIP(addr ?? '');
    const maxBits = version === 4 ? 32 : 128;
    const bits = bitsText === undefined ? maxBits : Number(bitsText);
    if (!version || !Number.isInteger(bits) || bits < 0 || bits > maxBits)
      throw apiError(`outside[${index}] is not a CIDR range (e.g. 10.0.0.0/8)`, 'BAD_USER_INPUT');
    return { version, bits, value: ipToBigInt(addr) };
  });
  return (address) => {
    const version = isIP(address);
    if (!version) return false;
    const value = ipToBigInt(address);
    return parsed.some((r) => {
      if (r.version !== version) return false;
      const shift = BigInt((version === 4 ? 32 : 128) - r.bits);
      return value >> shift === r.value >> shift;
    });
  };
}

function ipToBigInt(address: string): bigint {
  if (isIP(address) === 4) return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  // IPv6: expand '::' then read eight 16-bit groups (an embedded IPv4 tail becomes two groups).
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headParts : [...headParts, ...Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}
