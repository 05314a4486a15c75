/**
 * The ingest's memory budget (IngestOptions.memoryBudgetMb, `scoutql ingest --memory-budget`):
 * publishing a batch runs beside the parsing workers so they never wait for it, but the two
 * together are the ingest's peak. The gate lets the workers go on parsing while a publish runs
 * only as long as the process's resident memory, plus what a publish has been seen to add, stays
 * within the budget; past it, no new object is handed out until the publish is done.
 */

/** Default budget: issue #14's goal for an ingest on any input size. */
export const DEFAULT_MEMORY_BUDGET_MB = 768;

/** Below this no ingest can run at all (Node, DuckDB and the workers' start-up alone take more). */
export const MIN_MEMORY_BUDGET_MB = 64;

/** What a publish is assumed to add before one has been watched (a 40k-row CloudTrail batch added 200–300 MiB). */
const FIRST_PUBLISH_GROWTH_BYTES = 256 * 1024 * 1024;

/** How often resident memory is read while a publish runs. */
const SAMPLE_MS = 100;

const MIB = 1024 * 1024;

/** The budget in MiB, or an error that says what is wrong with it. */
export function memoryBudgetBytes(budgetMb: number = DEFAULT_MEMORY_BUDGET_MB): number {
  if (typeof budgetMb !== 'number' || !Number.isInteger(budgetMb) || budgetMb < MIN_MEMORY_BUDGET_MB) {
    throw new Error(
      `memory budget: ${String(budgetMb)} is not a whole number of MiB of at least ${MIN_MEMORY_BUDGET_MB} (default ${DEFAULT_MEMORY_BUDGET_MB})`,
    );
  }
  return budgetMb * MIB;
}

export class PublishGate {
  private publishing: Promise<void> | null = null;
  /** The most a publish has added to resident memory (from its start to its peak), or an assumption before the first. */
  private growth = FIRST_PUBLISH_GROWTH_BYTES;
  private watched = 0;
  /** Objects whose reading waited for a publish to finish. */
  waits = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {}

  /** Watches a publish from now until it settles: its growth sizes the next decisions. */
  track(publish: Promise<void>): Promise<void> {
    const start = this.rss();
    let peak = start;
    const sampler = setInterval(() => (peak = Math.max(peak, this.rss())), SAMPLE_MS);
    sampler.unref();
    const watched = publish.finally(() => {
      clearInterval(sampler);
      peak = Math.max(peak, this.rss());
      this.growth = this.watched++ === 0 ? peak - start : Math.max(this.growth, peak - start);
      if (this.publishing === watched) this.publishing = null;
    });
    this.publishing = watched;
    return watched;
  }

  /**
   * Before handing out the next object: waits for the publish in flight when parsing beside it
   * could take the process past the budget. A failed publish is not this wait's to report: the
   * caller awaits the publish itself.
   */
  async beforeRead(): Promise<void> {
    const publishing = this.publishing;
    if (!publishing || this.rss() + this.growth <= this.budgetBytes) return;
    this.waits += 1;
    await publishing.catch(() => undefined);
  }
}

/** The graph step's DuckDB memory limit at most (its limit before the budget bounded it), and at least. */
export const GRAPH_LIMIT_MAX_MB = 400;
const GRAPH_LIMIT_MIN_MB = 64;

/**
 * How much resident memory the graph step's DuckDB adds per MiB of its memory limit: its allocator's
 * pages beyond the buffer pool (hash tables' string heaps, Parquet readers and writers).
 */
const GRAPH_GROWTH_PER_LIMIT_MB = 1.5;

/**
 * The graph step's DuckDB memory limit (MiB) for one day: what the budget leaves beside the memory
 * the process already holds, over what DuckDB is seen to add per MiB of its limit; within
 * [GRAPH_LIMIT_MIN_MB, GRAPH_LIMIT_MAX_MB]. A smaller limit makes DuckDB spill the day's tables
 * to disk sooner; the graph written is the same.
 */
export function graphMemoryLimitMb(budgetBytes: number, rssBytes: number): number {
  const room = (budgetBytes - rssBytes) / MIB / GRAPH_GROWTH_PER_LIMIT_MB;
  return Math.max(GRAPH_LIMIT_MIN_MB, Math.min(GRAPH_LIMIT_MAX_MB, Math.floor(room)));
}
