/**
 * An activity histogram: the counts of an `aggregate(bucket:, orderBy: TIME)` answer as bars, one
 * per bucket of the window, the empty buckets drawn empty (a gap in activity is part of the story).
 */
import { count, h, time } from '../dom';
import type { TimeWindow } from '../route';

export type Bucket = 'HOUR' | 'DAY';
const BUCKET_MS: Record<Bucket, number> = { HOUR: 3_600_000, DAY: 86_400_000 };

/** Hours for windows up to 8 days (at most 192 bars), days beyond. */
export function bucketFor(window: TimeWindow): Bucket {
  return Date.parse(window.to) - Date.parse(window.from) <= 8 * BUCKET_MS.DAY ? 'HOUR' : 'DAY';
}

export function histogram(groups: readonly { bucket: string; count: number }[], window: TimeWindow, bucket: Bucket): HTMLElement {
  const step = BUCKET_MS[bucket];
  const counts = new Map(groups.map((g) => [Date.parse(g.bucket), g.count]));
  const start = Math.floor(Date.parse(window.from) / step) * step;
  const end = Date.parse(window.to);
  const max = Math.max(1, ...counts.values());
  const bars: HTMLElement[] = [];
  for (let at = start; at < end; at += step) {
    const n = counts.get(at) ?? 0;
    const label = `${time(new Date(at).toISOString())}: ${count(n)} events`;
    const bar = h('div', { class: n > 0 ? 'bar' : 'bar empty', title: label, 'aria-label': label });
    if (n > 0) {
      bar.dataset.bucket = new Date(at).toISOString();
      bar.dataset.count = String(n);
      bar.style.height = `${Math.max(4, Math.round((n / max) * 100))}%`;
    }
    bars.push(bar);
  }
  return h(
    'figure',
    { class: 'histogram', 'data-bucket-size': bucket },
    h('div', { class: 'bars', role: 'img', 'aria-label': `Events per ${bucket.toLowerCase()}` }, bars),
    h(
      'figcaption',
      {},
      h('span', {}, time(new Date(start).toISOString())),
      h('span', {}, `events per ${bucket.toLowerCase()}, busiest ${count(max)}`),
      h('span', {}, time(window.to)),
    ),
  );
}
