/**
 * Azure Activity log (subscription control plane) exported by a diagnostic setting to a storage
 * account or event hub: `{"records":[…]}` or JSON lines, in the resource-log schema (time,
 * resourceId, operationName, category, resultType, identity.claims…). One api_activity row per record.
 */
import { sha1Hex } from '../../../src/core/hash';
import type { RowOf } from '../../../src/core/tables';
import {
  azureSubscription,
  distinct,
  isObject,
  obj,
  requireObject,
  requireTime,
  str,
  NormalizeError,
  type JsonObject,
} from '../../fields/json';
import { parseJsonRecords } from '../../readers/json-items';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

/**
 * Categories of the Activity log. Exports before the schema settled also used the operation kind
 * (Write, Delete, Action) as the category.
 */
const ACTIVITY_CATEGORIES =
  'Administrative|ServiceHealth|ResourceHealth|Alert|Autoscale|Recommendation|Security|Policy|Write|Delete|Action';
const CATEGORY_SET = new Set(ACTIVITY_CATEGORIES.split('|'));
// Diagnostic-settings exports write `"category":"Administrative"`; the REST API, the portal's JSON
// and `az monitor activity-log list` write `"category":{"value":"Administrative",…}`.
const CATEGORY_HEAD = new RegExp(`"category"\\s*:\\s*(?:\\{\\s*"value"\\s*:\\s*)?"(?:${ACTIVITY_CATEGORIES})"`);
const SUBSCRIPTION_RESOURCE = /"resourceId"\s*:\s*"\/subscriptions\//i;
const [ACTIVITY_KEY] = manifest.objects.keyPatterns;

export function detectAzureActivity({ key, head }: DetectSample): Detection {
  if (!/"resourceId"\s*:/.test(head) || !/"operationName"\s*:/.test(head)) return { confidence: 0 };
  const keyHint = ACTIVITY_KEY.test(key);
  if (CATEGORY_HEAD.test(head)) return { confidence: keyHint ? 0.95 : 0.9 };
  return { confidence: keyHint && SUBSCRIPTION_RESOURCE.test(head) ? 0.6 : 0 };
}

const CLAIM_UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const CLAIM_NAME = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';
const CLAIM_OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const CLAIM_TENANT = 'http://schemas.microsoft.com/identity/claims/tenantid';
const CLAIM_AUTH_METHODS = 'http://schemas.microsoft.com/claims/authnmethodsreferences';

/** A claim value with the stray spaces some exports carry (" admin@contoso.com") removed. */
function claim(claims: JsonObject, name: string): string | null {
  return str(claims[name])?.trim() || null;
}

type Actor = Pick<RowOf<'api_activity'>, 'actor_id' | 'actor_type' | 'actor_name' | 'actor_arn' | 'actor_account'>;

/**
 * The caller from the token claims: a person by UPN (the `name` claim counts when it holds a UPN),
 * else an app-only token by its app id. A user token also carries an appid (the client app),
 * so the UPN is looked at first.
 */
function caller(identity: JsonObject): Actor {
  const claims = obj(identity['claims']) ?? {};
  const upn = claim(claims, CLAIM_UPN) ?? [claim(claims, CLAIM_NAME), claim(claims, 'name')].find((n) => n?.includes('@')) ?? null;
  const objectId = claim(claims, CLAIM_OBJECT_ID) ?? claim(claims, 'oid');
  const appId = claim(claims, 'appid');
  const tenant = claim(claims, CLAIM_TENANT) ?? claim(claims, 'tid');
  if (upn) {
    return {
      actor_id: `azuread:${upn.toLowerCase()}`,
      actor_type: 'AzureADUser',
      actor_name: upn,
      actor_arn: objectId,
      actor_account: tenant,
    };
  }
  if (appId) {
    return {
      actor_id: `azuread-sp:${appId}`,
      actor_type: 'ServicePrincipal',
      actor_name: appId,
      actor_arn: objectId,
      actor_account: tenant,
    };
  }
  if (objectId)
    return { actor_id: `azuread:${objectId}`, actor_type: 'AzureADUser', actor_name: null, actor_arn: objectId, actor_account: tenant };
  return { actor_id: null, actor_type: null, actor_name: null, actor_arn: null, actor_account: null };
}

/** Started/Accepted/Active are steps of an operation, not its result. */
function outcomeOf(resultType: string | null): 'success' | 'failure' | 'unknown' {
  switch (resultType?.toLowerCase()) {
    case 'success':
    case 'succeeded':
    case 'resolved':
      return 'success';
    case 'failure':
    case 'failed':
      return 'failure';
    default:
      return 'unknown';
  }
}

/** The ARM error inside `properties.statusMessage` (a JSON string), when there is one. */
function armError(properties: JsonObject): { code: string | null; message: string | null } {
  const statusMessage = str(properties['statusMessage']);
  if (!statusMessage) return { code: null, message: null };
  try {
    const error = obj(obj(JSON.parse(statusMessage))?.['error']);
    return { code: str(error?.['code']), message: str(error?.['message']) };
  } catch {
    return { code: null, message: statusMessage };
  }
}

function readOnlyOf(operation: string): boolean | null {
  const verb = operation.slice(operation.lastIndexOf('/') + 1).toLowerCase();
  if (verb === 'read') return true;
  if (verb === 'write' || verb === 'delete' || verb === 'action') return false;
  return null;
}

/**
 * The REST API / portal / Azure CLI shape (`operationName.value`, `eventTimestamp`, `claims` at the
 * top…) mapped onto the diagnostic-settings field names, so one normalizer reads both.
 */
function fromRestShape(event: JsonObject): JsonObject {
  const value = (field: string): string | null => str(obj(event[field])?.['value']);
  const claims = obj(event['claims']);
  return {
    time: event['eventTimestamp'],
    resourceId: event['resourceId'],
    operationName: value('operationName'),
    category: value('category'),
    resultType: value('status'),
    resultSignature: value('subStatus'),
    resultDescription: event['description'],
    callerIpAddress: str(obj(event['httpRequest'])?.['clientIpAddress']) ?? str(claims?.['ipaddr']),
    correlationId: event['correlationId'],
    eventDataId: event['eventDataId'],
    identity: { claims, authorization: event['authorization'] },
    properties: event['properties'],
  };
}

export function normalizeActivity(value: unknown, text: string): RowIn<'api_activity'>[] {
  const event = requireObject(value, 'Azure Activity log');
  const record = isObject(event['operationName']) ? fromRestShape(event) : event;
  // Other resource logs (Key Vault AuditEvent, NSG flow events…) share the envelope but not the meaning.
  const category = str(record['category']);
  if (category && !CATEGORY_SET.has(category)) throw new NormalizeError(`not an Activity log record (category '${category}')`);
  const operation = str(record['operationName']);
  if (!operation) throw new NormalizeError('missing operationName');
  const time = requireTime(record['time'] ?? record['eventTimestamp'], 'time');
  const resourceId = str(record['resourceId']);
  const properties = obj(record['properties']) ?? {};
  const identity = obj(record['identity']) ?? {};
  const claims = obj(identity['claims']) ?? {};
  const outcome = outcomeOf(str(record['resultType']));
  const error = outcome === 'failure' ? armError(properties) : { code: null, message: null };
  const authMethods = claim(claims, CLAIM_AUTH_METHODS) ?? claim(claims, 'amr');
  const location = str(record['location']);

  return [
    {
      table: 'api_activity',
      row: {
        time,
        event_id: str(record['eventDataId']) ?? str(properties['eventDataId']) ?? sha1Hex(text),
        class_uid: 6003,
        // ARM names are case-insensitive and logged in mixed case (MICROSOFT.EVENTHUB/…, microsoft.support/…):
        // lower case lets them group. The provider is the operation's namespace.
        activity: operation.toLowerCase(),
        service: operation.includes('/') ? operation.slice(0, operation.indexOf('/')).toLowerCase() : null,
        outcome,
        error_code: outcome === 'failure' ? (error.code ?? str(properties['statusCode']) ?? str(record['resultSignature'])) : null,
        error_message: outcome === 'failure' ? (error.message ?? str(record['resultDescription'])) : null,
        ...caller(identity),
        // The token's unique id: every call made with one access token shares it.
        session_id: claim(claims, 'uti'),
        src_ip: str(record['callerIpAddress']),
        user_agent: null,
        resources: distinct([resourceId?.toLowerCase()]),
        raw: text,
        account: azureSubscription(resourceId) ?? 'unknown',
        // ARM region names ("West Europe" and "westeurope" are the same region).
        region: location?.toLowerCase().replace(/\s+/g, '') ?? 'global',
        event_type: str(properties['eventCategory']) ?? str(record['category']),
        read_only: readOnlyOf(operation),
        mfa: authMethods === null ? null : /\bmfa\b/i.test(authMethods),
        session_issuer_arn: null,
        session_name: null,
        issued_session_id: null,
        issued_role_arn: null,
        recipient_account: null,
        vpc_endpoint_id: null,
        request_parameters: Object.keys(properties).length ? JSON.stringify(properties) : null,
      },
    },
  ];
}

export const source = defineSource(manifest, {
  detect: detectAzureActivity,
  parse: (input) => parseJsonRecords(input, { envelopeKeys: ['records'] }, (value, text) => normalizeActivity(value, text)),
});
