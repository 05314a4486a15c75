/**
 * Loads the configuration: defaults < file < environment < flags, validated once by the schema.
 *
 * A problem names the key and where its value came from: `scoutql.config.yaml:12:3`, the
 * environment variable or the flag. Unknown keys fail (with a suggestion when one is close), in
 * the file and in `SCOUTQL_…__…` variables alike. Relative paths in the file are relative to the
 * file's folder; those from the environment or a flag to the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { AUDIT_DIR, KEYS_DIR } from '../core/lake-layout';
import { parseByteSize } from '../engine/athena-config';
import { childNames, coerce, configKeys, ENV_PREFIX, keyByName } from './keys';
import { configSchema, type AuthSettings, type ParsedConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'scoutql.config.yaml';

export type ValueSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number; column?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; flag: string };

export interface FlagValue {
  /** Dotted key, e.g. `server.port`. */
  key: string;
  /** As typed: text (coerced to the key's type) or true for a flag given without a value. */
  value: string | true;
  /** The flag as the user typed it (`--port`), for messages. */
  flag: string;
}

export interface LoadOptions {
  /** `--config`; else SCOUTQL_CONFIG; else ./scoutql.config.yaml when it exists. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  flags?: readonly FlagValue[];
  cwd?: string;
}

export interface ConfigProblem {
  key: string;
  where: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.where}: ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The configuration with every default settled: what the rest of the program reads. */
export interface ScoutConfig {
  engine: ParsedConfig['engine'];
  server: ParsedConfig['server'];
  auth: ResolvedAuth;
  audit: Omit<ParsedConfig['audit'], 'location' | 'maxChunkBytes'> & { location: string; maxChunkBytes: number };
  limits: ResolvedLimits;
  rules: ParsedConfig['rules'];
  suppressions: ParsedConfig['suppressions'];
  logging: ParsedConfig['logging'];
  /** The file read, if any (absolute). */
  file: string | null;
  /** Where a key's value came from (`server.port` → flag --port). */
  sourceOf(key: string): ValueSource;
}

export type ResolvedAuth =
  | { mode: 'none' }
  | {
      mode: 'on';
      oidc: NonNullable<AuthSettings['oidc']> | null;
      apiKeys: (Omit<NonNullable<AuthSettings['apiKeys']>, 'store'> & { store: string }) | null;
      soarOperations: AuthSettings['soarOperations'];
    };

export interface ResolvedLimits {
  /** 0: off. */
  ratePerMinute: number;
  /** Per client address; 0: off. */
  failedSignInsPerMinute: number;
  burst: number;
  /** 0: off. */
  concurrentQueriesPerCaller: number;
  maxWindowDays: number;
  defaultWindowDays: number;
  maxPageSize: number;
  defaultPageSize: number;
  maxBytesScannedPerQuery: number | null;
  scanBudget: { bytes: number; windowMinutes: number } | null;
}

/** Rate limits and caps when auth is on and the keys are unset; off with `auth: none` (one local user). */
export const TEAM_DEFAULT_LIMITS = { ratePerMinute: 600, concurrentQueriesPerCaller: 4 } as const;

type Tree = Record<string, unknown>;

export function loadConfig(options: LoadOptions = {}): ScoutConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const provenance = new Map<string, ValueSource>();

  const file = findConfigFile(options.configPath, env, cwd);
  let tree: Tree = {};
  let doc: Document | null = null;
  const lines = new LineCounter();
  if (file) {
    ({ tree, doc } = readConfigFile(file, lines));
    for (const leaf of leafPaths(tree)) provenance.set(leaf.join('.'), { kind: 'file', file });
  }
  const fileSource = (path: readonly string[]): ValueSource => {
    const pos = doc ? positionOf(doc, lines, path) : undefined;
    return { kind: 'file', file: file ?? '', ...pos };
  };

  const set = (path: readonly string[], value: unknown, source: ValueSource) => {
    setAt(tree, path, value);
    const key = path.join('.');
    for (const known of [...provenance.keys()]) {
      if (known === key || known.startsWith(`${key}.`) || key.startsWith(`${known}.`)) provenance.delete(known);
    }
    provenance.set(key, source);
  };

  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const key = configKeys().find((k) => k.env === name);
    if (key) set(key.path, coerce(key.node, raw), { kind: 'env', name });
    else if (name.includes('__')) {
      const near = closest(
        name,
        configKeys().map((k) => k.env),
      );
      problems.push({ key: '', where: `environment ${name}`, message: `unknown setting${near ? ` (did you mean ${near}?)` : ''}` });
    }
  }
  for (const flag of options.flags ?? []) {
    const key = keyByName(flag.key);
    if (!key) throw new Error(`internal: flag ${flag.flag} names no configuration key '${flag.key}'`);
    set(key.path, flag.value === true ? true : coerce(key.node, flag.value), { kind: 'flag', flag: flag.flag });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(issue, tree, provenance, fileSource));
    throw new ConfigError(problems);
  }

  const sourceOf = (key: string): ValueSource => {
    const source = provenance.get(key);
    if (source?.kind === 'file') return fileSource(key.split('.'));
    return source ?? { kind: 'default' };
  };
  const baseDir = file ? dirname(file) : cwd;
  const pathValue = (key: string, value: string): string => {
    if (value.startsWith('s3://') || isAbsolute(value)) return value;
    return resolve(sourceOf(key).kind === 'file' ? baseDir : cwd, value);
  };
  return settle(parsed.data, { file, env, pathValue, sourceOf });
}

function settle(
  data: ParsedConfig,
  ctx: {
    file: string | null;
    env: NodeJS.ProcessEnv;
    pathValue: (key: string, value: string) => string;
    sourceOf: (key: string) => ValueSource;
  },
): ScoutConfig {
  const lake = ctx.pathValue('engine.lake', data.engine.lake);
  const inLake = (folder: string) => lakeFolder(lake, folder);
  const engine = { ...data.engine, lake, athena: { ...data.engine.athena } };
  if (engine.type === 'athena' && !engine.athena.region) {
    const region = ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION;
    if (!region)
      throw new ConfigError([
        { key: 'engine.athena.region', where: 'config', message: 'is required with engine.type athena (or set AWS_REGION)' },
      ]);
    engine.athena.region = region;
  }
  let auth: ResolvedAuth = { mode: 'none' };
  if (data.auth !== 'none') {
    const keys = data.auth.apiKeys?.enabled ? data.auth.apiKeys : undefined;
    auth = {
      mode: 'on',
      oidc: data.auth.oidc ?? null,
      apiKeys: keys ? { ...keys, store: keys.store ? ctx.pathValue('auth.apiKeys.store', keys.store) : inLake(KEYS_DIR) } : null,
      soarOperations: data.auth.soarOperations,
    };
  }
  const team = auth.mode === 'on';
  const ratePerMinute = data.limits.ratePerMinute ?? (team ? TEAM_DEFAULT_LIMITS.ratePerMinute : 0);
  const bytes = (value: number | string | undefined) =>
    value === undefined ? null : typeof value === 'number' ? value : parseByteSize(value);
  const budgetBytes = bytes(data.limits.scanBudgetBytes);
  const limits: ResolvedLimits = {
    ratePerMinute,
    failedSignInsPerMinute: data.limits.failedSignInsPerMinute,
    burst: data.limits.burst ?? Math.max(10, Math.ceil(ratePerMinute / 6)),
    concurrentQueriesPerCaller: data.limits.concurrentQueriesPerCaller ?? (team ? TEAM_DEFAULT_LIMITS.concurrentQueriesPerCaller : 0),
    maxWindowDays: data.limits.maxWindowDays,
    defaultWindowDays: data.limits.defaultWindowDays,
    maxPageSize: data.limits.maxPageSize,
    defaultPageSize: data.limits.defaultPageSize,
    maxBytesScannedPerQuery: bytes(data.limits.maxBytesScannedPerQuery),
    scanBudget: budgetBytes === null ? null : { bytes: budgetBytes, windowMinutes: data.limits.scanBudgetWindowMinutes },
  };
  return {
    engine,
    server: {
      ...data.server,
      ...(data.server.persistedQueries ? { persistedQueries: ctx.pathValue('server.persistedQueries', data.server.persistedQueries) } : {}),
    },
    auth,
    audit: {
      ...data.audit,
      location: data.audit.location ? ctx.pathValue('audit.location', data.audit.location) : inLake(AUDIT_DIR),
      maxChunkBytes: bytes(data.audit.maxChunkBytes) ?? 0,
    },
    limits,
    rules: { dir: ctx.pathValue('rules.dir', data.rules.dir) },
    suppressions: data.suppressions.file ? { file: ctx.pathValue('suppressions.file', data.suppressions.file) } : {},
    logging: data.logging,
    file: ctx.file,
    sourceOf: ctx.sourceOf,
  };
}

/** Describes a value's source for people: `scoutql.config.yaml:12:3`, `environment X`, `flag --x`, `default`. */
export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'file':
      return source.line ? `${source.file}:${source.line}:${source.column ?? 1}` : source.file;
    case 'env':
      return `environment ${source.name}`;
    case 'flag':
      return `flag ${source.flag}`;
    default:
      return 'default';
  }
}

function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | null {
  const given = explicit ?? (env.SCOUTQL_CONFIG || undefined);
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) {
      const via = explicit !== undefined ? '--config' : 'SCOUTQL_CONFIG';
      throw new ConfigError([{ key: '', where: via, message: `config file '${given}' does not exist` }]);
    }
    return path;
  }
  const implicit = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : null;
}

function readConfigFile(file: string, lines: LineCounter): { tree: Tree; doc: Document } {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { key: '', where: `${file}:${pos.line}:${pos.col}`, message: `not valid YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { tree: {}, doc };
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError([{ key: '', where: file, message: 'the file must hold a mapping of keys (engine:, server:, auth:, …)' }]);
  return { tree: withoutNulls(value as Tree), doc };
}

/** `server:` with every key under it commented out reads as null: treat it (and any null) as not set. */
function withoutNulls(tree: Tree): Tree {
  const out: Tree = {};
  for (const [key, value] of Object.entries(tree)) {
    if (value === null) continue;
    out[key] = typeof value === 'object' && !Array.isArray(value) ? withoutNulls(value as Tree) : value;
  }
  return out;
}

/** Line and column of a key in the file: the deepest part of the path the file has. */
function positionOf(doc: Document, lines: LineCounter, path: readonly string[]): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
    if (!pair) break;
    if (isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
    node = pair.value;
  }
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function describeIssue(
  issue: z.core.$ZodIssue,
  tree: Tree,
  provenance: Map<string, ValueSource>,
  fileSource: (path: readonly string[]) => ValueSource,
): ConfigProblem[] {
  const path = issue.path.map(String);
  const where = (p: readonly string[]) => describeSource(locate(p, provenance, fileSource));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((name) => {
      const near = closest(name, childNames(path));
      return {
        key: [...path, name].join('.'),
        where: where([...path, name]),
        message: `unknown key${near ? ` (did you mean '${near}'?)` : ''}${path.length === 0 ? '' : `; known: ${childNames(path).join(', ')}`}`,
      };
    });
  }
  if (issue.code === 'invalid_union') {
    // Report the branch that fits the value's shape (e.g. the object form of `auth`), not every branch.
    const branches = issue.errors.filter(
      (errors) => !errors.some((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')),
    );
    if (branches.length === 1) {
      return branches[0].flatMap((inner) =>
        describeIssue({ ...inner, path: [...issue.path, ...inner.path] }, tree, provenance, fileSource),
      );
    }
  }
  const value = valueAt(tree, path);
  const because = issue.code === 'custom' && Array.isArray(issue.params?.because) ? (issue.params.because as string[]) : null;
  return [{ key: path.join('.'), where: where(because ?? path), message: issueMessage(issue, value, path) }];
}

function issueMessage(issue: z.core.$ZodIssue, value: unknown, path: readonly string[]): string {
  const got = value === undefined ? 'nothing' : JSON.stringify(value);
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? 'is required' : `expected ${issue.expected === 'number' ? 'a number' : issue.expected}, got ${got}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}, got ${got}`;
    case 'invalid_union': {
      const key = keyByName(path.join('.'));
      return `expected ${key?.type ?? 'another kind of value'}, got ${got}`;
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
      return `${issue.message.replace(/^Invalid input: /, '')}, got ${got}`;
    default:
      return issue.message;
  }
}

/** The source of the value at path, or of the nearest part of it that was set. */
function locate(
  path: readonly string[],
  provenance: Map<string, ValueSource>,
  fileSource: (path: readonly string[]) => ValueSource,
): ValueSource {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n).join('.');
    const exact = provenance.get(prefix);
    const inside = exact ?? [...provenance.entries()].find(([k]) => prefix === '' || k.startsWith(`${prefix}.`))?.[1];
    if (!inside) continue;
    return inside.kind === 'file' ? fileSource(path) : inside;
  }
  return { kind: 'default' };
}

function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  const keyHere = path.length > 0 ? keyByName(path.join('.')) : undefined;
  if (keyHere && keyHere.node.type === 'object') return [path]; // a map key (roles, accounts) is one value
  const entries = Object.entries(value as Tree);
  if (entries.length === 0) return [path];
  return entries.flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

function setAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Tree;
  }
  node[path[path.length - 1]] = value;
}

function valueAt(tree: Tree, path: readonly string[]): unknown {
  let node: unknown = tree;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Tree)[segment];
  }
  return node;
}

/** The candidate closest to name (case, `_` and `-` ignored; at most 2 edits), if any. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(norm(name), norm(candidate));
    if (distance <= 2 && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * Where API key records live: auth.apiKeys.store when auth is on with API keys, else the lake's
 * `_keys/` (so `scoutql keys create` can prepare keys before auth is switched on).
 */
export function apiKeyStoreOf(config: ScoutConfig): string {
  if (config.auth.mode === 'on' && config.auth.apiKeys) return config.auth.apiKeys.store;
  return lakeFolder(config.engine.lake, KEYS_DIR);
}

/** A bookkeeping folder of the lake (local folder or s3:// prefix). */
function lakeFolder(lake: string, folder: string): string {
  return lake.startsWith('s3://') ? `${lake.replace(/\/+$/, '')}/${folder}` : resolve(lake, folder);
}
