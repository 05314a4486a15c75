/**
 * Azure Activity log (subscription control plane) exported by a diagnostic setting to a storage
 * account or event hub: `{"records":[…]}` or JSON lines, in the resource-log schema (time,
 * resourceId, operationName, category, resultType, identity.claims…). One api_activity row per record.
 */
import {
  azureSubscription,
  distinct,
  isObject,
  obj,
  parseJsonRecords,
  requireObject,
  requireTime,
  str,
  tableRow,
  NormalizeError,
  type JsonObject,
} from './json/common';
import { sha1Hex } from '../../src/core/hash';
import type { Detection, DetectSample, LogSource, TableRow } from './types';

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
const ACTIVITY_KEY = /insights-activity-logs\//i;

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
function claim(claims: JsonObject, name: string): string | undefined {
  return str(claims[name])?.trim() || undefined;
}

interface Actor {
  actor_id?: string;
  actor_type?: string;
  actor_name?: string;
  actor_arn?: string;
  actor_account?: string;
}

/**
 * The caller from the token claims: a person by UPN (the `name` claim counts when it holds a UPN),
 * else an app-only token by its app id. A user token also carries an appid (the client app),
 * so the UPN is looked at first.
 */
function caller(identity: JsonObject): Actor {
  const claims = obj(identity['claims']) ?? {};
  const upn = claim(claims, CLAIM_UPN) ?? [claim(claims, CLAIM_NAME), claim(claims, 'name')].find((n) => n?.includes('@'));
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
  if (objectId) return { actor_id: `azuread:${objectId}`, actor_type: 'AzureADUser', actor_arn: objectId, actor_account: tenant };
  return {};
}

/** Started/Accepted/Active are steps of an operation, not its result. */
function outcomeOf(resultType: string | undefined): 'success' | 'failure' | 'unknown' {
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
function armError(properties: JsonObject): { code?: string; message?: string } {
  const statusMessage = str(properties['statusMessage']);
  if (!statusMessage) return {};
  try {
    const error = obj(obj(JSON.parse(statusMessage))?.['error']);
    return { code: str(error?.['code']), message: str(error?.['message']) };
  } catch {
    return { message: statusMessage };
  }
}

function readOnlyOf(operation: string): boolean | undefined {
  const verb = operation.slice(operation.lastIndexOf('/') + 1).toLowerCase();
  if (verb === 'read') return true;
  if (verb === 'write' || verb === 'delete' || verb === 'action') return false;
  return undefined;
}

/**
 * The REST API / portal / Azure CLI shape (`operationName.value`, `eventTimestamp`, `claims` at the
 * top…) mapped onto the diagnostic-settings field names, so one normalizer reads both.
 */
function fromRestShape(event: JsonObject): JsonObject {
  const value = (field: string): string | undefined => str(obj(event[field])?.['value']);
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

export function normalizeActivity(value: unknown, text: string): TableRow[] {
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
  const error = outcome === 'failure' ? armError(properties) : {};
  const authMethods = claim(claims, CLAIM_AUTH_METHODS) ?? claim(claims, 'amr');
  const location = str(record['location']);

  return [
    tableRow('api_activity', {
      time,
      event_id: str(record['eventDataId']) ?? str(properties['eventDataId']) ?? sha1Hex(text),
      // ARM names are case-insensitive and logged in mixed case (MICROSOFT.EVENTHUB/…, microsoft.support/…):
      // lower case lets them group. The provider is the operation's namespace.
      activity: operation.toLowerCase(),
      service: operation.includes('/') ? operation.slice(0, operation.indexOf('/')).toLowerCase() : undefined,
      outcome,
      error_code: outcome === 'failure' ? (error.code ?? str(properties['statusCode']) ?? str(record['resultSignature'])) : undefined,
      error_message: outcome === 'failure' ? (error.message ?? str(record['resultDescription'])) : undefined,
      ...caller(identity),
      // The token's unique id: every call made with one access token shares it.
      session_id: claim(claims, 'uti'),
      src_ip: str(record['callerIpAddress']),
      resources: distinct([resourceId?.toLowerCase()]),
      raw: text,
      account: azureSubscription(resourceId) ?? 'unknown',
      // ARM region names ("West Europe" and "westeurope" are the same region).
      region: location?.toLowerCase().replace(/\s+/g, '') ?? 'global',
      event_type: str(properties['eventCategory']) ?? str(record['category']),
      read_only: readOnlyOf(operation),
      mfa: authMethods === undefined ? undefined : /\bmfa\b/i.test(authMethods),
      request_parameters: Object.keys(properties).length ? JSON.stringify(properties) : undefined,
    }),
  ];
}

export const azureactivity: LogSource = {
  id: 'azureactivity',
  tables: ['api_activity'],
  detect: detectAzureActivity,
  parse: (input) => parseJsonRecords(input, { envelopeKeys: ['records'] }, (value, text) => normalizeActivity(value, text)),
};
