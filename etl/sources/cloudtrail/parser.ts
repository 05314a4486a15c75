/**
 * AWS CloudTrail: trail log files (`{"Records":[…]}`), JSON lines of single records
 * (CloudTrail Lake exports), EventBridge "… via CloudTrail" events (unwrapped), the event history
 * (`lookup-events` output, the console's JSON and CSV downloads) and records re-shipped by log
 * pipelines (Logstash, Elastic, Splunk, CloudWatch Logs subscriptions via Firehose; see shapes.ts).
 * Every record becomes one api_activity row; sign-in events also an authentication row.
 */
import { iamIdentityKey } from '../../../src/core/arn';
import { isDigestDocument, isDigestHead } from '../../../src/core/cloudtrail-digest';
import { sha1Hex } from '../../../src/core/hash';
import { parseIsoTime } from '../../../src/core/time';
import { awsActor, type AwsActor } from '../../fields/aws-identity';
import { asString, obj, type JsonObject } from '../../fields/json';
import { jsonRecordsOf, readJsonRecords, type JsonRecord } from '../../readers/json-records';
import { isExportLine, splitExportLine } from '../../readers/cloudwatch-logs';
import { readLines } from '../../readers/lines';
import { peekFirstChunk, type ReadState } from '../../readers/read-state';
import { defineSource, quarantine, type Detection, type DetectSample, type ParsedItem, type RowIn } from '../types';
import { manifest } from './manifest';
import { resourceIds } from './resources';
import { CsvExport, fromLookupFields, isEventHistoryCsvHeader, unwrapRecords } from './shapes';
import { cloudTrailSql } from './sql';

type Table = (typeof manifest.tables)[number];

// Compiled once: these run per object.
// A digest's signature kept beside a local copy (`<digest>.json.gz.sig`, see src/evidence): hex, or head-object's metadata JSON.
const SIGNATURE_SIDECAR_KEY = /(^|\/)CloudTrail-Digest\/.*\.json(?:\.gz)?\.sig$/;
const SIGNATURE_SIDECAR_CONTENT = /^\s*(?:[0-9a-fA-F]{2}){16,4096}\s*$/;
const [TRAIL_KEY] = manifest.objects.keyPatterns;
const RECORDS_ENVELOPE_HEAD = /^\s*\{\s*"Records"\s*:\s*\[/;
const EVENTBRIDGE_CLOUDTRAIL = /"detail-type"\s*:\s*"AWS [A-Za-z -]+ via CloudTrail"/;
// A record's fields, also escaped inside a JSON string (a pipeline's `message`, the event history's `CloudTrailEvent`).
const RECORD_MARKERS = [/\\?"eventVersion\\?"\s*:/, /\\?"eventSource\\?"\s*:/, /\\?"eventName\\?"\s*:/] as const;
const EVENT_HISTORY = /"Events"\s*:\s*\[\s*\{[\s\S]*"(?:CloudTrailEvent|EventId)"\s*:/;

/** STS calls whose response carries new credentials (responseElements.credentials). */
const CREDENTIAL_ISSUING = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'AssumeRoot',
  'GetSessionToken',
  'GetFederationToken',
]);

interface SignIn {
  protocol: (record: JsonObject, actor: AwsActor) => string;
  interactive: boolean;
}

const consoleProtocol = (record: JsonObject, actor: AwsActor): string => {
  const extra = obj(record['additionalEventData']);
  if (asString(extra?.['SamlProviderArn'])) return 'SAML';
  if (actor.actor_type === 'IdentityCenterUser') return 'IdentityCenter';
  return 'password';
};
const fixed = (protocol: string) => (): string => protocol;

/** Sign-in events that also yield an authentication row, keyed by `eventSource eventName`. */
const SIGN_INS: ReadonlyMap<string, SignIn> = new Map([
  ['signin.amazonaws.com ConsoleLogin', { protocol: consoleProtocol, interactive: true }],
  ['sts.amazonaws.com AssumeRoleWithSAML', { protocol: fixed('SAML'), interactive: true }],
  // Web identity is mostly workloads (EKS service accounts, CI runners), not people.
  ['sts.amazonaws.com AssumeRoleWithWebIdentity', { protocol: fixed('OIDC'), interactive: false }],
  ['signin.amazonaws.com UserAuthentication', { protocol: fixed('IdentityCenter'), interactive: true }],
  ['signin.amazonaws.com CredentialVerification', { protocol: fixed('IdentityCenter'), interactive: true }],
  ['signin.amazonaws.com Federate', { protocol: fixed('IdentityCenter'), interactive: true }],
  ['sso.amazonaws.com Federate', { protocol: fixed('IdentityCenter'), interactive: true }],
  ['sso.amazonaws.com Authenticate', { protocol: fixed('IdentityCenter'), interactive: true }],
]);

export function detectCloudTrail(sample: DetectSample): Detection {
  const { key, head } = sample;
  // By structure only: the digest's field names inside a record (a tag, a user agent) hide nothing.
  if (isDigestHead(head)) return { skip: 'CloudTrail digest file' };
  if (SIGNATURE_SIDECAR_KEY.test(key) && isSignatureSidecar(head)) return { skip: 'CloudTrail digest signature' };
  const keyHint = TRAIL_KEY.test(key);
  const hasRecordMarkers = RECORD_MARKERS.every((marker) => marker.test(head));
  let confidence = 0;
  if (RECORDS_ENVELOPE_HEAD.test(head)) confidence = hasRecordMarkers ? 1 : 0.6;
  else if (EVENTBRIDGE_CLOUDTRAIL.test(head)) confidence = 0.95;
  else if (EVENT_HISTORY.test(head) || isEventHistoryCsvHeader(head.slice(0, head.indexOf('\n') + 1 || head.length))) confidence = 0.95;
  else if (hasRecordMarkers && (/^\s*[{[]/.test(head) || isExportLine(head))) confidence = 0.9;
  else if (keyHint && /^\s*[{[]/.test(head)) confidence = 0.5;
  if (keyHint && confidence > 0) confidence = Math.min(1, confidence + 0.05);
  return { confidence };
}

/** A sidecar's content: a hex signature alone, or head-object's metadata JSON carrying one (and nothing that is a record). */
function isSignatureSidecar(head: string): boolean {
  if (SIGNATURE_SIDECAR_CONTENT.test(head)) return true;
  try {
    const metadata = obj(JSON.parse(head));
    return metadata !== null && Object.keys(metadata).every((k) => /^(?:x-amz-meta-)?signature(?:-algorithm)?$/.test(k));
  } catch {
    return false;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** An EventBridge envelope around a CloudTrail record: returns the record, or a reason it is not one. */
function unwrapEventBridge(envelope: JsonObject): { record: JsonObject } | { reason: string } {
  const detailType = envelope['detail-type'];
  const detail = obj(envelope['detail']);
  if (typeof detailType !== 'string' || !detailType.endsWith('via CloudTrail'))
    return { reason: `EventBridge event is not a CloudTrail record (detail-type ${JSON.stringify(detailType)})` };
  if (!detail) return { reason: 'EventBridge CloudTrail event has no detail object' };
  // The envelope's account and region stand in when the detail omits them.
  return {
    record: {
      ...detail,
      recipientAccountId: detail['recipientAccountId'] ?? envelope['account'],
      awsRegion: detail['awsRegion'] ?? envelope['region'],
    },
  };
}

function yesNo(value: unknown): boolean | null {
  if (value === 'Yes' || value === 'yes' || value === true) return true;
  if (value === 'No' || value === 'no' || value === false) return false;
  return null;
}

function toBoolean(value: unknown): boolean | null {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
}

/** Normalizes one CloudTrail record (already unwrapped) into its rows. */
function normalize(record: JsonObject, time: Date, raw: string): RowIn<Table>[] {
  const identity = obj(record['userIdentity']);
  const extra = obj(record['additionalEventData']);
  const response = obj(record['responseElements']);
  const eventName = record['eventName'] as string;
  const eventSource = record['eventSource'] as string;
  const actor = awsActor(identity, extra, asString(record['awsRegion']));

  const recipient = asString(record['recipientAccountId']);
  const account = recipient ?? actor.actor_account;
  const region = asString(record['awsRegion']);
  const errorCode = asString(record['errorCode']);
  const errorMessage = asString(record['errorMessage']);
  // Sign-in events report their result as responseElements.<eventName> (ConsoleLogin, CheckMfa) or,
  // for Identity Center sign-in steps, serviceEventDetails.<eventName>: "Success" | "Failure".
  const signInResult = asString(response?.[eventName]) ?? asString(obj(record['serviceEventDetails'])?.[eventName]);
  const outcome = errorCode || signInResult === 'Failure' ? 'failure' : 'success';
  const mfaUsed = yesNo(extra?.['MFAUsed']);
  const mfa = actor.mfa === true || mfaUsed === true ? true : (actor.mfa ?? mfaUsed);

  // `requestParameters: null` is common; older service events capitalise the key.
  const params = record['requestParameters'] ?? record['RequestParameters'];
  const paramsObject = obj(params);
  const credentials = CREDENTIAL_ISSUING.has(eventName) ? obj(response?.['credentials']) : null;

  // Each row is one object literal (no spread of shared core cells): a row per record is the hot path.
  const eventId = asString(record['eventID']) ?? sha1Hex(raw);
  const srcIp = asString(record['sourceIPAddress']);
  const userAgent = asString(record['userAgent']);
  const resources = resourceIds(record, account, region, actor.actor_arn);
  const rowAccount = account ?? 'unknown';
  const rowRegion = region ?? 'unknown';
  const rows: RowIn<Table>[] = [
    {
      table: 'api_activity',
      row: {
        time,
        event_id: eventId,
        activity: eventName,
        service: eventSource,
        outcome,
        error_code: errorCode,
        error_message: errorMessage,
        actor_id: actor.actor_id,
        actor_type: actor.actor_type,
        actor_name: actor.actor_name,
        actor_arn: actor.actor_arn,
        actor_account: actor.actor_account,
        session_id: actor.session_id,
        src_ip: srcIp,
        user_agent: userAgent,
        resources,
        raw,
        account: rowAccount,
        region: rowRegion,
        class_uid: 6003,
        event_type: asString(record['eventType']),
        read_only: toBoolean(record['readOnly']),
        mfa,
        session_issuer_arn: actor.session_issuer_arn,
        session_name: actor.session_name,
        issued_session_id: asString(credentials?.['accessKeyId']),
        // The identity the credentials act as: keyed like every identity (a role without its path).
        issued_role_arn: iamIdentityKey(asString(paramsObject?.['roleArn']) ?? asString(obj(response?.['federatedUser'])?.['arn'])),
        recipient_account: recipient,
        vpc_endpoint_id: asString(record['vpcEndpointId']),
        request_parameters: params === null || params === undefined ? null : JSON.stringify(params),
      },
    },
  ];

  const signIn = SIGN_INS.get(`${eventSource} ${eventName}`);
  if (signIn) {
    rows.push({
      table: 'authentication',
      row: {
        time,
        event_id: eventId,
        activity: eventName,
        service: eventSource,
        outcome,
        error_code: errorCode,
        error_message: errorMessage,
        actor_id: actor.actor_id,
        actor_type: actor.actor_type,
        actor_name: actor.actor_name,
        actor_arn: actor.actor_arn,
        actor_account: actor.actor_account,
        session_id: actor.session_id,
        src_ip: srcIp,
        user_agent: userAgent,
        resources,
        raw,
        account: rowAccount,
        region: rowRegion,
        class_uid: 3002,
        mfa: mfaUsed ?? actor.mfa,
        auth_protocol: signIn.protocol(record, actor),
        is_interactive: signIn.interactive,
        app: asString(extra?.['LoginTo']) ?? eventSource,
        country: null,
        city: null,
        device: null,
        conditional_access: null,
        result_detail: errorMessage ?? (outcome === 'failure' ? (errorCode ?? signInResult) : null),
      },
    });
  }
  return rows;
}

/** Checks and normalizes one record from the reader: exactly one item, rows or a quarantine. */
function toItem(value: unknown, text: string, position: string): ParsedItem<Table> {
  let record = obj(value);
  if (!record) return quarantine(position, `record is not a JSON object (got ${kindOf(value)})`, text);
  if ('detail-type' in record) {
    const unwrapped = unwrapEventBridge(record);
    if ('reason' in unwrapped) return quarantine(position, unwrapped.reason, text);
    record = unwrapped.record;
  }
  if (isDigestDocument(record)) return quarantine(position, 'CloudTrail digest file, not an event record', text);
  if (record['eventTime'] === undefined || record['eventTime'] === null) return quarantine(position, 'missing eventTime', text);
  const time = typeof record['eventTime'] === 'string' ? parseIsoTime(record['eventTime']) : null;
  if (!time) return quarantine(position, `unparseable eventTime ${JSON.stringify(record['eventTime'])}`, text);
  if (!asString(record['eventName'])) return quarantine(position, 'missing eventName', text);
  if (!asString(record['eventSource'])) return quarantine(position, 'missing eventSource', text);
  try {
    return { kind: 'rows', rows: normalize(record, time, text) };
  } catch (err) {
    return quarantine(position, `cannot normalize record: ${(err as Error).message}`, text);
  }
}

/** The items of one JSON value: one per CloudTrail record it holds (see shapes.ts), or why it holds none. */
function* itemsOf(value: unknown, text: string, position: string): Generator<ParsedItem<Table>> {
  for (const found of unwrapRecords(value, text)) {
    const where = `${position}${found.where}`;
    yield 'reason' in found ? quarantine(where, found.reason, found.text) : toItem(found.record, found.text, where);
  }
}

/** The event history's CSV download: a row carrying the record's text is that record; else its columns are. */
async function* csvItems(input: AsyncIterable<Buffer>): AsyncGenerator<ParsedItem<Table>> {
  const csv = new CsvExport();
  for await (const line of readLines(input)) {
    const row = csv.line(line.text, line.number);
    if (!row) continue;
    const position = `line ${row.line}`;
    const recordText = row.fields['CloudTrailEvent'];
    if (recordText !== undefined) {
      let value: unknown;
      try {
        value = JSON.parse(recordText);
      } catch (err) {
        yield quarantine(position, `CloudTrail event column is not JSON: ${(err as Error).message}`, row.text);
        continue;
      }
      yield* itemsOf(value, recordText, position);
    } else {
      yield toItem(fromLookupFields(row.fields), row.text, position);
    }
  }
  const rest = csv.rest();
  if (rest) yield quarantine(`line ${rest.line}`, 'the object ends inside a quoted CSV field', rest.text);
}

/** A CloudWatch Logs export to S3: `<time> <record>` per line; a line that is not one is quarantined alone. */
async function* exportLineItems(input: AsyncIterable<Buffer>): AsyncGenerator<ParsedItem<Table>> {
  for await (const line of readLines(input)) {
    if (!line.text.trim()) continue;
    const position = `line ${line.number}`;
    const split = splitExportLine(line.text);
    if (!split) {
      yield quarantine(position, 'not a CloudWatch Logs export line (<time> <message>)', line.text);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(split.message);
    } catch (err) {
      yield quarantine(position, `log event message is not JSON: ${(err as Error).message}`, line.text);
      continue;
    }
    yield* itemsOf(value, split.message, position);
  }
}

/** One element of a `Records` array as the JSON reader hands it over (text and position), read as parse() reads it. */
function* envelopeRecordItems(text: string, position: string): Generator<ParsedItem<Table>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    yield quarantine(position, `invalid JSON: ${(err as Error).message}`, text);
    return;
  }
  yield* itemsOf(value, text, position);
}

/** The items of one record the JSON reader handed over. */
function* jsonRecordItems(item: JsonRecord): Generator<ParsedItem<Table>> {
  if (item.ok) yield* itemsOf(item.value, item.text, item.position);
  else yield quarantine(item.position, item.reason, item.text);
}

const JSON_RECORDS = { envelopeKeys: ['Records', 'Events'] } as const;

/** The first line of an object (within its first 4 KiB): it tells the event history's CSV and CloudWatch exports from JSON. */
function firstLineOf(first: Buffer): string {
  return first.subarray(0, Math.min(first.length, 4096)).toString('utf8').split('\n', 1)[0];
}

export const source = defineSource(manifest, {
  detect: detectCloudTrail,
  sql: cloudTrailSql({ signIns: [...SIGN_INS.keys()], credentialIssuing: [...CREDENTIAL_ISSUING], recordItems: envelopeRecordItems }),
  async *parse(input) {
    const { first, input: whole } = await peekFirstChunk(input);
    const firstLine = firstLineOf(first);
    if (isEventHistoryCsvHeader(firstLine)) {
      yield* csvItems(whole);
      return;
    }
    if (isExportLine(firstLine)) {
      yield* exportLineItems(whole);
      return;
    }
    for await (const item of readJsonRecords(whole, JSON_RECORDS)) yield* jsonRecordItems(item);
  },
  // JSON held whole (every trail log file small enough): the same records and items, with no async step per record.
  parseWhole(content: Buffer, state: ReadState) {
    const firstLine = firstLineOf(content);
    if (isEventHistoryCsvHeader(firstLine) || isExportLine(firstLine)) return null;
    return (function* () {
      for (const item of jsonRecordsOf(content, state, JSON_RECORDS)) yield* jsonRecordItems(item);
    })();
  },
});
