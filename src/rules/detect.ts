/**
 * One detect run over a window, on any engine: every standalone rule under the cost guard, its hits
 * as findings rows (continuing findings an earlier run began), suppressions applied. Writing the
 * rows into the lake is the caller's (src/cli wires etl/lake/findings.ts): this layer only reads.
 */
import type { FindingRow } from '../core/tables';
import type { QueryEngine, SqlRow, SqlValue } from '../engine/types';
import { earlierFindings } from '../queries/findings';
import { AccountScope } from '../queries/scope';
import { costRefusal, estimateScan, type TableDayBytes } from './cost';
import { continueEarlier, findingOfHit, type EarlierFinding } from './findings';
import type { CompiledRule, Level, RuleKind } from './model';
import { RuleRunError, runRule, type TimeWindow } from './run';
import { NO_SUPPRESSIONS, applySuppressions, type SuppressionOutcome, type Suppressions } from './suppressions';

export interface DetectRunOptions {
  window: TimeWindow;
  suppressions?: Suppressions;
  /** Bytes of each event table per day, for the cost guard before a rule runs (null: no pre-run check). */
  sizes?: TableDayBytes | null;
  /** The cost guard: a rule that would scan more is refused by name (null: no limit). */
  maxScanBytes?: number | null;
  /** Most hits kept per rule (default 10,000); more is reported as truncated. */
  limitPerRule?: number;
  /** The run's time, written as created_at of new findings. */
  now?: Date;
  signal?: AbortSignal;
}

export interface RuleOutcome {
  ruleId: string;
  title: string;
  kind: RuleKind;
  level: Level;
  /** Findings after suppression. */
  findings: number;
  suppressed: number;
  truncated: boolean;
  millis: number;
  bytesScanned: number;
  /** Bytes the cost guard estimated the rule would scan at most (null without sizes). */
  estimatedBytes: number | null;
}

export interface DetectOutcome {
  window: TimeWindow;
  findings: FindingRow[];
  /** Rules that ran to the end: the run is authoritative for their findings in the window. */
  ran: RuleOutcome[];
  /** Rules the cost guard refused, by name. */
  refused: { ruleId: string; title: string; reason: string }[];
  /** Rules whose statement failed (the others still ran). */
  failed: { ruleId: string; title: string; reason: string }[];
  suppressions: SuppressionOutcome['counts'];
  unknownSuppressionRules: SuppressionOutcome['unknownRules'];
}

const text = (v: SqlValue | undefined) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));
const time = (v: SqlValue | undefined) =>
  v instanceof Date ? v : new Date(text(v).replace(' ', 'T') + (text(v).endsWith('Z') ? '' : 'Z'));
const list = (v: SqlValue | undefined): string[] => {
  if (Array.isArray(v)) return v.map(text);
  if (typeof v === 'string' && v.startsWith('['))
    return (JSON.parse(v) as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  return [];
};

function earlierOf(row: SqlRow): EarlierFinding {
  return {
    finding_id: text(row.finding_id),
    rule_id: text(row.rule_id),
    group_key: text(row.group_key),
    first_seen: time(row.first_seen),
    last_seen: time(row.last_seen),
    evidence_event_ids: list(row.evidence_event_ids),
    evidence_count: Number(row.evidence_count ?? 0),
    created_at: time(row.created_at),
  };
}

export async function detectFindings(
  engine: QueryEngine,
  rules: readonly CompiledRule[],
  options: DetectRunOptions,
): Promise<DetectOutcome> {
  const { window } = options;
  const now = options.now ?? new Date();
  const outcome: DetectOutcome = { window, findings: [], ran: [], refused: [], failed: [], suppressions: [], unknownSuppressionRules: [] };
  const rows: FindingRow[] = [];
  const ran: { rule: CompiledRule; outcome: RuleOutcome }[] = [];
  for (const rule of rules) {
    if (!rule.standalone) continue;
    const meta = rule.meta;
    const estimate = options.sizes ? estimateScan(rule, window, options.sizes) : null;
    const refusal = estimate ? costRefusal(rule, estimate, options.maxScanBytes ?? null) : null;
    if (refusal) {
      outcome.refused.push({ ruleId: meta.id, title: meta.title, reason: refusal });
      continue;
    }
    try {
      const run = await runRule(engine, rule, window, { limit: options.limitPerRule ?? 10_000, signal: options.signal });
      rows.push(...run.hits.map((hit) => findingOfHit(rule, hit, now)));
      ran.push({
        rule,
        outcome: {
          ruleId: meta.id,
          title: meta.title,
          kind: meta.kind,
          level: meta.level,
          findings: 0,
          suppressed: 0,
          truncated: run.truncated,
          millis: run.millis,
          bytesScanned: run.bytesScanned,
          estimatedBytes: estimate?.bytes ?? null,
        },
      });
    } catch (err) {
      if (!(err instanceof RuleRunError)) throw err;
      const refused = (err.cause as { code?: string } | undefined)?.code === 'COST_LIMIT';
      (refused ? outcome.refused : outcome.failed).push({ ruleId: meta.id, title: meta.title, reason: err.message });
    }
  }

  // A burst that began before the window may be one an earlier run already reported: same finding.
  const reachingBack = rows.filter((r) => r.first_seen.getTime() < window.from.getTime());
  let continued = rows;
  if (reachingBack.length > 0) {
    const since = new Date(Math.min(...reachingBack.map((r) => r.first_seen.getTime())));
    const groups = [
      ...new Map(
        reachingBack.map((r) => [`${r.rule_id}\u0000${r.group_key}`, { ruleId: r.rule_id, groupKey: r.group_key ?? '' }]),
      ).values(),
    ];
    // Detect writes for every account, so it reads what it wrote for every account.
    const statement = earlierFindings(AccountScope.ALL, groups, since, window.from);
    const earlier = (await engine.query(statement.sql, statement.params, { label: statement.label, signal: options.signal })).rows.map(
      earlierOf,
    );
    continued = rows.map((r) => (r.first_seen.getTime() < window.from.getTime() ? continueEarlier(r, earlier) : r));
  }

  const applied = applySuppressions(
    options.suppressions ?? NO_SUPPRESSIONS,
    continued,
    rules.map((r) => r.meta),
  );
  outcome.findings = applied.kept;
  outcome.suppressions = applied.counts;
  outcome.unknownSuppressionRules = applied.unknownRules;
  const kept = new Map<string, number>();
  for (const row of applied.kept) kept.set(row.rule_id, (kept.get(row.rule_id) ?? 0) + 1);
  const produced = new Map<string, number>();
  for (const row of continued) produced.set(row.rule_id, (produced.get(row.rule_id) ?? 0) + 1);
  outcome.ran = ran.map(({ rule, outcome: o }) => ({
    ...o,
    findings: kept.get(rule.meta.id) ?? 0,
    suppressed: (produced.get(rule.meta.id) ?? 0) - (kept.get(rule.meta.id) ?? 0),
  }));
  return outcome;
}
