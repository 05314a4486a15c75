/**
 * The S3 objects an invocation should read, from the event shapes that deliver "object created":
 *  - S3 event notifications (Records[].s3, eventName ObjectCreated:*; keys URL-encoded, + for space)
 *  - the same wrapped in SQS messages (Records[].body) or SNS notifications (Records[].Sns.Message,
 *    or an SQS body holding an SNS envelope)
 *  - EventBridge "Object Created" events from aws.s3 (detail.object.key, not URL-encoded)
 *  - EventBridge "Scheduled Event"s: no objects, but the handler does the lake's upkeep
 * Everything else (s3:TestEvent, ObjectRemoved, unknown shapes) is listed as ignored with a reason.
 */
export interface CreatedObject {
  bucket: string;
  key: string;
  size: number | null;
}

export interface EventObjects {
  objects: CreatedObject[];
  /** An EventBridge schedule (source aws.events, "Scheduled Event"): lake upkeep, no objects. */
  scheduled?: boolean;
  ignored: { what: string; reason: string }[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys in S3 notifications are URL-encoded with '+' for a space (form encoding). */
export function decodeNotificationKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function objectsFromEvent(event: unknown): EventObjects {
  const out: EventObjects = { objects: [], ignored: [] };
  collect(event, out, 0);
  // A redelivered or duplicated record names the same object twice: read it once.
  const seen = new Set<string>();
  out.objects = out.objects.filter((o) => {
    const id = `${o.bucket}\0${o.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return out;
}

function collect(event: unknown, out: EventObjects, depth: number): void {
  if (depth > 3) return void out.ignored.push({ what: 'event', reason: 'nested too deeply' });
  if (!isObject(event)) return void out.ignored.push({ what: 'event', reason: 'not a JSON object' });

  if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') return void (out.scheduled = true);
  if (event.source === 'aws.s3' && typeof event['detail-type'] === 'string') {
    const detail = isObject(event.detail) ? event.detail : {};
    const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
    const object = isObject(detail.object) ? detail.object : {};
    if (event['detail-type'] !== 'Object Created')
      return void out.ignored.push({ what: String(event['detail-type']), reason: 'not an object creation' });
    if (typeof bucket !== 'string' || typeof object.key !== 'string')
      return void out.ignored.push({ what: 'EventBridge event', reason: 'no bucket or key' });
    return void out.objects.push({ bucket, key: object.key, size: typeof object.size === 'number' ? object.size : null });
  }
  if (event.Event === 's3:TestEvent')
    return void out.ignored.push({ what: 's3:TestEvent', reason: 'test notification S3 sends when a notification is configured' });
  if (event.Type === 'Notification' && typeof event.Message === 'string') return collectJson(event.Message, 'SNS message', out, depth);

  if (!Array.isArray(event.Records)) return void out.ignored.push({ what: 'event', reason: 'no Records, and not an EventBridge S3 event' });
  for (const record of event.Records as unknown[]) {
    if (!isObject(record)) {
      out.ignored.push({ what: 'record', reason: 'not a JSON object' });
      continue;
    }
    if (record.eventSource === 'aws:s3' && isObject(record.s3)) {
      const name = typeof record.eventName === 'string' ? record.eventName : '';
      const bucket = isObject(record.s3.bucket) ? record.s3.bucket.name : undefined;
      const object = isObject(record.s3.object) ? record.s3.object : {};
      if (!name.startsWith('ObjectCreated:')) out.ignored.push({ what: name || 'S3 record', reason: 'not an object creation' });
      else if (typeof bucket !== 'string' || typeof object.key !== 'string') out.ignored.push({ what: name, reason: 'no bucket or key' });
      else {
        try {
          out.objects.push({ bucket, key: decodeNotificationKey(object.key), size: typeof object.size === 'number' ? object.size : null });
        } catch {
          out.ignored.push({ what: name, reason: `key is not valid URL encoding: ${object.key.slice(0, 200)}` });
        }
      }
    } else if (record.eventSource === 'aws:sqs' && typeof record.body === 'string') {
      collectJson(record.body, 'SQS message body', out, depth);
    } else if (record.EventSource === 'aws:sns' && isObject(record.Sns) && typeof record.Sns.Message === 'string') {
      collectJson(record.Sns.Message, 'SNS message', out, depth);
    } else {
      const source = record.eventSource ?? record.EventSource;
      out.ignored.push({ what: typeof source === 'string' ? source : 'record', reason: 'not an S3, SQS or SNS record' });
    }
  }
}

function collectJson(text: string, what: string, out: EventObjects, depth: number): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return void out.ignored.push({ what, reason: 'not JSON' });
  }
  collect(parsed, out, depth + 1);
}
