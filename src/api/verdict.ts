/**
 * contextFor's verdict: how strongly the lake points at an indicator, as a score 0–3 and the reasons
 * that gave it. The numbers are those SOAR reputation scores use (Cortex XSOAR's DBotScore: 0 unknown,
 * 1 good, 2 suspicious, 3 bad), so a playbook maps the score as it is; but 1 here means "the lake saw
 * it and nothing fired", never "known good".
 *
 * | score | label       | reason that gives it                                                      |
 * | ----- | ----------- | ------------------------------------------------------------------------- |
 * | 0     | UNKNOWN     | NO_DATA: the lake holds no records at all in the window (for the caller's  |
 * |       |             | accounts): nothing can be said. NOT_SEEN: it holds records, none name it.  |
 * | 1     | NO_FINDINGS | SEEN: it matched something (events, first / last seen); FINDINGS at LOW or |
 * |       |             | INFORMATIONAL (baselines, new-behaviour hits: listed, not weighed).        |
 * | 2     | SUSPICIOUS  | FINDINGS at MEDIUM naming what it matched.                                 |
 * | 3     | MALICIOUS   | FINDINGS at HIGH or CRITICAL naming what it matched.                       |
 *
 * The score is the highest any reason gives. Findings count when they name one of the entities the
 * indicator matched (as identity, session, source address or resource), from any product (ScoutQL
 * rules, GuardDuty, Security Hub), latest version in the window. docs/soar.md documents the same table.
 */
import { FINDING_LEVELS } from '../core/tables';
import type { FindingLevel, VerdictLabel, VerdictReasonCode } from '../generated/graphql';
import type { FindingLevelCount } from './loaders';

export type VerdictScore = 0 | 1 | 2 | 3;

export interface VerdictReasonModel {
  code: VerdictReasonCode;
  /** The score this reason alone gives. */
  score: VerdictScore;
  text: string;
  /** FINDINGS: their level. */
  level: FindingLevel | null;
  /** FINDINGS: how many at that level; SEEN: events in the window; NOT_SEEN, NO_DATA: 0. */
  count: number;
  /** FINDINGS: the rule ids (GuardDuty types, Security Hub generators) at that level, sorted. */
  rules: string[];
}

export interface VerdictModel {
  score: VerdictScore;
  label: VerdictLabel;
  reasons: VerdictReasonModel[];
}

export interface VerdictInput {
  /** Whether the indicator matched anything in the window. */
  found: boolean;
  /** What it was found as (Identity, Session, IPAddress, Resource, Account, Domain), in order. */
  foundAs: readonly string[];
  eventCount: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
  /** Findings naming what it matched, per level. */
  levels: readonly FindingLevelCount[];
  /** Asked only when nothing matched: does the lake hold any record in the window? */
  lakeHasData: () => Promise<boolean>;
}

export const LABELS: Record<VerdictScore, VerdictLabel> = { 0: 'UNKNOWN', 1: 'NO_FINDINGS', 2: 'SUSPICIOUS', 3: 'MALICIOUS' };

/** The score findings of a level give (core levels, lowest first: informational … critical). */
const LEVEL_SCORE: Record<string, VerdictScore> = { informational: 1, low: 1, medium: 2, high: 3, critical: 3 };

export async function verdictOf(input: VerdictInput): Promise<VerdictModel> {
  const reasons: VerdictReasonModel[] = [];
  // Highest level first; a level the contract does not know (a newer product's) is weighed as medium.
  const levels = [...input.levels].sort((a, b) => levelRank(b.level) - levelRank(a.level));
  for (const { level, count, rules } of levels) {
    const known = (FINDING_LEVELS as readonly string[]).includes(level) ? level : 'medium';
    const shown = rules.slice(0, 10);
    const more = rules.length > shown.length ? ` and ${rules.length - shown.length} more` : '';
    reasons.push({
      code: 'FINDINGS',
      score: LEVEL_SCORE[known],
      text: `${count} ${known} finding${count === 1 ? ' names' : 's name'} what it matched (${shown.join(', ')}${more})`,
      level: known.toUpperCase() as FindingLevel,
      count,
      rules,
    });
  }
  if (input.found) {
    const seen = input.firstSeen && input.lastSeen ? ` from ${input.firstSeen.toISOString()} to ${input.lastSeen.toISOString()}` : '';
    // A domain has no events of its own (its look-ups are the addresses' DNS events).
    const events = input.eventCount > 0 ? ` in ${input.eventCount} event${input.eventCount === 1 ? '' : 's'}` : '';
    reasons.push({
      code: 'SEEN',
      score: 1,
      text: `seen as ${[...new Set(input.foundAs)].join(', ')}${events}${seen}`,
      level: null,
      count: input.eventCount,
      rules: [],
    });
  } else if (await input.lakeHasData()) {
    reasons.push({
      code: 'NOT_SEEN',
      score: 0,
      text: 'the lake holds records in the window and none of them name it',
      level: null,
      count: 0,
      rules: [],
    });
  } else {
    reasons.push({
      code: 'NO_DATA',
      score: 0,
      text: 'the lake holds no records in the window (for the accounts this caller may read): nothing can be said',
      level: null,
      count: 0,
      rules: [],
    });
  }
  reasons.sort((a, b) => b.score - a.score);
  const score = reasons.reduce<VerdictScore>((best, r) => (r.score > best ? r.score : best), 0);
  return { score, label: LABELS[score], reasons };
}

function levelRank(level: string): number {
  const i = (FINDING_LEVELS as readonly string[]).indexOf(level);
  return i < 0 ? FINDING_LEVELS.indexOf('medium') : i;
}
