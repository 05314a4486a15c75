/** Entities as the API returns them, and how the workbench names and links them. */
import { h } from './dom';
import { entityHref, type EntityKind, type TimeWindow } from './route';

/** Any entity selected with `...EntityRef` (its __typename and its key). */
export interface EntityRefFields {
  __typename: string;
  identityId?: string;
  name?: string | null;
  sessionId?: string;
  address?: string;
  resourceId?: string;
  accountId?: string;
  userAgent?: string;
}

/** Every entity's key, whatever its type: select it wherever an entity comes back. */
export const ENTITY_REF = `fragment EntityRef on Entity {
  __typename
  ... on Identity { identityId name }
  ... on Session { sessionId }
  ... on IPAddress { address }
  ... on Resource { resourceId }
  ... on Account { accountId }
  ... on UserAgent { userAgent }
}`;

export interface EntityRef {
  kind: EntityKind | 'useragent';
  id: string;
  label: string;
}

const TYPE_KIND: Record<string, EntityKind | 'useragent'> = {
  Identity: 'identity',
  Session: 'session',
  IPAddress: 'ip',
  Resource: 'resource',
  Account: 'account',
  UserAgent: 'useragent',
};

export function entityRef(entity: EntityRefFields): EntityRef | null {
  const kind = TYPE_KIND[entity.__typename];
  const id = entity.identityId ?? entity.sessionId ?? entity.address ?? entity.resourceId ?? entity.accountId ?? entity.userAgent;
  if (!kind || id === undefined) return null;
  return { kind, id, label: id };
}

export const KIND_LABEL: Record<EntityKind | 'useragent' | 'domain', string> = {
  identity: 'Identity',
  session: 'Session',
  ip: 'IP address',
  resource: 'Resource',
  account: 'Account',
  useragent: 'User agent',
  domain: 'Domain',
};

/** A link to the entity's page (a user agent has none: plain text). */
export function entityLink(ref: EntityRef, window: TimeWindow): HTMLElement {
  if (ref.kind === 'useragent') return h('span', { class: 'entity', 'data-entity': `useragent:${ref.id}` }, ref.label);
  return h(
    'a',
    { class: `entity kind-${ref.kind}`, href: entityHref(ref.kind, ref.id, window), 'data-entity': `${ref.kind}:${ref.id}` },
    ref.label,
  );
}
