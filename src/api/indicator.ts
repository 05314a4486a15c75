/**
 * contextFor: try an indicator as everything it could be, and hand back what the lake knows of it
 * in one call, for SOAR playbooks that enrich an alert.
 *
 * The indicator's shape says what to try (an IP or a CIDR range, an access key, an ARN as identity,
 * session and resource, a 12-digit account id, an instance id, an email / UPN, a bare name as user
 * or role, bucket, resource name and domain); every try runs (the loaders batch them), and every
 * hit is kept, best first. Nothing is taken for what it merely looks like: `dana.whitfield` is a
 * user when the lake knows such a user, a domain only when the lake saw it looked up.
 */
import { isIP } from 'node:net';
import type { RequestContext } from './context';
import { parseAddressInput, inRange, type AddressInput } from './filters';
import { assumedRole, identitiesNamed, isBucketName, noteNotFound, resolveResource } from './lookups';
import type { EntityModel, IndicatorContextModel, IndicatorKind, IndicatorMatchModel, Window } from './models';

const ACCESS_KEY = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;
const ACCOUNT_ID = /^\d{12}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** A name an identity or a resource may be known by: no spaces, no ARN. */
const NAME = /^[A-Za-z0-9_.:/@+=,-]{1,512}$/;
/** Addresses of a CIDR range the context follows. */
const MAX_RANGE_ADDRESSES = 100;

/** A way to try an indicator: its kind, and the lookup that finds what it names (empty: nothing). */
type Try = { kind: IndicatorKind; find: () => Promise<IndicatorMatchModel[]> };

export async function indicatorContext(ctx: RequestContext, indicator: string, window: Window): Promise<IndicatorContextModel> {
  const cidr = await cidrOf(ctx, indicator, window);
  const tries = triesFor(ctx, indicator, window, cidr);
  const found = await Promise.all(tries.map((t) => t.find()));
  // One entity found two ways (an ARN that is both an identity and a resource) is listed once, as its first kind.
  const seen = new Set<string>();
  const matches = found.flat().filter((m) => {
    const key = `${m.foundAs}|${m.entity?.key ?? m.domain ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const tried = tries.map((t) => t.kind);
  if (matches.length === 0) {
    noteNotFound(ctx, 'contextFor.indicator', indicator, tried.length ? tried : ['UNKNOWN'], window);
  }
  const primary = matches[0] ?? null;
  return {
    indicator,
    kind: primary?.kind ?? tried[0] ?? 'UNKNOWN',
    window,
    tried,
    matches,
    // A range's related lists follow all its addresses, not the first.
    entity: cidr ? null : (primary?.entity ?? null),
    domain: primary?.foundAs === 'Domain' ? primary.domain : null,
    cidr,
  };
}

function triesFor(ctx: RequestContext, indicator: string, window: Window, cidr: IndicatorContextModel['cidr']): Try[] {
  const entity = (kind: IndicatorKind, type: EntityModel['type'], key: string): Try => ({
    kind,
    find: async () => {
      const e = await ctx.loaders.entity.load({ type, key, window });
      return e ? [{ kind, foundAs: type, entity: e, domain: null }] : [];
    },
  });
  const identities = (kind: IndicatorKind): Try => ({
    kind,
    find: async () =>
      (await identitiesNamed(ctx, indicator, window)).map((e) => ({ kind, foundAs: 'Identity' as const, entity: e, domain: null })),
  });
  const resource = (kind: IndicatorKind): Try => ({
    kind,
    find: async () => {
      // Looked up quietly: the context as a whole says whether anything was found.
      const e = await resolveResource(ctx, indicator, window, null);
      return e ? [{ kind, foundAs: 'Resource' as const, entity: e, domain: null }] : [];
    },
  });
  const byName = (kind: IndicatorKind): Try => ({
    kind,
    find: async () =>
      (await ctx.loaders.resourcesBySuffix(indicator, window)).map((e) => ({
        kind,
        foundAs: 'Resource' as const,
        entity: e,
        domain: null,
      })),
  });
  const domain: Try = {
    kind: 'DOMAIN',
    find: async () => {
      const name = indicator.toLowerCase().replace(/\.$/, '');
      const page = await ctx.loaders.neighbours.load({ pivot: 'domainIps', key: name, window, action: null, offset: 0, limit: 1 });
      return page.total > 0 ? [{ kind: 'DOMAIN' as const, foundAs: 'Domain' as const, entity: null, domain: name }] : [];
    },
  };

  if (isIP(indicator)) return [entity('IP_ADDRESS', 'IPAddress', indicator)];
  if (cidr) {
    const addresses = cidr.addresses.map((e) => ({ kind: 'CIDR' as const, foundAs: 'IPAddress' as const, entity: e, domain: null }));
    return [{ kind: 'CIDR', find: () => Promise.resolve(addresses) }];
  }
  if (ACCESS_KEY.test(indicator)) return [entity('ACCESS_KEY', 'Session', indicator)];
  if (indicator.startsWith('arn:')) {
    const role = assumedRole(indicator);
    const tries: Try[] = [identities('ARN')];
    // An assumed-role ARN names a session of a role: its sessions with that session name.
    if (role) tries.push({ kind: 'ARN', find: () => sessionsOf(ctx, role.roleArn, role.session, window) });
    tries.push(resource('ARN'));
    return tries;
  }
  if (ACCOUNT_ID.test(indicator)) return [entity('ACCOUNT_ID', 'Account', indicator)];
  if (INSTANCE_ID.test(indicator)) return [{ ...byName('INSTANCE_ID') }];
  if (EMAIL.test(indicator)) return [identities('EMAIL')];
  if (!NAME.test(indicator)) return [];
  const tries: Try[] = [identities('USER_NAME')];
  if (isBucketName(indicator)) tries.push(resource('BUCKET'));
  tries.push(byName('RESOURCE_NAME'));
  if (DOMAIN.test(indicator)) tries.push(domain);
  return tries;
}

/** The sessions of a role whose session name is the one an assumed-role ARN gives. */
async function sessionsOf(ctx: RequestContext, roleArn: string, session: string, window: Window): Promise<IndicatorMatchModel[]> {
  const page = await ctx.loaders.neighbours.load({ pivot: 'identitySessions', key: roleArn, window, action: null, offset: 0, limit: 100 });
  return page.links
    .filter((l) => l.node?.name === session)
    .map((l) => ({ kind: 'ARN' as const, foundAs: 'Session' as const, entity: l.node, domain: null }));
}

/** For a CIDR indicator: the lake's addresses in the range, most recently seen first. */
async function cidrOf(ctx: RequestContext, indicator: string, window: Window): Promise<IndicatorContextModel['cidr']> {
  if (!indicator.includes('/') || !isIP(indicator.slice(0, indicator.indexOf('/')))) return null;
  const range: AddressInput = parseAddressInput(indicator, 'indicator');
  const found =
    range.kind === 'ipv4-range'
      ? await ctx.loaders.addressesInRange([range.range], false, window, MAX_RANGE_ADDRESSES)
      : (await ctx.loaders.addressesInRange([], true, window, MAX_RANGE_ADDRESSES * 100))
          .filter((e) => inRange(range, e.key))
          .slice(0, MAX_RANGE_ADDRESSES);
  return { range: indicator, addresses: found };
}
