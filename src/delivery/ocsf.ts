/**
 * A finding of the lake (src/core/tables.ts FindingRow) as an OCSF Detection Finding (class 2004,
 * category 2 Findings), the form delivery sends. Field names follow the OCSF schema
 * (events/findings/finding.json, detection_finding.json, objects/finding_info.json); the Cloud
 * profile carries the account and region.
 */
import { FINDING_LEVELS, type FindingLevel, type FindingRow } from '../core/tables';

export const OCSF_VERSION = '1.3.0';
export const DETECTION_FINDING_CLASS = 2004;
/** Activity 1 (Create): delivery sends findings when they are first reported. */
const CREATE = 1;

const SEVERITY_CAPTION: Record<FindingLevel, string> = {
  informational: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

const PRODUCT_NAME: Record<string, string> = { scoutql: 'ScoutQL', guardduty: 'Amazon GuardDuty', securityhub: 'AWS Security Hub' };

/** One OCSF Detection Finding (only the attributes ScoutQL fills; JSON-ready). */
export interface OcsfDetectionFinding {
  class_uid: 2004;
  class_name: 'Detection Finding';
  category_uid: 2;
  category_name: 'Findings';
  activity_id: 1;
  activity_name: 'Create';
  type_uid: 200401;
  type_name: 'Detection Finding: Create';
  /** When the finding was first reported (ms since the epoch). */
  time: number;
  start_time: number;
  end_time: number;
  severity_id: number;
  severity: string;
  status_id: 1;
  status: 'New';
  is_alert: true;
  message: string;
  metadata: {
    version: string;
    uid: string;
    product: { name: string; vendor_name: string; feature?: { name: string } };
    profiles: string[];
  };
  finding_info: {
    uid: string;
    title: string;
    desc?: string;
    types: string[];
    created_time: number;
    first_seen_time: number;
    last_seen_time: number;
    modified_time: number;
    analytic: { uid: string; name: string; type_id: number; type: string; category?: string };
    attacks?: { technique: { uid: string }; tactic?: { name: string }; version?: string }[];
    related_events?: { uid: string }[];
    related_events_count?: number;
  };
  cloud: { provider: 'AWS' | 'Azure' | 'GCP' | 'Unknown'; account: { uid: string }; region?: string };
  resources?: { uid: string; type?: string }[];
  evidences?: {
    actor?: { user?: { uid: string }; session?: { uid: string } };
    src_endpoint?: { ip: string };
  }[];
  unmapped?: Record<string, unknown>;
}

function ms(value: Date): number {
  return value.getTime();
}

function levelOf(text: string): FindingLevel {
  return (FINDING_LEVELS as readonly string[]).includes(text) ? (text as FindingLevel) : 'informational';
}

function providerOf(row: FindingRow): OcsfDetectionFinding['cloud']['provider'] {
  if (row.product !== 'scoutql') return 'AWS';
  const actor = row.actor_id ?? '';
  if (actor.startsWith('azuread:')) return 'Azure';
  if (actor.startsWith('gcp:')) return 'GCP';
  if (actor.startsWith('arn:') || /^\d{12}$/.test(row.account)) return 'AWS';
  return 'Unknown';
}

/** OCSF analytic type_id: 1 Rule, 2 Behavioral (baselines); products' own detectors are 99 Other. */
function analyticType(row: FindingRow): { type_id: number; type: string } {
  if (row.product !== 'scoutql') return { type_id: 99, type: 'Other' };
  if (row.rule_kind === 'baseline') return { type_id: 2, type: 'Behavioral' };
  return { type_id: 1, type: 'Rule' };
}

export function toOcsf(row: FindingRow): OcsfDetectionFinding {
  const level = levelOf(row.level);
  const techniques = row.techniques ?? [];
  const tactics = row.tactics ?? [];
  const evidence = {
    ...(row.actor_id || row.session_id
      ? {
          actor: {
            ...(row.actor_id ? { user: { uid: row.actor_id } } : {}),
            ...(row.session_id ? { session: { uid: row.session_id } } : {}),
          },
        }
      : {}),
    ...(row.src_ip ? { src_endpoint: { ip: row.src_ip } } : {}),
  };
  return {
    class_uid: DETECTION_FINDING_CLASS,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: CREATE,
    activity_name: 'Create',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    time: ms(row.created_at),
    start_time: ms(row.first_seen),
    end_time: ms(row.last_seen),
    severity_id: row.severity,
    severity: SEVERITY_CAPTION[level],
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: row.title,
    metadata: {
      version: OCSF_VERSION,
      uid: row.finding_id,
      product: {
        name: PRODUCT_NAME[row.product] ?? row.product,
        vendor_name: row.product === 'scoutql' ? 'ScoutQL' : 'AWS',
        ...(row.product !== 'scoutql' ? { feature: { name: 'ScoutQL import' } } : {}),
      },
      profiles: ['cloud'],
    },
    finding_info: {
      uid: row.finding_id,
      title: row.title,
      ...(row.description ? { desc: row.description } : {}),
      types: [row.rule_id],
      created_time: ms(row.created_at),
      first_seen_time: ms(row.first_seen),
      last_seen_time: ms(row.last_seen),
      modified_time: ms(row.time),
      analytic: { uid: row.rule_id, name: row.title, ...analyticType(row), ...(row.rule_kind ? { category: row.rule_kind } : {}) },
      ...(techniques.length
        ? {
            attacks: techniques.map((uid, i) => ({
              technique: { uid },
              ...((tactics[i] ?? tactics[0]) ? { tactic: { name: tactics[i] ?? tactics[0] } } : {}),
            })),
          }
        : {}),
      ...(row.evidence_event_ids?.length ? { related_events: row.evidence_event_ids.map((uid) => ({ uid })) } : {}),
      ...(row.evidence_count != null ? { related_events_count: Number(row.evidence_count) } : {}),
    },
    cloud: { provider: providerOf(row), account: { uid: row.account }, ...(row.region ? { region: row.region } : {}) },
    ...(row.resources?.length ? { resources: row.resources.map((uid) => ({ uid })) } : {}),
    ...(Object.keys(evidence).length ? { evidences: [evidence] } : {}),
    unmapped: {
      scoutql: {
        product: row.product,
        level: row.level,
        ...(row.product_severity != null ? { product_severity: row.product_severity } : {}),
        ...(row.group_key ? { group_key: row.group_key } : {}),
      },
    },
  };
}
