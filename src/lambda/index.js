// Lambda entry point (handler setting: src/lambda/index.handler). The sources are TypeScript run
// through tsx, as the CLI is, so the package needs no build step; see docs/lambda.md.
require('tsx/cjs');
module.exports = require('./handler.ts');
