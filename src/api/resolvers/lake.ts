/**
 * Lake: what the lake holds (time range, sources, accounts, regions) and its coverage over time,
 * read from the graph step's coverage table. The evidence work adds `gaps(window)` here.
 */
import type { LakeResolvers } from '../../generated/graphql';
import type { CoverageRow } from '../../queries/lake';
import { windowOf } from '../connections';
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
};
