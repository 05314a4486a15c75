/**
 * Hostile documents: injection text in every argument reaches SQL only as a parameter; engine
 * failures and bugs reach the caller as a code and a plain message, never SQL text or a stack.
 */
import { EngineError, type QueryEngine } from '../../src/engine/types';
import { ScoutApi } from '../../src/api/server';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import { BRUTE_IP, WINDOW, writeStoryLake } from './fixtures/story';

const INJECTIONS = [
  "' OR '1'='1",
  "x'; DROP VIEW api_activity; --",
  "') UNION ALL SELECT raw FROM api_activity --",
  '" OR 1=1 --',
  '%',
  '_',
  '\\',
  "'; COPY (SELECT 1) TO '/tmp/pwned.csv'; --",
  "arn:aws:s3:::x' OR 1=1 --",
  '\u0000',
];

/** Every argument that carries caller text, as [document, variables] builders. */
const PROBES: [string, (v: string) => [string, Record<string, unknown>]][] = [
  ['identity(id)', (v) => [`query($v: String!, $w: TimeWindow) { identity(id: $v, window: $w) { identityId } }`, { v }]],
  ['ip(address)', (v) => [`query($v: String!, $w: TimeWindow) { ip(address: $v, window: $w) { address } }`, { v }]],
  ['resource(id)', (v) => [`query($v: String!, $w: TimeWindow) { resource(id: $v, window: $w) { resourceId } }`, { v }]],
  ['session(id)', (v) => [`query($v: String!, $w: TimeWindow) { session(id: $v, window: $w) { sessionId } }`, { v }]],
  ['account(id)', (v) => [`query($v: String!, $w: TimeWindow) { account(id: $v, window: $w) { accountId } }`, { v }]],
  ['identities(kind)', (v) => [`query($v: String!, $w: TimeWindow) { identities(kind: $v, window: $w) { totalCount } }`, { v }]],
  [
    'contextFor(indicator)',
    (v) => [`query($v: String!, $w: TimeWindow!) { contextFor(indicator: $v, window: $w) { kind found recentEvents { eventId } } }`, { v }],
  ],
  ...(['identity', 'session', 'ip', 'resource', 'action', 'errorCode', 'source', 'account'] as const).map(
    (field) =>
      [
        `events(filter.${field})`,
        (v: string) => [
          `query($f: EventFilter, $w: TimeWindow!) { events(filter: $f, window: $w) { totalCount edges { node { eventId } } } }`,
          { f: { [field]: v } },
        ],
      ] as [string, (v: string) => [string, Record<string, unknown>]],
  ),
  [
    'ip.resources(action)',
    (v) => [
      `query($v: String!, $w: TimeWindow) { ip(address: "${BRUTE_IP}", window: $w) { resources(action: $v) { totalCount } } }`,
      { v },
    ],
  ],
  [
    'ip.identities(after)',
    (v) => [
      `query($v: String!, $w: TimeWindow) { ip(address: "${BRUTE_IP}", window: $w) { identities(after: $v) { totalCount } } }`,
      { v },
    ],
  ],
  [
    'events(after)',
    (v) => [
      `query($v: String!, $w: TimeWindow!) { events(after: $v, window: $w) { totalCount } }`,
      { v: Buffer.from(JSON.stringify([v, v, 'api_activity'])).toString('base64') },
    ],
  ],
  [
    'node(id)',
    (v) => [
      `query($v: ID!, $w: TimeWindow) { node(id: $v, window: $w) { id } }`,
      { v: Buffer.from(`ApiActivity:${v}|${v}`).toString('base64') },
    ],
  ],
  [
    'resource.sourceIps(outside)',
    (v) => [
      `query($v: String!, $w: TimeWindow) { resource(id: "acme-prod-customer-exports", window: $w) { sourceIps(outside: [$v]) { totalCount } } }`,
      { v },
    ],
  ],
];

/** What must never reach a caller: SQL, engine messages, file paths, stack frames. */
const LEAKS = /\bselect\b[\s\S]*\bfrom\b|parser error|binder error|catalog error|read_parquet|\.ts:\d|\bat \S+ \(|\/tmp\/|stacktrace/i;

const lake = lakeForFile(writeStoryLake);

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });
  // Injected text is refused as bad input (control characters such as NUL among it) or simply matches nothing.
  test.each(PROBES)('injection text in %s is only ever a value', async (_name, build) => {
    // The injections of one probe go out together: the same assertions, a fraction of the Athena round-trip waits.
    const results = await Promise.all(
      INJECTIONS.map(async (text) => {
        const [document, variables] = build(text);
        return { text, r: await t.gql(document, { w: WINDOW, ...variables }) };
      }),
    );
    for (const { r } of results) {
      for (const error of r.errors ?? []) {
        expect(error.extensions?.code).toBe('BAD_USER_INPUT');
        expect(error.message).not.toMatch(LEAKS);
      }
      // Nothing matched: injected text never widened a query.
      const json = JSON.stringify(r.data ?? {});
      expect(json).not.toMatch(/"identityId":"arn|"eventId":"evt|"totalCount":[1-9]/);
    }
    // The lake and its views are intact afterwards.
    const check = await t.data(`query($w: TimeWindow!) { events(window: $w) { totalCount } }`, { w: WINDOW });
    expect(check.events.totalCount).toBeGreaterThan(0);
  });

  test('syntax errors and unknown fields are reported plainly', async () => {
    const parse = await t.gql('{ identity(id: "x" { identityId }');
    expect(parse.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(parse.errors)).not.toMatch(/stacktrace|\.ts:/);
    const tokens = await t.gql(`{ ${Array.from({ length: 3000 }, (_, i) => `f${i}: __typename`).join(' ')} }`);
    expect(tokens.errors?.[0]?.extensions?.code).toMatch(/GRAPHQL_PARSE_FAILED|DOCUMENT_TOO_LARGE/);
    const unknown = await t.gql('{ secrets { password } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('engine failures and bugs are masked: a code and a plain message, no SQL, no stack', async () => {
    // A bug: the engine seam throws something that is not an EngineError.
    const buggy: QueryEngine = {
      name: t.kind,
      query: async () => {
        throw new Error('TypeError at SELECT secret FROM api_activity (src/queries/graph.ts:10)');
      },
      close: async () => {},
    };
    // An engine failure: DuckDB's own message, or Athena failing the query (local server's failNext) with its reason.
    const failing: QueryEngine =
      t.kind === 'athena'
        ? t.engine
        : {
            name: 'duckdb',
            query: async () => {
              throw new EngineError(
                'query failed',
                'QUERY_FAILED',
                new Error('Binder Error: column "secret" in SELECT * FROM read_parquet(\'/tmp/lake\')'),
              );
            },
            close: async () => {},
          };
    for (const mode of ['engine', 'bug'] as const) {
      const hidden: unknown[] = [];
      const broken = new ScoutApi({ engine: mode === 'engine' ? failing : buggy, onError: (e) => hidden.push(e) });
      try {
        if (mode === 'engine')
          t.server?.failNext(
            "COLUMN_NOT_FOUND: line 1:8: Column 'secret' cannot be resolved in SELECT secret FROM read_parquet('/tmp/lake')",
          );
        const r = await broken.execute(`query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { address } }`, { w: WINDOW });
        expect(r.errors).toHaveLength(1);
        const error = r.errors![0];
        expect(error.extensions?.code).toBe(mode === 'engine' ? 'ENGINE_ERROR' : 'INTERNAL_SERVER_ERROR');
        if (mode === 'engine') expect(error.extensions?.reason).toBe('QUERY_FAILED');
        expect(JSON.stringify(r)).not.toMatch(LEAKS);
        expect(Object.keys(error.extensions ?? {}).sort()).toEqual(mode === 'engine' ? ['code', 'reason'] : ['code']);
        // What the caller does not see, the operator's log does.
        expect(hidden).toHaveLength(1);
        const logged = hidden[0] as Error;
        expect(`${logged.message} ${String(logged.cause)} ${JSON.stringify(logged.cause ?? null)}`).toMatch(/secret/);
      } finally {
        await broken.stop();
      }
    }
  });
});
