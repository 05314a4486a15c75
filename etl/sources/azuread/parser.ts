/**
 * Microsoft Entra ID (Azure AD) logs exported by a diagnostic setting to a storage account or
 * event hub: `{"records":[…]}` or JSON lines. Sign-in categories (interactive, non-interactive,
 * service principal, managed identity) become authentication rows; AuditLogs become
 * api_activity rows. Anything else in such a file is quarantined with its category.
 */
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import { arr, bool, distinct, obj, requireObject, requireTime, str, NormalizeError, type JsonObject } from '../../fields/json';
import { parseJsonRecords } from '../../readers/json-items';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

const SIGN_IN_CATEGORIES = new Set([
  'SignInLogs',
  'NonInteractiveUserSignInLogs',
  'ServicePrincipalSignInLogs',
  'ManagedIdentitySignInLogs',
  'MicrosoftServicePrincipalSignInLogs',
  'ADFSSignInLogs',
]);
/** Sign-ins made by an application identity rather than a person. */
const APP_SIGN_IN_CATEGORIES = new Set(['ServicePrincipalSignInLogs', 'ManagedIdentitySignInLogs', 'MicrosoftServicePrincipalSignInLogs']);

const CATEGORY_HEAD =
  /"category"\s*:\s*"(?:SignInLogs|NonInteractiveUserSignInLogs|ServicePrincipalSignInLogs|ManagedIdentitySignInLogs|MicrosoftServicePrincipalSignInLogs|ADFSSignInLogs|AuditLogs)"/;
const SIGN_IN_OPERATION = /"operationName"\s*:\s*"Sign-in activity"/;
const AADIAM = /\/providers\/Microsoft\.aadiam"/i;
const [AAD_KEY] = manifest.objects.keyPatterns;

export function detectAzureAd({ key, head }: DetectSample): Detection {
  const looksLikeAad = CATEGORY_HEAD.test(head) || SIGN_IN_OPERATION.test(head);
  if (!looksLikeAad) return { confidence: 0 };
  // The category names alone could appear in other Azure logs; the tenant-level aadiam provider settles it.
  let confidence = AADIAM.test(head) ? 0.95 : 0.7;
  if (AAD_KEY.test(key)) confidence = Math.min(1, confidence + 0.05);
  return { confidence };
}

function lowerUpn(upn: string | null): string | null {
  return upn?.trim().toLowerCase() || null;
}

/** The provider named in a resource id (`/tenants/…/providers/Microsoft.aadiam` → `Microsoft.aadiam`). */
function providerOf(resourceId: string | null): string | null {
  const match = resourceId ? /\/providers\/([^/]+)/i.exec(resourceId) : null;
  return match?.[1] ?? null;
}

type Actor = Pick<RowOf<'authentication'>, 'actor_id' | 'actor_type' | 'actor_name' | 'actor_arn'>;

const NO_ACTOR: Actor = { actor_id: null, actor_type: null, actor_name: null, actor_arn: null };

/** A person by UPN (object id when the UPN is missing), or an application by app id. */
function signInActor(category: string, props: JsonObject): Actor {
  if (APP_SIGN_IN_CATEGORIES.has(category)) {
    const appId = str(props['appId']);
    const spId = str(props['servicePrincipalId']);
    return {
      actor_id: appId ? `azuread-sp:${appId}` : spId ? `azuread-sp:${spId}` : null,
      actor_type: category === 'ManagedIdentitySignInLogs' ? 'ManagedIdentity' : 'ServicePrincipal',
      actor_name: str(props['servicePrincipalName']) ?? str(props['appDisplayName']),
      actor_arn: spId ?? appId,
    };
  }
  const upn = lowerUpn(str(props['userPrincipalName']));
  const userId = str(props['userId']);
  return {
    actor_id: upn ? `azuread:${upn}` : userId ? `azuread:${userId}` : null,
    actor_type: 'AzureADUser',
    actor_name: str(props['userPrincipalName']) ?? str(props['userDisplayName']),
    actor_arn: userId,
  };
}

/**
 * Whether multi-factor authentication was satisfied: an MFA step that succeeded, MFA details,
 * or a successful sign-in that required MFA. False when only a single factor was required.
 */
function usedMfa(props: JsonObject, succeeded: boolean): boolean | null {
  const steps = arr(props['authenticationDetails'])
    .map(obj)
    .filter((s): s is JsonObject => !!s);
  if (steps.some((s) => s['succeeded'] === true && /multi-factor|mfa/i.test(str(s['authenticationStepRequirement']) ?? ''))) return true;
  if (str(obj(props['mfaDetail'])?.['authMethod'])) return true;
  const requirement = str(props['authenticationRequirement']);
  if (requirement === 'multiFactorAuthentication') return succeeded ? true : null;
  if (requirement === 'singleFactorAuthentication') return false;
  return null;
}

function signInRow(record: JsonObject, category: string, text: string): RowIn<'authentication'> {
  const props = obj(record['properties']) ?? {};
  const time = requireTime(record['time'] ?? props['createdDateTime'], 'time');
  const status = obj(props['status']) ?? {};
  const errorCode = str(status['errorCode']) ?? str(record['resultType']);
  const outcome = errorCode === null ? 'unknown' : errorCode === '0' ? 'success' : 'failure';
  const failureReason = str(status['failureReason']) ?? str(record['resultDescription']);
  const location = obj(props['location']) ?? {};
  const device = obj(props['deviceDetail']) ?? {};
  const protocol = str(props['authenticationProtocol']);
  // When the record does not say, the category does: only SignInLogs holds interactive sign-ins.
  const interactive =
    bool(props['isInteractive']) ??
    (category === 'SignInLogs' ? true : category === 'NonInteractiveUserSignInLogs' || APP_SIGN_IN_CATEGORIES.has(category) ? false : null);
  const tenant = str(record['tenantId']) ?? str(props['resourceTenantId']);

  return {
    table: 'authentication',
    row: {
      time,
      event_id: str(props['id']) ?? sha1Hex(text),
      class_uid: 3002,
      activity: str(record['operationName']) ?? 'Sign-in activity',
      // Lower case, as the Azure Activity source writes resource providers.
      service: (providerOf(str(record['resourceId'])) ?? 'Microsoft.aadiam').toLowerCase(),
      outcome,
      error_code: outcome === 'failure' ? errorCode : null,
      error_message: outcome === 'failure' ? failureReason : null,
      ...signInActor(category, props),
      actor_account: str(props['homeTenantId']) ?? tenant,
      // The brief's session key: the sign-in's correlation id (shared by the steps of one sign-in flow).
      session_id: str(props['correlationId']) ?? str(record['correlationId']),
      src_ip: str(props['ipAddress']) ?? str(record['callerIpAddress']),
      user_agent: str(props['userAgent']),
      // The resource the token was issued for (an application id such as Microsoft Graph's).
      resources: distinct([str(props['resourceId'])]),
      raw: text,
      account: tenant ?? 'unknown',
      region: 'global',
      mfa: usedMfa(props, outcome === 'success'),
      // The protocol when Entra names one; otherwise the client app ("Browser", "IMAP4", "Exchange ActiveSync"…),
      // which is what tells legacy authentication apart.
      auth_protocol: protocol && protocol !== 'none' ? protocol : str(props['clientAppUsed']),
      is_interactive: interactive,
      app: str(props['appDisplayName']) ?? str(props['resourceDisplayName']),
      country: str(location['countryOrRegion']) ?? str(record['location']),
      city: str(location['city']),
      device: distinct([str(device['displayName']), str(device['operatingSystem']), str(device['browser'])]).join(' / ') || null,
      conditional_access: str(props['conditionalAccessStatus']),
      result_detail: failureReason ?? str(status['additionalDetails']),
    },
  };
}

/** Who started an audited change: a user by UPN, or an application by app id (service principal id when the app id is missing). */
function auditActor(initiatedBy: JsonObject): Actor & { src_ip: string | null } {
  const user = obj(initiatedBy['user']);
  if (user && (str(user['userPrincipalName']) || str(user['id']))) {
    const upn = lowerUpn(str(user['userPrincipalName']));
    return {
      actor_id: upn ? `azuread:${upn}` : `azuread:${str(user['id'])}`,
      actor_type: 'AzureADUser',
      actor_name: str(user['userPrincipalName']) ?? str(user['displayName']),
      actor_arn: str(user['id']),
      src_ip: str(user['ipAddress']),
    };
  }
  const app = obj(initiatedBy['app']);
  if (app) {
    const appId = str(app['appId']);
    const spId = str(app['servicePrincipalId']);
    return {
      actor_id: appId ? `azuread-sp:${appId}` : spId ? `azuread-sp:${spId}` : null,
      actor_type: 'ServicePrincipal',
      actor_name: str(app['displayName']) ?? str(app['servicePrincipalName']),
      actor_arn: spId ?? appId,
      src_ip: null,
    };
  }
  return { ...NO_ACTOR, src_ip: null };
}

/** Target ids: users by their identity id (so they join actors), other objects by their id as logged. */
function auditTargets(props: JsonObject): string[] {
  return distinct(
    arr(props['targetResources']).map((target) => {
      const t = obj(target);
      if (!t) return null;
      const upn = lowerUpn(str(t['userPrincipalName']));
      return upn ? `azuread:${upn}` : str(t['id']);
    }),
  );
}

function auditRow(record: JsonObject, text: string): RowIn<'api_activity'> {
  const props = obj(record['properties']) ?? {};
  const time = requireTime(record['time'] ?? props['activityDateTime'], 'time');
  const operation = str(record['operationName']) ?? str(props['activityDisplayName']);
  if (!operation) throw new NormalizeError('missing operationName');
  const result = (str(props['result']) ?? str(record['resultType']) ?? '').toLowerCase();
  const outcome = result === 'success' ? 'success' : result === 'failure' || result === 'timeout' ? 'failure' : 'unknown';
  const actor = auditActor(obj(props['initiatedBy']) ?? {});
  const tenant = str(record['tenantId']);
  const userAgentDetail = arr(props['additionalDetails'])
    .map(obj)
    .find((d) => str(d?.['key'])?.toLowerCase() === 'user-agent');
  const targets = props['targetResources'];

  return {
    table: 'api_activity',
    row: {
      time,
      event_id: str(props['id']) ?? sha1Hex(text),
      class_uid: 6003,
      activity: operation,
      service: str(props['loggedByService']) ?? providerOf(str(record['resourceId']))?.toLowerCase() ?? null,
      outcome,
      // Audit records carry a reason but no error code.
      error_code: null,
      error_message: outcome === 'failure' ? (str(props['resultReason']) ?? str(record['resultDescription'])) : null,
      actor_id: actor.actor_id,
      actor_type: actor.actor_type,
      actor_name: actor.actor_name,
      actor_arn: actor.actor_arn,
      actor_account: tenant,
      session_id: null,
      src_ip: actor.src_ip ?? str(record['callerIpAddress']),
      user_agent: str(props['userAgent']) ?? str(userAgentDetail?.['value']),
      resources: auditTargets(props),
      raw: text,
      account: tenant ?? 'unknown',
      region: 'global',
      event_type: str(props['category']) ?? 'AuditLogs',
      read_only: null,
      mfa: null,
      session_issuer_arn: null,
      session_name: null,
      issued_session_id: null,
      issued_role_arn: null,
      recipient_account: null,
      vpc_endpoint_id: null,
      request_parameters: Array.isArray(targets) ? JSON.stringify(targets) : null,
    },
  };
}

export function normalizeAzureAd(value: unknown, text: string): RowIn<'authentication' | 'api_activity'>[] {
  const record = requireObject(value, 'Entra ID');
  const category = str(record['category']) ?? '';
  if (SIGN_IN_CATEGORIES.has(category) || (!category && str(record['operationName']) === 'Sign-in activity')) {
    return [signInRow(record, category, text)];
  }
  if (category === 'AuditLogs') return [auditRow(record, text)];
  throw new NormalizeError(
    category ? `not an Entra ID sign-in or audit record (category '${category}')` : 'not an Entra ID record: no category',
  );
}

export const source = defineSource(manifest, {
  detect: detectAzureAd,
  parse: (input) => parseJsonRecords(input, { envelopeKeys: ['records'] }, (value, text) => normalizeAzureAd(value, text)),
});
