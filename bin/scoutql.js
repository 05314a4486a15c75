#!/usr/bin/env node
// Runs the CLI from the prebuilt JavaScript (dist/, `npm run build`, made by `npm ci`) while it is
// up to date with the sources, else the TypeScript itself through tsx: an edited file is never run
// from a stale build, and a checkout works with no build at all (scripts/build.js says why both).
const built = require('../scripts/build.js').builtFile('src/cli/main.ts');
if (built) {
  require(built);
} else {
  require('tsx/cjs');
  require('../src/cli/main.ts');
}
