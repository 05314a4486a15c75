/**
 * `scoutql query` and `scoutql serve` as a user runs them: processes of their own over a real lake
 * (the CLI built for this jest run, test/cli.ts; test/service/newcomer runs both from bin/scoutql.js).
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeStoryLake, BRUTE_IP, WINDOW } from './fixtures/story';
import { tempLake } from './fixtures/lake';
import { builtCli } from '../cli';

let lake: string;

beforeAll(async () => {
  lake = tempLake();
  await writeStoryLake(lake);
});
afterAll(() => rmSync(lake, { recursive: true, force: true }));

function scoutql(args: string[]) {
  return spawnSync(process.execPath, [builtCli(), ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('query: a document file with variables prints JSON and exits 0', () => {
  const file = join(lake, 'who.graphql');
  writeFileSync(file, 'query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) { identities { totalCount } } }');
  const run = scoutql(['query', file, '--lake', lake, '--variables', JSON.stringify({ ip: BRUTE_IP, w: WINDOW })]);
  expect(run.status).toBe(0);
  const out = JSON.parse(run.stdout);
  expect(out.data.ip.identities.totalCount).toBe(3);
  expect(out.extensions.stats.engine).toBe('duckdb');
});

test('query: inline text with errors prints them and exits non-zero; bad variables are a clear error', () => {
  const run = scoutql([
    'query',
    '{ events(window: { from: "2026-01-01T00:00:00Z", to: "2026-06-01T00:00:00Z" }) { totalCount } }',
    '--lake',
    lake,
  ]);
  expect(run.status).not.toBe(0);
  expect(JSON.parse(run.stdout).errors[0].extensions.code).toBe('WINDOW_TOO_LARGE');
  const bad = scoutql(['query', '{ __typename }', '--lake', lake, '--variables', '{not json']);
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/--variables is not valid JSON/);
});

test('serve: binds loopback by default, answers GraphQL, stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [builtCli(), 'serve', '--lake', lake, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let startDeadline: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /GraphQL (http:\/\/[^\s]+\/graphql)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited early (${code})`)));
      startDeadline = setTimeout(() => reject(new Error('serve did not start')), 60_000);
    }).finally(() => clearTimeout(startDeadline)); // a pending deadline kept jest's process alive a minute after the file
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ ip(address: "${BRUTE_IP}", window: { from: "${WINDOW.from}", to: "${WINDOW.to}" }) { isPrivate } }`,
      }),
    });
    expect(await res.json()).toMatchObject({ data: { ip: { isPrivate: false } } });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});
