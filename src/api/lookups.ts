/**
 * What a caller's text names: an identity (ARN, assumed-role ARN, access key, name, role principal
 * id), a resource (id or bare bucket name), any node by global id. Engine work goes through the
 * loaders; this decides which lookups to make.
 */
import { parseArn } from '../core/arn';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { TABLE_BY_EVENT_TYPE } from './event-fields';
import { fromGlobalId } from './ids';
import { checkText } from './limits';
import { ENTITY_TYPES, type TableName } from '../core/tables';
import type { EntityModel, EntityType, EventModel, FindingModel, Window } from './models';
import { FINDING_PRODUCTS } from '../core/tables';

/** `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` → the role's ARN (without its path) and name. */
function assumedRole(text: string): { roleArn: string; account: string; roleName: string } | null {
  const arn = parseArn(text);
  const m =
    arn?.service === 'sts' && arn.region === '' && /^\d{12}$/.test(arn.account) ? /^assumed-role\/([^/]+)\/.+$/.exec(arn.resource) : null;
  if (!arn || !m) return null;
  return { roleArn: `arn:${arn.partition}:iam::${arn.account}:role/${m[1]}`, account: arn.account, roleName: m[1] };
}

/** The identity a lookup text names, trying each candidate until one is visible to the caller. */
export async function resolveIdentity(ctx: RequestContext, text: string, window: Window): Promise<EntityModel | null> {
  checkText(text, 'id');
  const role = assumedRole(text);
  // A role's principal id (AROA…:session-name) carries the role session name.
  const sessionName = /^AROA[A-Z0-9]{8,}:(.+)$/.exec(text)?.[1] ?? null;
  for (const id of await ctx.loaders.identityIds(text, role?.roleArn ?? null, window, sessionName)) {
    const found = await ctx.loaders.entity.load({ type: 'Identity', key: id, window });
    if (found) return found;
  }
  // An assumed-role ARN names a role whose path the ARN drops: match the role by name.
  if (role) {
    const named = await ctx.loaders.identityIds(role.roleName, null, window);
    const id = named.find((candidate) => candidate.includes(`:${role.account}:role/`));
    if (id) return ctx.loaders.entity.load({ type: 'Identity', key: id, window });
  }
  return null;
}

/** The best identity candidate of a text (an indicator): only the first, visible or not. */
export async function bestIdentity(ctx: RequestContext, text: string, window: Window): Promise<EntityModel | null> {
  const [id] = await ctx.loaders.identityIds(text, assumedRole(text)?.roleArn ?? null, window);
  return id ? ctx.loaders.entity.load({ type: 'Identity', key: id, window }) : null;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isBucketName(text: string): boolean {
  return BUCKET_NAME.test(text);
}

/** A resource by id; a bare bucket name also finds the bucket's ARN (in whatever partition the lake has it). */
export function resolveResource(ctx: RequestContext, text: string, window: Window): Promise<EntityModel | null> {
  checkText(text, 'id');
  if (!text.startsWith('arn:') && isBucketName(text)) return ctx.loaders.resourceByName.load({ name: text, window });
  return ctx.loaders.entity.load({ type: 'Resource', key: text, window });
}

const isEntityType = (type: string): type is EntityType => (ENTITY_TYPES as readonly string[]).includes(type);

/** Any object by global id: an entity by key, an event by `time|eventId`. */
export async function nodeById(ctx: RequestContext, id: string, window: Window): Promise<EntityModel | EventModel | FindingModel | null> {
  const { type, key } = fromGlobalId(id);
  if (isEntityType(type)) return ctx.loaders.entity.load({ type, key, window });
  if (type === 'Finding') return findingById(ctx, key, window);
  const table = TABLE_BY_EVENT_TYPE.get(type);
  if (table) {
    const bar = key.indexOf('|');
    if (bar < 0 || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(key.slice(0, bar)))
      throw apiError('not a valid node id', 'BAD_USER_INPUT');
    return loadEvent(ctx, table, key.slice(0, bar), key.slice(bar + 1));
  }
  throw apiError('not a valid node id', 'BAD_USER_INPUT');
}

async function loadEvent(ctx: RequestContext, table: TableName, timeKey: string, eventId: string): Promise<EventModel | null> {
  const row = await ctx.loaders.event(table, timeKey, eventId);
  if (!row) return null;
  return { table, row, window: { from: row.time, to: new Date(row.time.getTime() + 1) } };
}

/** node(id) of a Finding: `<product>|<time of the version>|<finding id>`. */
export async function findingById(ctx: RequestContext, key: string, window: Window): Promise<FindingModel | null> {
  const [product, timeKey, ...rest] = key.split('|');
  const findingId = rest.join('|');
  if (
    !(FINDING_PRODUCTS as readonly string[]).includes(product) ||
    !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(timeKey ?? '') ||
    !findingId
  )
    throw apiError('not a valid node id', 'BAD_USER_INPUT');
  const finding = await ctx.loaders.finding(product, findingId, timeKey);
  return finding ? { finding, window } : null;
}
