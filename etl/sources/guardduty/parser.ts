/**
 * Amazon GuardDuty findings, read into the findings table. Two deliveries:
 *  - the findings export to S3: gzip'd JSON lines, one finding each, under
 *    `AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz` (updated findings are
 *    exported again: same id, later updatedAt, a newer row of the same finding);
 *  - EventBridge "GuardDuty Finding" events (`{"detail-type":"GuardDuty Finding","detail":{…}}`),
 *    as a rule's target (Firehose to S3, or a Lambda) receives them.
 * A finding's keys follow the event tables' conventions (actor_id, session_id, src_ip, resources),
 * so it sits beside ScoutQL's own findings on the same identities, sessions and addresses.
 */
import { arr, distinct, obj, requireObject, requireTime, str, NormalizeError, type JsonObject } from '../../fields/json';
import { awsPrincipalId, guardDutyLevel, severityId, tacticOf, techniqueOf } from '../../fields/findings';
import { parseJsonRecords } from '../../readers/json-items';
import { parseArn, partitionForRegion } from '../../../src/core/arn';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

type Row = RowIn<'findings'>;

const GUARDDUTY_FINDING_ARN = /"arn"\s*:\s*"arn:[a-z-]+:guardduty:[a-z0-9-]+:\d{12}:detector\/[^"]+\/finding\//;
const SCHEMA_VERSION = /"schemaVersion"\s*:/;
const EVENTBRIDGE_FINDING = /"detail-type"\s*:\s*"GuardDuty Finding"/;
const [EXPORT_KEY] = manifest.objects.keyPatterns;

export function detectGuardDuty({ key, head }: DetectSample): Detection {
  let confidence = 0;
  if (EVENTBRIDGE_FINDING.test(head)) confidence = 0.95;
  else if (GUARDDUTY_FINDING_ARN.test(head) && SCHEMA_VERSION.test(head)) confidence = 0.9;
  if (confidence > 0 && EXPORT_KEY.test(key)) confidence = 1;
  return { confidence };
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value)
    ? value
    : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
      ? Number(value)
      : null;
}

/** The remote address of the finding's action, whichever kind of action it is. */
function remoteIp(action: JsonObject | null): string | null {
  if (!action) return null;
  const direct = ['awsApiCallAction', 'networkConnectionAction', 'kubernetesApiCallAction', 'rdsLoginAttemptAction']
    .map((k) => obj(obj(action[k])?.['remoteIpDetails']))
    .find((d) => d);
  const probe = obj(obj(arr(obj(action['portProbeAction'])?.['portProbeDetails'])[0])?.['remoteIpDetails']);
  const details = direct ?? probe;
  return str(details?.['ipAddressV4']) ?? str(details?.['ipAddressV6']);
}

/** Resources as the event tables name them: ARNs where the finding gives enough to build one. */
function resourcesOf(resource: JsonObject, partition: string, region: string, account: string): string[] {
  const instanceId = str(obj(resource['instanceDetails'])?.['instanceId']);
  const buckets = arr(resource['s3BucketDetails']).map(
    (b) => str(obj(b)?.['arn']) ?? (str(obj(b)?.['name']) ? `arn:${partition}:s3:::${str(obj(b)?.['name'])}` : null),
  );
  const lambda = str(obj(resource['lambdaDetails'])?.['functionArn']);
  const rds = str(obj(resource['rdsDbInstanceDetails'])?.['dbInstanceArn']);
  const eks = str(obj(resource['eksClusterDetails'])?.['arn']);
  return distinct([instanceId ? `arn:${partition}:ec2:${region}:${account}:instance/${instanceId}` : null, ...buckets, lambda, rds, eks]);
}

export function normalizeGuardDutyFinding(value: unknown, text: string): Row[] {
  const outer = requireObject(value, 'GuardDuty finding');
  // An EventBridge event carries the finding as its detail; the finding is the row's raw record.
  const isEvent = outer['detail-type'] !== undefined;
  if (isEvent && outer['detail-type'] !== 'GuardDuty Finding')
    throw new NormalizeError(`not a GuardDuty finding event: detail-type ${JSON.stringify(outer['detail-type'])}`);
  const finding = isEvent ? requireObject(outer['detail'], 'GuardDuty finding (event detail)') : outer;
  const id = str(finding['id']);
  const type = str(finding['type']);
  const account = str(finding['accountId']);
  if (!id) throw new NormalizeError('missing id');
  if (!type) throw new NormalizeError('missing type');
  if (!account) throw new NormalizeError('missing accountId');
  const severity = num(finding['severity']);
  if (severity === null) throw new NormalizeError('missing severity');
  const updatedAt = requireTime(finding['updatedAt'], 'updatedAt');
  const createdAt = requireTime(finding['createdAt'], 'createdAt');
  const region = str(finding['region']) ?? str(outer['region']) ?? 'unknown';
  const partition = str(finding['partition']) ?? parseArn(str(finding['arn']))?.partition ?? partitionForRegion(region);
  const resource = obj(finding['resource']) ?? {};
  const service = obj(finding['service']) ?? {};
  const action = obj(service['action']);
  const key = obj(resource['accessKeyDetails']);
  const level = guardDutyLevel(severity);
  const technique = techniqueOf(type);
  const tactic = tacticOf(type.split(':')[0]);
  const firstSeen = str(service['eventFirstSeen']) ? requireTime(service['eventFirstSeen'], 'service.eventFirstSeen') : createdAt;
  const lastSeen = str(service['eventLastSeen']) ? requireTime(service['eventLastSeen'], 'service.eventLastSeen') : updatedAt;
  const sessionId = str(key?.['accessKeyId']);
  const resources = resourcesOf(resource, partition, region, account);
  const count = num(service['count']);
  return [
    {
      table: 'findings',
      row: {
        finding_id: id,
        time: updatedAt,
        rule_id: type,
        rule_kind: type.split(':')[0] || null,
        title: str(finding['title']) ?? type,
        description: str(finding['description']),
        level,
        severity: severityId(level),
        product_severity: severity,
        techniques: technique ? [technique] : [],
        tactics: tactic ? [tactic] : [],
        first_seen: firstSeen,
        last_seen: lastSeen,
        actor_id: awsPrincipalId(partition, account, str(key?.['userType']), str(key?.['userName'])),
        // GuardDuty's generated sample findings name placeholder keys; those are not credentials.
        session_id: sessionId && /^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(sessionId) ? sessionId : null,
        src_ip: remoteIp(action),
        resources,
        region,
        evidence_event_ids: null,
        evidence_tables: null,
        evidence_count: count,
        group_key: sessionId ?? str(obj(resource['instanceDetails'])?.['instanceId']) ?? resources[0] ?? null,
        created_at: createdAt,
        raw: isEvent ? JSON.stringify(finding) : text,
        product: 'guardduty',
        account,
      },
    },
  ];
}

export const source = defineSource(manifest, {
  detect: detectGuardDuty,
  parse: (input) => parseJsonRecords(input, {}, normalizeGuardDutyFinding),
});
