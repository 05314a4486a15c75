/**
 * The Python notebook client (clients/python) against real `scoutql serve` processes (the CLI built
 * for this jest run, test/cli.ts) over a sample lake: the package is pip-installed into a temp folder, its unittest suite runs against the
 * servers, and examples/hunt.ipynb runs top to bottom with nbclient (Debian's python3-nbclient,
 * python3-ipykernel, python3-pandas, python3-httpx; .ci/run installs them).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { runDetect, windowsOfDays } from '../../src/cli/detect-run';
import { generateSample } from '../../testkit/sample';
import { readStories, storyById } from '../../testkit/sample/story';
import { logInputs } from '../api/fixtures/cross';
import { builtCli } from '../cli';

const ROOT = join(__dirname, '..', '..');
const MODULES = ['httpx', 'pandas', 'IPython', 'ipykernel', 'nbclient', 'nbformat', 'pip'];
const DEBIAN_PACKAGES = 'python3-httpx python3-pandas python3-ipykernel python3-nbclient python3-pip';

/**
 * The interpreter to use: SCOUTQL_PYTHON if set, else the first python3 (PATH, then Debian's
 * /usr/bin/python3) that has the client's modules. A PATH python3 from pyenv or a venv may lack
 * what Debian's packages put beside /usr/bin/python3.
 */
function findPython(): { python?: string; present: string[] } {
  const candidates = process.env.SCOUTQL_PYTHON ? [process.env.SCOUTQL_PYTHON] : ['python3', '/usr/bin/python3'];
  const present: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', `import ${MODULES.join(', ')}`], { encoding: 'utf8' });
    if (probe.error) continue; // not installed
    present.push(candidate);
    if (probe.status === 0) return { python: candidate, present };
  }
  return { present };
}

const { python, present } = findPython();
const describePython = present.length > 0 ? describe : describe.skip;
if (present.length === 0) {
  // eslint-disable-next-line no-console
  console.warn('Python client tests skipped: python3 is not installed (.ci/run installs it with the Debian packages)');
}

interface Server {
  url: string;
  child: ChildProcess;
}

/** Every server started, so afterAll stops them all even when one of them failed to start. */
const started: ChildProcess[] = [];

function serve(lake: string, extra: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [builtCli(), 'serve', '--lake', lake, '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /GraphQL (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`scoutql serve exited early (${code}): ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describePython('Python client (clients/python) against scoutql serve', () => {
  let dir: string;
  let logs: string;
  let site: string;
  let wide: Server | undefined;
  let narrow: Server | undefined;

  beforeAll(async () => {
    if (!python) {
      throw new Error(
        `${present.join(' and ')} found, but none can import ${MODULES.join(', ')}: ` +
          `apt-get install -y ${DEBIAN_PACKAGES} (as .ci/run does), or point SCOUTQL_PYTHON at an interpreter that has them`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'scoutql-pyclient-'));
    logs = join(dir, 'logs');
    const lake = join(dir, 'lake');
    // Three days at 5 % scale: over 3,000 API calls for the paging test, every story planted.
    // Flow logs (thousands of small files) are left out for speed; the console story needs none.
    generateSample({ out: logs, days: 3, scale: 0.05, sources: ['cloudtrail', 's3access', 'route53resolver', 'azuread'] });
    const summary = await ingest({ inputs: logInputs(logs), lake });
    expect(summary.quarantined).toBe(0);
    // The project's rules over the sample, as `scoutql ingest` runs them: findings for findings() and the verdict.
    const detected = await runDetect({ lake, windows: windowsOfDays(summary.days) });
    expect(detected.runs.length).toBeGreaterThan(0);

    // Installed as a user installs it (`pip install ./clients/python`), from a copy so no build
    // files land in the repository, into a folder of its own so the machine is left as it was.
    const source = join(dir, 'source');
    cpSync(join(ROOT, 'clients', 'python'), source, { recursive: true, filter: (p) => !/__pycache__|egg-info|[/\\]build$/.test(p) });
    site = join(dir, 'site');
    const pip = spawnSync(
      python,
      ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation', '--no-index', '--target', site, source],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect({ status: pip.status, stderr: pip.stderr }).toEqual({ status: 0, stderr: expect.any(String) });

    // Two servers on one lake, each with its own audit chain; the narrow one allows one day per
    // query (its default window must fit in that too).
    [wide, narrow] = await Promise.all([
      serve(lake, ['--audit-stream', 'wide']),
      serve(lake, ['--audit-stream', 'narrow', '--max-window-days', '1', '--limits-default-window-days', '1']),
    ]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(started.map(stop));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const pythonPath = [site, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
    return { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', ...extra };
  }

  test('the pip-installed package is the one the tests import', () => {
    const run = spawnSync(python!, ['-c', 'import scoutql; print(scoutql.__file__)'], { encoding: 'utf8', cwd: dir, env: env({}) });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(join(site, 'scoutql', '__init__.py'));
  });

  test('python3 -m unittest: the client suite passes against the live servers', () => {
    const run = spawnSync(python!, ['-m', 'unittest', 'discover', '-v', '-s', join(ROOT, 'clients', 'python', 'tests')], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 300_000,
      env: env({ SCOUTQL_TEST_URL: wide!.url, SCOUTQL_TEST_NARROW_URL: narrow!.url, SCOUTQL_TEST_LOGS: logs }),
    });
    // unittest reports on stderr: show it whole when anything failed.
    if (run.status !== 0) throw new Error(`python unittest failed (${run.status ?? run.signal}):\n${run.stderr}\n${run.stdout}`);
    const ran = /Ran (\d+) tests/.exec(run.stderr);
    expect(Number(ran?.[1])).toBeGreaterThanOrEqual(26);
    expect(run.stderr).toMatch(/\nOK\n/);
    expect(run.stderr).not.toMatch(/skipped/);
  }, 300_000);

  test('examples/hunt.ipynb runs top to bottom and finds the console brute-force story', () => {
    const executed = join(dir, 'hunt.executed.ipynb');
    const run = spawnSync(python!, [join(__dirname, 'run_notebook.py'), join(ROOT, 'examples', 'hunt.ipynb'), executed], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 300_000,
      env: env({ SCOUTQL_URL: wide!.url, SCOUTQL_LOGS: logs }),
    });
    if (run.status !== 0) throw new Error(`the notebook failed (${run.status ?? run.signal}):\n${run.stderr}\n${run.stdout}`);
    expect(existsSync(executed)).toBe(true);
    // What the cells showed names the story's actors: the hunt found them, not just ran.
    const outputs = readFileSync(executed, 'utf8');
    const story = storyById(readStories(logs), 'console-brute-force').expect;
    for (const value of [story.targetUser, story.attackerIp, story.successIp, story.consoleSessionKey]) {
      expect(outputs).toContain(value);
    }
  }, 300_000);
});
