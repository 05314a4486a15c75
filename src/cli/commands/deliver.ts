import { InvalidArgumentError, type Command } from 'commander';
import {
  deliverOutbox,
  DestinationOutbox,
  prepareOutbox,
  queueNewFindings,
  readDeliveryConfig,
  type AttemptEvent,
  type DeliveryConfig,
  type DeliverySummary,
} from '../../delivery';

/**
 * `scoutql deliver`: sends the findings the lake holds and the configured destinations have not
 * received (new since each was set up) as OCSF Detection Findings, retrying with backoff; what a
 * crash or an outage left in the outbox goes out too. `ingest --delivery FILE` does the same after
 * each run.
 */
export function registerDeliver(program: Command): void {
  program
    .command('deliver')
    .description('Send new findings (OCSF Detection Finding) to the webhook / SNS / EventBridge destinations configured, at least once')
    .requiredOption('--lake <dir>', 'local lake folder')
    .requiredOption('--delivery <file>', 'delivery configuration (JSON: destinations, products, minLevel, maxAttempts, backoff)')
    .option('--wait <seconds>', 'keep retrying failed sends for up to this long (default 0: one pass)', seconds, 0)
    .option('--status', 'print what each destination owes, has delivered and has given up on; send nothing')
    .option('--json', 'one JSON summary instead of lines')
    .action(async (opts: { lake: string; delivery: string; wait: number; status?: boolean; json?: boolean }) => {
      const config = readDeliveryConfig(opts.delivery);
      if (opts.status) return printStatus(opts.lake, config, opts.json === true);
      const summary = await runDelivery(opts.lake, config, { waitMs: opts.wait * 1000, log: opts.json ? undefined : logAttempt });
      printDelivery(summary, opts.json === true);
    });
}

export interface DeliveryRun {
  queued: number;
  destinations: DeliverySummary[];
}

/** Queues the findings not sent yet and delivers what is due. */
export async function runDelivery(
  lake: string,
  config: DeliveryConfig,
  options: { waitMs?: number; log?: (e: AttemptEvent) => void } = {},
): Promise<DeliveryRun> {
  const queued = await queueNewFindings(lake, config);
  const destinations = await deliverOutbox(lake, config, { waitMs: options.waitMs, onAttempt: options.log });
  return { queued: queued.reduce((n, q) => n + q.queued, 0), destinations };
}

/** Before an ingest that may report findings: destinations set up now count them as new. */
export function prepareDelivery(lake: string, config: DeliveryConfig): void {
  prepareOutbox(lake, config);
}

function logAttempt(e: AttemptEvent): void {
  const tail =
    e.outcome === 'retry' ? ` (${e.error}; next try in ${Math.round((e.delayMs ?? 0) / 1000)} s)` : e.error ? ` (${e.error})` : '';
  process.stderr.write(`deliver ${e.destination}: ${e.key} attempt ${e.attempt} ${e.outcome}${tail}\n`);
}

export function printDelivery(run: DeliveryRun, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(run) + '\n');
    return;
  }
  process.stdout.write(`queued           ${run.queued} new finding(s)\n`);
  for (const d of run.destinations)
    process.stdout.write(
      `${d.destination.padEnd(16)} ${d.delivered} delivered, ${d.retried} retried, ${d.failed} given up, ${d.pending} still owed\n`,
    );
}

function printStatus(lake: string, config: DeliveryConfig, json: boolean): void {
  const status = config.destinations.map((d) => {
    const outbox = new DestinationOutbox(lake, d.name);
    return {
      destination: d.name,
      pending: outbox.pending().length,
      delivered: outbox.delivered().length,
      failed: outbox.failed().map((e) => ({ id: e.key, attempts: e.attempts, error: e.lastError })),
    };
  });
  if (json) {
    process.stdout.write(JSON.stringify(status) + '\n');
    return;
  }
  for (const s of status) {
    process.stdout.write(`${s.destination.padEnd(16)} ${s.pending} owed, ${s.delivered} delivered, ${s.failed.length} given up\n`);
    for (const f of s.failed) process.stdout.write(`  gave up on ${f.id} after ${f.attempts} attempt(s): ${f.error}\n`);
  }
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new InvalidArgumentError('expected seconds from 0 to 86400');
  return n;
}
