/**
 * Google Cloud Audit Logs: LogEntry objects whose protoPayload is a
 * `type.googleapis.com/google.cloud.audit.AuditLog`, as exported by a Logging sink to Cloud
 * Storage (JSON lines) or as `gcloud logging read --format=json` prints them (an array).
 * Admin Activity, Data Access, System Event and Policy Denied logs all become api_activity rows.
 */
import { sha1Hex } from '../../../src/core/hash';
import { arr, distinct, obj, requireObject, requireTime, str, NormalizeError, type JsonObject } from '../../fields/json';
import { parseJsonRecords } from '../../readers/json-items';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

const AUDIT_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';
const AUDIT_CONTENT = /"@type"\s*:\s*"type\.googleapis\.com\/google\.cloud\.audit\.AuditLog"/;
const AUDIT_LOG_NAME = /cloudaudit\.googleapis\.com(?:%2F|\/)(?:activity|data_access|system_event|policy)/;
const [AUDIT_KEY] = manifest.objects.keyPatterns;

export function detectGcpAudit({ key, head }: DetectSample): Detection {
  if (!/"protoPayload"\s*:/.test(head)) return { confidence: 0 };
  if (AUDIT_CONTENT.test(head)) return { confidence: AUDIT_KEY.test(key) ? 1 : 0.95 };
  if (AUDIT_LOG_NAME.test(head)) return { confidence: 0.9 };
  return { confidence: 0 };
}

/** Which audit log an entry belongs to, from the last segment of logName. */
const LOG_KINDS: Record<string, string> = {
  activity: 'ADMIN_ACTIVITY',
  data_access: 'DATA_ACCESS',
  system_event: 'SYSTEM_EVENT',
  policy: 'POLICY_DENIED',
};

/** google.rpc.Code names, so error_code reads as the API reports it. */
const RPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Methods that mint credentials for a service account (the GCP counterpart of AssumeRole). */
const TOKEN_METHODS = new Set(['GenerateAccessToken', 'GenerateIdToken', 'SignBlob', 'SignJwt']);

function logKind(logName: string | null): string | null {
  if (!logName) return null;
  const match = /cloudaudit\.googleapis\.com(?:%2F|\/)([a-z_]+)$/i.exec(logName);
  return match ? (LOG_KINDS[match[1].toLowerCase()] ?? match[1]) : null;
}

/** The owning project: the resource's project_id label, else the `projects/<id>/logs/…` of logName. */
function projectOf(entry: JsonObject): string | null {
  const label = str(obj(obj(entry['resource'])?.['labels'])?.['project_id']);
  if (label) return label;
  const match = /^projects\/([^/]+)\//.exec(str(entry['logName']) ?? '');
  return match?.[1] ?? null;
}

/** A zone (us-central1-a) names its region (us-central1); regions and 'global' stay as they are. */
function regionOf(entry: JsonObject, payload: JsonObject): string {
  const labels = obj(obj(entry['resource'])?.['labels']) ?? {};
  const location =
    str(labels['location']) ??
    str(labels['region']) ??
    str(labels['zone']) ??
    str(arr(obj(payload['resourceLocation'])?.['currentLocations'])[0]);
  if (!location) return 'global';
  const zone = /^([a-z]+-[a-z]+\d+)-[a-z]$/.exec(location);
  return zone ? zone[1] : location;
}

/** `serviceAccount:x@…`, `user:x@…` → the bare principal, which is what principalEmail holds. */
function bareSubject(subject: string): string {
  return subject.replace(/^(?:serviceAccount|user|group|domain):/, '');
}

function principalType(principal: string): string {
  if (principal.endsWith('.gserviceaccount.com')) return 'ServiceAccount';
  if (principal.startsWith('system:')) return 'KubernetesIdentity';
  if (principal.startsWith('principal://') || principal.startsWith('principalSet://')) return 'FederatedPrincipal';
  return 'User';
}

/** The project a service account lives in (`name@project.iam.gserviceaccount.com`). */
function serviceAccountProject(email: string): string | null {
  return /@([^.@]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? null;
}

/**
 * The first entry of serviceAccountDelegationInfo: the principal on whose behalf the service
 * account acted (the impersonator), as an identity id so it joins that principal's own activity.
 */
function delegationHead(authentication: JsonObject): string | null {
  for (const link of arr(authentication['serviceAccountDelegationInfo'])) {
    const l = obj(link);
    const subject = str(l?.['principalSubject']) ?? str(obj(l?.['firstPartyPrincipal'])?.['principalSubject']);
    const principal = str(obj(l?.['firstPartyPrincipal'])?.['principalEmail']) ?? (subject ? bareSubject(subject) : null);
    if (principal) return `gcp:${principal}`;
  }
  return null;
}

export function normalizeAuditEntry(value: unknown, text: string): RowIn<'api_activity'>[] {
  const entry = requireObject(value, 'Cloud Audit Log');
  const payload = obj(entry['protoPayload']);
  if (!payload)
    throw new NormalizeError(
      entry['jsonPayload'] !== undefined ? 'not an audit log entry: jsonPayload, no protoPayload' : 'missing protoPayload',
    );
  const type = str(payload['@type']);
  if (type !== AUDIT_TYPE) throw new NormalizeError(`not an audit log entry: protoPayload @type '${type ?? '(none)'}'`);
  const time = requireTime(entry['timestamp'], 'timestamp');
  const method = str(payload['methodName']);
  if (!method) throw new NormalizeError('missing protoPayload.methodName');

  const service = str(payload['serviceName']);
  const authentication = obj(payload['authenticationInfo']) ?? {};
  const email = str(authentication['principalEmail']);
  const subject = str(authentication['principalSubject']);
  const principal = email ?? (subject ? bareSubject(subject) : null);
  const metadata = obj(payload['requestMetadata']) ?? {};
  const kind = logKind(str(entry['logName']));

  // Failure: a non-zero status, an explicit refusal in authorizationInfo, or a Policy Denied entry.
  // (A missing `granted` is not read as false: entries without it are common on successful calls.)
  const status = obj(payload['status']) ?? {};
  const code = typeof status['code'] === 'number' ? status['code'] : null;
  const authorizations = arr(payload['authorizationInfo'])
    .map(obj)
    .filter((a): a is JsonObject => !!a);
  const refused = authorizations.find((a) => a['granted'] === false);
  const failed = (code !== null && code !== 0) || refused !== undefined || kind === 'POLICY_DENIED';
  const errorCode = code !== null && code !== 0 ? (RPC_CODES[code] ?? String(code)) : refused ? 'PERMISSION_DENIED' : null;
  const errorMessage = str(status['message']) ?? (refused ? `permission ${str(refused['permission']) ?? '(unnamed)'} not granted` : null);

  const permissionTypes = authorizations.map((a) => str(a['permissionType'])).filter((t): t is string => !!t);
  const readOnly = permissionTypes.length
    ? permissionTypes.every((t) => t.endsWith('_READ'))
    : kind === 'DATA_ACCESS' && /\.(get|list|aggregatedList|search)\w*$/i.test(method)
      ? true
      : null;

  const request = obj(payload['request']);
  const issuedFor = TOKEN_METHODS.has(method) ? /serviceAccounts\/([^/]+@[^/]+)$/.exec(str(request?.['name']) ?? '')?.[1] : undefined;
  const resourceName = str(payload['resourceName']);
  const project = projectOf(entry);

  return [
    {
      table: 'api_activity',
      row: {
        time,
        event_id: str(entry['insertId']) ?? sha1Hex(text),
        class_uid: 6003,
        activity: method,
        service,
        outcome: failed ? 'failure' : 'success',
        error_code: failed ? (errorCode ?? kind) : null,
        error_message: failed ? errorMessage : null,
        actor_id: principal ? `gcp:${principal}` : null,
        actor_type: principal ? principalType(principal) : null,
        actor_name: principal,
        actor_arn: subject ?? email,
        actor_account: principal ? serviceAccountProject(principal) : null,
        session_id: delegationHead(authentication),
        src_ip: str(metadata['callerIp']),
        user_agent: str(metadata['callerSuppliedUserAgent']),
        resources: distinct([resourceName && service ? `//${service}/${resourceName}` : resourceName]),
        raw: text,
        account: project ?? 'unknown',
        region: regionOf(entry, payload),
        event_type: kind,
        read_only: readOnly,
        mfa: null,
        session_issuer_arn: null,
        session_name: null,
        issued_session_id: null,
        issued_role_arn: issuedFor ? `gcp:${issuedFor}` : null,
        recipient_account: null,
        vpc_endpoint_id: null,
        request_parameters: request ? JSON.stringify(request) : null,
      },
    },
  ];
}

export const source = defineSource(manifest, {
  detect: detectGcpAudit,
  parse: (input) => parseJsonRecords(input, {}, (value, text) => normalizeAuditEntry(value, text)),
});
