/** Jest's globalTeardown: removes the CLI test/cli-build.js built for this run. */
const { rmSync } = require('node:fs');
const { dirname } = require('node:path');

module.exports = async function removeBuiltCli() {
  const entry = process.env.BUILT_CLI_FOR_TESTS;
  if (entry) rmSync(dirname(entry), { recursive: true, force: true });
};
