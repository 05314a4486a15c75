/**
 * Sigma `detection` → one SQL boolean expression over a lake table.
 *
 * Search identifiers are maps (every field matches: AND), lists of maps (any map: OR) or lists of
 * keywords (full-text over the raw record). A field's list of values matches when any value does
 * (all of them with `|all`). Matching is case-insensitive unless `|cased` (and `|re`, which is
 * case-sensitive as the spec says unless `|re|i`). Every value travels as a `?` parameter; a
 * missing field never matches, so `not` means "absent or different".
 *
 * Fields without a column are read from the raw JSON record. JSON arrays anywhere on the path are
 * traversed (any element matches), in SQL both engines run: json_size / json_extract_scalar with
 * a path built per element, `filter` over `sequence` (DuckDB gets these from
 * src/engine/athena-compat.ts, Trino has them).
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { matchIdentifiers, parseCondition, ConditionError, type ConditionNode } from './condition';
import { resolveField, type LogTarget, type ResolvedField } from './logsources';
import { UnsupportedRule } from './model';
import { FALSE, Frag, and, join, not, or, param, sql } from './sql';

export interface DetectionContext {
  target: LogTarget;
  /** 1-based line of a YAML node. */
  lineOf: (node: Node | Pair | null | undefined) => number | null;
  /** Fresh lambda variable names, unique within one statement. */
  fresh: (prefix: string) => string;
  /** Inside `|elements`: sub-fields are relative to this element's path. */
  base?: { doc: 'raw' | 'request_parameters'; path: Frag };
}

export function newContext(target: LogTarget, lineOf: DetectionContext['lineOf']): DetectionContext {
  let n = 0;
  return { target, lineOf, fresh: (prefix) => `${prefix}${++n}` };
}

/** A value as the rule wrote it. */
type SigmaValue = string | number | boolean | null;

const MATCH_MODIFIERS = ['contains', 'startswith', 'endswith', 're', 'cidr', 'gt', 'gte', 'lt', 'lte', 'exists', 'fieldref'] as const;
type MatchModifier = (typeof MATCH_MODIFIERS)[number];
const TRANSFORM_MODIFIERS = ['base64', 'base64offset', 'windash'] as const;
type TransformModifier = (typeof TRANSFORM_MODIFIERS)[number];
const FLAG_MODIFIERS = ['all', 'cased', 'i', 'm', 's', 'elements'] as const;
/** Modifiers of the spec this compiler does not implement, with why. */
const UNSUPPORTED_MODIFIERS: Record<string, string> = {
  expand: 'placeholders need a value list the rule set does not define',
  utf16le: 'UTF-16 encodings are for Windows command lines, not cloud logs',
  utf16be: 'UTF-16 encodings are for Windows command lines, not cloud logs',
  utf16: 'UTF-16 encodings are for Windows command lines, not cloud logs',
  wide: 'UTF-16 encodings are for Windows command lines, not cloud logs',
};

interface Modifiers {
  match: MatchModifier | null;
  transforms: TransformModifier[];
  all: boolean;
  cased: boolean;
  reFlags: string;
  /** With |fieldref: how the other field's value is compared (Sigma allows contains, startswith, endswith). */
  refMatch: 'eq' | 'contains' | 'startswith' | 'endswith';
  /** ScoutQL extension: the value is a map that one element of the array must match as a whole. */
  elements: boolean;
}

function parseModifiers(list: string[], construct: string, line: number | null): Modifiers {
  const mods: Modifiers = { match: null, transforms: [], all: false, cased: false, reFlags: '', refMatch: 'eq', elements: false };
  for (const raw of list) {
    const m = raw.toLowerCase();
    if ((MATCH_MODIFIERS as readonly string[]).includes(m)) {
      const pair = [mods.match, m];
      const refWith = pair.includes('fieldref') ? pair.find((x) => x === 'contains' || x === 'startswith' || x === 'endswith') : undefined;
      if (mods.match !== null && refWith) {
        mods.match = 'fieldref';
        mods.refMatch = refWith;
        continue;
      }
      if (mods.match !== null) throw new UnsupportedRule(construct, `modifiers |${mods.match} and |${m} cannot be combined`, line);
      mods.match = m as MatchModifier;
    } else if ((TRANSFORM_MODIFIERS as readonly string[]).includes(m)) mods.transforms.push(m as TransformModifier);
    else if ((FLAG_MODIFIERS as readonly string[]).includes(m)) {
      if (m === 'all') mods.all = true;
      else if (m === 'cased') mods.cased = true;
      else if (m === 'elements') mods.elements = true;
      else mods.reFlags += m;
    } else if (UNSUPPORTED_MODIFIERS[m])
      throw new UnsupportedRule(construct, `modifier |${m} is not supported: ${UNSUPPORTED_MODIFIERS[m]}`, line);
    else throw new UnsupportedRule(construct, `unknown modifier |${raw}`, line);
  }
  if (mods.reFlags && mods.match !== 're') throw new UnsupportedRule(construct, `|${mods.reFlags} only follows |re`, line);
  return mods;
}

// ---------------------------------------------------------------------------------------------
// String patterns with Sigma wildcards (* and ?, escaped with a backslash).

type PatternPart = { lit: string } | { wild: '*' | '?' };

function parsePattern(text: string): PatternPart[] {
  const parts: PatternPart[] = [];
  const push = (s: string) => {
    const last = parts[parts.length - 1];
    if (last && 'lit' in last) last.lit += s;
    else parts.push({ lit: s });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && ['*', '?', '\\'].includes(text[i + 1])) {
      push(text[i + 1]);
      i++;
    } else if (c === '*' || c === '?') parts.push({ wild: c });
    else push(c);
  }
  return parts;
}

const literalOf = (parts: PatternPart[]): string | null =>
  parts.every((p) => 'lit' in p) ? parts.map((p) => ('lit' in p ? p.lit : '')).join('') : null;

function likePattern(parts: PatternPart[], prefix: string, suffix: string): string {
  const body = parts.map((p) => ('lit' in p ? p.lit.replace(/[\\%_]/g, (c) => `\\${c}`) : p.wild === '*' ? '%' : '_')).join('');
  return `${prefix}${body}${suffix}`;
}

/** Sigma's `windash`: a leading `-` or `/` of a command-line flag, in every dash a shell accepts. */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
function windashVariants(text: string): string[] {
  if (!/(^|\s)[-/]/.test(text)) return [text];
  const variants = new Set<string>();
  for (const dash of DASHES) variants.add(text.replace(/(^|\s)[-/]/g, (_m, lead: string) => `${lead}${dash}`));
  return [...variants];
}

/** `base64offset`: the three encodings of a value at each byte offset, trimmed to the characters that do not depend on what surrounds it. */
function base64OffsetVariants(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const starts = [0, 2, 3];
  const ends = [0, -3, -2];
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const end = ends[(bytes.length + offset) % 3];
    return encoded.slice(starts[offset], end === 0 ? undefined : end);
  });
}

// ---------------------------------------------------------------------------------------------
// Predicates on one scalar expression.

type ScalarKind = 'text' | 'number' | 'boolean' | 'timestamp';

function kindOfType(type: string): ScalarKind {
  if (type === 'BIGINT' || type === 'INTEGER' || type === 'DOUBLE') return 'number';
  if (type === 'BOOLEAN') return 'boolean';
  if (type === 'TIMESTAMP') return 'timestamp';
  return 'text';
}

/** The scalar text of an expression for string matching: numbers and booleans as text. */
function asText(e: Frag, kind: ScalarKind): Frag {
  return kind === 'text' ? e : sql`CAST(${e} AS VARCHAR)`;
}

interface ValuePredicate {
  /** Builds the test on one scalar value of the field (a column, an array element, a JSON leaf). */
  test: (e: Frag, kind: ScalarKind) => Frag;
  /** The field itself may be absent or null (`null` values, `|exists: false`): decided on presence, not per element. */
  presence?: 'absent' | 'present';
  /**
   * Text any record that passes must hold (a literal piece of the value): a cheap case-insensitive
   * search of the raw JSON text that spares the JSON parsing of the records that cannot match.
   */
  hint?: string;
}

/** Characters that JSON writers (CloudTrail, Entra ID, Azure, GCP) never escape, so the value's text appears as is. */
const JSON_PLAIN = /[A-Za-z0-9 .:_@,;=+-]{3,}/g;

function hintOf(parts: PatternPart[]): string | undefined {
  let best: string | undefined;
  for (const part of parts) {
    if (!('lit' in part)) continue;
    for (const run of part.lit.match(JSON_PLAIN) ?? []) if (!best || run.length > best.length) best = run;
  }
  return best;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV4_TEXT = '^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$';

function ipv4Number(e: Frag): Frag {
  const octet = (n: number) => sql`TRY_CAST(split_part(${e}, '.', ${String(n)}) AS BIGINT)`;
  return sql`(${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)})`;
}

function cidrPredicate(value: string, construct: string, line: number | null): ValuePredicate {
  const m = IPV4.exec(value.trim());
  if (!m) {
    if (value.includes(':'))
      throw new UnsupportedRule(
        construct,
        `|cidr ${value}: IPv6 ranges are not supported yet (no IPv6 arithmetic both engines share)`,
        line,
      );
    throw new UnsupportedRule(construct, `|cidr ${JSON.stringify(value)} is not an IPv4 range such as 10.0.0.0/8`, line);
  }
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) throw new UnsupportedRule(construct, `|cidr ${value} is not a valid IPv4 range`, line);
  const base = ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3];
  const size = 2 ** (32 - bits);
  const low = Math.floor(base / size) * size;
  return {
    test: (e, kind) => {
      const t = asText(e, kind);
      return sql`(regexp_like(${t}, ${param(IPV4_TEXT)}) AND ${ipv4Number(t)} BETWEEN ${param(low)} AND ${param(low + size - 1)})`;
    },
  };
}

function regexPredicate(pattern: string, flags: string, construct: string, line: number | null): ValuePredicate {
  // RE2 (DuckDB) has no lookaround or backreferences; refusing them keeps both engines' answers equal.
  if (/\(\?<?[=!]/.test(pattern) || /\\[1-9]/.test(pattern))
    throw new UnsupportedRule(
      construct,
      `|re ${JSON.stringify(pattern)} uses lookaround or a backreference, which RE2 (DuckDB) does not run`,
      line,
    );
  try {
    new RegExp(pattern);
  } catch (err) {
    throw new UnsupportedRule(
      construct,
      `|re ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`,
      line,
    );
  }
  const inline = [...new Set(flags)].join('');
  const full = inline ? `(?${inline})${pattern}` : pattern;
  return { test: (e, kind) => sql`regexp_like(${asText(e, kind)}, ${param(full)})` };
}

function comparePredicate(op: 'gt' | 'gte' | 'lt' | 'lte', value: SigmaValue, construct: string, line: number | null): ValuePredicate {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new UnsupportedRule(construct, `|${op} needs a number, got ${JSON.stringify(value)}`, line);
  const symbol = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
  return {
    test: (e, kind) => {
      const num = kind === 'number' ? e : sql`TRY_CAST(${asText(e, kind)} AS DOUBLE)`;
      return sql`${num} ${symbol} ${param(n)}`;
    },
  };
}

/** Equality / contains / startswith / endswith of one string pattern. */
function stringPredicate(
  text: string,
  match: 'eq' | 'contains' | 'startswith' | 'endswith',
  cased: boolean,
  wildcards: boolean,
): ValuePredicate {
  const parts = wildcards ? parsePattern(text) : [{ lit: text }];
  const literal = literalOf(parts);
  return {
    hint: hintOf(parts),
    test: (e, kind) => {
      const t = asText(e, kind);
      const lhs = cased ? t : sql`lower(${t})`;
      const rhs = (value: string) => (cased ? param(value) : sql`lower(${param(value)})`);
      if (match === 'eq' && literal !== null) return sql`${lhs} = ${rhs(literal)}`;
      const pattern = likePattern(
        parts,
        match === 'contains' || match === 'endswith' ? '%' : '',
        match === 'contains' || match === 'startswith' ? '%' : '',
      );
      return sql`${lhs} LIKE ${rhs(pattern)} ESCAPE '\\'`;
    },
  };
}

function valuePredicates(value: SigmaValue, mods: Modifiers, construct: string, line: number | null): ValuePredicate[] {
  const match = mods.match;
  if (match === 'exists') {
    if (typeof value !== 'boolean') throw new UnsupportedRule(construct, '|exists takes true or false', line);
    return [{ test: () => FALSE, presence: value ? 'present' : 'absent' }];
  }
  if (value === null) {
    if (match !== null || mods.transforms.length > 0)
      throw new UnsupportedRule(construct, `null cannot be combined with |${match ?? mods.transforms[0]}`, line);
    return [{ test: () => FALSE, presence: 'absent' }];
  }
  if (match === 'gt' || match === 'gte' || match === 'lt' || match === 'lte') return [comparePredicate(match, value, construct, line)];
  const text = String(value);
  if (match === 're') return [regexPredicate(text, mods.reFlags, construct, line)];
  if (match === 'cidr') return [cidrPredicate(text, construct, line)];
  if (match === 'fieldref') throw new Error('fieldref is compiled by the caller');

  let variants = [text];
  let wildcards = true;
  for (const t of mods.transforms) {
    if (t === 'windash') variants = variants.flatMap(windashVariants);
    else if (t === 'base64') {
      variants = variants.map((v) => Buffer.from(v, 'utf8').toString('base64'));
      wildcards = false;
    } else {
      if (match !== 'contains')
        throw new UnsupportedRule(
          construct,
          '|base64offset only makes sense with |contains (the value sits inside a longer encoding)',
          line,
        );
      variants = variants.flatMap(base64OffsetVariants);
      wildcards = false;
    }
  }
  // Base64 text is case-sensitive: encodings are compared exactly.
  const cased = mods.cased || mods.transforms.some((t) => t === 'base64' || t === 'base64offset');
  const kind = match ?? 'eq';
  return variants.map((v) => stringPredicate(v, kind, cased, wildcards));
}

/** Booleans and numbers on typed columns compare as their type; everything else as text. */
function typedEquality(value: SigmaValue, kind: ScalarKind, mods: Modifiers): ValuePredicate | null {
  if (mods.match !== null || mods.transforms.length > 0) return null;
  if (kind === 'number') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : null;
    if (n !== null) return { test: (e) => sql`${e} = ${param(n)}` };
  }
  if (kind === 'boolean') {
    const b = value === true || value === 'true' ? true : value === false || value === 'false' ? false : null;
    if (b !== null) return { test: (e) => sql`${e} = ${param(b)}` };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Where a field's values are: a column, an array column, or JSON leaves in a document.

/** SQL for a JSON path piece (a key or an index), as a parameter: field names come from rule files. */
function segmentText(segment: string): string {
  if (/^\d+$/.test(segment)) return `[${segment}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return `.${segment}`;
  return `["${segment}"]`;
}

const pathParam = (text: string) => sql`CAST(${param(text)} AS VARCHAR)`;

/** `any element of path p satisfies f`: the node at p is an array (iterate it) or not (test p itself). */
function overElements(ctx: DetectionContext, doc: Frag, path: Frag, f: (elementPath: Frag) => Frag): Frag {
  const v = ctx.fresh('p');
  const i = ctx.fresh('i');
  const vf = new Frag(v);
  const isArray = sql`json_size(${doc}, concat(${vf}, '[0]')) IS NOT NULL`;
  const count = sql`CASE WHEN ${isArray} THEN json_size(${doc}, ${vf}) ELSE 1 END`;
  const element = sql`CASE WHEN ${isArray} THEN concat(${vf}, '[', CAST(${i} AS VARCHAR), ']') ELSE ${vf} END`;
  return sql`cardinality(filter(ARRAY[${path}], ${v} -> cardinality(filter(sequence(0, ${count} - 1), ${i} -> ${f(element)})) > 0)) > 0`;
}

function jsonRoot(doc: Frag, roots: readonly string[], first: string): Frag {
  if (roots.length === 1) return pathParam(roots[0]);
  const branches = roots.map((r) => sql`WHEN json_size(${doc}, ${pathParam(r + segmentText(first))}) IS NOT NULL THEN ${pathParam(r)}`);
  return sql`CASE ${join(branches, ' ')} ELSE ${pathParam(roots[0])} END`;
}

function docOf(field: Extract<ResolvedField, { kind: 'json' }>): Frag {
  return new Frag(field.doc === 'raw' ? 'raw' : 'request_parameters');
}

/** Applies a per-leaf-path test to every leaf the dotted path reaches (arrays traversed). */
function overJsonLeaves(ctx: DetectionContext, field: Extract<ResolvedField, { kind: 'json' }>, leaf: (leafPath: Frag) => Frag): Frag {
  const doc = docOf(field);
  const walk = (path: Frag, remaining: string[]): Frag => {
    if (remaining.length === 0) return leaf(path);
    const child = sql`concat(${path}, ${pathParam(segmentText(remaining[0]))})`;
    if (remaining.length === 1) return walk(child, []);
    return overElements(ctx, doc, child, (element) => walk(element, remaining.slice(1)));
  };
  return walk(field.base ?? jsonRoot(doc, field.roots, field.segments[0]), field.segments);
}

/** The field's value as one scalar (no array traversal): for group keys and field references. */
export function scalarOf(field: ResolvedField): Frag | null {
  if (field.kind === 'column') return field.type === 'VARCHAR[]' ? null : asText(new Frag(`"${field.column}"`), kindOfType(field.type));
  if (field.kind === 'json') {
    const doc = docOf(field);
    const path = field.segments.map(segmentText).join('');
    if (field.roots.length === 1) return sql`json_extract_scalar(${doc}, ${pathParam(field.roots[0] + path)})`;
    const tries = field.roots.map((r) => sql`json_extract_scalar(${doc}, ${pathParam(r + path)})`);
    return sql`coalesce(${join(tries, ', ')})`;
  }
  return null;
}

/** A predicate applied to a field: true when any of its values passes (never NULL). */
function applyToField(
  ctx: DetectionContext,
  field: ResolvedField,
  predicate: ValuePredicate,
  construct: string,
  line: number | null,
  mods: Modifiers,
  value: SigmaValue,
): Frag {
  if (field.kind === 'unreachable') throw new UnsupportedRule(construct, field.reason, line);
  if (field.kind === 'column') {
    const column = new Frag(`"${field.column}"`);
    if (predicate.presence) {
      const present = field.type === 'VARCHAR[]' ? sql`(${column} IS NOT NULL AND cardinality(${column}) > 0)` : sql`${column} IS NOT NULL`;
      return predicate.presence === 'present' ? present : not(present);
    }
    if (field.lowercased && (mods.cased || mods.match === 're'))
      throw new UnsupportedRule(construct, `column ${field.column} holds this field in lower case, so |cased and |re cannot test it`, line);
    if (field.type === 'VARCHAR[]') {
      const x = ctx.fresh('x');
      return sql`cardinality(filter(${column}, ${x} -> coalesce(${predicate.test(new Frag(x), 'text')}, false))) > 0`;
    }
    const kind = kindOfType(field.type);
    if (kind === 'timestamp')
      throw new UnsupportedRule(construct, `column ${field.column} is a timestamp; rules match it only with |exists`, line);
    const typed = typedEquality(value, kind, mods);
    return sql`coalesce(${(typed ?? predicate).test(column, kind)}, false)`;
  }
  const doc = docOf(field);
  if (predicate.presence) {
    const present = overJsonLeaves(ctx, field, (leafPath) => sql`json_size(${doc}, ${leafPath}) IS NOT NULL`);
    return predicate.presence === 'present' ? present : not(present);
  }
  const matched = overJsonLeaves(ctx, field, (leafPath) =>
    overElements(
      ctx,
      doc,
      leafPath,
      (element) => sql`coalesce(${predicate.test(sql`json_extract_scalar(${doc}, ${element})`, 'text')}, false)`,
    ),
  );
  if (predicate.hint === undefined) return matched;
  const search = `(?i)${predicate.hint.replace(/[.+]/g, (c) => `\\${c}`)}`;
  return sql`(coalesce(regexp_like(${doc}, ${param(search)}), false) AND ${matched})`;
}

// ---------------------------------------------------------------------------------------------
// Search identifiers and the condition.

/** Tab, line feed and carriage return are fine in a parameter; other control characters are not (the API refuses them too). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function scalarValue(node: unknown, construct: string, line: number | null): SigmaValue {
  if (!isScalar(node))
    throw new UnsupportedRule(construct, 'a value must be a string, number, boolean or null (a nested map or list is not Sigma)', line);
  const v: unknown = node.value;
  if (typeof v === 'string' && CONTROL_CHARACTER.test(v))
    throw new UnsupportedRule(construct, 'a value holds a control character (NUL…), which Athena query parameters cannot carry', line);
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new UnsupportedRule(construct, `value of type ${typeof v} is not a Sigma value`, line);
}

function compileFieldItem(ctx: DetectionContext, pair: Pair, identifier: string): Frag {
  const line = ctx.lineOf(pair);
  const keyText = isScalar(pair.key) ? String(pair.key.value) : '';
  const construct = `${identifier}: ${keyText}`;
  const [fieldName, ...modList] = keyText.split('|');
  const mods = parseModifiers(modList, construct, line);
  const valueNode = pair.value as Node | null;
  if (mods.elements) return compileElements(ctx, pair, identifier, fieldName, mods, construct, line);
  const values: SigmaValue[] = isSeq(valueNode)
    ? valueNode.items.map((item) => scalarValue(item, construct, ctx.lineOf(item as Node) ?? line))
    : [scalarValue(valueNode ?? { value: null }, construct, line)];
  if (isSeq(valueNode) && values.length === 0)
    throw new UnsupportedRule(construct, 'an empty list of values matches nothing; remove the field or give values', line);

  // No field name: the values are keywords with modifiers, searched in the whole raw record.
  const field: ResolvedField =
    fieldName === '' ? { kind: 'column', column: 'raw', type: 'VARCHAR', lowercased: false } : resolveFieldIn(ctx, fieldName);

  if (mods.match === 'fieldref') {
    const tests = values.map((v) => {
      const other = resolveFieldIn(ctx, String(v));
      if (other.kind === 'unreachable') throw new UnsupportedRule(construct, other.reason, line);
      const rhs = scalarOf(other);
      if (!rhs) throw new UnsupportedRule(construct, '|fieldref names a list column; the referenced field must hold one value', line);
      // Each value of this field (arrays traversed) against the other field's one value.
      const predicate: ValuePredicate = {
        test: (e, kind) => {
          const [l, r] = mods.cased ? [asText(e, kind), rhs] : [sql`lower(${asText(e, kind)})`, sql`lower(${rhs})`];
          if (mods.refMatch === 'contains') return sql`strpos(${l}, ${r}) > 0`;
          if (mods.refMatch === 'startswith') return sql`starts_with(${l}, ${r})`;
          if (mods.refMatch === 'endswith')
            return sql`(length(${l}) >= length(${r}) AND substr(${l}, length(${l}) - length(${r}) + 1) = ${r})`;
          return sql`${l} = ${r}`;
        },
      };
      return applyToField(ctx, field, predicate, construct, line, { ...mods, match: null }, null);
    });
    return mods.all ? and(tests) : or(tests);
  }

  const perValue = values.map((v) =>
    or(valuePredicates(v, mods, construct, line).map((p) => applyToField(ctx, field, p, construct, line, mods, v))),
  );
  return mods.all ? and(perValue) : or(perValue);
}

/**
 * `field|elements: {sub: value, …}` (a ScoutQL extension to Sigma): true when one element of the
 * array at `field` (or the object itself, when it is not an array) matches every sub-field. Sigma
 * alone tests each field on any element, so "a statement with Principal * and no Condition" could
 * be met by two different statements.
 */
function compileElements(
  ctx: DetectionContext,
  pair: Pair,
  identifier: string,
  fieldName: string,
  mods: Modifiers,
  construct: string,
  line: number | null,
): Frag {
  if (mods.match !== null || mods.transforms.length > 0 || mods.all || mods.cased)
    throw new UnsupportedRule(construct, '|elements takes no other modifier; put them on the sub-fields', line);
  const valueNode = pair.value as Node | null;
  if (!isMap(valueNode)) throw new UnsupportedRule(construct, '|elements takes a map of sub-fields that one element must match', line);
  const field = resolveFieldIn(ctx, fieldName);
  if (field.kind !== 'json')
    throw new UnsupportedRule(construct, field.kind === 'unreachable' ? field.reason : '|elements works on JSON fields, not columns', line);
  const doc = docOf(field);
  return overJsonLeaves(ctx, field, (arrayPath) =>
    overElements(ctx, doc, arrayPath, (element) => {
      const inner: DetectionContext = { ...ctx, base: { doc: field.doc, path: element } };
      return and(valueNode.items.map((sub) => compileFieldItem(inner, sub, `${identifier}.${fieldName}`)));
    }),
  );
}

function resolveFieldIn(ctx: DetectionContext, name: string): ResolvedField {
  if (!ctx.base) return resolveField(ctx.target, name);
  const segments = name.split('.').filter((s) => s.length > 0);
  if (segments.length === 0) return { kind: 'unreachable', reason: 'empty sub-field name' };
  return { kind: 'json', doc: ctx.base.doc, roots: ['$'], segments, base: ctx.base.path };
}

function keywordPredicate(value: SigmaValue): Frag {
  const text = value === null ? '' : String(value);
  const pattern = likePattern(parsePattern(text), '%', '%');
  return sql`coalesce(lower(raw) LIKE lower(${param(pattern)}) ESCAPE '\\', false)`;
}

function compileSearch(ctx: DetectionContext, name: string, node: unknown): Frag {
  const line = ctx.lineOf(node as Node);
  if (isMap(node)) {
    if (node.items.length === 0) throw new UnsupportedRule(name, 'an empty map matches nothing', line);
    return and(node.items.map((pair) => compileFieldItem(ctx, pair, name)));
  }
  if (isSeq(node)) {
    if (node.items.length === 0) throw new UnsupportedRule(name, 'an empty list matches nothing', line);
    if (node.items.every((item) => isMap(item))) return or(node.items.map((item) => compileSearch(ctx, name, item)));
    if (node.items.every((item) => isScalar(item)))
      return or(node.items.map((item) => keywordPredicate(scalarValue(item, name, ctx.lineOf(item as Node)))));
    throw new UnsupportedRule(name, 'a list mixing maps and keywords', line);
  }
  if (isScalar(node)) return keywordPredicate(scalarValue(node, name, line));
  throw new UnsupportedRule(name, 'a search identifier must be a map, a list of maps or a list of keywords', line);
}

function compileCondition(tree: ConditionNode, searches: Map<string, Frag>, construct: string, line: number | null): Frag {
  const names = [...searches.keys()];
  switch (tree.op) {
    case 'and':
      return and(tree.items.map((t) => compileCondition(t, searches, construct, line)));
    case 'or':
      return or(tree.items.map((t) => compileCondition(t, searches, construct, line)));
    case 'not':
      return not(compileCondition(tree.item, searches, construct, line));
    case 'ref': {
      const found = searches.get(tree.name);
      if (!found) throw new UnsupportedRule(construct, `condition names '${tree.name}', which the detection does not define`, line);
      return found;
    }
    case 'of': {
      const matched = matchIdentifiers(tree.pattern, names);
      if (matched.length === 0) throw new UnsupportedRule(construct, `'${tree.pattern}' matches no search identifier`, line);
      const frags = matched.map((n) => searches.get(n)!);
      if (tree.count === 'all') return and(frags);
      if (tree.count === 1) return or(frags);
      if (tree.count > frags.length) return FALSE;
      const counted = frags.map((f) => sql`CASE WHEN ${f} THEN 1 ELSE 0 END`);
      return sql`(${join(counted, ' + ')}) >= ${param(tree.count)}`;
    }
  }
}

/** Compiles a `detection` map: its search identifiers and its condition (or list of conditions: any). */
export function compileDetection(ctx: DetectionContext, detection: YAMLMap): Frag {
  const searches = new Map<string, Frag>();
  let conditionPair: Pair | null = null;
  for (const pair of detection.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'condition') conditionPair = pair;
    else if (key === 'timeframe')
      throw new UnsupportedRule(
        'detection.timeframe',
        'timeframe belongs to the Sigma 1 aggregations; use a correlation rule with timespan',
        ctx.lineOf(pair),
      );
    else searches.set(key, compileSearch(ctx, key, pair.value));
  }
  if (!conditionPair) throw new UnsupportedRule('detection', 'no condition', ctx.lineOf(detection));
  const line = ctx.lineOf(conditionPair);
  const conditionNode = conditionPair.value as Node | null;
  const texts: string[] = isSeq(conditionNode)
    ? conditionNode.items.map((item) => String(isScalar(item) ? item.value : ''))
    : [String(isScalar(conditionNode) ? conditionNode.value : '')];
  const compiled = texts.map((text) => {
    let tree: ConditionNode;
    try {
      tree = parseCondition(text);
    } catch (err) {
      if (err instanceof ConditionError) throw new UnsupportedRule(`condition: ${text}`, err.message, line);
      throw err;
    }
    return compileCondition(tree, searches, `condition: ${text}`, line);
  });
  return or(compiled);
}
