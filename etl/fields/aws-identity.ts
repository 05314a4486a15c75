/**
 * AWS `userIdentity` (CloudTrail, and the same shape in other AWS logs) → the shared actor columns.
 *
 * Identity ids follow the project conventions so identities join across sources:
 * IAM user / role: their IAM ARN without its path (src/core/arn.ts iamIdentityKey: the same
 * principal is logged with and without it); root: its IAM ARN; federated user: the federated-user ARN as logged;
 * AWS service: `service:<principal>`; another account: `account:<id>`; anonymous: `anonymous`;
 * SAML: `saml:<userName>`; web identity: `webidentity:<provider>:<userName>`;
 * Identity Center: `identitycenter:<userId>`.
 */

import { iamIdentityKey, parseArn, partitionOf } from '../../src/core/arn';
import { asString, obj, type JsonObject } from './json';

export interface AwsActor {
  actor_id: string | null;
  actor_type: string | null;
  actor_name: string | null;
  actor_arn: string | null;
  actor_account: string | null;
  /** Credential used: the access key id, or the Identity Center bearer-token credential id. */
  session_id: string | null;
  /** For temporary credentials: the role or user that issued them. */
  session_issuer_arn: string | null;
  session_name: string | null;
  /** sessionContext.attributes.mfaAuthenticated; null when the log does not say. */
  mfa: boolean | null;
}

/** What S3 (and others) log as the account of an unauthenticated caller. */
export const ANONYMOUS_ACCOUNT = 'ANONYMOUS_PRINCIPAL';
/** What sign-in logs in place of a mistyped user name. */
const HIDDEN_USER_NAME = 'HIDDEN_DUE_TO_SECURITY_REASONS';

const EMPTY_ACTOR: AwsActor = {
  actor_id: null,
  actor_type: null,
  actor_name: null,
  actor_arn: null,
  actor_account: null,
  session_id: null,
  session_issuer_arn: null,
  session_name: null,
  mfa: null,
};

/** The part of an ARN after the last `marker` (`federated-user/`, `assumed-role/`…), or null. */
function afterMarker(arn: string | null, marker: string): string | null {
  if (!arn) return null;
  const at = arn.indexOf(marker);
  return at === -1 ? null : arn.slice(at + marker.length) || null;
}

/** `arn:<partition>:sts::123:assumed-role/Role/Session` → `{ partition, account, role, session }`. */
function parseAssumedRoleArn(arn: string | null): { partition: string; account: string; role: string; session: string } | null {
  const parsed = parseArn(arn);
  if (!parsed?.resource.startsWith('assumed-role/')) return null;
  const rest = parsed.resource.slice('assumed-role/'.length);
  const slash = rest.indexOf('/');
  if (slash === -1) return null;
  return { partition: parsed.partition, account: parsed.account, role: rest.slice(0, slash), session: rest.slice(slash + 1) };
}

function isIamArn(arn: string | null, kind: 'role' | 'user'): arn is string {
  return !!arn && arn.startsWith('arn:') && arn.includes(':iam::') && arn.includes(`:${kind}/`);
}

function mfaAuthenticated(identity: JsonObject): boolean | null {
  const attributes = obj(obj(identity['sessionContext'])?.['attributes']);
  const value = attributes?.['mfaAuthenticated'];
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  return null;
}

function sessionIssuer(identity: JsonObject): JsonObject | null {
  return obj(obj(identity['sessionContext'])?.['sessionIssuer']);
}

/** Fields every identity type shares; the handlers below fill in id, name and session details. */
function baseActor(identity: JsonObject): AwsActor {
  const account = asString(identity['accountId']);
  return {
    ...EMPTY_ACTOR,
    actor_type: asString(identity['type']),
    actor_arn: asString(identity['arn']),
    actor_account: account === ANONYMOUS_ACCOUNT ? null : account,
    session_id: asString(identity['accessKeyId']) ?? asString(identity['credentialId']),
    mfa: mfaAuthenticated(identity),
  };
}

/** What a handler knows beyond the identity element: the sign-in details and the record's AWS partition. */
interface Context {
  extra: JsonObject | null;
  partition: string;
}

type Handler = (identity: JsonObject, actor: AwsActor, context: Context) => void;

const root: Handler = (identity, actor, { partition }) => {
  const account = actor.actor_account;
  actor.actor_id = actor.actor_arn ?? (account ? `arn:${partition}:iam::${account}:root` : null);
  // For root, userName (when present) is the account alias.
  actor.actor_name = asString(identity['userName']) ?? 'root';
};

const iamUser: Handler = (identity, actor, { partition }) => {
  const userName = asString(identity['userName']);
  actor.actor_name = userName;
  if (actor.actor_arn) actor.actor_id = iamIdentityKey(actor.actor_arn);
  // Failed console logins omit the ARN; a masked user name identifies nobody.
  else if (userName && userName !== HIDDEN_USER_NAME && actor.actor_account)
    actor.actor_id = `arn:${partition}:iam::${actor.actor_account}:user/${userName}`;
};

const assumedRole: Handler = (identity, actor) => {
  const issuerArn = asString(sessionIssuer(identity)?.['arn']);
  const assumed = parseAssumedRoleArn(actor.actor_arn);
  // The issuer ARN keeps the role's path; the assumed-role ARN does not (the id drops it either way).
  const roleArn = isIamArn(issuerArn, 'role')
    ? issuerArn
    : assumed
      ? `arn:${assumed.partition}:iam::${assumed.account}:role/${assumed.role}`
      : null;
  const principalId = asString(identity['principalId']);
  const sessionName = assumed?.session ?? (principalId?.includes(':') ? principalId.slice(principalId.indexOf(':') + 1) : null);
  actor.actor_id = roleArn ? iamIdentityKey(roleArn) : actor.actor_arn;
  actor.actor_name = sessionName;
  // As logged: the issuer keeps the role's path.
  actor.session_issuer_arn = roleArn ?? issuerArn;
  actor.session_name = sessionName;
};

const federatedUser: Handler = (identity, actor) => {
  const name = afterMarker(actor.actor_arn, ':federated-user/');
  actor.actor_id = actor.actor_arn;
  actor.actor_name = name;
  actor.session_issuer_arn = asString(sessionIssuer(identity)?.['arn']);
  actor.session_name = name;
};

const awsAccount: Handler = (identity, actor) => {
  const account = asString(identity['accountId']);
  if (account === ANONYMOUS_ACCOUNT) {
    actor.actor_id = 'anonymous';
    actor.actor_type = 'Anonymous';
    actor.actor_name = 'anonymous';
    return;
  }
  actor.actor_id = account ? `account:${account}` : null;
  actor.actor_name = asString(identity['principalId']) ?? account;
};

const awsService: Handler = (identity, actor) => {
  const service = asString(identity['invokedBy']);
  actor.actor_type = 'AWSService';
  actor.actor_id = service ? `service:${service}` : null;
  actor.actor_name = service;
};

const samlUser: Handler = (identity, actor) => {
  const userName = asString(identity['userName']);
  actor.actor_id = userName ? `saml:${userName}` : null;
  actor.actor_name = userName;
};

const webIdentityUser: Handler = (identity, actor) => {
  const userName = asString(identity['userName']);
  const provider = asString(identity['identityProvider']);
  actor.actor_id = userName && provider ? `webidentity:${provider}:${userName}` : null;
  actor.actor_name = userName;
};

const identityCenterUser: Handler = (identity, actor, { extra }) => {
  const userId = asString(obj(identity['onBehalfOf'])?.['userId']);
  // Sign-in events may carry the user only in additionalEventData.
  const fallback = asString(extra?.['UserId']) ?? asString(extra?.['UserName']);
  const id = userId ?? fallback;
  actor.actor_id = id ? `identitycenter:${id}` : null;
  actor.actor_name = asString(identity['userName']) ?? asString(extra?.['UserName']) ?? userId;
};

/**
 * Types with no convention of their own (Unknown, Directory, Role…): keep what was logged.
 * Identity Center sign-ins log type Unknown but name the user in onBehalfOf: use that id.
 */
const asLogged: Handler = (identity, actor, context) => {
  if (asString(obj(identity['onBehalfOf'])?.['userId'])) return identityCenterUser(identity, actor, context);
  actor.actor_id = actor.actor_arn;
  actor.actor_name = asString(identity['userName']) ?? asString(identity['principalId']);
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  Root: root,
  IAMUser: iamUser,
  AssumedRole: assumedRole,
  FederatedUser: federatedUser,
  AWSAccount: awsAccount,
  AWSService: awsService,
  SAMLUser: samlUser,
  WebIdentityUser: webIdentityUser,
  IdentityCenterUser: identityCenterUser,
};

/**
 * Maps a `userIdentity` element to actor columns. A missing element (some service events)
 * gives all-null columns. `additionalEventData` helps for Identity Center sign-ins; `region` (the
 * record's) gives the partition of ARNs built for a root or IAM user that logged none, when the
 * identity names no ARN of its own.
 */
export function awsActor(userIdentity: unknown, additionalEventData?: unknown, region?: string | null): AwsActor {
  const identity = obj(userIdentity);
  if (!identity) return { ...EMPTY_ACTOR };
  const actor = baseActor(identity);
  const type = actor.actor_type;
  // Service events sometimes log only `{accountId, invokedBy}` with no type: that is a service.
  const handler = type ? (HANDLERS[type] ?? asLogged) : asString(identity['invokedBy']) ? awsService : asLogged;
  const partition = partitionOf(actor.actor_arn ?? asString(sessionIssuer(identity)?.['arn']), region);
  handler(identity, actor, { extra: obj(additionalEventData), partition });
  return actor;
}
