/**
 * Delivery of new findings: `queueNewFindings` compares the lake's findings table with each
 * destination's ledger and queues what it has not seen (first reported after the destination was
 * set up, of the configured products and levels); `deliverOutbox` sends what is due, at least once,
 * retrying with exponential backoff and full jitter, and sets aside what is refused or out of
 * attempts. Both are safe to run again at any point (see outbox.ts).
 */
import { LocalDuckDb, findingsTableSelect } from '../core/duckdb';
import { FINDING_LEVELS, FINDINGS_TABLE, type FindingLevel, type FindingProduct, type FindingRow } from '../core/tables';
import type { DeliveryConfig, Destination } from './config';
import { toOcsf } from './ocsf';
import { DestinationOutbox, type OutboxEntry } from './outbox';
import { senderFor, type Sender } from './senders';

export interface DeliveryClock {
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): the jitter. */
  random: () => number;
}

export const SYSTEM_CLOCK: DeliveryClock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * Marks each destination as set up now, if it is new: findings first reported before that are not
 * sent. Call it before a run that may report findings (ingest), so they count as new.
 */
export function prepareOutbox(lake: string, config: DeliveryConfig, clock: DeliveryClock = SYSTEM_CLOCK): void {
  for (const d of config.destinations) new DestinationOutbox(lake, d.name).since(clock.now());
}

/** The latest version of every finding in the lake. */
export async function readFindings(lake: string): Promise<FindingRow[]> {
  const db = await LocalDuckDb.open({ memoryLimit: '200MB' });
  try {
    const columns = FINDINGS_TABLE.columns.map((c) => `"${c.name}"`).join(', ');
    const rows = await db.rows(
      `SELECT ${columns}, product, account FROM (${findingsTableSelect(lake)})
       QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY "time" DESC, created_at DESC) = 1
       ORDER BY created_at, finding_id`,
    );
    return rows.map(toFindingRow);
  } finally {
    db.close();
  }
}

function toFindingRow(r: Record<string, unknown>): FindingRow {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);
  const date = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
  return {
    finding_id: String(r.finding_id),
    time: date(r.time),
    rule_id: String(r.rule_id),
    rule_kind: text(r.rule_kind),
    title: String(r.title),
    description: text(r.description),
    level: String(r.level),
    severity: Number(r.severity),
    product_severity: num(r.product_severity),
    techniques: list(r.techniques),
    tactics: list(r.tactics),
    first_seen: date(r.first_seen),
    last_seen: date(r.last_seen),
    actor_id: text(r.actor_id),
    session_id: text(r.session_id),
    src_ip: text(r.src_ip),
    resources: list(r.resources),
    region: text(r.region),
    evidence_event_ids: list(r.evidence_event_ids),
    evidence_tables: list(r.evidence_tables),
    evidence_count: num(r.evidence_count),
    group_key: text(r.group_key),
    created_at: date(r.created_at),
    raw: text(r.raw),
    product: String(r.product) as FindingProduct,
    account: String(r.account),
  };
}

export interface QueueSummary {
  destination: string;
  queued: number;
}

/** Queues, for every destination, the findings it has not seen yet. */
export async function queueNewFindings(lake: string, config: DeliveryConfig, clock: DeliveryClock = SYSTEM_CLOCK): Promise<QueueSummary[]> {
  if (config.destinations.length === 0) return [];
  const findings = (await readFindings(lake)).filter(
    (f) => config.products.includes(f.product) && levelRank(f.level) >= levelRank(config.minLevel),
  );
  return config.destinations.map((d) => {
    const outbox = new DestinationOutbox(lake, d.name);
    const since = outbox.since(clock.now());
    const ledger = outbox.ledger();
    const now = clock.now().toISOString();
    const entries: OutboxEntry[] = findings
      .filter((f) => f.created_at.getTime() >= since.getTime() && !ledger.has(f.finding_id))
      .map((f) => ({ key: f.finding_id, destination: d.name, payload: toOcsf(f), queuedAt: now, attempts: 0, nextAttemptAt: now }));
    outbox.queue(entries);
    return { destination: d.name, queued: entries.length };
  });
}

function levelRank(level: string): number {
  return FINDING_LEVELS.indexOf(level as FindingLevel);
}

export interface DeliverOptions {
  /** Keep retrying until this many ms have passed (default 0: one pass over what is due now). */
  waitMs?: number;
  clock?: DeliveryClock;
  env?: NodeJS.ProcessEnv;
  /** Called after each attempt (progress, logs). */
  onAttempt?: (event: AttemptEvent) => void;
}

export interface AttemptEvent {
  destination: string;
  key: string;
  attempt: number;
  outcome: 'delivered' | 'retry' | 'failed';
  error?: string;
  /** For 'retry': the wait before the next attempt. */
  delayMs?: number;
}

export interface DeliverySummary {
  destination: string;
  delivered: number;
  retried: number;
  failed: number;
  /** Still owed after this run (their next attempt is later). */
  pending: number;
}

/** The wait before attempt n+1 after n failed ones: full jitter over an exponential ceiling. */
export function backoffMs(attempts: number, config: DeliveryConfig, random: () => number): number {
  const ceiling = Math.min(config.backoff.maxMs, config.backoff.baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.floor(random() * ceiling);
}

export async function deliverOutbox(lake: string, config: DeliveryConfig, options: DeliverOptions = {}): Promise<DeliverySummary[]> {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const deadline = clock.now().getTime() + (options.waitMs ?? 0);
  const summaries: DeliverySummary[] = [];
  for (const destination of config.destinations) {
    summaries.push(await deliverTo(lake, destination, config, deadline, clock, options));
  }
  return summaries;
}

async function deliverTo(
  lake: string,
  destination: Destination,
  config: DeliveryConfig,
  deadline: number,
  clock: DeliveryClock,
  options: DeliverOptions,
): Promise<DeliverySummary> {
  const outbox = new DestinationOutbox(lake, destination.name);
  const summary: DeliverySummary = { destination: destination.name, delivered: 0, retried: 0, failed: 0, pending: 0 };
  if (outbox.pending().length === 0) return summary;
  const release = outbox.lock();
  let sender: Sender | null = null;
  try {
    sender = senderFor(destination, options.env);
    for (;;) {
      const pending = outbox.pending();
      const now = clock.now().getTime();
      const due = pending.filter((e) => Date.parse(e.nextAttemptAt) <= now);
      if (due.length === 0) {
        const next = Math.min(...pending.map((e) => Date.parse(e.nextAttemptAt)));
        if (pending.length === 0 || next > deadline) break;
        await clock.sleep(next - now);
        continue;
      }
      for (const entry of due) await attempt(outbox, sender, entry, config, clock, summary, options);
    }
    summary.pending = outbox.pending().length;
  } finally {
    sender?.close();
    release();
  }
  return summary;
}

async function attempt(
  outbox: DestinationOutbox,
  sender: Sender,
  entry: OutboxEntry,
  config: DeliveryConfig,
  clock: DeliveryClock,
  summary: DeliverySummary,
  options: DeliverOptions,
): Promise<void> {
  const result = await sender.send(entry.key, entry.payload);
  const updated: OutboxEntry = { ...entry, attempts: entry.attempts + 1 };
  const report = (e: Omit<AttemptEvent, 'destination' | 'key' | 'attempt'>) =>
    options.onAttempt?.({ destination: outbox.destination, key: entry.key, attempt: updated.attempts, ...e });
  if (result.ok) {
    outbox.markDelivered(updated, clock.now());
    summary.delivered += 1;
    return report({ outcome: 'delivered' });
  }
  updated.lastError = result.error;
  if (!result.retryable || updated.attempts >= config.maxAttempts) {
    outbox.markFailed(updated);
    summary.failed += 1;
    return report({ outcome: 'failed', error: result.error });
  }
  // A server's Retry-After is a floor under the jittered wait.
  const delayMs = Math.max(backoffMs(updated.attempts, config, clock.random), result.retryAfterMs ?? 0);
  updated.nextAttemptAt = new Date(clock.now().getTime() + delayMs).toISOString();
  outbox.reschedule(updated);
  summary.retried += 1;
  report({ outcome: 'retry', error: result.error, delayMs });
}
