/**
 * Walks everything a caller can reach through the API, driven by the schema's introspection (so a
 * field added tomorrow is walked too): every root field with every candidate argument, then every
 * object reached, again and again through `node(id)`, selecting every field of its type one level
 * deep (leaves, links and connections up to the next Node, whose id is followed). Returns every
 * answer for the caller's eyes: the test looks in them for what the caller must not see.
 */
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isAbstractType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';

export type Ask = (query: string, variables: Record<string, unknown>) => Promise<{ status: number; body: any }>;

export interface WalkOptions {
  /** Values to try for each required String / ID argument of a root field (ids, addresses, names…). */
  candidates: readonly string[];
  /** Global ids to try with node(id). */
  globalIds: readonly string[];
  window: { from: string; to: string };
  /** Page size for every connection (the fixture lake is small: everything fits). */
  first?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Root fields or node lookups asked together in one request (default 8; 1: one request each). */
  pack?: number;
}

export interface WalkResult {
  /** Every answer (data and errors), as received. */
  answers: { query: string; variables: Record<string, unknown>; status: number; body: any }[];
  /** Global ids of every object reached. */
  reached: Set<string>;
  schema: GraphQLSchema;
}

const ROOT_TEXT_ARGS = new Set(['id', 'address', 'indicator']);

export async function walkApi(ask: Ask, options: WalkOptions): Promise<WalkResult> {
  const introspection = await ask(getIntrospectionQuery(), {});
  if (introspection.status !== 200 || introspection.body.errors)
    throw new Error(`introspection failed: ${JSON.stringify(introspection.body)}`);
  const schema = buildClientSchema(introspection.body.data as IntrospectionQuery);
  const first = options.first ?? 50;
  const nodeInterface = schema.getType('Node');
  const isNode = (type: GraphQLNamedType) =>
    isObjectType(type) && nodeInterface !== undefined && type.getInterfaces().some((i) => i.name === nodeInterface.name);

  /** Arguments we give a nested field: a page size where it takes one; nothing else (windows are inherited). */
  const nestedArgs = (field: GraphQLField<unknown, unknown>): string | null => {
    if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) return null; // none today
    return field.args.some((a) => a.name === 'first') ? `(first: ${first})` : '';
  };

  /** Every field of a type: leaves, and objects down to (and including the id of) the next Node. */
  const select = (type: GraphQLNamedType, depth: number, seen: readonly string[]): string => {
    if (isLeafType(type)) return '';
    if (isAbstractType(type)) {
      const parts = schema.getPossibleTypes(type).map((t) => `... on ${t.name} { ${select(t, depth, seen)} }`);
      return `__typename ${parts.join(' ')}`;
    }
    const object = type as GraphQLObjectType;
    if (depth > 0 && isNode(object)) return '__typename id'; // followed later through node(id)
    if (seen.includes(object.name) || depth > 6) return '__typename';
    const fields: string[] = ['__typename'];
    for (const field of Object.values(object.getFields())) {
      const args = nestedArgs(field);
      if (args === null) continue;
      const named = getNamedType(field.type);
      if (isLeafType(named)) fields.push(`${field.name}${args}`);
      else fields.push(`${field.name}${args} { ${select(named, depth + 1, [...seen, object.name])} }`);
    }
    return fields.join(' ');
  };

  const answers: WalkResult['answers'] = [];
  const reached = new Set<string>();
  const queue: string[] = [];
  const collectIds = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collectIds);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.id === 'string' && typeof record.__typename === 'string') {
        const type = schema.getType(record.__typename);
        if (type && isNode(type) && !reached.has(record.id)) {
          reached.add(record.id);
          queue.push(record.id);
        }
      }
      Object.values(record).forEach(collectIds);
    }
  };
  /**
   * One root field (or node lookup) to ask, written with `$value` (its text argument) and `$window`.
   * Several are packed into one request under aliases, each with its own variable, so the walk is a
   * few hundred requests rather than thousands (the loaders batch them like any client's); a packed
   * request that is refused or answers an error is asked again part by part, so every answer the
   * test reads is that of the part alone, as a client asking only it would get it.
   */
  interface Part {
    field: string;
    valueType: string | null;
    value?: string;
  }
  const usesWindow = (text: string) => /\$window\b/.test(text);
  const single = (part: Part): [string, Record<string, unknown>] => {
    const defs = [...(usesWindow(part.field) ? ['$window: TimeWindow!'] : []), ...(part.valueType ? [`$value: ${part.valueType}`] : [])];
    return [
      `query Walk${defs.length ? `(${defs.join(', ')})` : ''} { ${part.field} }`,
      { window: options.window, ...(part.valueType ? { value: part.value } : {}) },
    ];
  };
  const packed = (parts: Part[]): [string, Record<string, unknown>] => {
    const defs = parts.some((part) => usesWindow(part.field)) ? ['$window: TimeWindow!'] : [];
    const variables: Record<string, unknown> = { window: options.window };
    const fields = parts.map((part, i) => {
      if (!part.valueType) return `p${i}: ${part.field}`;
      defs.push(`$v${i}: ${part.valueType}`);
      variables[`v${i}`] = part.value;
      return `p${i}: ${part.field.replace(/\$value\b/g, `$v${i}`)}`;
    });
    return [`query Walk${defs.length ? `(${defs.join(', ')})` : ''} { ${fields.join(' ')} }`, variables];
  };
  const ask1 = async ([query, variables]: [string, Record<string, unknown>]) => {
    const answer = await ask(query, variables);
    return { query, variables, ...answer };
  };
  const record = (answer: WalkResult['answers'][number]) => {
    answers.push(answer);
    collectIds(answer.body?.data);
  };
  const run = async (parts: Part[]) => {
    if (parts.length > 1) {
      const answer = await ask1(packed(parts));
      if (answer.status === 200 && !answer.body?.errors) return record(answer);
    }
    for (const part of parts) record(await ask1(single(part)));
  };

  const queryType = schema.getQueryType()!;
  const roots: Part[] = [];
  for (const field of Object.values(queryType.getFields())) {
    const named = getNamedType(field.type);
    const required = field.args.filter((a) => isNonNullType(a.type));
    const textArg = required.find((a) => ROOT_TEXT_ARGS.has(a.name));
    const argList: string[] = [];
    for (const arg of field.args) {
      const argType = getNullableType(arg.type);
      if (arg.name === 'window') argList.push('window: $window');
      else if (arg.name === 'first') argList.push(`first: ${first}`);
      else if (arg === textArg) argList.push(`${arg.name}: $value`);
      else if (isNonNullType(arg.type))
        throw new Error(`walker: root field ${field.name} needs ${arg.name} (${String(argType)}); teach the walker`);
    }
    const call = `${field.name}${argList.length ? `(${argList.join(', ')})` : ''}`;
    const text = `${call} ${isLeafType(named) ? '' : `{ ${select(named, 0, [])} }`}`;
    if (!textArg) roots.push({ field: text, valueType: null });
    else if (textArg.type.toString() !== 'ID!')
      for (const value of options.candidates) roots.push({ field: text, valueType: textArg.type.toString(), value });
    else
      // By global id: select the fields of the type the id names (the types of an interface disagree on nullability).
      for (const value of options.globalIds) {
        const type = schema.getType(Buffer.from(value, 'base64').toString('utf8').split(':')[0]);
        if (type && isObjectType(type))
          roots.push({ field: `${call} { ... on ${type.name} { ${select(type, 0, [])} } }`, valueType: 'ID!', value });
      }
  }

  // Every root first, then every object reached, through node(id): its every field, and the objects those reach.
  const nextPart = (): Part | null => {
    const root = roots.shift();
    if (root) return root;
    while (queue.length > 0) {
      const id = queue.shift()!;
      const type = schema.getType(Buffer.from(id, 'base64').toString('utf8').split(':')[0]);
      if (type && isObjectType(type))
        return {
          field: `node(id: $value, window: $window) { ... on ${type.name} { ${select(type, 0, [])} } }`,
          valueType: 'ID!',
          value: id,
        };
    }
    return null;
  };
  const maxParts = options.pack ?? 8;
  const next = (): Part[] | null => {
    const parts: Part[] = [];
    let chars = 0;
    while (parts.length < maxParts) {
      const part = nextPart();
      if (!part) break;
      parts.push(part);
      chars += part.field.length;
      if (chars > 12_000) break; // the server's document limit is 20 000 characters
    }
    return parts.length > 0 ? parts : null;
  };
  let busy = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const task = next();
      if (!task) {
        // Others may still add objects to follow: wait for them before giving up.
        if (busy === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      busy++;
      try {
        await run(task);
      } finally {
        busy--;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { answers, reached, schema };
}

/**
 * Every string an answer shows its reader, with global ids and cursors decoded (they carry ids in
 * base64). `skipKeys` leaves out echoes of the caller's own values: a field name anywhere, or
 * `Type.field` for one type's field only (the object's `__typename`).
 */
export function visibleStrings(value: unknown, skipKeys: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string | null, typename?: unknown) => {
    if (key !== null && (skipKeys.has(key) || (typeof typename === 'string' && skipKeys.has(`${typename}.${key}`)))) return;
    if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/=_-]{8,}$/.test(v)) {
        const decoded = Buffer.from(v, 'base64').toString('utf8');
        if (/^[\x20-\x7e]+$/.test(decoded)) out.push(decoded);
      }
    } else if (Array.isArray(v)) v.forEach((item) => visit(item, null));
    else if (v && typeof v === 'object')
      for (const [k, item] of Object.entries(v)) visit(item, k, (v as { __typename?: unknown }).__typename);
  };
  visit(value, null);
  return out;
}
