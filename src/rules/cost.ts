/**
 * The cost guard before a rule runs: what its statement would scan at most (the bytes of the lake
 * files of the tables it reads, over the days its window and look-back cover) against the limit.
 * A rule over the limit is refused by name and does not run; the others do. Athena stops a query
 * that passes its own scan limit while running too (the runner reports that by name as well).
 */
import type { CompiledRule } from './model';
import type { TimeWindow } from './run';

const DAY_MS = 86_400_000;
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The partition days a rule's statement reads for a window (look-back included). */
export function daysRead(rule: CompiledRule, window: TimeWindow): string[] {
  const first = Date.parse(dayOf(window.from.getTime() - rule.statement.lookbackMs));
  const last = Date.parse(dayOf(window.to.getTime() - 1));
  const days: string[] = [];
  for (let t = first; t <= last; t += DAY_MS) days.push(dayOf(t));
  return days;
}

export interface ScanEstimate {
  ruleId: string;
  /** Bytes of the files the statement reads at most. */
  bytes: number;
  tables: string[];
  fromDay: string;
  toDay: string;
}

/** Bytes per table and day (from the lake's listing). */
export type TableDayBytes = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function estimateScan(rule: CompiledRule, window: TimeWindow, sizes: TableDayBytes): ScanEstimate {
  const days = daysRead(rule, window);
  let bytes = 0;
  for (const table of rule.statement.tables) for (const day of days) bytes += sizes.get(table)?.get(day) ?? 0;
  return { ruleId: rule.meta.id, bytes, tables: [...rule.statement.tables], fromDay: days[0], toDay: days[days.length - 1] };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Why the rule may not run under the limit, or null when it may. */
export function costRefusal(rule: CompiledRule, estimate: ScanEstimate, maxBytes: number | null): string | null {
  if (maxBytes === null || estimate.bytes <= maxBytes) return null;
  return `rule ${rule.meta.id} (${rule.meta.title}) refused: it would scan up to ${mb(estimate.bytes)} of ${estimate.tables.join(', ')} (${estimate.fromDay} … ${estimate.toDay}), over the cost guard of ${mb(maxBytes)}`;
}
