/**
 * Runs compiled rules over a time window on any QueryEngine (DuckDB or Athena) and returns hits:
 * which rule, its level and ATT&CK techniques, when, the entities it names (actor, session, IP,
 * resource, account) and the ids of the events that are its evidence.
 */
import { EngineError, type QueryEngine, type SqlParam, type SqlRow, type SqlValue } from '../engine/types';
import { MAX_EVIDENCE, type CompiledRule, type Level } from './model';
import { bindSlots, param, sql, type WindowValue } from './sql';

export interface TimeWindow {
  from: Date;
  to: Date;
}

export interface Hit {
  ruleId: string;
  title: string;
  level: Level;
  techniques: string[];
  firstTime: Date;
  lastTime: Date;
  actor: string | null;
  session: string | null;
  ip: string | null;
  /** The first resource the last evidence event names. */
  resource: string | null;
  account: string | null;
  region: string | null;
  /** Event ids, in time order (at most MAX_EVIDENCE; eventCount says how many there were). */
  evidence: string[];
  eventCount: number;
  /** What groups the hit: the event id, the correlation's group keys, the baseline's entity and value. */
  groupKey: string;
}

export interface RuleRun {
  rule: CompiledRule;
  hits: Hit[];
  /** More hits existed than the limit let through. */
  truncated: boolean;
  millis: number;
  bytesScanned: number;
}

export interface RunOptions {
  /** Most hits returned per rule (default 1,000). */
  limit?: number;
  signal?: AbortSignal;
}

export { MAX_EVIDENCE };

const day = (d: Date) => d.toISOString().slice(0, 10);

function windowValues(window: TimeWindow, lookbackMs: number): Record<WindowValue, SqlParam> {
  const lastInstant = new Date(window.to.getTime() - 1);
  const lookbackFrom = new Date(window.from.getTime() - lookbackMs);
  return {
    from: window.from,
    to: window.to,
    fromDay: day(window.from),
    toDay: day(lastInstant),
    lookbackFrom,
    lookbackFromDay: day(lookbackFrom),
  };
}

/** The statement the engine runs for a rule over a window, with its parameters. */
export function boundStatement(rule: CompiledRule, window: TimeWindow, limit: number): { sql: string; params: SqlParam[] } {
  // Lists come back as JSON: exact on both engines (Athena prints arrays as unquoted text).
  const statement = sql`SELECT first_time, last_time, actor, session, ip, account, region, CAST(resources AS JSON) AS resources, CAST(evidence AS JSON) AS evidence, event_count, group_key FROM (${rule.statement.sql}) hits ORDER BY first_time, group_key LIMIT ${param(limit + 1)}`;
  return { sql: statement.text, params: bindSlots(statement.slots, windowValues(window, rule.statement.lookbackMs)) };
}

function str(value: SqlValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value instanceof Date ? value.toISOString() : null;
}

function date(value: SqlValue | undefined): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string') return new Date(value.includes('T') || value.endsWith('Z') ? value : `${value.replace(' ', 'T')}Z`);
  throw new Error(`expected a timestamp, got ${JSON.stringify(value)}`);
}

function list(value: SqlValue | undefined): string[] {
  const texts = (items: readonly unknown[]) => items.map((v) => str(v as SqlValue)).filter((v): v is string => v !== null);
  if (Array.isArray(value)) return texts(value);
  if (typeof value === 'string' && value.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) return texts(parsed);
    } catch {
      /* not JSON: a single value */
    }
  }
  const single = str(value);
  return single === null ? [] : [single];
}

function toHit(rule: CompiledRule, row: SqlRow): Hit {
  const evidence = [...new Set(list(row.evidence))];
  return {
    ruleId: rule.meta.id,
    title: rule.meta.title,
    level: rule.meta.level,
    techniques: rule.meta.techniques,
    firstTime: date(row.first_time),
    lastTime: date(row.last_time),
    actor: str(row.actor),
    session: str(row.session),
    ip: str(row.ip),
    resource: list(row.resources)[0] ?? null,
    account: str(row.account),
    region: str(row.region),
    evidence,
    eventCount: Number(row.event_count ?? evidence.length),
    groupKey: str(row.group_key) ?? '',
  };
}

/** Correlation windows of one group that overlap become one hit (a burst of 40 calls is one finding, not 31). */
export function mergeOverlapping(hits: Hit[]): Hit[] {
  const byGroup = new Map<string, Hit[]>();
  for (const hit of hits) byGroup.set(hit.groupKey, [...(byGroup.get(hit.groupKey) ?? []), hit]);
  const merged: Hit[] = [];
  for (const group of byGroup.values()) {
    group.sort((a, b) => a.firstTime.getTime() - b.firstTime.getTime() || a.lastTime.getTime() - b.lastTime.getTime());
    let current: Hit | null = null;
    for (const hit of group) {
      if (current && hit.firstTime.getTime() <= current.lastTime.getTime()) {
        const evidence: string[] = [...new Set([...current.evidence, ...hit.evidence])];
        const later: boolean = hit.lastTime.getTime() >= current.lastTime.getTime();
        current = {
          ...(later ? hit : current),
          firstTime: current.firstTime,
          lastTime: later ? hit.lastTime : current.lastTime,
          evidence,
          eventCount: evidence.length,
        };
      } else {
        if (current) merged.push(current);
        current = { ...hit };
      }
    }
    if (current) merged.push(current);
  }
  return merged.sort((a, b) => a.firstTime.getTime() - b.firstTime.getTime() || a.groupKey.localeCompare(b.groupKey));
}

export class RuleRunError extends Error {
  constructor(
    readonly ruleId: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'RuleRunError';
  }
}

export async function runRule(engine: QueryEngine, rule: CompiledRule, window: TimeWindow, options: RunOptions = {}): Promise<RuleRun> {
  if (!(window.from.getTime() < window.to.getTime())) throw new RuleRunError(rule.meta.id, 'the window must end after it starts');
  const limit = options.limit ?? 1_000;
  const { sql: text, params } = boundStatement(rule, window, limit);
  let result;
  try {
    result = await engine.query(text, params, { signal: options.signal, label: `rule ${rule.meta.id}` });
  } catch (err) {
    if (err instanceof EngineError && err.code === 'COST_LIMIT')
      throw new RuleRunError(rule.meta.id, `rule ${rule.meta.id} (${rule.meta.title}) refused: ${err.message}`, err);
    throw new RuleRunError(
      rule.meta.id,
      `rule ${rule.meta.id} (${rule.meta.title}) failed on ${engine.name}: ${(err as Error).message}`,
      err,
    );
  }
  const truncated = result.rows.length > limit;
  let hits = result.rows.slice(0, limit).map((row) => toHit(rule, row));
  if (rule.statement.mergeOverlapping) hits = mergeOverlapping(hits);
  for (const hit of hits) if (hit.evidence.length > MAX_EVIDENCE) hit.evidence = hit.evidence.slice(0, MAX_EVIDENCE);
  return { rule, hits, truncated, millis: result.stats.millis, bytesScanned: result.stats.bytesScanned };
}

/** Runs every standalone rule, one after another (an engine's own parallelism serves each statement). */
export async function runRules(
  engine: QueryEngine,
  rules: readonly CompiledRule[],
  window: TimeWindow,
  options: RunOptions = {},
): Promise<RuleRun[]> {
  const runs: RuleRun[] = [];
  for (const rule of rules) if (rule.standalone) runs.push(await runRule(engine, rule, window, options));
  return runs;
}
