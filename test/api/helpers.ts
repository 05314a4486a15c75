/**
 * Opens the API over a lake folder on either engine, so every API suite runs twice with the same
 * assertions: `describe.each(ENGINES)`. DuckDB reads the folder in-process; Athena is the real
 * engine (real SDK) talking to the local Athena-protocol server (testkit/athena-local) that serves
 * the same folder as s3://scoutql-lake/ with the catalog DDL applied and the dialect guard on.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { AthenaEngineConfig } from '../../src/engine/athena';
import { graphDays } from '../../src/engine/lake';
import type { QueryEngine } from '../../src/engine/types';
import type { ApiLimits } from '../../src/api/limits';
import { ScoutApi, type ExecuteResult } from '../../src/api/server';
import { startAthenaOverLake, type AthenaLocalOptions, type AthenaLocalServer } from '../../testkit/athena-local';
import { tempLake } from './fixtures/lake';
import { writeStoryLake } from './fixtures/story';

const ALL_ENGINES = ['duckdb', 'athena'] as const;
export type EngineName = (typeof ALL_ENGINES)[number];

/**
 * The engines every API suite runs on: both, unless SCOUTQL_TEST_ENGINES names some
 * (e.g. `SCOUTQL_TEST_ENGINES=duckdb npx jest test/api` for a quick pass while editing).
 */
export const ENGINES: readonly EngineName[] = (() => {
  const wanted = (process.env.SCOUTQL_TEST_ENGINES ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (wanted.length === 0) return ALL_ENGINES;
  const unknown = wanted.filter((e) => !(ALL_ENGINES as readonly string[]).includes(e));
  if (unknown.length > 0) throw new Error(`SCOUTQL_TEST_ENGINES: unknown engine(s) ${unknown.join(', ')}; use ${ALL_ENGINES.join(', ')}`);
  return ALL_ENGINES.filter((e) => wanted.includes(e));
})();

export interface TestApi {
  /** Which engine answers. */
  kind: EngineName;
  lake: string;
  /** The engine under the API (before any `wrap`). */
  engine: QueryEngine;
  /** Athena only: the local server, for its controls (failNext, throttle, holdQueries) and traffic log. */
  server?: AthenaLocalServer;
  api: ScoutApi;
  gql: (document: string, variables?: Record<string, unknown>) => Promise<ExecuteResult>;
  /** Runs and fails the test on any GraphQL error. */
  data: (document: string, variables?: Record<string, unknown>) => Promise<any>;
  close: () => Promise<void>;
}

export interface OpenApiOptions {
  /** Default duckdb. */
  engine?: EngineName;
  limits?: Partial<ApiLimits>;
  wrap?: (e: QueryEngine) => QueryEngine;
  onError?: (e: unknown) => void;
  /** Athena only: local server options and engine configuration (scan limit, budget, retries). */
  athena?: { server?: AthenaLocalOptions; engine?: Partial<AthenaEngineConfig> };
}

/**
 * Athena settings for tests: polls and retries in milliseconds, not seconds. Not faster: the local
 * server shares this process, and polling every millisecond starves the DuckDB work it polls for.
 */
export const FAST_ATHENA = { pollMinMs: 5, pollMaxMs: 20, retryBaseMs: 2, retryMaxMs: 10 } satisfies Partial<AthenaEngineConfig>;

export async function openApi(lake: string, options: OpenApiOptions = {}): Promise<TestApi> {
  const kind = options.engine ?? 'duckdb';
  let engine: QueryEngine;
  let server: AthenaLocalServer | undefined;
  let closeEngine: () => Promise<void>;
  if (kind === 'athena') {
    const athena = await startAthenaOverLake(lake, {
      server: { queuedPolls: 0, runningPolls: 0, ...options.athena?.server },
      engine: { ...FAST_ATHENA, ...options.athena?.engine },
    });
    engine = athena.engine;
    server = athena.server;
    closeEngine = () => athena.close();
  } else {
    const duck = await DuckDbEngine.open({ lake });
    engine = duck;
    closeEngine = () => duck.close();
  }
  const api = new ScoutApi({
    engine: options.wrap ? options.wrap(engine) : engine,
    limits: options.limits,
    onError: options.onError,
    latestDay: () => graphDays(lake).at(-1) ?? null,
  });
  const gql = (document: string, variables?: Record<string, unknown>) => api.execute(document, variables);
  return {
    kind,
    lake,
    engine,
    server,
    api,
    gql,
    data: async (document, variables) => {
      const result = await gql(document, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors (${kind}): ${JSON.stringify(result.errors)}`);
      return result.data;
    },
    close: async () => {
      await api.stop();
      await closeEngine();
    },
  };
}

/** A lake folder built once per test file (in beforeAll) and removed after it (in afterAll). */
export function lakeForFile(build: (lake: string) => Promise<void>): () => string {
  let lake: string | undefined;
  beforeAll(async () => {
    lake = tempLake();
    await build(lake);
  }, 120_000);
  afterAll(() => {
    if (lake) rmSync(lake, { recursive: true, force: true });
  });
  return () => {
    if (!lake) throw new Error('the lake is built in beforeAll');
    return lake;
  };
}

/**
 * The API over a per-file lake on one engine, opened in the enclosing describe's beforeAll and
 * closed in its afterAll. Use inside `describe.each(ENGINES)`.
 */
export function apiForDescribe(lake: () => string, engine: EngineName, options: Omit<OpenApiOptions, 'engine'> = {}): () => TestApi {
  let t: TestApi | undefined;
  beforeAll(async () => {
    t = await openApi(lake(), { ...options, engine });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });
  return () => {
    if (!t) throw new Error('the API is opened in beforeAll');
    return t;
  };
}

/** The hand-written story lake (test/api/fixtures/story.ts), built once per test file. */
export async function openStoryApi(options: OpenApiOptions = {}): Promise<TestApi> {
  const lake = tempLake();
  await writeStoryLake(lake);
  const t = await openApi(lake, options);
  return {
    ...t,
    close: async () => {
      await t.close();
      rmSync(lake, { recursive: true, force: true });
    },
  };
}

/**
 * Compressed bytes of the named columns' chunks in every Parquet file under the given lake tables,
 * from the files' own metadata: what Athena bills for reading those columns of those tables whole.
 */
export async function columnChunkBytes(lake: string, tables: readonly string[], columns: readonly string[]): Promise<number> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.parquet')) files.push(path);
    }
  };
  for (const table of tables) walk(join(lake, table));
  if (files.length === 0) return 0;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
    const reader = await conn.runAndReadAll(
      `SELECT coalesce(sum(total_compressed_size), 0)::BIGINT FROM parquet_metadata([${files.map(quote).join(', ')}])
       WHERE path_in_schema IN (${columns.map(quote).join(', ')})`,
    );
    return Number(reader.getRowsJS()[0][0]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
