/**
 * Logs as CloudWatch Logs hands them on, whatever the service that wrote them:
 * - an export to S3 (`create-export-task`) writes each log event as one line, `<ISO time> <message>`;
 * - a subscription filter (to Firehose, Kinesis or Lambda) sends `DATA_MESSAGE` objects whose
 *   `logEvents[].message` are the log events, and `CONTROL_MESSAGE` objects that carry none.
 */
import { obj, type JsonObject } from '../fields/json';

const EXPORT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) /;

/** Whether a line is a CloudWatch Logs export line: an ISO UTC time, one space, the message. */
export function isExportLine(line: string): boolean {
  return EXPORT_LINE.test(line);
}

/** An export line's ingestion time and message, or null when the line is not one. */
export function splitExportLine(line: string): { time: string; message: string } | null {
  const match = EXPORT_LINE.exec(line);
  return match ? { time: match[1], message: line.slice(match[0].length) } : null;
}

/** One log event of a subscription message. */
export interface SubscriptionLogEvent {
  id: string | null;
  /** Milliseconds since the epoch (when CloudWatch Logs took the event in). */
  timestamp: number | null;
  message: unknown;
}

/**
 * The log events of a subscription message (`{"messageType":"DATA_MESSAGE",…,"logEvents":[…]}`):
 * none for a CONTROL_MESSAGE, null when the value is not a subscription message at all.
 */
export function subscriptionLogEvents(
  value: unknown,
): { owner: string | null; logGroup: string | null; events: SubscriptionLogEvent[] } | null {
  const message = obj(value);
  if (!message || !Array.isArray(message['logEvents']) || typeof message['messageType'] !== 'string') return null;
  const owner = typeof message['owner'] === 'string' ? message['owner'] : null;
  const logGroup = typeof message['logGroup'] === 'string' ? message['logGroup'] : null;
  if (message['messageType'] === 'CONTROL_MESSAGE') return { owner, logGroup, events: [] };
  const events = (message['logEvents'] as unknown[]).map((item) => {
    const event: JsonObject | null = obj(item);
    return {
      id: typeof event?.['id'] === 'string' ? event['id'] : null,
      timestamp: typeof event?.['timestamp'] === 'number' ? event['timestamp'] : null,
      message: event ? event['message'] : item,
    };
  });
  return { owner, logGroup, events };
}
