// Lambda entry point (handler setting: src/lambda/index.handler). It loads the prebuilt JavaScript
// (dist/, written by `npm ci` or `npm run build`) while it is up to date with the sources, else the
// TypeScript through tsx, as the CLI does; see docs/lambda.md and scripts/build.js.
const built = require('../../scripts/build.js').builtFile('src/lambda/handler.ts');
if (built) {
  module.exports = require(built);
} else {
  require('tsx/cjs');
  module.exports = require('./handler.ts');
}
