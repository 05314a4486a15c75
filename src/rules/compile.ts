/**
 * Rule documents → compiled statements. A rule file holds one or more YAML documents (Sigma's
 * multi-document files: a correlation with the rules it refers to). Each document is a detection
 * rule (`detection:`), a correlation (`correlation:`) or a baseline (`baseline:`). Every problem is
 * reported with the construct and its line; nothing is dropped silently.
 */
import { isMap, isScalar, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { baselineStatement, type BaselineType } from './baseline';
import {
  correlationLookbackMs,
  correlationStatement,
  type CorrelationMember,
  type CorrelationSpec,
  type CorrelationType,
  type NestedCorrelation,
} from './correlation';
import { compileDetection, newContext } from './detection';
import { eventHits } from './events';
import { resolveLogSource, type LogTarget } from './logsources';
import { LEVELS, UnsupportedRule, type CompiledRule, type Level, type RuleKind, type RuleMeta, type RuleProblem } from './model';
import type { Frag } from './sql';

/** One YAML document of a rule file, with what is needed to give lines. */
export interface RuleDocument {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface DetectionRule {
  meta: RuleMeta;
  target: LogTarget;
  condition: Frag;
}

function lineOf(d: RuleDocument, node: Node | Pair | null | undefined): number | null {
  if (!node) return null;
  const range = 'range' in node && node.range ? node.range : isPairWithKey(node) ? node.key.range : null;
  return range ? d.lines.linePos(range[0]).line : null;
}

function isPairWithKey(node: Node | Pair): node is Pair & { key: Node } {
  return 'key' in node && node.key !== null && typeof node.key === 'object' && 'range' in node.key;
}

function get(map: YAMLMap, key: string): Node | null {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return (pair?.value as Node | undefined) ?? null;
}

function pairOf(map: YAMLMap, key: string): Pair | null {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) ?? null;
}

/** A scalar's text: strings as they are, numbers and booleans printed; anything else is not text. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function text(node: Node | null): string | null {
  if (!node || !isScalar(node)) return null;
  return scalarText(node.value);
}

function stringList(node: Node | null): string[] {
  if (!node) return [];
  const value: unknown = node.toJSON();
  const items: unknown[] = Array.isArray(value) ? value : [value];
  return items.map(scalarText).filter((t): t is string => t !== null);
}

/** `30d`, `5m`, `1h`, `45s` → milliseconds. */
export function parseTimespan(value: string | null, construct: string, line: number | null): number {
  const m = value ? /^(\d+)\s*(s|m|h|d|w)$/.exec(value.trim()) : null;
  if (!m) throw new UnsupportedRule(construct, `timespan ${JSON.stringify(value)} is not a number with s, m, h, d or w`, line);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new UnsupportedRule(construct, 'timespan must be positive', line);
  return ms;
}

/** The document's metadata, or the reason it is not a rule. */
export function readMeta(d: RuleDocument): RuleMeta {
  const root = d.doc.contents;
  if (!isMap(root)) throw new UnsupportedRule('document', 'a rule is a YAML map', lineOf(d, root));
  if (get(root, 'action'))
    throw new UnsupportedRule(
      'action',
      'Sigma 1 rule collections (action: global / reset / repeat) are not supported; write one rule per document',
      lineOf(d, pairOf(root, 'action')),
    );
  const kinds: RuleKind[] = (['detection', 'correlation', 'baseline'] as const).filter((k) => get(root, k) !== null && k !== 'detection');
  const kind: RuleKind = kinds.length > 0 ? kinds[0] : 'detection';
  if (kinds.length > 1) throw new UnsupportedRule('document', 'a rule is either a correlation or a baseline, not both', lineOf(d, root));
  const title = text(get(root, 'title'));
  if (!title) throw new UnsupportedRule('title', 'a rule needs a title', lineOf(d, root));
  const id = text(get(root, 'id')) ?? text(get(root, 'name'));
  if (!id) throw new UnsupportedRule('id', 'a rule needs an id (or at least a name)', lineOf(d, root));
  const levelText = (text(get(root, 'level')) ?? 'medium').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(levelText))
    throw new UnsupportedRule('level', `level '${levelText}' is not one of ${LEVELS.join(', ')}`, lineOf(d, pairOf(root, 'level')));
  const tags = stringList(get(root, 'tags'));
  const techniques = tags
    .map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t)?.[1]?.toUpperCase())
    .filter((t): t is string => t !== undefined);
  return {
    id,
    name: text(get(root, 'name')),
    title,
    kind,
    level: levelText as Level,
    status: text(get(root, 'status')),
    description: text(get(root, 'description')),
    tags,
    techniques,
    falsepositives: stringList(get(root, 'falsepositives')),
    file: d.file,
    line: lineOf(d, root) ?? 1,
  };
}

function targetOf(d: RuleDocument, root: YAMLMap): LogTarget {
  const node = get(root, 'logsource');
  if (!node || !isMap(node))
    throw new UnsupportedRule('logsource', 'a rule needs a logsource map (product, service, category)', lineOf(d, root));
  const spec = node.toJSON() as Record<string, unknown>;
  const str = (k: string) => (typeof spec[k] === 'string' ? spec[k] : undefined);
  const target = resolveLogSource({ product: str('product'), service: str('service'), category: str('category') });
  if ('reason' in target) throw new UnsupportedRule('logsource', target.reason, lineOf(d, node));
  return target;
}

export function compileDetectionRule(d: RuleDocument, meta: RuleMeta): DetectionRule {
  const root = d.doc.contents as YAMLMap;
  const target = targetOf(d, root);
  const detection = get(root, 'detection');
  if (!detection || !isMap(detection)) throw new UnsupportedRule('detection', 'a rule needs a detection map', lineOf(d, root));
  const condition = compileDetection(
    newContext(target, (n) => lineOf(d, n)),
    detection,
  );
  return { meta, target, condition };
}

function number(node: Node | null, construct: string, line: number | null, fallback: number): number {
  if (node === null) return fallback;
  const v: unknown = node.toJSON();
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new UnsupportedRule(construct, `${JSON.stringify(v)} is not a non-negative number`, line);
  return v;
}

/** A correlation naming another that is not compiled yet: tried again once that one is. */
class Deferred extends Error {}

function compileCorrelation(
  d: RuleDocument,
  meta: RuleMeta,
  members: ReadonlyMap<string, DetectionRule>,
  correlations: Map<string, NestedCorrelation>,
  pending: ReadonlySet<string>,
): CompiledRule {
  const root = d.doc.contents as YAMLMap;
  const node = get(root, 'correlation');
  const line = lineOf(d, pairOf(root, 'correlation'));
  if (!node || !isMap(node)) throw new UnsupportedRule('correlation', 'correlation must be a map', line);
  const type = text(get(node, 'type')) as CorrelationType | null;
  if (!type || !['event_count', 'value_count', 'temporal', 'temporal_ordered'].includes(type))
    throw new UnsupportedRule(
      'correlation.type',
      `type ${JSON.stringify(type)} is not supported (event_count, value_count, temporal, temporal_ordered)`,
      line,
    );
  const ruleRefs = stringList(get(node, 'rules'));
  if (ruleRefs.length === 0) throw new UnsupportedRule('correlation.rules', 'names no rules', line);
  const resolved = ruleRefs.map((ref): CorrelationMember => {
    const member = members.get(ref) ?? correlations.get(ref);
    if (!member && pending.has(ref) && ref !== meta.id && ref !== meta.name) throw new Deferred(ref);
    if (!member)
      throw new UnsupportedRule(
        'correlation.rules',
        `rule '${ref}' is not a compiled rule of this rule set`,
        lineOf(d, get(node, 'rules')) ?? line,
      );
    return member;
  });
  const groupBy = stringList(get(node, 'group-by'));
  const aliasesNode = get(node, 'aliases');
  const aliases = (aliasesNode ? aliasesNode.toJSON() : {}) as Record<string, Record<string, string>>;
  const timespanMs = parseTimespan(text(get(node, 'timespan')), 'correlation.timespan', lineOf(d, pairOf(node, 'timespan')) ?? line);
  let threshold: number | null = null;
  let valueField: string | null = null;
  if (type === 'event_count' || type === 'value_count') {
    const cond = get(node, 'condition');
    const condLine = lineOf(d, pairOf(node, 'condition')) ?? line;
    if (!cond || !isMap(cond)) throw new UnsupportedRule('correlation.condition', `${type} needs a condition such as {gte: 10}`, condLine);
    const c = cond.toJSON() as Record<string, unknown>;
    if (typeof c.gte === 'number') threshold = c.gte;
    else if (typeof c.gt === 'number') threshold = c.gt + 1;
    else
      throw new UnsupportedRule(
        'correlation.condition',
        'only gte and gt thresholds are supported (lt, lte, eq and ranges describe absences, not bursts)',
        condLine,
      );
    if (!Number.isSafeInteger(threshold) || threshold < 1)
      throw new UnsupportedRule('correlation.condition', 'threshold must be a whole number of at least 1', condLine);
    if (type === 'value_count') {
      if (typeof c.field !== 'string') throw new UnsupportedRule('correlation.condition', 'value_count needs condition.field', condLine);
      valueField = c.field;
    }
  }
  const generate = get(node, 'generate')?.toJSON() === true;
  const spec: CorrelationSpec = { type, members: resolved, groupBy, aliases, timespanMs, threshold, valueField, line };
  const statement = correlationStatement(spec);
  correlations.set(meta.id, { meta, spec });
  if (meta.name) correlations.set(meta.name, { meta, spec });
  const tables = (m: CorrelationMember): string[] => ('spec' in m ? m.spec.members.flatMap(tables) : [m.target.table]);
  return {
    meta,
    statement: {
      sql: statement,
      lookbackMs: correlationLookbackMs(spec),
      mergeOverlapping: true,
      tables: [...new Set(resolved.flatMap(tables))],
    },
    standalone: true,
    ...(generate ? {} : { hidesMembers: resolved.map((r) => r.meta.id) }),
  };
}

function compileBaseline(d: RuleDocument, meta: RuleMeta): CompiledRule {
  const root = d.doc.contents as YAMLMap;
  const node = get(root, 'baseline');
  const line = lineOf(d, pairOf(root, 'baseline'));
  if (!node || !isMap(node)) throw new UnsupportedRule('baseline', 'baseline must be a map', line);
  const target = targetOf(d, root);
  const type = text(get(node, 'type')) as BaselineType | null;
  if (!type || !['first_seen', 'rare', 'spike'].includes(type))
    throw new UnsupportedRule('baseline.type', `type ${JSON.stringify(type)} is not one of first_seen, rare, spike`, line);
  const detection = get(root, 'detection');
  const condition =
    detection && isMap(detection)
      ? compileDetection(
          newContext(target, (n) => lineOf(d, n)),
          detection,
        )
      : null;
  const value = text(get(node, 'value'));
  if (!value) throw new UnsupportedRule('baseline.value', 'names no field', line);
  const lookbackMs = parseTimespan(text(get(node, 'lookback')) ?? '30d', 'baseline.lookback', line);
  const spec = {
    type,
    target,
    condition,
    entity: text(get(node, 'entity')) ?? (type === 'rare' ? 'account' : 'actor_id'),
    value,
    lookbackMs,
    maxSeen: number(get(node, 'max_seen'), 'baseline.max_seen', line, type === 'rare' ? 2 : 0),
    minHistory: number(get(node, 'min_history'), 'baseline.min_history', line, 1),
    bucketMs: parseTimespan(text(get(node, 'bucket')) ?? '1h', 'baseline.bucket', line),
    factor: number(get(node, 'factor'), 'baseline.factor', line, 3),
    minCount: number(get(node, 'min_count'), 'baseline.min_count', line, 10),
    line,
  };
  return {
    meta,
    statement: { sql: baselineStatement(spec), lookbackMs, mergeOverlapping: false, tables: [target.table] },
    standalone: true,
  };
}

export interface CompileOutcome {
  compiled: CompiledRule[];
  problems: RuleProblem[];
}

function problemOf(d: RuleDocument, meta: RuleMeta | null, err: unknown): RuleProblem {
  if (err instanceof UnsupportedRule)
    return { file: d.file, line: err.line, id: meta?.id ?? null, title: meta?.title ?? null, construct: err.construct, reason: err.reason };
  throw err;
}

/**
 * Compiles every document: detection rules first (correlations refer to them by name or id),
 * then correlations and baselines. Members of a correlation without `generate: true` do not
 * report on their own (Sigma's default).
 */
export function compileDocuments(documents: readonly RuleDocument[]): CompileOutcome {
  const compiled: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  const detections = new Map<string, DetectionRule>();
  const later: { d: RuleDocument; meta: RuleMeta }[] = [];
  const seenIds = new Map<string, string>();
  for (const d of documents) {
    let meta: RuleMeta | null = null;
    try {
      meta = readMeta(d);
      const first = seenIds.get(meta.id);
      if (first !== undefined) throw new UnsupportedRule('id', `id ${meta.id} is already used by a rule in ${first}`, meta.line);
      seenIds.set(meta.id, d.file);
      if (meta.kind !== 'detection') {
        later.push({ d, meta });
        continue;
      }
      const rule = compileDetectionRule(d, meta);
      detections.set(meta.id, rule);
      if (meta.name) detections.set(meta.name, rule);
      compiled.push({
        meta,
        statement: { sql: eventHits(rule.target, rule.condition), lookbackMs: 0, mergeOverlapping: false, tables: [rule.target.table] },
        standalone: true,
      });
    } catch (err) {
      problems.push(problemOf(d, meta, err));
    }
  }
  const hidden = new Set<string>();
  const correlations = new Map<string, NestedCorrelation>();
  // Correlations may chain: one that names another waits until that one is compiled.
  let waiting = later;
  for (;;) {
    const pending = new Set(
      waiting.flatMap(({ meta }) => (meta.kind === 'correlation' ? [meta.id, ...(meta.name ? [meta.name] : [])] : [])),
    );
    const deferred: typeof later = [];
    for (const item of waiting) {
      const { d, meta } = item;
      try {
        const rule =
          meta.kind === 'correlation' ? compileCorrelation(d, meta, detections, correlations, pending) : compileBaseline(d, meta);
        for (const id of rule.hidesMembers ?? []) hidden.add(id);
        compiled.push(rule);
        pending.delete(meta.id);
        if (meta.name) pending.delete(meta.name);
      } catch (err) {
        if (err instanceof Deferred) deferred.push(item);
        else {
          problems.push(problemOf(d, meta, err));
          pending.delete(meta.id);
          if (meta.name) pending.delete(meta.name);
        }
      }
    }
    if (deferred.length === 0) break;
    if (deferred.length === waiting.length) {
      for (const { d, meta } of deferred)
        problems.push(
          problemOf(d, meta, new UnsupportedRule('correlation.rules', 'correlations that refer to each other in a cycle', meta.line)),
        );
      break;
    }
    waiting = deferred;
  }
  for (const rule of compiled) if (hidden.has(rule.meta.id)) rule.standalone = false;
  return { compiled, problems };
}
