/**
 * What a caller's text names: an identity (ARN with or without its path, assumed-role ARN, access
 * key, name, role principal id), a resource (id, bare bucket name, a secret by either of its ARNs),
 * any node by global id. Engine work goes through the loaders; this decides which lookups to make,
 * and says in `extensions.notFound` what it looked up in vain.
 */
import { iamIdentityKey, parseArn, secretKey } from '../core/arn';
import type { RequestContext } from './context';
import { apiError } from './errors';
import { TABLE_BY_EVENT_TYPE } from './event-fields';
import { fromGlobalId } from './ids';
import { checkText } from './limits';
import { ENTITY_TYPES, type TableName } from '../core/tables';
import type { EntityModel, EntityType, EventModel, FindingModel, Window } from './models';
import { FINDING_PRODUCTS } from '../core/tables';

/** `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` → the role's ARN (without its path) and name. */
export function assumedRole(text: string): { roleArn: string; account: string; roleName: string; session: string } | null {
  const arn = parseArn(text);
  const m =
    arn?.service === 'sts' && arn.region === '' && /^\d{12}$/.test(arn.account) ? /^assumed-role\/([^/]+)\/(.+)$/.exec(arn.resource) : null;
  if (!arn || !m) return null;
  return { roleArn: `arn:${arn.partition}:iam::${arn.account}:role/${m[1]}`, account: arn.account, roleName: m[1], session: m[2] };
}

/** Records that a lookup found nothing, and what it tried. */
export function noteNotFound(ctx: RequestContext, field: string, value: string, lookedUpAs: string[], window: Window): void {
  ctx.report.noteNotFound({ field, value, lookedUpAs, window: { from: window.from.toISOString(), to: window.to.toISOString() } });
}

const IDENTITY_LOOKUPS = [
  'Identity by id or ARN (an IAM ARN also without its path)',
  'Identity by name (user, role, role session name, UPN)',
  'Identity that used it as an access key',
];

/** What an identity look-up text says beside itself: the id it derives (an IAM ARN without its path, an assumed role's role), a role session name. */
function identityTextParts(text: string): { role: ReturnType<typeof assumedRole>; derived: string | null; sessionName: string | null } {
  const role = assumedRole(text);
  const derived = role?.roleArn ?? (iamIdentityKey(text) !== text ? iamIdentityKey(text) : null);
  // A role's principal id (AROA…:session-name) carries the role session name.
  const sessionName = /^AROA[A-Z0-9]{8,}:(.+)$/.exec(text)?.[1] ?? null;
  return { role, derived, sessionName };
}

/**
 * Whether a look-up text may be an identity's own id (the best match a look-up can find): not when
 * it derives another id or names a role session, nor an access key (a session's id, never an identity's).
 */
export function mayBeIdentityId(text: string): boolean {
  const { derived, sessionName } = identityTextParts(text);
  return derived === null && sessionName === null && !/^A[SK]IA[A-Z0-9]+$/.test(text);
}

/** Every identity a lookup text may name that the caller may see, best match first (candidates the graph ranks). */
export async function identitiesNamed(ctx: RequestContext, text: string, window: Window): Promise<EntityModel[]> {
  checkText(text, 'id');
  const { role, derived, sessionName } = identityTextParts(text);
  // Candidates and their entities in one statement (one wave, not two).
  const found = await ctx.loaders.identitiesNamed(text, derived, window, sessionName);
  if (found.length > 0 || !role) return found;
  // An assumed-role ARN names a role by name only: match it by name in its account.
  const named = await ctx.loaders.identityIds(role.roleName, null, window);
  const id = named.find((candidate) => candidate.includes(`:${role.account}:role/`));
  const byName = id ? await ctx.loaders.entity.load({ type: 'Identity', key: id, window }) : null;
  return byName ? [byName] : [];
}

/** The identity a lookup text names, trying each candidate until one is visible to the caller. */
export async function resolveIdentity(
  ctx: RequestContext,
  text: string,
  window: Window,
  field: string | null = 'identity',
): Promise<EntityModel | null> {
  const [first] = await identitiesNamed(ctx, text, window);
  if (!first && field) noteNotFound(ctx, field, text, IDENTITY_LOOKUPS, window);
  return first ?? null;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The key resolveResource most likely finds for a text: a bare bucket name's ARN in the commercial
 * partition (the lake may hold it in another: resourcesByName asks the data), else the text itself
 * (the first key it tries). A guess, for starting work early (src/api/prefetch.ts), never an answer.
 */
export function likelyResourceKey(text: string): string {
  return !text.startsWith('arn:') && isBucketName(text) ? `arn:aws:s3:::${text}` : text;
}

export function isBucketName(text: string): boolean {
  return BUCKET_NAME.test(text);
}

/**
 * A resource by id; a bare bucket name also finds the bucket's ARN (in whatever partition the lake
 * has it); a secret's full ARN finds the secret (the lake keys secrets without the six characters
 * Secrets Manager appends); an IAM user or role ARN is keyed without its path.
 */
export async function resolveResource(
  ctx: RequestContext,
  text: string,
  window: Window,
  field: string | null = 'resource',
): Promise<EntityModel | null> {
  checkText(text, 'id');
  if (!text.startsWith('arn:') && isBucketName(text)) {
    const bucket = await ctx.loaders.resourceByName.load({ name: text, window });
    if (!bucket && field) noteNotFound(ctx, field, text, ['Resource by id', 'S3 bucket by name'], window);
    return bucket;
  }
  const keys = [...new Set([text, iamIdentityKey(text), secretKey(text)])];
  for (const key of keys) {
    const found = await ctx.loaders.entity.load({ type: 'Resource', key, window });
    if (found) return found;
  }
  if (field)
    noteNotFound(ctx, field, text, ['Resource by id (a secret also without its suffix, an IAM principal without its path)'], window);
  return null;
}

/** An entity by its key, or null with a notFound note naming the field and what was looked up. */
export async function loadNamed(
  ctx: RequestContext,
  type: EntityType,
  key: string,
  window: Window,
  field: string,
): Promise<EntityModel | null> {
  const found = await ctx.loaders.entity.load({ type, key, window });
  if (!found) noteNotFound(ctx, field, key, [`${type} by id`], window);
  return found;
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
