/**
 * Lake: what the lake holds (time range, sources, accounts, regions) and its coverage over time,
 * read from the graph step's coverage table, and where the evidence falls silent (`gaps`), computed
 * as `scoutql verify lake` computes it.
 */
import { coverageFromRows } from '../../core/coverage';
import type { LakeResolvers } from '../../generated/graphql';
import type { CoverageRow } from '../../queries/lake';
import { windowOf } from '../connections';
import { apiError } from '../errors';
import { checkText } from '../limits';
import { bucketCount, bucketStarts } from './common';

export const Lake: LakeResolvers = {
  timeRange: async (_l, _a, ctx) => {
    const sources = await ctx.loaders.lakeSources();
    if (sources.length === 0) return null;
    return {
      from: new Date(Math.min(...sources.map((s) => s.first_event.getTime()))),
      to: new Date(Math.max(...sources.map((s) => s.last_event.getTime()))),
    };
  },
  defaultWindow: (_l, _a, ctx) => ctx.defaultWindow,
  sources: async (_l, _a, ctx) =>
    (await ctx.loaders.lakeSources()).map((s) => ({
      source: s.source,
      accounts: s.accounts,
      regions: s.regions,
      firstEvent: s.first_event,
      lastEvent: s.last_event,
      records: Number(s.records),
    })),
  coverage: async (_l, args, ctx) => {
    const window = windowOf(ctx, null, args.window);
    const bucket = args.bucket ?? 'HOUR';
    bucketCount(window, bucket, 'coverage');
    const source = args.source == null ? null : checkText(args.source, 'source');
    const account = args.account == null ? null : checkText(args.account, 'account');
    const starts = bucketStarts(window, bucket);
    const index = new Map(starts.map((d, i) => [d.getTime(), i]));
    const rows = (await ctx.loaders.lakeCoverage(window, bucket.toLowerCase() as 'minute' | 'hour' | 'day')).filter(
      (r) => (source === null || r.source === source) && (account === null || r.account === account),
    );
    const series = new Map<string, CoverageRow[]>();
    for (const row of rows) {
      const key = `${row.source}\u0000${row.account}\u0000${row.region}`;
      const list = series.get(key);
      if (list) list.push(row);
      else series.set(key, [row]);
    }
    return {
      bucket,
      buckets: starts,
      series: [...series.values()].map((list) => {
        const counts = starts.map(() => 0);
        for (const row of list) {
          const i = index.get(row.bucket.getTime());
          if (i !== undefined) counts[i] += Number(row.records);
        }
        const used = counts.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
        const silent = used.length ? counts.slice(used[0], used.at(-1)! + 1).filter((n) => n === 0).length : 0;
        return {
          source: list[0].source,
          account: list[0].account,
          region: list[0].region,
          records: counts.reduce((a, b) => a + b, 0),
          firstEvent: new Date(Math.min(...list.map((r) => r.first_seen.getTime()))),
          lastEvent: new Date(Math.max(...list.map((r) => r.last_seen.getTime()))),
          counts,
          silentBuckets: silent,
        };
      }),
    };
  },
  gaps: async (_l, args, ctx) => {
    const window = windowOf(ctx, null, args.window);
    const minutes = args.minMinutes ?? 60;
    // Shorter than a minute is below the statement's resolution (it compares events a minute apart).
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 366 * 24 * 60)
      throw apiError(`minMinutes must be a whole number of minutes from 1 to ${366 * 24 * 60}, got ${minutes}`, 'BAD_USER_INPUT');
    const source = args.source == null ? null : checkText(args.source, 'source');
    const account = args.account == null ? null : checkText(args.account, 'account');
    const report = coverageFromRows(await ctx.loaders.lakeGaps(window, minutes), minutes);
    return report.gaps
      .filter((g) => (source === null || g.source === source) && (account === null || g.account === account))
      .map((g) => ({ ...g, from: new Date(g.from), to: new Date(g.to) }));
  },
};
