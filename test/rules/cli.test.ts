/**
 * `scoutql rules check` as a user runs it: a process of its own over the project's rules and a
 * user's folder (bin/scoutql.js once, then the CLI built for this jest run: test/cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadRules, PROJECT_RULES_DIR } from '../../src/rules/load';
import { builtCli, REAL_CLI } from '../cli';

const COMMUNITY = join(__dirname, 'community');

function scoutql(args: string[], cli = builtCli()) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('rules check lists every project rule as compiled and exits 0', () => {
  const run = scoutql(['rules', 'check'], REAL_CLI);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const { compiled } = loadRules([PROJECT_RULES_DIR]);
  const lines = run.stdout.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('compiled '))).toHaveLength(compiled.length);
  expect(lines.at(-1)).toMatch(new RegExp(`^${compiled.length} compiled, 0 unsupported, in \\d+ files$`));
  expect(run.stdout).toContain('aws/s3/s3_bucket_made_public.yml: S3 bucket made public [T1530, T1537]');
});

test('rules check DIR reports an unsupported rule with its file, line and reason; --strict turns it into exit 1', () => {
  const run = scoutql(['rules', 'check', COMMUNITY]);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(
    /^unsupported {2}win_process_creation\.yml:11 \(Suspicious Encoded PowerShell Command Line\): logsource: no lake table holds logsource \{product: windows, category: process_creation\}/m,
  );
  expect(run.stdout).toMatch(/4 compiled, 1 unsupported, in 5 files/);
  expect(scoutql(['rules', 'check', COMMUNITY, '--strict']).status).toBe(1);
  const json = JSON.parse(scoutql(['rules', 'check', COMMUNITY, '--json']).stdout);
  expect(json.compiled).toHaveLength(4);
  expect(json.unsupported[0]).toMatchObject({ construct: 'logsource', line: 11 });
});
