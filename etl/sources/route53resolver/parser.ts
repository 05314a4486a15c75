/**
 * Amazon Route 53 Resolver query logs: one JSON object per DNS query, delivered to S3 as
 * gzip'd JSON lines (`AWSLogs/<account>/vpcdnsquerylogs/<vpc>/…`) or to CloudWatch Logs, where
 * each log event's message is the same JSON. Every query becomes one dns_activity row.
 */
import { partitionForRegion } from '../../../src/core/arn';
import { sha1Hex } from '../../../src/core/hash';
import { arr, distinct, int, obj, requireObject, requireTime, str, NormalizeError, type JsonObject } from '../../fields/json';
import { parseJsonRecords } from '../../readers/json-items';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

type Row = RowIn<'dns_activity'>;

const QUERY_NAME = /"query_name"\s*:/;
const QUERY_TIMESTAMP = /"query_timestamp"\s*:/;
const SRCIDS = /"srcids"\s*:/;
// Inside a CloudWatch Logs event the query log is the escaped text of `message`.
const ESCAPED_QUERY = /\\"query_name\\"\s*:.*\\"query_timestamp\\"|\\"query_timestamp\\"\s*:.*\\"query_name\\"/;
const CLOUDWATCH_MESSAGE = /"message"\s*:\s*"/;
const [RESOLVER_KEY] = manifest.objects.keyPatterns;

export function detectRoute53Resolver({ key, head }: DetectSample): Detection {
  let confidence = 0;
  if (QUERY_NAME.test(head) && QUERY_TIMESTAMP.test(head)) confidence = SRCIDS.test(head) ? 0.95 : 0.85;
  else if (CLOUDWATCH_MESSAGE.test(head) && ESCAPED_QUERY.test(head)) confidence = 0.9;
  if (confidence > 0 && RESOLVER_KEY.test(key)) confidence = 1;
  return { confidence };
}

/** DNS names as the lake stores them: lower case, no trailing dot (the root stays "."). */
export function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * A CloudWatch Logs event exported as JSON (`{"timestamp":…,"message":"{…}"}`) carries the
 * query log as text in `message`; unwrap it so both deliveries read the same, raw text included.
 */
function unwrapCloudWatchEvent(record: JsonObject, text: string): { record: JsonObject; text: string } {
  const message = record['message'];
  if (typeof message !== 'string' || record['query_name'] !== undefined) return { record, text };
  try {
    const inner = JSON.parse(message) as unknown;
    if (obj(inner)?.['query_name'] !== undefined) return { record: inner as JsonObject, text: message };
  } catch {
    // Not JSON: fall through and let the missing fields explain the quarantine.
  }
  return { record, text };
}

/**
 * A CloudWatch Logs subscription delivery (Firehose to S3): `{"messageType":"DATA_MESSAGE",
 * "logEvents":[{"id","timestamp","message"}…]}`. The envelope is the record, like an NSG flow
 * record: one item with a row per event, quarantined whole if any event cannot be read.
 */
function normalizeSubscriptionEnvelope(record: JsonObject): Row[] {
  if (record['messageType'] === 'CONTROL_MESSAGE') return [];
  return arr(record['logEvents']).flatMap((event, index) => {
    const message = obj(event)?.['message'];
    if (typeof message !== 'string') throw new NormalizeError(`log event ${index + 1}: no message text`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch (err) {
      throw new NormalizeError(`log event ${index + 1}: message is not JSON (${(err as Error).message})`);
    }
    try {
      return normalizeResolverQuery(parsed, message);
    } catch (err) {
      if (err instanceof NormalizeError) throw new NormalizeError(`log event ${index + 1}: ${err.message}`);
      throw err;
    }
  });
}

export function normalizeResolverQuery(value: unknown, text: string): Row[] {
  const outer = requireObject(value, 'Route 53 Resolver query log');
  if (Array.isArray(outer['logEvents'])) return normalizeSubscriptionEnvelope(outer);
  const { record, text: recordText } = unwrapCloudWatchEvent(outer, text);
  const queryName = str(record['query_name']);
  if (!queryName) throw new NormalizeError('missing query_name');
  const time = requireTime(record['query_timestamp'], 'query_timestamp');

  const account = str(record['account_id']) ?? 'unknown';
  const region = str(record['region']) ?? 'unknown';
  const srcids = obj(record['srcids']) ?? {};
  const instanceId = str(srcids['instance']);
  const endpointId = str(srcids['resolver_endpoint']);
  const rcode = str(record['rcode']);
  const firewallAction = str(record['firewall_rule_action']);
  // A query the DNS Firewall blocked failed from the asker's point of view, whatever rcode it got.
  const blocked = firewallAction === 'BLOCK';
  const outcome = !rcode && !firewallAction ? 'unknown' : rcode === 'NOERROR' && !blocked ? 'success' : 'failure';
  const answers = arr(record['answers'])
    .map((answer) => str(obj(answer)?.['Rdata']))
    .filter((rdata): rdata is string => rdata !== null)
    .map((rdata) => (rdata.length > 1 && rdata.endsWith('.') ? rdata.slice(0, -1) : rdata));

  // ARNs join with the instance and endpoint ids other sources log; without account and region, the bare id.
  const canArn = account !== 'unknown' && region !== 'unknown';
  const partition = partitionForRegion(region);
  const resources = distinct([
    instanceId && canArn ? `arn:${partition}:ec2:${region}:${account}:instance/${instanceId}` : instanceId,
    endpointId && canArn ? `arn:${partition}:route53resolver:${region}:${account}:resolver-endpoint/${endpointId}` : endpointId,
  ]);

  return [
    {
      table: 'dns_activity',
      row: {
        time,
        event_id: sha1Hex(recordText),
        class_uid: 4003,
        activity: 'Query',
        service: 'route53resolver.amazonaws.com',
        outcome,
        error_code: outcome === 'failure' ? (rcode !== 'NOERROR' ? rcode : `FIREWALL_${firewallAction}`) : null,
        error_message: blocked ? `blocked by DNS Firewall rule group ${str(record['firewall_rule_group_id']) ?? '(unknown)'}` : null,
        actor_id: null,
        actor_type: null,
        actor_name: null,
        actor_arn: null,
        actor_account: null,
        session_id: null,
        src_ip: str(record['srcaddr']),
        user_agent: null,
        resources,
        raw: recordText,
        account,
        region,
        query_name: normalizeDnsName(queryName),
        query_type: str(record['query_type']),
        rcode,
        answers,
        vpc_id: str(record['vpc_id']),
        instance_id: instanceId,
        src_port: int(record['srcport']),
      },
    },
  ];
}

export const source = defineSource(manifest, {
  detect: detectRoute53Resolver,
  parse: (input) => parseJsonRecords(input, {}, (value, text) => normalizeResolverQuery(value, text)),
});
