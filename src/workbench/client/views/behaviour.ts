/**
 * New behaviour on an entity page: per dimension (source address, ASN, country, region, user
 * agent), the values first seen in the window against a look-back before it, as `newBehaviour`
 * answers. The look-back can be changed in place; the window stays the page's.
 */
import { gql } from '../api';
import { count, h, message, replaceChildren, time } from '../dom';
import type { TimeWindow } from '../route';

export interface NewBehaviourFields {
  dimension: string;
  seenCount: number;
  newCount: number;
  lookbackFrom: string;
  values: { value: string; firstSeen: string; eventCount: number }[];
}

const LABEL: Record<string, string> = {
  SOURCE_IP: 'Source addresses',
  ASN: 'Networks (ASN)',
  COUNTRY: 'Countries',
  REGION: 'Regions',
  USER_AGENT: 'User agents',
};

export const LOOKBACK_CHOICES = [7, 30, 90] as const;

/** The query of the panel, for an entity looked up with `lookup(argument: $id)` (names from KINDS only). */
export function newBehaviourQuery(lookup: string, argument: string): string {
  return `query NewBehaviour($id: String!, $w: TimeWindow!, $lookback: Int!) {
    entity: ${lookup}(${argument}: $id, window: $w) {
      newBehaviour(lookbackDays: $lookback, top: 10) { dimension seenCount newCount lookbackFrom values { value firstSeen eventCount } }
    }
  }`;
}

export function newBehaviourPanel(lookup: string, argument: string, id: string, window: TimeWindow): HTMLElement {
  const body = h('div', { class: 'behaviour-body' }, message('loading', 'Comparing with the look-back…'));
  const lookback = h(
    'select',
    { id: 'lookback', 'aria-label': 'Look-back before the window' },
    LOOKBACK_CHOICES.map((d) => h('option', { value: d, selected: d === 30 }, `${d} days before`)),
  );
  const section = h('section', { class: 'behaviour', id: 'new-behaviour' }, h('h2', {}, 'New behaviour ', lookback), body);
  const load = async (): Promise<void> => {
    section.dataset.state = 'loading';
    try {
      const data = await gql<{ entity: { newBehaviour: NewBehaviourFields[] } | null }>(newBehaviourQuery(lookup, argument), {
        id,
        w: window,
        lookback: Number(lookback.value),
      });
      const dimensions = data.entity?.newBehaviour ?? [];
      replaceChildren(
        body,
        h('p', { class: 'muted' }, `First seen in the window, not in the look-back from ${time(dimensions[0]?.lookbackFrom)}.`),
        h(
          'div',
          { class: 'behaviour-grid' },
          dimensions.map((d) =>
            h(
              'div',
              { class: d.newCount > 0 ? 'behaviour-dimension has-new' : 'behaviour-dimension', 'data-dimension': d.dimension },
              h(
                'h3',
                {},
                `${LABEL[d.dimension] ?? d.dimension} `,
                h('span', { 'data-field': 'new-count' }, `${count(d.newCount)} new of ${count(d.seenCount)}`),
              ),
              d.values.length > 0
                ? h(
                    'ul',
                    {},
                    d.values.map((v) =>
                      h(
                        'li',
                        { 'data-value': v.value },
                        h('code', {}, v.value),
                        ' ',
                        h(
                          'span',
                          { class: 'muted' },
                          `from ${time(v.firstSeen)}, ${count(v.eventCount)} ${v.eventCount === 1 ? 'event' : 'events'}`,
                        ),
                      ),
                    ),
                  )
                : null,
            ),
          ),
        ),
      );
      section.dataset.state = 'done';
    } catch (err) {
      replaceChildren(body, message('error', err instanceof Error ? err.message : String(err)));
      section.dataset.state = 'error';
    }
  };
  lookback.addEventListener('change', () => void load());
  void load();
  return section;
}
