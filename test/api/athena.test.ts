/**
 * The API on Athena as an operator runs it: the same answers as DuckDB, large results read over
 * every GetQueryResults page, failures and throttling as GraphQL errors with codes, the request
 * deadline stopping the running query, bytes scanned in `extensions.stats`, and the cost guard.
 * Real SDK, the local Athena-protocol server (dialect guard on) over the same lake folder.
 */
import { AthenaEngine, type AthenaEngineConfig } from '../../src/engine/athena';
import { ScoutApi } from '../../src/api/server';
import type { AthenaLocalServer } from '../../testkit/athena-local';
import { FAST_ATHENA, lakeForFile, openApi, type TestApi } from './helpers';
import { writeStoryLake, ADMIN_KEY, BRUTE_IP, PUBLIC_BUCKET, WINDOW } from './fixtures/story';
import { CROWD_WINDOW, writeCrowdLake } from './fixtures/crowd';

/** The story, plus a crowd of 500 identities with 6 calls each (another account, another month). */
const CROWD_IDENTITIES = 500;
const CROWD_EVENTS = 6;
const lake = lakeForFile(async (dir) => {
  await writeStoryLake(dir);
  await writeCrowdLake(dir, CROWD_IDENTITIES, CROWD_EVENTS);
});

let duck: TestApi;
let athena: TestApi;
let server: AthenaLocalServer;
/** Hidden errors (operator log) of the Athena API. */
const hidden: unknown[] = [];

beforeAll(async () => {
  duck = await openApi(lake(), { engine: 'duckdb' });
  athena = await openApi(lake(), { engine: 'athena', onError: (e) => hidden.push(e) });
  server = athena.server!;
}, 120_000);
afterAll(async () => {
  await athena?.close();
  await duck?.close();
});
beforeEach(() => {
  hidden.length = 0;
});

/** Another engine on the same local server and catalog, configured differently (retries, scan limit, budget). */
function athenaEngine(overrides: Partial<AthenaEngineConfig>): AthenaEngine {
  return new AthenaEngine({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    database: 'scoutql',
    outputLocation: 's3://scoutql-results/athena/',
    maxBytesScanned: 1e12,
    ...FAST_ATHENA,
    ...overrides,
  });
}

/** Runs `work` with an API over `engine`, then stops both. */
async function withApi<T>(
  engine: AthenaEngine,
  work: (api: ScoutApi, errors: unknown[]) => Promise<T>,
  limits?: ConstructorParameters<typeof ScoutApi>[0]['limits'],
): Promise<T> {
  const errors: unknown[] = [];
  const api = new ScoutApi({ engine, limits, onError: (e) => errors.push(e) });
  try {
    return await work(api, errors);
  } finally {
    await api.stop();
    await engine.close();
  }
}

const calls = (operation: string) => server.calls.filter((c) => c.operation === operation).length;
/** One engine query (an entity lookup), so a server control (fail, throttle, hold) meets exactly that query. */
const IP_QUERY = `query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { address isPrivate } }`;

const SAME_ANSWERS: [string, string][] = [
  [
    'role chain behind the deletion',
    `query($w: TimeWindow!) { resource(id: "prod-backups", window: $w) {
      actors(action: "DeleteBucket") { totalCount edges { relation firstSeen eventCount node { identityId kind account } } }
      sessions { edges { relation node { accessKeyId chain { accessKeyId name identity { identityId names } issuedBy { action roleArn sourceIpAddress mfa time eventId } } } } }
  } }`,
  ],
  [
    'identities behind an IP',
    `query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { isPrivate eventCount firstSeen lastSeen
      identities { totalCount edges { eventCount node { identityId accessKeys regions { region eventCount } } } }
      peers { edges { relation node { address } } } } }`,
  ],
  [
    'outside readers',
    `query($w: TimeWindow!) { resource(id: "${PUBLIC_BUCKET}", window: $w) { sourceIps(outside: ["10.0.0.0/8"]) { edges { relation eventCount node { address } } } } }`,
  ],
  [
    'event pages',
    `query($w: TimeWindow!) { events(window: $w, first: 4) { totalCount edges { cursor node { id eventId time class activity outcome resourceIds } } pageInfo { hasNextPage endCursor } } }`,
  ],
  [
    // bob's window starts after his first failed sign-in (the look-back holds it): his CLI is new, the address is not.
    'new behaviour against a look-back',
    `query { identity(id: "bob", window: { from: "2026-03-02T03:00:10Z", to: "2026-03-08T00:00:00Z" }) {
      newBehaviour(lookbackDays: 1) { dimension seenCount newCount lookbackFrom values { value firstSeen lastSeen eventCount } } }
      resource(id: "prod-backups", window: { from: "2026-03-03T01:00:30Z", to: "2026-03-08T00:00:00Z" }) {
      newBehaviour(lookbackDays: 2, top: 1) { dimension seenCount newCount values { value } } } }`,
  ],
  [
    'indicator context',
    `query($w: TimeWindow!) { contextFor(indicator: "${ADMIN_KEY}", window: $w) { kind found eventCount resources(first: 5) { edges { relation node { resourceId kind } } } recentEvents(first: 3) { eventId } } }`,
  ],
];

test.each(SAME_ANSWERS)('%s: Athena answers exactly as DuckDB does', async (_name, document) => {
  const fromDuck = await duck.gql(document, { w: WINDOW });
  const fromAthena = await athena.gql(document, { w: WINDOW });
  expect(fromDuck.errors).toBeUndefined();
  expect(fromAthena.errors).toBeUndefined();
  expect(fromAthena.data).toEqual(fromDuck.data);
  expect((fromAthena.extensions?.stats as any).engine).toBe('athena');
});

test('new behaviour: what bob did first after the look-back, the same on both engines', async () => {
  const document = `query($w: TimeWindow!) { identity(id: "bob", window: $w) {
    newBehaviour(lookbackDays: 1) { dimension seenCount newCount values { value firstSeen eventCount } } } }`;
  const w = { from: '2026-03-02T03:00:10Z', to: '2026-03-08T00:00:00Z' };
  const fromDuck = await duck.gql(document, { w });
  const fromAthena = await athena.gql(document, { w });
  expect(fromAthena.data).toEqual(fromDuck.data);
  const byDimension = Object.fromEntries((fromDuck.data as any).identity.newBehaviour.map((d: any) => [d.dimension, d]));
  // The failed sign-in at 03:00:09 (look-back) came from the brute-forcing address with Hydra; the CLI first shows at 03:05.
  expect(byDimension.SOURCE_IP).toEqual({ dimension: 'SOURCE_IP', seenCount: 1, newCount: 0, values: [] });
  expect(byDimension.USER_AGENT).toEqual({
    dimension: 'USER_AGENT',
    seenCount: 2,
    newCount: 1,
    values: [{ value: 'aws-cli/2.15.0 Python/3.11 Linux/6.1', firstSeen: '2026-03-02T03:05:00.000Z', eventCount: 1 }],
  });
  expect(byDimension.REGION).toMatchObject({ seenCount: 1, newCount: 0 });
  // The story's rows carry no GeoIP enrichment: nothing seen, nothing new.
  expect(byDimension.COUNTRY).toMatchObject({ seenCount: 0, newCount: 0, values: [] });
  // A look-back past the cap is the caller's mistake.
  const tooLong = await duck.gql(
    `query($w: TimeWindow!) { identity(id: "bob", window: $w) { newBehaviour(lookbackDays: 91) { dimension } } }`,
    { w },
  );
  expect(tooLong.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

test('a batched page of 3,000 event rows is read over every GetQueryResults page and equals DuckDB', async () => {
  // One events query for 500 identities, 6 rows each (5 + 1 to know there is more): 3,000 rows, 4 pages of ≤ 1,000 with the header.
  const document = `query($w: TimeWindow!) { identities(window: $w, first: ${CROWD_IDENTITIES}) { totalCount edges { node {
    identityId events(first: ${CROWD_EVENTS - 1}) { edges { node { eventId time activity region resourceIds } } pageInfo { hasNextPage } } } } } }`;
  const pagesBefore = calls('GetQueryResults');
  const fromAthena = await athena.gql(document, { w: CROWD_WINDOW });
  const pages = calls('GetQueryResults') - pagesBefore;
  const fromDuck = await duck.gql(document, { w: CROWD_WINDOW });
  expect(fromAthena.errors).toBeUndefined();
  expect(fromDuck.errors).toBeUndefined();
  const identities = (fromAthena.data as any).identities;
  expect(identities.totalCount).toBe(CROWD_IDENTITIES);
  for (const { node } of identities.edges) {
    expect(node.events.edges).toHaveLength(CROWD_EVENTS - 1);
    expect(node.events.pageInfo.hasNextPage).toBe(true);
  }
  expect(fromAthena.data).toEqual(fromDuck.data);
  const queries = (fromAthena.extensions?.stats as any).queries;
  // The 3,001-line result alone needs 4 pages; every other query at least one.
  expect(pages).toBeGreaterThanOrEqual(queries - 1 + 4);
});

test('a FAILED query reaches the caller as ENGINE_ERROR / QUERY_FAILED, with the reason only in the operator log', async () => {
  server.failNext(
    'HIVE_BAD_DATA: Error opening Hive split s3://scoutql-lake/graph/entities/day=2026-03-02/part-x.parquet: not a Parquet file',
  );
  const r = await athena.gql(IP_QUERY, { w: WINDOW });
  expect(r.errors).toHaveLength(1);
  expect(r.errors![0]).toMatchObject({
    message: 'the query engine could not answer this request',
    path: ['ip'],
    extensions: { code: 'ENGINE_ERROR', reason: 'QUERY_FAILED' },
  });
  expect(JSON.stringify(r)).not.toMatch(/HIVE_BAD_DATA|s3:\/\/|parquet/i);
  expect(hidden).toHaveLength(1);
  expect((hidden[0] as Error).message).toMatch(/HIVE_BAD_DATA/);
  // The failure was the server's answer to one query: the next request is answered.
  expect((await athena.gql(IP_QUERY, { w: WINDOW })).errors).toBeUndefined();
});

test('throttling within the retries is invisible; throttling past them is ENGINE_ERROR / THROTTLED', async () => {
  server.throttle(2, 'GetQueryExecution');
  const retried = await athena.gql(IP_QUERY, { w: WINDOW });
  expect(retried.errors).toBeUndefined();
  expect((retried.data as any).ip.address).toBe(BRUTE_IP);

  await withApi(athenaEngine({ maxRetries: 2 }), async (api, errors) => {
    server.throttle(3, 'StartQueryExecution', 'ThrottlingException');
    const starts = calls('StartQueryExecution');
    const r = await api.execute(IP_QUERY, { w: WINDOW });
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]).toMatchObject({
      message: 'the query engine stopped: throttled',
      extensions: { code: 'ENGINE_ERROR', reason: 'THROTTLED' },
    });
    expect(calls('StartQueryExecution') - starts).toBe(3); // the first try and two retries
    expect(errors).toHaveLength(1);
  });
});

test('the request deadline stops the running Athena query (StopQueryExecution) and answers ENGINE_ERROR / TIMEOUT', async () => {
  await withApi(
    athenaEngine({}),
    async (api) => {
      const http = await api.listen({ port: 0, host: '127.0.0.1' });
      try {
        server.holdQueries(1); // the request's query stays RUNNING until stopped
        const stoppedBefore = server.stoppedQueryIds.length;
        const started = Date.now();
        const res = await fetch(`${http.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: IP_QUERY, variables: { w: WINDOW } }),
        });
        const body = await res.json();
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(body.errors).toHaveLength(1);
        expect(body.errors[0]).toMatchObject({
          message: 'the query engine stopped: timeout',
          extensions: { code: 'ENGINE_ERROR', reason: 'TIMEOUT' },
        });
        const stopped = server.stoppedQueryIds.slice(stoppedBefore);
        expect(stopped).toHaveLength(1);
        // The stopped query is cancelled on the server: nothing keeps scanning.
        const { QueryExecution } = await athenaEngineClientDescribe(stopped[0]);
        expect(QueryExecution?.Status?.State).toBe('CANCELLED');
      } finally {
        await http.close();
      }
    },
    { requestTimeoutMs: 300 },
  );
});

/** What the service says about one query (through the SDK, as the console would). */
async function athenaEngineClientDescribe(queryId: string) {
  const { AthenaClient, GetQueryExecutionCommand } = await import('@aws-sdk/client-athena');
  const client = new AthenaClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    return await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
  } finally {
    client.destroy();
  }
}

test('bytes scanned per request: the sum of what Athena reported for each of its queries', async () => {
  const perQuery: number[] = [];
  const engine = athenaEngine({});
  const recording = {
    name: engine.name,
    query: async (...args: Parameters<AthenaEngine['query']>) => {
      const result = await engine.query(...args);
      perQuery.push(result.stats.bytesScanned);
      return result;
    },
    close: () => engine.close(),
  } as unknown as AthenaEngine;
  await withApi(recording, async (api) => {
    const r = await api.execute(
      `query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { identities { totalCount } } events(window: $w, filter: { ip: "${BRUTE_IP}" }) { totalCount } }`,
      { w: WINDOW },
    );
    expect(r.errors).toBeUndefined();
    const stats = r.extensions?.stats as any;
    expect(stats.queries).toBe(perQuery.length);
    expect(perQuery.length).toBeGreaterThanOrEqual(2);
    for (const bytes of perQuery) expect(bytes).toBeGreaterThan(0);
    expect(stats.bytesScanned).toBe(perQuery.reduce((a, b) => a + b, 0));
  });
});

describe('cost guard', () => {
  test('a window over the cap is refused before any query reaches Athena', async () => {
    const starts = calls('StartQueryExecution');
    const r = await athena.gql(`{ events(window: { from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" }) { totalCount } }`);
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['WINDOW_TOO_LARGE']);
    expect(calls('StartQueryExecution')).toBe(starts);
  });

  test('a query scanning past maxBytesScanned is stopped and reported as ENGINE_ERROR / COST_LIMIT', async () => {
    await withApi(athenaEngine({ maxBytesScanned: 100 }), async (api, errors) => {
      server.holdQueries(1); // reported RUNNING with its scan so far: the guard sees it before it ends
      const stoppedBefore = server.stoppedQueryIds.length;
      const r = await api.execute(IP_QUERY, { w: WINDOW });
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]).toMatchObject({
        message: 'the query engine stopped: cost_limit',
        extensions: { code: 'ENGINE_ERROR', reason: 'COST_LIMIT' },
      });
      expect(server.stoppedQueryIds.length - stoppedBefore).toBe(1);
      expect((errors[0] as Error).message).toMatch(/over the limit of 100/);
    });
  });

  test('once the scan budget is spent, requests are refused without starting a query', async () => {
    await withApi(athenaEngine({ budget: { bytes: 1, windowMs: 3_600_000 } }), async (api, errors) => {
      const first = await api.execute(IP_QUERY, { w: WINDOW });
      expect(first.errors).toBeUndefined();
      expect((first.extensions?.stats as any).bytesScanned).toBeGreaterThan(1);
      const starts = calls('StartQueryExecution');
      const second = await api.execute(IP_QUERY, { w: WINDOW });
      expect(second.errors?.map((e) => e.extensions)).toEqual([{ code: 'ENGINE_ERROR', reason: 'COST_LIMIT' }]);
      expect(calls('StartQueryExecution')).toBe(starts);
      expect((errors[0] as Error).message).toMatch(/budget spent/);
    });
  });
});
