/**
 * Jest's transform: esbuild transpiles each TypeScript file (and jose's ES modules) to CommonJS, as
 * tsx does for the CLI. Type checking is `npm run typecheck`'s job, so jest only strips types;
 * ts-jest did the same (isolatedModules, no diagnostics) with TypeScript's own compiler, more
 * slowly, and loaded TypeScript in every worker.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync, version } = require('esbuild');

const OWN_SOURCE = readFileSync(__filename, 'utf8');
/** The project's compiler options (class field semantics, interop…), as tsx and the build read them. */
const TSCONFIG = readFileSync(join(__dirname, '..', 'tsconfig.json'), 'utf8');

module.exports = {
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: path.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node20',
      platform: 'node',
      sourcefile: path,
      tsconfigRaw: TSCONFIG,
      sourcemap: 'external',
      sourcesContent: false,
      // `await import(…)` becomes a require, as tsc's CommonJS output has it: jest's module
      // registry (and its transform) then serves the module, not Node's ES module loader.
      supported: { 'dynamic-import': false },
    });
    return { code, map };
  },
  getCacheKey(source, path, options) {
    return createHash('sha256')
      .update(version)
      .update(OWN_SOURCE)
      .update(TSCONFIG)
      .update(options.configString)
      .update(path)
      .update(source)
      .digest('hex');
  },
};
