// Worker threads start from plain JavaScript: register the TypeScript loader, then run the worker.
require('tsx/cjs');
require('./ingest-worker.ts');
