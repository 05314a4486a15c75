/** Findings as lists show them: level, title, rule, ATT&CK tags, when. */
import { h, time } from './dom';

export interface FindingFields {
  findingId: string;
  title: string;
  level: string;
  ruleId: string;
  product: string;
  techniques: string[];
  tactics: string[];
  time: string;
}

export const FINDING_FIELDS = 'findingId title level ruleId product techniques tactics time';

export function findingList(findings: readonly FindingFields[]): HTMLElement {
  return h(
    'ul',
    { class: 'findings' },
    findings.map((f) =>
      h(
        'li',
        { 'data-finding': f.findingId },
        h('span', { class: `level level-${f.level.toLowerCase()}` }, f.level),
        ' ',
        h('strong', {}, f.title),
        ' ',
        h('span', { class: 'muted' }, f.ruleId),
        ' ',
        [...f.techniques, ...f.tactics].map((tag) => h('span', { class: 'tag' }, tag)),
        ' ',
        h('time', { datetime: f.time }, time(f.time)),
      ),
    ),
  );
}
