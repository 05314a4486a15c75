/**
 * Coverage of the evidence: where a log stream (one source, account and region) fell silent.
 * A trail that stops delivering leaves no error anywhere, only a hole in time; these helpers name
 * the hole ("no cloudtrail events for 111122223333 us-east-1 from 02:00:13 to 03:10:41") instead of
 * leaving it to be guessed. Shared by `verify` (CloudTrail digests, the lake) and the API.
 */
import { TABLE_NAMES } from './tables';

/** A silence long enough to report, silences shorter than this are ordinary quiet. */
export const DEFAULT_MIN_GAP_MINUTES = 60;

export interface CoverageGap {
  source: string;
  account: string;
  region: string;
  /** The last log before the silence (ISO-8601), or the start of the covered range. */
  from: string;
  /** The first log after it, or the end of the covered range. */
  to: string;
  minutes: number;
}

export interface CoverageStream {
  source: string;
  account: string;
  region: string;
  /** The covered range: first and last log of the stream (or what vouches for it, as CloudTrail's digests do). */
  first: string;
  last: string;
  /** Events (lake) or log files (CloudTrail) in the range. */
  count: number;
  gaps: CoverageGap[];
}

export interface CoverageReport {
  minGapMinutes: number;
  streams: CoverageStream[];
  /** All gaps of all streams, longest first. */
  gaps: CoverageGap[];
}

/**
 * Silences of at least `minGapMs` between time intervals (epoch ms, any order, may overlap) and,
 * when `range` is given, between its edges and the first and last interval.
 */
export function silences(
  intervals: ReadonlyArray<readonly [number, number]>,
  minGapMs: number,
  range?: readonly [number, number],
): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  let reached = range ? range[0] : (sorted[0]?.[0] ?? 0);
  for (const [start, end] of sorted) {
    if (start - reached >= minGapMs) out.push([reached, start]);
    reached = Math.max(reached, end);
  }
  if (range && range[1] - reached >= minGapMs) out.push([reached, range[1]]);
  return out;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Groups streams' gaps into one report, gaps longest first. */
export function coverageReport(minGapMinutes: number, streams: CoverageStream[]): CoverageReport {
  const sorted = [...streams].sort((a, b) => key(a).localeCompare(key(b)));
  const gaps = sorted
    .flatMap((s) => s.gaps)
    .sort((a, b) => b.minutes - a.minutes || key(a).localeCompare(key(b)) || a.from.localeCompare(b.from));
  return { minGapMinutes, streams: sorted, gaps };
}

function key(s: { source: string; account: string; region: string }): string {
  return `${s.source}/${s.account}/${s.region}`;
}

/** A gap in words, for reports and logs. */
export function describeGap(gap: CoverageGap): string {
  const hours = Math.floor(gap.minutes / 60);
  const length = hours ? `${hours} h ${String(gap.minutes % 60).padStart(2, '0')} min` : `${gap.minutes} min`;
  return `no ${gap.source} logs for account ${gap.account} region ${gap.region} from ${gap.from} to ${gap.to} (${length})`;
}

/**
 * SQL (Trino and DuckDB) finding every silence in the event tables: per source, account and
 * region, consecutive events (bucketed by minute, so the window function sorts minutes, not
 * events) at least `?` seconds apart, plus each stream's range and count. Each table's leg is
 * filtered by `legWhere` (its own `?` parameters, repeated per table by the caller, first); the
 * last parameter is the minimum gap in seconds.
 *
 * Rows: source, account, region, kind ('gap' | 'range'), start_time, end_time, events (range only).
 */
export function coverageSql(legWhere: string): { sql: string; tables: number } {
  const legs = TABLE_NAMES.map((t) => `SELECT source, account, region, time FROM ${t} WHERE ${legWhere}`).join('\n  UNION ALL\n  ');
  const sql = `WITH ev AS (
  ${legs}
),
minutes AS (
  SELECT source, account, region, date_trunc('minute', time) AS minute, min(time) AS first_time, max(time) AS last_time, count(*) AS n
  FROM ev GROUP BY source, account, region, date_trunc('minute', time)
),
ordered AS (
  SELECT source, account, region, minute, first_time, last_time, n,
         lag(last_time) OVER (PARTITION BY source, account, region ORDER BY minute) AS previous_time
  FROM minutes
)
SELECT source, account, region, 'gap' AS kind, previous_time AS start_time, first_time AS end_time, CAST(NULL AS BIGINT) AS events
FROM ordered WHERE previous_time IS NOT NULL AND date_diff('second', previous_time, first_time) >= ?
UNION ALL
SELECT source, account, region, 'range' AS kind, min(first_time) AS start_time, max(last_time) AS end_time, CAST(sum(n) AS BIGINT) AS events
FROM ordered GROUP BY source, account, region
ORDER BY source, account, region, kind DESC, start_time`;
  return { sql, tables: TABLE_NAMES.length };
}

/** Coverage from the rows of coverageSql (times as Date or engine text). */
export function coverageFromRows(rows: ReadonlyArray<Record<string, unknown>>, minGapMinutes: number): CoverageReport {
  const streams = new Map<string, CoverageStream>();
  const gaps: CoverageGap[] = [];
  for (const row of rows) {
    const source = String(row.source);
    const account = String(row.account);
    const region = String(row.region);
    const start = toMs(row.start_time);
    const end = toMs(row.end_time);
    if (row.kind === 'range') {
      streams.set(key({ source, account, region }), {
        source,
        account,
        region,
        first: isoTime(start),
        last: isoTime(end),
        count: Number(row.events),
        gaps: [],
      });
    } else {
      gaps.push({ source, account, region, from: isoTime(start), to: isoTime(end), minutes: Math.floor((end - start) / 60_000) });
    }
  }
  for (const gap of gaps) streams.get(key(gap))?.gaps.push(gap);
  return coverageReport(minGapMinutes, [...streams.values()]);
}

function toMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  // Engines render TIMESTAMP as 'YYYY-MM-DD HH:MM:SS[.fff]' (UTC).
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
