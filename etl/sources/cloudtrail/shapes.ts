/**
 * CloudTrail records as they reach a responder when no trail delivered them: the event history
 * (`aws cloudtrail lookup-events`: `{"Events":[{"EventId",…,"CloudTrailEvent":"<the record as a
 * JSON string>"}]}`, and the console's JSON and CSV downloads) and the record re-shipped by a log
 * pipeline: Logstash's CloudTrail codec moves `eventTime` to `@timestamp` (and adds `@version`),
 * Filebeat and others keep the record as text under `message` or ECS `event.original`,
 * Elasticsearch wraps documents in `_source` (and a search result in `hits.hits`), Splunk exports
 * the text as `_raw` (under `result` in its JSON export), and a CloudWatch Logs subscription
 * delivered by Firehose wraps each record as a log event's `message` (and a CloudWatch Logs export to
 * S3 writes `<time> <record>` lines, which the parser splits).
 *
 * `unwrapRecords` turns one JSON value into the CloudTrail records it holds, each with the text it
 * was found as (kept as the row's `raw`), or the reason it holds none. `CsvExport` reads the CSV
 * download row by row into the same records.
 */
import { asString, isObject, obj, type JsonObject } from '../../fields/json';
import { subscriptionLogEvents } from '../../readers/cloudwatch-logs';

/** A record found inside a JSON value, or why a value holds none. */
export type Unwrapped = { record: JsonObject; text: string; where: string } | { reason: string; text: string; where: string };

/** Nesting deeper than this is not a log pipeline's: the value is refused rather than walked. */
const MAX_DEPTH = 6;

/**
 * The CloudTrail records a JSON value holds. A record stays as it is; the shapes above are
 * unwrapped (nested ones too) and `@timestamp` stands in for a missing `eventTime`. `text` is
 * the value's own text; `where` is appended to the value's position for each record found in it.
 */
export function unwrapRecords(value: unknown, text: string, where = '', depth = 0): Unwrapped[] {
  if (depth > MAX_DEPTH) return [{ reason: `wrapped more than ${MAX_DEPTH} levels deep`, text, where }];
  const fromText = (inner: unknown, label: string): Unwrapped[] => {
    if (typeof inner !== 'string') return unwrapRecords(inner, JSON.stringify(inner), `${where}${label}`, depth + 1);
    const parsed = parseJson(inner);
    if (parsed === undefined) return [{ reason: `${label.trim() || 'text'} is not JSON`, text: inner, where: `${where}${label}` }];
    return unwrapRecords(parsed, inner, `${where}${label}`, depth + 1);
  };
  const record = obj(value);
  if (!record) return [{ reason: `record is not a JSON object (got ${kindOf(value)})`, text, where }];

  // EventBridge events and digest files are told apart by the parser (unwrapped, or refused with their reason).
  if ('detail-type' in record || 'digestPublicKeyFingerprint' in record) return [{ record, text, where }];
  if (isCloudTrailRecord(record)) {
    // Logstash's CloudTrail codec moves eventTime to @timestamp; the record is otherwise whole.
    if (record['eventTime'] === undefined && typeof record['@timestamp'] === 'string') {
      const { '@timestamp': time, '@version': _version, ...rest } = record;
      return [{ record: { ...rest, eventTime: time }, text, where }];
    }
    return [{ record, text, where }];
  }
  // The event history: a lookup Event carries the record as a JSON string (or, in some exports, as an object).
  if ('CloudTrailEvent' in record) return fromText(record['CloudTrailEvent'], ' CloudTrailEvent');
  if ('EventId' in record && 'EventTime' in record) return [{ record: fromLookupFields(record), text, where }];
  // A CloudWatch Logs subscription message (delivered by Firehose): each log event's message is a record.
  const subscription = subscriptionLogEvents(record);
  if (subscription) return subscription.events.flatMap((event, i) => fromText(event.message, ` log event ${i + 1}`));
  // Envelopes of many records.
  for (const key of ['Records', 'Events'] as const) {
    const list = record[key];
    if (Array.isArray(list))
      return list.flatMap((item, i) => unwrapRecords(item, JSON.stringify(item), `${where} ${key.toLowerCase()} ${i + 1}`, depth + 1));
  }
  const hits = obj(record['hits'])?.['hits'];
  if (Array.isArray(hits)) return hits.flatMap((hit, i) => unwrapRecords(hit, JSON.stringify(hit), `${where} hit ${i + 1}`, depth + 1));
  // One record wrapped by a pipeline.
  if (isObject(record['_source']))
    return unwrapRecords(record['_source'], JSON.stringify(record['_source']), `${where} _source`, depth + 1);
  const original = obj(record['event'])?.['original'] ?? record['event.original'];
  if (typeof original === 'string') return fromText(original, ' event.original');
  if (record['message'] !== undefined && (typeof record['message'] === 'string' || isObject(record['message'])))
    return fromText(record['message'], ' message');
  const splunk = obj(record['result']);
  if (typeof record['_raw'] === 'string') return fromText(record['_raw'], ' _raw');
  if (splunk && typeof splunk['_raw'] === 'string') return fromText(splunk['_raw'], ' result._raw');
  return [{ reason: notARecord(record), text, where }];
}

const RECORD_FIELDS = ['eventVersion', 'eventName', 'eventSource', 'eventTime', 'eventID', 'userIdentity'] as const;

/** A record's own fields, whichever pipeline carried it (the parser says what is missing from one). */
function isCloudTrailRecord(record: JsonObject): boolean {
  return RECORD_FIELDS.some((field) => field in record);
}

function notARecord(record: JsonObject): string {
  const keys = Object.keys(record).slice(0, 8);
  return `not a CloudTrail record (no eventName, eventSource or eventTime; keys: ${keys.join(', ')}${Object.keys(record).length > 8 ? ', …' : ''})`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A record rebuilt from the event history's own columns, when the export has no record text:
 * what they say (id, time, name, source, region, address, error, user and access key, resources),
 * nothing more.
 */
export function fromLookupFields(fields: Readonly<Record<string, unknown>>): JsonObject {
  const get = (name: string) => asString(fields[name]);
  const resources = fields['Resources'];
  const listed = Array.isArray(resources) ? resources : typeof resources === 'string' ? parseJson(resources) : null;
  const record: JsonObject = {
    eventID: get('EventId'),
    eventTime: lookupTime(fields['EventTime']),
    eventName: get('EventName'),
    eventSource: get('EventSource'),
    awsRegion: get('AwsRegion'),
    sourceIPAddress: get('SourceIpAddress'),
    errorCode: get('ErrorCode'),
    readOnly: get('ReadOnly'),
    userIdentity: { userName: get('Username'), accessKeyId: get('AccessKeyId') },
    resources: Array.isArray(listed)
      ? listed
          .map((r) => obj(r))
          .filter((r): r is JsonObject => r !== null)
          .map((r) => ({ type: r['ResourceType'], ARN: r['ResourceName'] }))
      : [],
  };
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined));
}

/** EventTime as the API returns it: ISO text, or epoch seconds (the SDKs' JSON). */
function lookupTime(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  return asString(value);
}

/** Console download columns (and the API's names, as some exporters write them) → lookup Event fields. */
const CSV_COLUMNS: Readonly<Record<string, string>> = {
  eventid: 'EventId',
  eventtime: 'EventTime',
  username: 'Username',
  eventname: 'EventName',
  eventsource: 'EventSource',
  awsaccesskey: 'AccessKeyId',
  accesskeyid: 'AccessKeyId',
  awsregion: 'AwsRegion',
  errorcode: 'ErrorCode',
  sourceipaddress: 'SourceIpAddress',
  readonly: 'ReadOnly',
  resources: 'Resources',
  cloudtrailevent: 'CloudTrailEvent',
};

function columnKey(header: string): string {
  return header.toLowerCase().replace(/[^a-z]/g, '');
}

/** Whether a first line is the header of an event history CSV download. */
export function isEventHistoryCsvHeader(line: string): boolean {
  // Column names are plain words; a JSON line naming the same fields is not a header.
  if (/[{}[\]:]/.test(line)) return false;
  const keys = splitCsvLine(line.replace(/^\ufeff/, '')).map(columnKey);
  return keys.includes('eventname') && keys.includes('eventtime') && (keys.includes('eventid') || keys.includes('cloudtrailevent'));
}

/**
 * The CSV download of the event history, row by row. Fields may be quoted (quotes doubled inside)
 * and a quoted field may span lines; columns are mapped by the header's names.
 */
export class CsvExport {
  private columns: (string | undefined)[] | null = null;
  private pending: string[] = [];
  private startLine = 0;

  /** Feeds one line; returns a finished row (its fields by lookup name, its text, its first line) or null. */
  line(text: string, number: number): { fields: Record<string, string>; text: string; line: number } | null {
    if (this.pending.length === 0) {
      if (!text.trim()) return null;
      this.startLine = number;
    }
    this.pending.push(text);
    const whole = this.pending.join('\n');
    if (!balancedQuotes(whole)) return null; // a quoted field goes on in the next line
    this.pending = [];
    const values = splitCsvLine(whole);
    if (!this.columns) {
      this.columns = values.map((h) => CSV_COLUMNS[columnKey(h)]);
      return null;
    }
    const fields: Record<string, string> = {};
    this.columns.forEach((name, i) => {
      const value = values[i];
      if (name && value !== undefined && value !== '' && value !== '-') fields[name] = value;
    });
    return { fields, text: whole, line: this.startLine };
  }

  /** A row cut off by the end of the object (a quote never closed). */
  rest(): { text: string; line: number } | null {
    return this.pending.length ? { text: this.pending.join('\n'), line: this.startLine } : null;
  }
}

function balancedQuotes(text: string): boolean {
  let quotes = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) quotes++;
  return quotes % 2 === 0;
}

/** One CSV record's fields (RFC 4180: quoted fields, doubled quotes). */
export function splitCsvLine(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close === -1) {
          value += text.slice(i);
          i = text.length;
          break;
        }
        value += text.slice(i, close);
        if (text.charCodeAt(close + 1) === 34) {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      out.push(value);
      const comma = text.indexOf(',', i);
      if (comma === -1) return out;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      out.push((comma === -1 ? text.slice(i) : text.slice(i, comma)).trim());
      if (comma === -1) return out;
      i = comma + 1;
    }
  }
}
