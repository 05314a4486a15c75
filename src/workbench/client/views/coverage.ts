/**
 * Coverage: the lake's records per source × account × region × day, from `lake.coverage`. A dark
 * cell is data; an empty cell between a series' first and last record is a silence (the logs
 * stopped: a search there finds nothing because there was nothing to search, not because nothing
 * happened); before the first or after the last the source simply had no data yet.
 */
import { gql } from '../api';
import { count, h, message, replaceChildren } from '../dom';
import type { TimeWindow } from '../route';

interface Coverage {
  buckets: string[];
  series: { source: string; account: string; region: string; records: number; counts: number[]; silentBuckets: number }[];
}

const COVERAGE = `query Coverage($w: TimeWindow!) {
  lake { coverage(window: $w, bucket: DAY) { buckets series { source account region records counts silentBuckets } } }
}`;

export async function renderCoverage(root: HTMLElement, window: TimeWindow): Promise<void> {
  replaceChildren(root, h('h1', {}, 'Coverage'), message('loading', 'Loading the lake’s map…'));
  const { lake } = await gql<{ lake: { coverage: Coverage } }>(COVERAGE, { w: window });
  const { buckets, series } = lake.coverage;
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const cellClass = (counts: number[], i: number): string => {
    if (counts[i] > 0) return 'cell data';
    const first = counts.findIndex((n) => n > 0);
    const last = counts.length - 1 - [...counts].reverse().findIndex((n) => n > 0);
    return first >= 0 && i > first && i < last ? 'cell silent' : 'cell none';
  };
  replaceChildren(
    root,
    h('h1', {}, 'Coverage ', h('span', { class: 'muted' }, 'records per day')),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'cell data' }),
      ' records ',
      h('span', { class: 'cell silent' }),
      ' silent (a gap inside the series) ',
      h('span', { class: 'cell none' }),
      ' no data',
    ),
    series.length === 0
      ? message('empty', 'The lake holds no records in this window.')
      : h(
          'table',
          { class: 'coverage' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'source'),
              h('th', {}, 'account'),
              h('th', {}, 'region'),
              h('th', {}, 'records'),
              buckets.map((b) => h('th', { class: 'day' }, b.slice(5, 10))),
            ),
          ),
          h(
            'tbody',
            {},
            series.map((s) =>
              h(
                'tr',
                { 'data-series': `${s.source}/${s.account}/${s.region}` },
                h('td', {}, s.source),
                h('td', {}, s.account),
                h('td', {}, s.region),
                h('td', { class: 'num' }, count(s.records)),
                s.counts.map((n, i) => {
                  const cell = h('td', {
                    class: cellClass(s.counts, i),
                    title: `${buckets[i].slice(0, 10)}: ${count(n)} records`,
                    'data-count': n,
                  });
                  if (n > 0) cell.style.opacity = String(0.25 + 0.75 * Math.sqrt(n / max));
                  return cell;
                }),
              ),
            ),
          ),
        ),
  );
}
