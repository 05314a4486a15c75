/**
 * Suppressions: findings that are expected where ScoutQL runs, written down with their reason.
 * One YAML file (docs in rules/README.md, "Suppressions"):
 *
 *   known_networks:            # your own addresses (office NAT, VPN egress, CI runners)
 *     - cidr: 203.0.113.0/24
 *       reason: Office NAT
 *       rules: [new-source-ip-for-identity]   # optional: only these rules (id or name); default every rule
 *   break_glass:               # identities allowed to do what rules flag
 *     - identity: arn:aws:iam::*:role/BreakGlass   # `*` matches any run of characters
 *       reason: Emergency access, reviewed after each use
 *   allow:                     # per rule: what it may ignore; every key given must match
 *     - rule: s3-bucket-made-public
 *       resource: arn:aws:s3:::www.example.com
 *       identity: …   ip: …   account: …
 *       reason: The public website bucket
 *       expires: 2026-12-31    # optional: findings after this day are no longer suppressed
 *
 * A suppressed finding is not written; detect counts what each entry suppressed. Matching is on the
 * finding's entity keys, so it is the same on every engine. Expiry compares with the finding's
 * time, not the clock, so re-running an old window gives the same findings.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import type { FindingRow } from '../core/tables';
import type { RuleMeta } from './model';

const reason = z.string().trim().min(1, 'every suppression needs a reason');
const ruleList = z.array(z.string().min(1)).min(1).optional();

const schema = z.strictObject({
  known_networks: z.array(z.strictObject({ cidr: z.string().min(1), reason, rules: ruleList })).default([]),
  break_glass: z.array(z.strictObject({ identity: z.string().min(1), reason, rules: ruleList })).default([]),
  allow: z
    .array(
      z
        .strictObject({
          rule: z.string().min(1),
          identity: z.string().min(1).optional(),
          ip: z.string().min(1).optional(),
          resource: z.string().min(1).optional(),
          account: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
          reason,
          expires: z.union([z.string(), z.date()]).optional(),
        })
        .refine((e) => e.identity || e.ip || e.resource || e.account !== undefined, {
          message: 'an allow entry names at least one of identity, ip, resource, account (a whole rule is turned off by removing it)',
        }),
    )
    .default([]),
});

type Entity = 'identity' | 'ip' | 'resource' | 'account';

/** One entry, compiled: what it matches, and where it is in the file. */
export interface Suppression {
  /** `known_networks[0]`, `allow[2]`… */
  entry: string;
  reason: string;
  /** Rule ids or names it is limited to (null: every rule). */
  rules: string[] | null;
  matches: Partial<Record<Entity, (value: string) => boolean>>;
  /** Findings at or after this instant are not suppressed. */
  expires: Date | null;
}

export interface Suppressions {
  file: string | null;
  entries: Suppression[];
}

export const NO_SUPPRESSIONS: Suppressions = { file: null, entries: [] };

export class SuppressionsError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${reason}`);
    this.name = 'SuppressionsError';
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** An IPv4 or IPv6 address as 128 bits (IPv4 as ::ffff:a.b.c.d), or null. */
export function ipBits(text: string): bigint | null {
  const v4 = (s: string): bigint | null => {
    const parts = s.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
    return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
  };
  const four = v4(text);
  if (four !== null) return (0xffffn << 32n) | four;
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = v4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  let bits = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== null) bits = (bits & ~0xffffffffn) | tailV4;
  return bits;
}

/** A matcher for an address or CIDR range (IPv4 or IPv6), or null when the text is neither. */
export function cidrMatcher(text: string): ((ip: string) => boolean) | null {
  const [address, prefix, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const base = ipBits(address);
  if (base === null) return null;
  const isV4 = !address.includes(':');
  const width = isV4 ? 32 : 128;
  const length = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(length >= 0 && length <= width)) return null;
  const bits = BigInt(128 - width + length);
  const mask = bits === 0n ? 0n : ((1n << bits) - 1n) << (128n - bits);
  return (ip: string) => {
    const value = ipBits(ip.trim());
    return value !== null && (value & mask) === (base & mask);
  };
}

/** `*` matches any run of characters; everything else is literal. */
function globMatcher(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return (value) => re.test(value);
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Source {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** The line of the deepest node of `path` the document has. */
function lineAt(source: Source, path: readonly PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = source.doc.getIn(path.slice(0, n), true) as Node | undefined;
    const range = node && typeof node === 'object' && 'range' in node ? node.range : null;
    if (range) return source.lines.linePos(range[0]).line;
  }
  return null;
}

const pathText = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** Parses a suppressions file's text. Any problem is a SuppressionsError with its file, line and path. */
export function parseSuppressions(file: string, text: string): Suppressions {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const source: Source = { file, doc, lines };
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new SuppressionsError(file, lines.linePos(err.pos[0]).line, '', err.message.split('\n')[0]);
  }
  if (doc.contents === null) return { file, entries: [] };
  if (!isMap(doc.contents))
    throw new SuppressionsError(file, 1, '', 'a suppressions file is a YAML map (known_networks, break_glass, allow)');
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path;
    fail(source, path, issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message);
  }
  const entries: Suppression[] = [];
  parsed.data.known_networks.forEach((e, i) => {
    const match = cidrMatcher(e.cidr);
    if (!match) fail(source, ['known_networks', i, 'cidr'], `'${e.cidr}' is not an IP address or CIDR range`);
    entries.push({ entry: `known_networks[${i}]`, reason: e.reason, rules: e.rules ?? null, matches: { ip: match }, expires: null });
  });
  parsed.data.break_glass.forEach((e, i) => {
    entries.push({
      entry: `break_glass[${i}]`,
      reason: e.reason,
      rules: e.rules ?? null,
      matches: { identity: globMatcher(e.identity) },
      expires: null,
    });
  });
  parsed.data.allow.forEach((e, i) => {
    const matches: Suppression['matches'] = {};
    if (e.identity) matches.identity = globMatcher(e.identity);
    if (e.resource) matches.resource = globMatcher(e.resource);
    if (e.account !== undefined) matches.account = globMatcher(String(e.account));
    if (e.ip) {
      const ip = cidrMatcher(e.ip);
      if (!ip) fail(source, ['allow', i, 'ip'], `'${e.ip}' is not an IP address or CIDR range`);
      matches.ip = ip!;
    }
    let expires: Date | null = null;
    if (e.expires !== undefined) {
      const day = e.expires instanceof Date ? e.expires.toISOString().slice(0, 10) : e.expires;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day)))
        fail(source, ['allow', i, 'expires'], `'${day}' is not a day (YYYY-MM-DD)`);
      expires = new Date(Date.parse(day) + 86_400_000);
    }
    entries.push({ entry: `allow[${i}]`, reason: e.reason, rules: [e.rule], matches, expires });
  });
  return { file, entries };
}

function fail(source: Source, path: readonly PropertyKey[], reason: string): never {
  throw new SuppressionsError(source.file, lineAt(source, path), pathText(path), reason);
}

export function loadSuppressions(file: string): Suppressions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SuppressionsError(file, null, '', `cannot be read: ${(err as Error).message}`);
  }
  return parseSuppressions(file, text);
}

// ---------------------------------------------------------------------------------------------
// Applying

export interface SuppressionOutcome {
  kept: FindingRow[];
  /** How many findings each entry suppressed (entries that suppressed nothing included, at 0). */
  counts: { entry: string; reason: string; suppressed: number }[];
  /** Entries naming rules that are not in the loaded rule set (likely a typo). */
  unknownRules: { entry: string; rule: string }[];
}

function appliesTo(s: Suppression, meta: Pick<RuleMeta, 'id' | 'name'>): boolean {
  return s.rules === null || s.rules.includes(meta.id) || (meta.name !== null && s.rules.includes(meta.name));
}

function matches(s: Suppression, row: FindingRow): boolean {
  if (s.expires && row.time.getTime() >= s.expires.getTime()) return false;
  const checks: [Entity, (string | null)[]][] = [
    ['identity', [row.actor_id]],
    ['ip', [row.src_ip]],
    ['resource', [...(row.resources ?? [])]],
    ['account', [row.account]],
  ];
  return checks.every(([key, values]) => {
    const test = s.matches[key];
    return !test || values.some((v) => v !== null && test(v));
  });
}

/** Drops the findings an entry suppresses (the first matching entry is credited). */
export function applySuppressions(
  suppressions: Suppressions,
  rows: readonly FindingRow[],
  rules: readonly Pick<RuleMeta, 'id' | 'name'>[],
): SuppressionOutcome {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const counts = new Map(suppressions.entries.map((s) => [s.entry, 0]));
  const kept: FindingRow[] = [];
  for (const row of rows) {
    const meta = byId.get(row.rule_id) ?? { id: row.rule_id, name: null };
    const by = suppressions.entries.find((s) => appliesTo(s, meta) && matches(s, row));
    if (by) counts.set(by.entry, (counts.get(by.entry) ?? 0) + 1);
    else kept.push(row);
  }
  const known = new Set(rules.flatMap((r) => [r.id, ...(r.name ? [r.name] : [])]));
  const unknownRules = suppressions.entries.flatMap((s) =>
    (s.rules ?? []).filter((r) => !known.has(r)).map((rule) => ({ entry: s.entry, rule })),
  );
  return {
    kept,
    counts: suppressions.entries.map((s) => ({ entry: s.entry, reason: s.reason, suppressed: counts.get(s.entry) ?? 0 })),
    unknownRules,
  };
}
