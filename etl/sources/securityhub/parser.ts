/**
 * AWS Security Hub findings in the AWS Security Finding Format (ASFF, SchemaVersion 2018-10-08),
 * read into the findings table. Deliveries:
 *  - EventBridge "Security Hub Findings - Imported" events, whose detail.findings[] holds one or
 *    more findings, as a rule → Firehose → S3 pipeline writes them (one event per line, or
 *    concatenated): one record per event, a row per finding;
 *  - a GetFindings export (`{"Findings":[…]}`), or bare ASFF findings one per line: a row each.
 * Security Hub re-sends a finding when it changes: same Id, later UpdatedAt, a newer row.
 */
import { arr, distinct, obj, requireObject, requireTime, str, NormalizeError, type JsonObject } from '../../fields/json';
import { awsPrincipalId, normalizedLevel, severityId, tacticOf, techniqueOf } from '../../fields/findings';
import { parseJsonRecords } from '../../readers/json-items';
import { FINDING_LEVELS, type FindingLevel } from '../../../src/core/tables';
import { defineSource, type Detection, type DetectSample, type RowIn } from '../types';
import { manifest } from './manifest';

type Row = RowIn<'findings'>;

const IMPORTED_EVENT = /"detail-type"\s*:\s*"Security Hub Findings - Imported"/;
const ASFF_SCHEMA = /"SchemaVersion"\s*:\s*"2018-10-08"/;
const PRODUCT_ARN = /"ProductArn"\s*:\s*"arn:[a-z-]+:securityhub:/;
const [SECURITYHUB_KEY] = manifest.objects.keyPatterns;

export function detectSecurityHub({ key, head }: DetectSample): Detection {
  let confidence = 0;
  if (IMPORTED_EVENT.test(head)) confidence = 0.95;
  else if (ASFF_SCHEMA.test(head) && PRODUCT_ARN.test(head)) confidence = 0.9;
  if (confidence > 0 && SECURITYHUB_KEY.test(key)) confidence = 1;
  return { confidence };
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function levelOf(severity: JsonObject | null): { level: FindingLevel; normalized: number | null } {
  const label = str(severity?.['Label'])?.toLowerCase();
  const normalized = num(severity?.['Normalized']);
  if (label && (FINDING_LEVELS as readonly string[]).includes(label)) return { level: label as FindingLevel, normalized };
  if (normalized !== null) return { level: normalizedLevel(normalized), normalized };
  throw new NormalizeError(`Severity has neither a known Label nor Normalized: ${JSON.stringify(severity)?.slice(0, 80)}`);
}

const ACCESS_KEY_ID = /^AWS::IAM::AccessKey:((AKIA|ASIA)[A-Z0-9]{12,})$/;

/** Who the finding is about: an access key's principal, or an IAM user / role resource. */
function principalOf(resources: JsonObject[], partition: string, account: string): { actor: string | null; session: string | null } {
  let actor: string | null = null;
  let session: string | null = null;
  for (const r of resources) {
    const type = str(r['Type']);
    const id = str(r['Id']);
    if (type === 'AwsIamAccessKey') {
      const details = obj(obj(r['Details'])?.['AwsIamAccessKey']);
      actor ??= awsPrincipalId(
        partition,
        account,
        str(details?.['PrincipalType']),
        str(details?.['PrincipalName']) ?? str(details?.['UserName']),
      );
      session ??= id ? (ACCESS_KEY_ID.exec(id)?.[1] ?? null) : null;
    } else if ((type === 'AwsIamUser' || type === 'AwsIamRole') && id?.startsWith('arn:')) actor ??= id;
  }
  return { actor, session };
}

function remoteIp(finding: JsonObject): string | null {
  const network = obj(finding['Network']);
  const fromNetwork = str(network?.['SourceIpV4']) ?? str(network?.['SourceIpV6']);
  if (fromNetwork) return fromNetwork;
  const action = obj(finding['Action']);
  if (!action) return null;
  const direct = ['AwsApiCallAction', 'NetworkConnectionAction'].map((k) => obj(obj(action[k])?.['RemoteIpDetails'])).find((d) => d);
  const probe = obj(obj(arr(obj(action['PortProbeAction'])?.['PortProbeDetails'])[0])?.['RemoteIpDetails']);
  return str((direct ?? probe)?.['IpAddressV4']) ?? null;
}

/** `TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled` → its tactic and the GuardDuty type it names. */
function typesOf(types: string[]): { kind: string | null; tactics: string[]; techniques: string[] } {
  const tactics = distinct(types.map((t) => (t.startsWith('TTPs/') ? tacticOf(t.split('/')[1]) : null)));
  const techniques = distinct(
    types.map((t) => {
      const last = t.split('/')[2];
      return last?.includes(':') ? techniqueOf(last.replace(/^([^:]+:[^-]+)-/, '$1/')) : null;
    }),
  );
  return { kind: types[0]?.split('/')[0] ?? null, tactics, techniques };
}

export function normalizeAsffFinding(value: unknown, text: string | null): Row {
  const finding = requireObject(value, 'ASFF finding');
  const id = str(finding['Id']);
  const generator = str(finding['GeneratorId']);
  const account = str(finding['AwsAccountId']);
  if (!id) throw new NormalizeError('missing Id');
  if (!generator) throw new NormalizeError('missing GeneratorId');
  if (!account) throw new NormalizeError('missing AwsAccountId');
  const updatedAt = requireTime(finding['UpdatedAt'], 'UpdatedAt');
  const createdAt = requireTime(finding['CreatedAt'], 'CreatedAt');
  const { level, normalized } = levelOf(obj(finding['Severity']));
  const resources = arr(finding['Resources'])
    .map((r) => obj(r))
    .filter((r): r is JsonObject => r !== null);
  const region = str(finding['Region']) ?? str(resources[0]?.['Region']) ?? 'unknown';
  const partition = str(resources[0]?.['Partition']) ?? str(finding['ProductArn'])?.split(':')[1] ?? 'aws';
  const { actor, session } = principalOf(resources, partition, account);
  const types = typesOf(arr(finding['Types']).filter((t): t is string => typeof t === 'string'));
  const resourceIds = distinct(resources.map((r) => str(r['Id'])).filter((rid) => rid?.startsWith('arn:') ?? false));
  return {
    table: 'findings',
    row: {
      finding_id: id,
      time: updatedAt,
      rule_id: generator,
      rule_kind: types.kind,
      title: str(finding['Title']) ?? generator,
      description: str(finding['Description']),
      level,
      severity: severityId(level),
      product_severity: normalized,
      techniques: types.techniques,
      tactics: types.tactics,
      first_seen: finding['FirstObservedAt'] ? requireTime(finding['FirstObservedAt'], 'FirstObservedAt') : createdAt,
      last_seen: finding['LastObservedAt'] ? requireTime(finding['LastObservedAt'], 'LastObservedAt') : updatedAt,
      actor_id: actor,
      session_id: session,
      src_ip: remoteIp(finding),
      resources: resourceIds,
      region,
      evidence_event_ids: null,
      evidence_tables: null,
      evidence_count: null,
      group_key: str(resources[0]?.['Id']),
      created_at: createdAt,
      raw: text ?? JSON.stringify(finding),
      product: 'securityhub',
      account,
    },
  };
}

/** One record: an EventBridge event (a row per finding; one bad finding sets the event aside whole) or one finding. */
export function normalizeSecurityHubRecord(value: unknown, text: string): Row[] {
  const record = requireObject(value, 'Security Hub');
  if (record['detail-type'] !== undefined) {
    if (record['detail-type'] !== 'Security Hub Findings - Imported')
      throw new NormalizeError(`not a findings event: detail-type ${JSON.stringify(record['detail-type'])}`);
    const findings = arr(obj(record['detail'])?.['findings']);
    if (findings.length === 0) throw new NormalizeError('event has no detail.findings');
    return findings.map((f, i) => {
      try {
        return normalizeAsffFinding(f, null);
      } catch (err) {
        if (err instanceof NormalizeError) throw new NormalizeError(`detail.findings[${i}]: ${err.message}`);
        throw err;
      }
    });
  }
  return [normalizeAsffFinding(record, text)];
}

export const source = defineSource(manifest, {
  detect: detectSecurityHub,
  parse: (input) => parseJsonRecords(input, { envelopeKeys: ['Findings'] }, normalizeSecurityHubRecord),
});
