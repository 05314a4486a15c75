/**
 * Hits of ScoutQL's rules as rows of the lake's findings table (src/core/tables.ts FindingRow).
 *
 * A finding's id is a hash of what makes it the same finding on every run: the rule, the account,
 * what the hit is about (its group key: the event for a one-event rule, the correlation's group,
 * the baseline's entity and value) and when it began. Re-running a window yields the same ids, so
 * the lake gets no duplicates (etl/lake/findings.ts replaces a window's rows by the run's).
 */
import { sha256Hex } from '../core/hash';
import { FINDING_SEVERITY_ID, type FindingRow } from '../core/tables';
import type { CompiledRule } from './model';
import { MAX_EVIDENCE, type Hit } from './run';

/** ATT&CK tactics as Sigma tags name them (`attack.defense-evasion`). */
const TACTICS = new Set([
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
]);

export function tacticsOf(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.toLowerCase().replace(/^attack\./, '')).filter((t) => TACTICS.has(t)))];
}

/** The account a finding is filed under when its evidence names none (partition value). */
export const UNKNOWN_ACCOUNT = 'unknown';

/** The stable id of the finding a hit is. */
export function findingId(ruleId: string, account: string, groupKey: string, firstSeen: Date): string {
  return sha256Hex(['scoutql', ruleId, account, groupKey, firstSeen.toISOString()].join('\u0000')).slice(0, 32);
}

/** A hit of a rule as a findings row, reported at `createdAt` (the detect run). */
export function findingOfHit(rule: CompiledRule, hit: Hit, createdAt: Date): FindingRow {
  const account = hit.account ?? UNKNOWN_ACCOUNT;
  return {
    product: 'scoutql',
    account,
    finding_id: findingId(rule.meta.id, account, hit.groupKey, hit.firstTime),
    time: hit.lastTime,
    rule_id: rule.meta.id,
    rule_kind: rule.meta.kind,
    title: rule.meta.title,
    description: rule.meta.description,
    level: rule.meta.level,
    severity: FINDING_SEVERITY_ID[rule.meta.level],
    product_severity: null,
    techniques: rule.meta.techniques,
    tactics: tacticsOf(rule.meta.tags),
    first_seen: hit.firstTime,
    last_seen: hit.lastTime,
    actor_id: hit.actor,
    session_id: hit.session,
    src_ip: hit.ip,
    resources: hit.resource === null ? [] : [hit.resource],
    region: hit.region,
    evidence_event_ids: hit.evidence.slice(0, MAX_EVIDENCE),
    evidence_tables: [...rule.statement.tables],
    evidence_count: hit.eventCount,
    group_key: hit.groupKey,
    created_at: createdAt,
    raw: null,
  };
}

/** What an earlier run wrote for the same rule and group (a correlation's burst that went on past that run's window). */
export interface EarlierFinding {
  finding_id: string;
  rule_id: string;
  group_key: string;
  first_seen: Date;
  last_seen: Date;
  evidence_event_ids: string[];
  evidence_count: number;
  created_at: Date;
}

/**
 * A finding that goes on where an earlier run's left off (same rule and group, overlapping in time)
 * is the same finding, seen again: it keeps the earlier id, start and created_at, and adds its
 * evidence. The lake then holds two versions of one finding; readers take the newer.
 */
export function continueEarlier(row: FindingRow, earlier: readonly EarlierFinding[]): FindingRow {
  const match = earlier
    .filter(
      (e) =>
        e.rule_id === row.rule_id &&
        e.group_key === row.group_key &&
        e.last_seen.getTime() >= row.first_seen.getTime() &&
        e.first_seen.getTime() <= row.first_seen.getTime(),
    )
    .sort((a, b) => a.first_seen.getTime() - b.first_seen.getTime())[0];
  if (!match) return row;
  const evidence = [...new Set([...match.evidence_event_ids, ...(row.evidence_event_ids ?? [])])];
  return {
    ...row,
    finding_id: match.finding_id,
    first_seen: match.first_seen,
    created_at: match.created_at,
    evidence_event_ids: evidence.slice(0, MAX_EVIDENCE),
    // Each count may stand for more ids than its list holds: the union is a lower bound.
    evidence_count: Math.max(evidence.length, Number(row.evidence_count ?? 0), match.evidence_count),
  };
}
