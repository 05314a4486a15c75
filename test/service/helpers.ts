/** The API as a service, for tests: configured from YAML like a deployment, served over real HTTP. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, type ScoutConfig } from '../../src/config/load';
import { startService, type RunningService } from '../../src/cli/service';

/** Writes scoutql.config.yaml into dir and loads it with the environment given (nothing from the process's). */
export function configIn(dir: string, yaml: string, env: Record<string, string> = {}): ScoutConfig {
  const file = join(dir, 'scoutql.config.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ configPath: file, env, cwd: dir });
}

/** Starts the service on a free loopback port; its log is kept in memory (lines as parsed JSON). */
export async function startTestService(config: ScoutConfig): Promise<RunningService & { log: Record<string, unknown>[] }> {
  const log: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        log.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const service = await startService({ ...config, server: { ...config.server, port: 0 } }, { logger });
  return Object.assign(service, { log });
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** POSTs a GraphQL request (JSON) and reads the JSON answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test sees the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
