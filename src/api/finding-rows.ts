/** A row of src/queries/findings.ts as the API's FindingRecord: lists parsed (they arrive as JSON text), times as Dates. */
import type { SqlRow, SqlValue } from '../engine/types';
import type { FindingRecord } from './models';

const text = (v: SqlValue | undefined): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function time(v: SqlValue | undefined): Date {
  if (v instanceof Date) return v;
  const t = text(v);
  if (t === null) throw new Error('a findings row lacks a required time');
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t.replace(' ', 'T')}Z`);
}

/** A list column (JSON text on both engines) as strings. */
export function listOf(v: SqlValue | undefined): string[] {
  let value: unknown = v;
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v);
    } catch {
      return [v];
    }
  }
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

export function findingFromRow(row: SqlRow): FindingRecord {
  const num = (v: SqlValue | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    findingId: text(row.finding_id) ?? '',
    product: text(row.product) ?? '',
    account: text(row.account) ?? '',
    timeKey: text(row.time_key) ?? '',
    time: time(row.time),
    ruleId: text(row.rule_id) ?? '',
    ruleKind: text(row.rule_kind),
    title: text(row.title) ?? '',
    description: text(row.description),
    level: text(row.level) ?? 'medium',
    severity: num(row.severity) ?? 0,
    productSeverity: num(row.product_severity),
    techniques: listOf(row.techniques),
    tactics: listOf(row.tactics),
    firstSeen: time(row.first_seen),
    lastSeen: time(row.last_seen),
    actorId: text(row.actor_id),
    sessionId: text(row.session_id),
    srcIp: text(row.src_ip),
    resources: listOf(row.resources),
    region: text(row.region),
    evidenceEventIds: listOf(row.evidence_event_ids),
    evidenceTables: listOf(row.evidence_tables),
    evidenceCount: num(row.evidence_count) ?? 0,
    groupKey: text(row.group_key),
    createdAt: time(row.created_at),
    raw: text(row.raw),
  };
}
