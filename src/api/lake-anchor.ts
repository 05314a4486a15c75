/**
 * Where windowless lookups' default window ends: on the lake's real data. Normally that is the lake's
 * newest graph day, listed without asking the engine. Only when that day lies in the future (a record
 * dated 9999 kept at ingest on purpose, see --keep-outlier-times) is the engine asked for the last
 * record no later than a day from now (the coverage table), so the outlier cannot push every default
 * window past the data; that answer is kept for a minute and refreshed between requests. Without a
 * usable answer (no coverage table yet, engine down) the window ends now.
 */
import type { QueryEngine } from '../engine/types';
import { defaultWindow, type ApiLimits } from './limits';
import { lakeLastRecord } from './loaders';
import type { Window } from './models';

const DAY_MS = 86_400_000;

export class DefaultWindowAnchor {
  private lastRecord: Date | null = null;
  private checkedAt = -Infinity;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly engine: QueryEngine,
    private readonly limits: ApiLimits,
    private readonly latestDay: () => string | null = () => null,
    private readonly now: () => Date = () => new Date(),
    private readonly maxAgeMs = 60_000,
  ) {}

  /** Looks the anchor up again when the last look is older than a minute (one look at a time). */
  refresh(): Promise<void> {
    // The listing is enough unless its newest day is in the future: no engine call per request.
    if (!this.listedDayInFuture()) return Promise.resolve();
    if (Date.now() - this.checkedAt < this.maxAgeMs) return Promise.resolve();
    this.pending ??= (async () => {
      try {
        this.lastRecord = await lakeLastRecord(this.engine, new Date(this.now().getTime() + DAY_MS));
      } catch {
        // The engine is down or the lake has no coverage table yet: the fallback stands in, a request will say the rest.
        this.lastRecord = null;
      } finally {
        this.checkedAt = Date.now();
        this.pending = null;
      }
    })();
    return this.pending;
  }

  /** The default window: `defaultWindowDays` whole days ending with the day of the lake's last record. */
  window(): Window {
    return defaultWindow(this.anchorDay(), this.limits);
  }

  private tomorrow(): string {
    return new Date(this.now().getTime() + DAY_MS).toISOString().slice(0, 10);
  }

  private listedDayInFuture(): boolean {
    const day = this.latestDay();
    return day !== null && day > this.tomorrow();
  }

  private anchorDay(): string | null {
    const day = this.latestDay();
    if (day === null || day <= this.tomorrow()) return day;
    return this.lastRecord ? this.lastRecord.toISOString().slice(0, 10) : null;
  }
}
