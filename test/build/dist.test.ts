/**
 * The prebuilt JavaScript (scripts/build.js, dist/): the CLI, the ETL worker's bootstrap and the
 * Lambda entry load it while it is up to date with the sources, and the sources through tsx as
 * soon as one differs. Runs in a copy of the checkout (its own dist/), so editing files there
 * cannot disturb other tests. Which code ran is told by marker files: the copy's built entry files
 * get one extra first line that writes "dist" to $MARK; the edited sources write "sources".
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tempDirsRemovedAfterAll } from '../etl/helpers';

const tempDir = tempDirsRemovedAfterAll();
let copy: string;
let mark: string;

/** What a run left in the marker file, or null when no marked code ran. */
function ran(): string | null {
  if (!existsSync(mark)) return null;
  const text = readFileSync(mark, 'utf8');
  rmSync(mark);
  return text;
}

function node(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: copy, encoding: 'utf8', env: { ...process.env, MARK: mark }, timeout: 90_000 });
}

function build() {
  const result = node(['scripts/build.js']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
}

/** Puts a line that writes `text` to $MARK at the top of a file of the copy (keeping the rest). */
function markFile(path: string, text: string) {
  const full = join(copy, path);
  writeFileSync(full, `require('node:fs').writeFileSync(process.env.MARK, '${text}');\n` + readFileSync(full, 'utf8'));
}

const CLI_USAGE_ERROR = ['bin/scoutql.js', 'serve', '--lak', 'x'];
const POOL_PROBE = `
require('tsx/cjs');
const { WorkerPool } = require('./etl/worker/pool.ts');
WorkerPool.start(1, require('node:os').tmpdir()).then((pool) => pool.close()).then(() => process.stdout.write('ready'));
`;
const LAMBDA_PROBE = `process.stdout.write(typeof require('./src/lambda/index.js').handler);`;

beforeAll(() => {
  const work = tempDir('dist-build');
  copy = join(work, 'repo');
  mark = join(work, 'mark');
  for (const part of [
    'src',
    'etl',
    'testkit',
    'schema',
    'rules',
    'examples',
    'scripts',
    'bin',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
  ]) {
    cpSync(join(REPO, part), join(copy, part), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  build();
  markFile('dist/src/cli/main.js', 'dist');
  markFile('dist/etl/worker/ingest-worker.js', 'dist');
  markFile('dist/src/lambda/handler.js', 'dist');
});

test('an up-to-date build is what the CLI, the ingest workers and the Lambda entry run', () => {
  const cli = node(CLI_USAGE_ERROR);
  expect(cli.stderr).toMatch(/unknown option '--lak'/);
  expect(cli.status).toBe(1);
  expect(ran()).toBe('dist');

  const pool = node(['-e', POOL_PROBE]);
  expect(pool.stdout).toBe('ready');
  expect(ran()).toBe('dist');

  const lambda = node(['-e', LAMBDA_PROBE]);
  expect(lambda.stdout).toBe('function');
  expect(ran()).toBe('dist');
});

test('a deployment that ships some top-level folders only (no testkit) still runs the build', () => {
  renameSync(join(copy, 'testkit'), join(copy, 'testkit.away'));
  try {
    expect(node(CLI_USAGE_ERROR).status).toBe(1);
    expect(ran()).toBe('dist');
  } finally {
    renameSync(join(copy, 'testkit.away'), join(copy, 'testkit'));
  }
});

test('after an edit the sources run, never the stale build; same bytes again make the build current', () => {
  const main = join(copy, 'src', 'cli', 'main.ts');
  const original = readFileSync(main, 'utf8');
  markFile('src/cli/main.ts', 'sources');
  const cli = node(CLI_USAGE_ERROR);
  expect(cli.stderr).toMatch(/unknown option '--lak'/);
  expect(ran()).toBe('sources');

  // An edit in the etl tree reaches the workers the same way (the pool itself loads through tsx here).
  const worker = join(copy, 'etl', 'worker', 'ingest-worker.ts');
  const workerSource = readFileSync(worker, 'utf8');
  markFile('etl/worker/ingest-worker.ts', 'sources');
  expect(node(['-e', POOL_PROBE]).stdout).toBe('ready');
  expect(ran()).toBe('sources');

  // Back to the built bytes, with new times (as after `git checkout`): the content decides.
  writeFileSync(main, original);
  writeFileSync(worker, workerSource);
  utimesSync(main, new Date(), new Date(Date.now() + 5000));
  expect(node(CLI_USAGE_ERROR).status).toBe(1);
  expect(ran()).toBe('dist');
});

test('a file added to a built folder makes the build stale until it is rebuilt; a removed one too', () => {
  const added = join(copy, 'src', 'core', 'added-after-the-build.ts');
  writeFileSync(added, 'export const ADDED = 1;\n');
  expect(node(CLI_USAGE_ERROR).status).toBe(1);
  expect(ran()).toBeNull(); // the sources ran, and they write no marker

  build();
  expect(existsSync(join(copy, 'dist', 'src', 'core', 'added-after-the-build.js'))).toBe(true);
  markFile('dist/src/cli/main.js', 'dist');
  expect(node(CLI_USAGE_ERROR).status).toBe(1);
  expect(ran()).toBe('dist');

  rmSync(added);
  expect(node(CLI_USAGE_ERROR).status).toBe(1);
  expect(ran()).toBeNull();
});

test('help and usage errors end by themselves with their exit codes (nothing left open), built or through tsx', () => {
  for (const [args, env, status] of [
    [['--help'], { SCOUTQL_RUN_SOURCES: '1' }, 0],
    [['no-such-command'], {}, 1],
  ] as const) {
    const run = spawnSync(process.execPath, [join(REPO, 'bin', 'scoutql.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    expect({ args, signal: run.signal, status: run.status }).toEqual({ args, signal: null, status });
  }
});
