// Worker threads start from plain JavaScript: the built worker when dist/ is up to date with the
// sources (scripts/build.js), else the TypeScript through tsx, which compiles the etl tree again in
// every worker (≈1.5 s of each thread's start).
const built = require('../../scripts/build.js').builtFile('etl/worker/ingest-worker.ts');
if (built) {
  require(built);
} else {
  require('tsx/cjs');
  require('./ingest-worker.ts');
}
