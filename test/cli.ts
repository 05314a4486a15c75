import { join } from 'node:path';

/** The CLI as users run it: `bin/scoutql.js` (dist/ when up to date, else the sources through tsx). */
export const REAL_CLI = join(__dirname, '..', 'bin', 'scoutql.js');

/**
 * The built CLI's entry in dist/, brought up to date with the sources before this jest run
 * (test/cli-build.js), started without bin/scoutql.js's freshness check. Each command still runs
 * as a real `bin/scoutql.js` process somewhere in the suite.
 */
export function builtCli(): string {
  const entry = process.env.BUILT_CLI_FOR_TESTS;
  if (!entry) throw new Error('no built CLI: run the tests through jest (jest.config.js globalSetup builds it)');
  return entry;
}
