/**
 * Start-up costs of the CLI and of the ETL's worker threads, for a checkout (this one by default):
 *
 *   npx tsx bench/startup.ts [--root DIR] [--reps 5] [--sources]
 *
 * `--sources` sets SCOUTQL_RUN_SOURCES=1: the entry points run the TypeScript through tsx even
 * when dist/ is up to date (what a checkout without the build, or with a stale one, costs).
 *
 * CLI: CPU seconds (user + sys, /usr/bin/time) of `bin/scoutql.js --help`, `--version` (a usage
 * error: there is no such option) and `serve --lak x` (a usage error of one command), each run
 * `--reps` times with the same TMPDIR (so tsx's disk cache is as warm as those runs leave it).
 * Workers: wall milliseconds and process CPU from `WorkerPool.start(2)` to both workers ready, in a
 * process that loads the pool's TypeScript through tsx (as jest loads it through its transform);
 * each worker's bootstrap then loads dist/ or the sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const root = resolve(option('--root', join(__dirname, '..')));
const reps = Number(option('--reps', '5'));
const scratch = mkdtempSync(join(tmpdir(), 'scoutql-startup-'));
const env = { ...process.env, TMPDIR: scratch, ...(process.argv.includes('--sources') ? { SCOUTQL_RUN_SOURCES: '1' } : {}) };

function cpuSeconds(args: string[], cwd: string): { cpu: number; status: number | null } {
  const timing = join(scratch, 'time');
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timing, process.execPath, ...args], {
    cwd,
    env,
    encoding: 'utf8',
  });
  const [user, sys] = readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user + sys, status: run.status };
}

// tsx registered in the probe's code, not by --require: workers inherit the process's execArgv,
// and a --require'd tsx would load into every worker whichever way its bootstrap went.
const WORKER_PROBE = `
require('tsx/cjs');
const { WorkerPool } = require('./etl/worker/pool.ts');
const { mkdtempSync } = require('node:fs');
const { join } = require('node:path');
(async () => {
  const dir = mkdtempSync(join(process.env.TMPDIR, 'pool-'));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const pool = await WorkerPool.start(2, dir);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  await pool.close();
  process.stdout.write(JSON.stringify({ ms, cpu: (used.user + used.system) / 1e6 }));
})();
`;

const line = (label: string, values: number[], unit: string) =>
  console.log(
    `${label.padEnd(34)} ${values.map((v) => v.toFixed(2)).join(' ')}  median ${[...values].sort((a, b) => a - b)[values.length >> 1].toFixed(2)} ${unit}`,
  );

console.log(
  `checkout ${root}${env.SCOUTQL_RUN_SOURCES ? ' (sources through tsx)' : ''}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
for (const args of [['--help'], ['--version'], ['serve', '--lak', 'x']]) {
  const runs = Array.from({ length: reps }, () => cpuSeconds([join(root, 'bin', 'scoutql.js'), ...args], root));
  line(
    `scoutql ${args.join(' ')} (exit ${runs[0].status})`,
    runs.map((r) => r.cpu),
    'CPU-s',
  );
}
const pools = Array.from({ length: reps }, () => {
  const run = spawnSync(process.execPath, ['-e', WORKER_PROBE], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { ms: number; cpu: number };
});
line(
  'WorkerPool.start(2) → ready',
  pools.map((p) => p.ms),
  'ms',
);
line(
  '  its CPU (both threads)',
  pools.map((p) => p.cpu),
  'CPU-s',
);
rmSync(scratch, { recursive: true, force: true });
