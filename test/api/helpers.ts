import { rmSync } from 'node:fs';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import type { QueryEngine } from '../../src/engine/types';
import type { ApiLimits } from '../../src/api/limits';
import { ScoutApi, type ExecuteResult } from '../../src/api/server';
import { tempLake } from './fixtures/lake';
import { writeStoryLake } from './fixtures/story';

export interface TestApi {
  lake: string;
  engine: DuckDbEngine;
  api: ScoutApi;
  gql: (document: string, variables?: Record<string, unknown>) => Promise<ExecuteResult>;
  /** Runs and fails the test on any GraphQL error. */
  data: (document: string, variables?: Record<string, unknown>) => Promise<any>;
  close: () => Promise<void>;
}

export async function openApi(lake: string, options: { limits?: Partial<ApiLimits>; wrap?: (e: QueryEngine) => QueryEngine; onError?: (e: unknown) => void } = {}): Promise<TestApi> {
  const engine = await DuckDbEngine.open({ lake });
  const api = new ScoutApi({ engine: options.wrap ? options.wrap(engine) : engine, limits: options.limits, onError: options.onError, latestDay: () => graphDays(lake).at(-1) ?? null });
  const gql = (document: string, variables?: Record<string, unknown>) => api.execute(document, variables);
  return {
    lake,
    engine,
    api,
    gql,
    data: async (document, variables) => {
      const result = await gql(document, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data;
    },
    close: async () => {
      await api.stop();
      await engine.close();
    },
  };
}

/** The hand-written story lake (test/api/fixtures/story.ts), built once per test file. */
export async function openStoryApi(options: Parameters<typeof openApi>[1] = {}): Promise<TestApi> {
  const lake = tempLake();
  await writeStoryLake(lake);
  const t = await openApi(lake, options);
  return { ...t, close: async () => { await t.close(); rmSync(lake, { recursive: true, force: true }); } };
}
