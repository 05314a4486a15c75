/** What a rule file holds once read, and what the compiler makes of it. */
import type { Frag } from './sql';

export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** Evidence ids a hit keeps (the first, in time order); its event count says how many there were. */
export const MAX_EVIDENCE = 100;

export type RuleKind = 'detection' | 'correlation' | 'baseline';

export interface RuleMeta {
  id: string;
  /** Sigma `name`: how correlation rules refer to a rule (its id works too). */
  name: string | null;
  title: string;
  kind: RuleKind;
  level: Level;
  status: string | null;
  description: string | null;
  tags: string[];
  /** ATT&CK technique ids from the `attack.tNNNN[.NNN]` tags, upper case (T1562.008). */
  techniques: string[];
  falsepositives: string[];
  /** The rule file and the line its document starts on. */
  file: string;
  line: number;
}

/** A construct the compiler cannot turn into SQL, with where it sits in the file. */
export class UnsupportedRule extends Error {
  constructor(
    readonly construct: string,
    readonly reason: string,
    readonly line: number | null,
  ) {
    super(`${construct}${line !== null ? ` (line ${line})` : ''}: ${reason}`);
    this.name = 'UnsupportedRule';
  }
}

/**
 * One SQL statement for a rule. Every statement returns the same columns (see HIT_COLUMNS);
 * its `?` slots are values of the rule or of the window the runner is given.
 */
export interface CompiledStatement {
  sql: Frag;
  /** How far before the window the statement reads (baselines' history, correlations' timespan), in ms. */
  lookbackMs: number;
  /** Hits of a correlation overlap (one per qualifying event); the runner merges those of one group. */
  mergeOverlapping: boolean;
  /** The lake tables the statement reads. */
  tables: string[];
}

export interface CompiledRule {
  meta: RuleMeta;
  statement: CompiledStatement;
  /** A correlation's member rules do not report on their own unless the correlation says `generate: true`. */
  standalone: boolean;
  /** Correlations: the member rules (ids) that report only through it (Sigma's `generate: false`, the default). */
  hidesMembers?: string[];
}

export interface RuleProblem {
  file: string;
  line: number | null;
  /** The rule, when the file got far enough to name one. */
  id: string | null;
  title: string | null;
  construct: string;
  reason: string;
}

/** Columns every compiled statement returns, in order. */
export const HIT_COLUMNS = [
  'first_time',
  'last_time',
  'actor',
  'session',
  'ip',
  'account',
  'region',
  'resources',
  'evidence',
  'event_count',
  'group_key',
] as const;
