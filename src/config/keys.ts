/**
 * The catalogue of settable keys, derived from the zod schema (through its JSON Schema): each key's
 * dotted name, environment variable, flag, type, default and description. Environment and flag
 * values are strings; `coerce` turns them into the key's type before validation.
 *
 * Names: key `engine.athena.outputLocation` → env `SCOUTQL_ENGINE__ATHENA__OUTPUT_LOCATION`
 * (levels joined by `__`, words by `_`) → flag `--engine-athena-output-location`.
 */
import { z } from 'zod';
import { configSchema } from './schema';

/** The subset of JSON Schema that z.toJSONSchema emits for this schema. */
export interface JsonSchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  enum?: (string | number)[];
  const?: string | number | boolean;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
}

export interface ConfigKey {
  /** Dotted name, e.g. `server.port`. */
  key: string;
  path: readonly string[];
  env: string;
  flag: string;
  /** A short type for people: `integer 0–65535`, `duckdb | athena`, `list of text`, … */
  type: string;
  default: unknown;
  description: string;
  node: JsonSchemaNode;
}

export const ENV_PREFIX = 'SCOUTQL_';

/** Short flags kept from the commands' original options; each sets the key it names. */
export const FLAG_ALIASES = {
  '--lake': 'engine.lake',
  '--engine': 'engine.type',
  '--host': 'server.host',
  '--port': 'server.port',
  '--insecure-bind': 'server.insecureBind',
  '--max-window-days': 'limits.maxWindowDays',
  '--max-page-size': 'limits.maxPageSize',
} as const satisfies Record<string, string>;

let cached: ConfigKey[] | null = null;

export function configKeys(): readonly ConfigKey[] {
  cached ??= collect(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode, []);
  return cached;
}

export function keyByName(key: string): ConfigKey | undefined {
  return configKeys().find((k) => k.key === key);
}

/** The keys directly below an object path (names only), for "did you mean" suggestions. */
export function childNames(path: readonly string[]): string[] {
  const names = new Set<string>();
  for (const k of configKeys()) {
    if (k.path.length > path.length && path.every((p, i) => k.path[i] === p)) names.add(k.path[path.length]);
  }
  return [...names];
}

function collect(node: JsonSchemaNode, path: string[]): ConfigKey[] {
  const objectBranch = objectWithProperties(node);
  const out: ConfigKey[] = [];
  // A key is settable itself unless it is only a container (an object of named keys).
  const scalarBranches = (node.anyOf ?? []).filter((b) => !objectWithProperties(b));
  if (path.length > 0 && (!objectBranch || scalarBranches.length > 0)) out.push(makeKey(node, path));
  if (objectBranch?.properties) {
    for (const [name, child] of Object.entries(objectBranch.properties)) out.push(...collect(child, [...path, name]));
  }
  return out;
}

function objectWithProperties(node: JsonSchemaNode): JsonSchemaNode | undefined {
  if (node.type === 'object' && node.properties) return node;
  return node.anyOf?.find((b) => b.type === 'object' && b.properties);
}

function makeKey(node: JsonSchemaNode, path: string[]): ConfigKey {
  return {
    key: path.join('.'),
    path,
    env: ENV_PREFIX + path.map(snake).join('__'),
    flag: '--' + path.map(kebab).join('-'),
    type: describeType(node),
    default: node.default,
    description: node.description ?? '',
    node,
  };
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function describeType(node: JsonSchemaNode): string {
  if (node.anyOf) {
    const parts = node.anyOf.filter((b) => !objectWithProperties(b)).map(describeType);
    if (objectWithProperties(node)) parts.push('object');
    return parts.join(' | ');
  }
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.join(' | ');
  switch (node.type) {
    case 'integer': {
      const min = node.minimum ?? Number.MIN_SAFE_INTEGER;
      const max = node.maximum ?? Number.MAX_SAFE_INTEGER;
      if (min <= Number.MIN_SAFE_INTEGER && max >= Number.MAX_SAFE_INTEGER) return 'integer';
      if (max >= Number.MAX_SAFE_INTEGER) return `integer ≥ ${min}`;
      return `integer ${min}–${max}`;
    }
    case 'number':
      return node.maximum !== undefined ? `number ${node.minimum ?? ''}–${node.maximum}` : 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${node.items ? describeType(node.items) : 'values'}`;
    case 'object':
      return 'map (JSON in env / flags)';
    case 'string':
      if (node.format === 'uri') return 'URL';
      if (node.pattern?.startsWith('^\\s*\\d+')) return 'byte size';
      if (node.pattern?.startsWith('^s3:')) return 's3:// URL';
      return 'text';
    default:
      return 'value';
  }
}

/**
 * Turns an environment or flag string into the key's type: numbers and booleans when they read as
 * such, comma-separated lists, JSON for maps. Anything that does not fit is passed on as text, so
 * the schema names the key and the expected type.
 */
export function coerce(node: JsonSchemaNode, raw: string): unknown {
  const text = raw.trim();
  const branches = node.anyOf ?? [node];
  for (const b of branches) if (b.const !== undefined && String(b.const) === text) return b.const;
  for (const b of branches) {
    if ((b.type === 'integer' || b.type === 'number') && /^-?\d+(?:\.\d+)?$/.test(text)) return Number(text);
    if (b.type === 'boolean') {
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
    }
  }
  const array = branches.find((b) => b.type === 'array');
  const plainString = branches.some((b) => b.type === 'string' && b.const === undefined && !b.enum);
  if (array && (!plainString || text.includes(','))) {
    if (text.startsWith('[')) return parseJson(text);
    return text === '' ? [] : text.split(',').map((part) => part.trim());
  }
  if (branches.some((b) => b.type === 'object' && !b.properties) && text.startsWith('{')) return parseJson(text);
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // the schema then reports the type it expected
  }
}
