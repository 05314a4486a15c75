/**
 * What a hunter types into a filter, checked and turned into the conditions src/queries builds SQL
 * from. Nothing answers a silent zero: a malformed address, range, ARN or pattern is BAD_USER_INPUT
 * naming the argument, an identity is found by any of its names, and a name that finds nothing is
 * said so in `extensions.notFound`.
 */
import { isIP } from 'node:net';
import { parseArn } from '../core/arn';
import { TABLE_NAMES, type TableName } from '../core/tables';
import type { EventFilter } from '../generated/graphql';
import type { AddressMatch, EventConditions, Ipv4Range, NameMatch } from '../queries/events';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { tableOfClass } from './event-fields';
import { checkText } from './limits';
import { resolveIdentity, resolveResource } from './lookups';
import type { Window } from './models';

/** An address, or the address range a CIDR text names. */
export type AddressInput =
  | { kind: 'address'; address: string }
  | { kind: 'ipv4-range'; range: Ipv4Range; text: string }
  | { kind: 'ipv6-range'; bits: number; value: bigint; text: string };

const IPV4_BITS = 32;
const IPV6_BITS = 128;

/**
 * The value as the error message may repeat it: short text of the characters addresses, ARNs and
 * names are made of, quoted; anything else (spaces, quotes, SQL) is not echoed back.
 */
function shown(text: string): string {
  return /^[A-Za-z0-9_.:/@+=,*-]{1,128}$/.test(text) ? `: '${text}'` : '';
}

/** An IP address (v4 or v6), else BAD_USER_INPUT naming the argument. */
export function checkAddress(text: string, argument: string): string {
  checkText(text, argument);
  if (!isIP(text)) throw apiError(`${argument} is not an IP address (e.g. 192.0.2.10 or 2001:db8::1)${shown(text)}`, 'BAD_USER_INPUT');
  return text;
}

/** An address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`), else BAD_USER_INPUT naming the argument. */
export function parseAddressInput(text: string, argument: string): AddressInput {
  checkText(text, argument);
  const slash = text.indexOf('/');
  if (slash < 0) {
    if (!isIP(text))
      throw apiError(`${argument} is not an IP address or CIDR range (e.g. 192.0.2.10, 10.0.0.0/8)${shown(text)}`, 'BAD_USER_INPUT');
    return { kind: 'address', address: text };
  }
  const address = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  const version = isIP(address);
  const max = version === 4 ? IPV4_BITS : IPV6_BITS;
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!version || !Number.isInteger(bits) || bits < 0 || bits > max) {
    throw apiError(`${argument} is not an IP address or CIDR range (e.g. 192.0.2.10, 10.0.0.0/8)${shown(text)}`, 'BAD_USER_INPUT');
  }
  const value = ipToBigInt(address);
  const shift = BigInt(max - bits);
  const low = (value >> shift) << shift;
  if (version === 4) {
    const high = low + (1n << shift) - 1n;
    return { kind: 'ipv4-range', range: { low: Number(low), high: Number(high) }, text };
  }
  return { kind: 'ipv6-range', bits, value: low, text };
}

/** True when the address falls in the range. */
export function inRange(input: AddressInput, address: string): boolean {
  const version = isIP(address);
  if (!version) return false;
  if (input.kind === 'address') return input.address === address;
  if (input.kind === 'ipv4-range') {
    if (version !== 4) return false;
    const n = Number(ipToBigInt(address));
    return n >= input.range.low && n <= input.range.high;
  }
  if (version !== 6) return false;
  const shift = BigInt(IPV6_BITS - input.bits);
  return ipToBigInt(address) >> shift === input.value >> shift;
}

export function ipToBigInt(address: string): bigint {
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

/** An ARN must be one: `arn:partition:service:region:account:resource` with a partition and a service. */
export function checkArnText(text: string, argument: string): string {
  checkText(text, argument);
  if (text.startsWith('arn:') && !parseArn(text)) {
    throw apiError(`${argument} is not a valid ARN (arn:partition:service:region:account:resource)${shown(text)}`, 'BAD_USER_INPUT');
  }
  return text;
}

/** Characters names of actions, services and error codes are made of, plus `*` for any run of them. */
const PATTERN = /^[A-Za-z0-9_.:/@+=,*-]+$/;

/**
 * Names and `*` patterns (case-insensitive) → exact lower-cased names and LIKE patterns. A pattern
 * with anything else, or nothing but `*`, is BAD_USER_INPUT naming the argument.
 */
export function namePatterns(values: readonly string[], argument: string, options: { shortService?: boolean } = {}): NameMatch {
  const exact: string[] = [];
  const like: string[] = [];
  values.forEach((value, i) => {
    const name = values.length > 1 ? `${argument}[${i}]` : argument;
    checkText(value, name);
    if (value.length > 256 || !PATTERN.test(value)) {
      throw apiError(
        `${name} is not a name or pattern: use letters, digits, . _ : / @ + = , - and * for any run of characters`,
        'BAD_USER_INPUT',
      );
    }
    if (/^\*+$/.test(value)) throw apiError(`${name} matches everything; leave it out instead`, 'BAD_USER_INPUT');
    const lower = value.toLowerCase();
    if (!lower.includes('*')) {
      exact.push(lower);
      // `iam` means iam.amazonaws.com (and iam.googleapis.com): a service by its short name.
      if (options.shortService && !lower.includes('.')) like.push(`${escapeLike(lower)}.%`);
    } else like.push(escapeLike(lower).replace(/\*/g, '%'));
  });
  return { exact, like };
}

/** Escapes LIKE's own wildcards (and its escape character) so they match themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const OUTCOMES = { SUCCESS: 'success', FAILURE: 'failure', UNKNOWN: 'unknown' } as const;

/** Most event ids a filter may list. */
const MAX_EVENT_IDS = 500;

/** Most IPv6 addresses a range filter is turned into; a wider range than that must be narrowed. */
const MAX_RANGE_ADDRESSES = 1000;

export interface ResolvedFilter {
  conditions: EventConditions;
  tables: TableName[];
}

/**
 * The filter's conditions for events in `window`: values checked, identity and resource resolved
 * as the root lookups resolve them, ranges turned into SQL ranges (IPv6: into the addresses the lake
 * saw in them).
 */
export async function resolveFilter(ctx: RequestContext, filter: EventFilter | null | undefined, window: Window): Promise<ResolvedFilter> {
  const f = filter ?? {};
  const text = (v: string | null | undefined, what: string) => (v == null ? null : checkText(v, what));
  const list = (one: string | null | undefined, many: readonly string[] | null | undefined) => [
    ...(one == null ? [] : [one]),
    ...(many ?? []),
  ];
  const conditions: EventConditions = {
    session: text(f.session, 'filter.session'),
    outcome: f.outcome ? OUTCOMES[f.outcome] : null,
    source: text(f.source, 'filter.source'),
    account: text(f.account, 'filter.account'),
    region: text(f.region, 'filter.region'),
    readOnly: f.readOnly ?? null,
    hasError: f.hasError ?? null,
  };
  const actions = list(f.action, f.actions);
  if (actions.length > 0) conditions.actions = namePatterns(actions, f.actions?.length ? 'filter.actions' : 'filter.action');
  const services = list(f.service, f.services);
  if (services.length > 0)
    conditions.services = namePatterns(services, f.services?.length ? 'filter.services' : 'filter.service', { shortService: true });
  const codes = list(f.errorCode, f.errorCodes);
  if (codes.length > 0) conditions.errorCodes = namePatterns(codes, f.errorCodes?.length ? 'filter.errorCodes' : 'filter.errorCode');
  if (f.country != null) {
    if (!/^[A-Za-z]{2}$/.test(f.country))
      throw apiError('filter.country: expected an ISO 3166-1 alpha-2 code such as NL', 'BAD_USER_INPUT');
    conditions.country = f.country.toUpperCase();
  }
  if (f.eventIds != null) {
    if (f.eventIds.length > MAX_EVENT_IDS) throw apiError(`filter.eventIds: at most ${MAX_EVENT_IDS} ids`, 'BAD_USER_INPUT');
    conditions.eventIds = [...new Set(f.eventIds.map((id) => checkText(id, 'filter.eventIds')))];
  }
  if (f.text != null) conditions.text = checkText(f.text, 'filter.text').toLowerCase();
  if (f.ip != null) conditions.ip = await addressCondition(ctx, parseAddressInput(f.ip, 'filter.ip'), window);
  if (f.identity != null) {
    const value = checkArnText(f.identity, 'filter.identity');
    const found = await resolveIdentity(ctx, value, window, 'filter.identity');
    // Not found: said in extensions.notFound; the text itself still matches an id the graph has not seen.
    conditions.identity = found?.key ?? value;
  }
  if (f.resource != null) {
    const value = checkArnText(f.resource, 'filter.resource');
    const found = await resolveResource(ctx, value, window, 'filter.resource');
    conditions.resource = found?.key ?? value;
  }
  const tables = f.classes && f.classes.length > 0 ? [...new Set(f.classes.map(tableOfClass))] : [...TABLE_NAMES];
  return { conditions, tables };
}

/** An address as itself; an IPv4 range as integers; an IPv6 range as the addresses the lake saw in it. */
async function addressCondition(ctx: RequestContext, input: AddressInput, window: Window): Promise<AddressMatch> {
  if (input.kind === 'address') return { exact: [input.address], ranges: [] };
  if (input.kind === 'ipv4-range') return { exact: [], ranges: [input.range] };
  const seen = await ctx.loaders.addressesInRange([], true, window, MAX_RANGE_ADDRESSES * 10);
  const inside = seen.map((e) => e.key).filter((address) => inRange(input, address));
  if (inside.length > MAX_RANGE_ADDRESSES) {
    throw apiError(
      `filter.ip: the range ${input.text} holds more than ${MAX_RANGE_ADDRESSES} addresses of the lake; narrow it`,
      'BAD_USER_INPUT',
    );
  }
  return { exact: inside, ranges: [] };
}
