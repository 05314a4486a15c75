import { join } from 'node:path';

/** The CLI as users run it: `bin/scoutql.js` through tsx. */
export const REAL_CLI = join(__dirname, '..', 'bin', 'scoutql.js');

/**
 * The same CLI built once for this jest run from the current sources (test/cli-build.js), for
 * tests that start many CLI processes: it starts in ≈0.6 CPU-s instead of 1.2–1.8. Each command
 * still runs as a real `bin/scoutql.js` process somewhere in the suite.
 */
export function builtCli(): string {
  const entry = process.env.BUILT_CLI_FOR_TESTS;
  if (!entry) throw new Error('no built CLI: run the tests through jest (jest.config.js globalSetup builds it)');
  return entry;
}
