/**
 * What a new user trips on, each fixed: the quickstart with no configuration, a mistyped .graphql
 * path, a busy port (said before any work), an unknown configuration key, the ingest ETA, the
 * README's own output folder in git, and the example hunts' windows (the explorer tabs, the
 * variables files and the READMEs agree on the sample's dates).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etaText } from '../../src/cli/commands/ingest';
import { exampleQueries, HUNTS_DIR } from '../../src/explorer/examples';
import { tempLake } from '../api/fixtures/lake';
import { writeStoryLake } from '../api/fixtures/story';
import { HUNT_FOUND_SOMETHING } from '../api/fixtures/hunts';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'scoutql.js');
const SAMPLE_WINDOW = { from: '2026-11-02T00:00:00Z', to: '2026-11-05T00:00:00Z' };

let dir: string;
/** The story lake the serve tests point at, written once (serving it only reads it and appends its audit trail). */
let storyLake: string | null = null;
async function sharedStoryLake(): Promise<string> {
  if (storyLake) return storyLake;
  const lake = tempLake();
  await writeStoryLake(lake);
  return (storyLake = lake);
}
afterAll(() => {
  if (storyLake) rmSync(storyLake, { recursive: true, force: true });
});
/** Servers a test started: stopped before its folder goes, even when the test failed half-way. */
let started: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-newcomer-'));
});
afterEach(async () => {
  await Promise.all(
    started
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
  );
  started = [];
  rmSync(dir, { recursive: true, force: true });
});

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCOUTQL_')));
}
function scoutql(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir, env: cleanEnv() });
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

test('quickstart, no configuration: demo writes the sample, ingests it, serves on loopback; the hunts answer as shipped', async () => {
  // `npm start` is `scoutql demo`, run where there is no scoutql.config.yaml and no SCOUTQL_ variable.
  const child = spawn(process.execPath, [BIN, 'demo', '--port', '0'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /GraphQL (http:\/\/\S+)\/graphql/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`demo exited (${code}): ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stderr).toMatch(/auth: none: every local user and process that reaches 127\.0\.0\.1/);
    const huntFiles = readdirSync(HUNTS_DIR).filter((f) => f.endsWith('.graphql'));
    for (const file of huntFiles) {
      const variables = JSON.parse(readFileSync(join(HUNTS_DIR, file.replace(/\.graphql$/, '.variables.json')), 'utf8')) as {
        window: unknown;
      };
      expect(variables.window).toEqual(SAMPLE_WINDOW);
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: readFileSync(join(HUNTS_DIR, file), 'utf8'), variables }),
      });
      const body = (await response.json()) as { data: unknown; errors?: unknown };
      expect({ file, errors: body.errors }).toEqual({ file, errors: undefined });
      expect(JSON.stringify(body.data)).toMatch(HUNT_FOUND_SOMETHING);
    }
    // The explorer's tabs open on the same window as the files (the sample's days).
    const page = await (await fetch(`${url}/`)).text();
    const tabs = JSON.parse(/const tabs = (\[.*\]);/.exec(page)![1]) as { variables: string }[];
    expect(tabs).toHaveLength(huntFiles.length);
    for (const tab of tabs) expect((JSON.parse(tab.variables) as { window: unknown }).window).toEqual(SAMPLE_WINDOW);
    // A browser opening /graphql gets the explorer, not a CSRF refusal.
    const browser = await fetch(`${url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(browser.status).toBe(200);
    expect(await browser.text()).toContain('ScoutQL explorer');
    const script = await fetch(`${url}/graphql`);
    expect(script.status).toBe(400); // a script's GET without a query still gets Apollo's answer
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  expect(existsSync(join(dir, '.scoutql', 'lake', '_audit', 'main', 'HEAD.json'))).toBe(true);
  // The whole of `npm start`: three days of sample logs written and ingested before it serves.
}, 420_000);

test('query: a mistyped .graphql path is "file not found", not a syntax error; so is a missing --variables file', () => {
  const run = scoutql(['query', join(ROOT, 'examples', 'hunts', '02-brute-forcing-ipp.graphql')]);
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('file not found: ');
  expect(run.stderr).toContain('02-brute-forcing-ipp.graphql');
  expect(run.stderr).not.toMatch(/Syntax Error/);
  const vars = scoutql(['query', join(HUNTS_DIR, '05-failed-calls.graphql'), '--variables', '@vars.json']);
  expect(vars.stderr).toContain('--variables: file not found: vars.json');
});

test('a busy port names --port; demo says so before writing or ingesting anything', async () => {
  const { port, server } = await occupiedPort();
  try {
    const serve = scoutql(['serve', '--lake', await sharedStoryLake(), '--port', String(port)]);
    expect(serve.status).toBe(1);
    expect(serve.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(serve.stderr).toContain('--port');
    const demo = scoutql(['demo', '--port', String(port), '--dir', 'work']);
    expect(demo.status).toBe(1);
    expect(demo.stderr).toContain('--port');
    expect(demo.stdout).toBe('');
    expect(existsSync(join(dir, 'work'))).toBe(false);
  } finally {
    server.close();
  }
}, 120_000);

test('an unknown configuration key fails at start-up, naming the key and where it was set', () => {
  writeFileSync(join(dir, 'scoutql.config.yaml'), 'engine:\n  lake: lake\nserver:\n  prot: 4100\n');
  const fromFile = scoutql(['serve']);
  expect(fromFile.status).toBe(1);
  expect(fromFile.stderr).toContain(`scoutql.config.yaml:4:3: server.prot: unknown key (did you mean 'port'?)`);
  rmSync(join(dir, 'scoutql.config.yaml'));
  const fromEnv = spawnSync(process.execPath, [BIN, 'serve'], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...cleanEnv(), SCOUTQL_SERVER__PROTT: '4100' },
  });
  expect(fromEnv.status).toBe(1);
  expect(fromEnv.stderr).toMatch(/environment SCOUTQL_SERVER__PROTT: unknown setting/);
});

test('the ingest ETA says "--" until there is a rate to go by, never cli-progress\'s "NFs"', () => {
  expect(etaText(0, 100, 0)).toBe('--');
  expect(etaText(0, 100, 5000)).toBe('--');
  expect(etaText(50, 100, 10_000)).toBe('10s');
  expect(etaText(10, 100, 10_000)).toBe('1m30s');
  expect(etaText(1, 1000, 10_000)).toBe('2h46m');
  expect(etaText(100, 100, 10_000)).toBe('0s');
});

test("the README's output folders are git-ignored", () => {
  for (const path of ['logs/AWSLogs/x.json.gz', 'lake/api_activity/part.parquet', '.scoutql/lake/x']) {
    const check = spawnSync('git', ['check-ignore', '-q', path], { cwd: ROOT });
    expect({ path, ignored: check.status === 0 }).toEqual({ path, ignored: true });
  }
});

test("the explorer keeps the files' window where it fits the lake's data, else the latest days", () => {
  // The demo lake (data up to 2026-11-04): the default window ends 2026-11-05.
  for (const tab of exampleQueries({ from: '2026-10-29T00:00:00.000Z', to: '2026-11-05T00:00:00.000Z' }))
    expect(tab.variables.window).toEqual(SAMPLE_WINDOW);
  // Another lake: the files' window would find nothing there.
  const other = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-08T00:00:00.000Z' };
  for (const tab of exampleQueries(other)) expect(tab.variables.window).toEqual(other);
});

test('the READMEs name files that exist and the dates the sample has', () => {
  for (const readme of ['README.md', 'examples/README.md']) {
    const text = readFileSync(join(ROOT, readme), 'utf8');
    for (const m of text.matchAll(/--variables @([^\s`]+)/g))
      expect({ readme, file: m[1], exists: existsSync(join(ROOT, m[1])) }).toEqual({ readme, file: m[1], exists: true });
    for (const m of text.matchAll(/"from":\s*"([^"]+)",\s*"to":\s*"([^"]+)"/g)) expect({ from: m[1], to: m[2] }).toEqual(SAMPLE_WINDOW);
  }
});

/** `scoutql serve …` as a user starts it; resolves once it prints its URL. */
async function startServe(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /GraphQL (http:\/\/\S+)\/graphql/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  };
  return { url, stderr: () => stderr, stop };
}

test('what a newcomer tries on the command line: an s3:// lake without Athena, a mistyped flag, --host 0.0.0.0 with no sign-in', async () => {
  const s3 = scoutql(['serve', '--lake', 's3://acme-security-lake/lake']);
  expect(s3.status).toBe(1);
  expect(s3.stderr).toContain('flag --lake: engine.lake: an s3:// lake needs engine.type athena');
  expect(s3.stderr).not.toMatch(/does not exist/);

  const typo = scoutql(['serve', '--lak', 'lake']);
  expect(typo.status).toBe(1);
  expect(typo.stderr).toContain("unknown option '--lak'");
  expect(typo.stderr).toContain('Did you mean --lake?');

  const lake = await sharedStoryLake();
  // Every interface with auth: none is refused before anything listens, naming the ways out.
  const open = scoutql(['serve', '--lake', lake, '--host', '0.0.0.0', '--port', '0']);
  expect(open.status).toBe(1);
  expect(open.stderr).toContain(
    "refusing to listen on 0.0.0.0:0 with auth: none: anyone who reaches the port would read every account's logs",
  );
  expect(open.stderr).toContain('--insecure-bind');
  expect(open.stdout).not.toMatch(/GraphQL http/);
  // Asked for outright, it serves, and says what it means.
  const insecure = await startServe(['--lake', lake, '--host', '0.0.0.0', '--port', '0', '--insecure-bind']);
  try {
    expect(insecure.stderr()).toMatch(/auth: none.*0\.0\.0\.0:\d+.*every account's logs/);
    const port = new URL(insecure.url).port;
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(answer.status).toBe(200);
  } finally {
    expect(await insecure.stop()).toBe(0);
  }
}, 180_000);

test('a made-up bearer token gets 401 with a reason code, not an answer', async () => {
  const lake = await sharedStoryLake();
  writeFileSync(join(dir, 'scoutql.config.yaml'), `engine:\n  lake: ${JSON.stringify(lake)}\nserver:\n  port: 0\nauth:\n  apiKeys: {}\n`);
  const team = await startServe([]);
  try {
    const ask = (headers: Record<string, string>) =>
      fetch(`${team.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ identities(first: 1) { totalCount } }' }),
      });
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing'],
      [{ authorization: 'Bearer letmein' }, 'malformed'],
      [{ authorization: `Bearer sk_0123456789abcdef_${'x'.repeat(43)}` }, 'unknown_key'],
      [{ 'x-api-key': `sk_fedcba9876543210_${'y'.repeat(43)}` }, 'unknown_key'],
    ];
    for (const [headers, reason] of cases) {
      const answer = await ask(headers);
      expect({ headers, status: answer.status }).toEqual({ headers, status: 401 });
      expect(await answer.json()).toEqual({
        errors: [{ message: 'authentication required', extensions: { code: 'UNAUTHENTICATED', reason } }],
      });
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="scoutql"/);
    }
  } finally {
    expect(await team.stop()).toBe(0);
  }
}, 180_000);
