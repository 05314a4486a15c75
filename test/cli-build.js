/**
 * Jest's globalSetup: builds the CLI once per jest run, from the working tree as it is now, so the
 * tests that start many CLI processes do not pay tsx in each. A process of `bin/scoutql.js` spends
 * about half its start-up in tsx (its hooks on every module loaded, and esbuild transforms where
 * its disk cache misses: every file of a new checkout, every file only a process that ends in
 * `process.exit` loaded); the built one starts in ≈0.6 CPU-s instead of 1.2–1.8.
 *
 * The build is a copy of the folders the CLI reads beside its code (src, etl, testkit, schema,
 * rules, examples), every .ts file transpiled next to its source by esbuild (the transpiler tsx
 * uses), not bundled: every `__dirname` and every extension-less `require` resolves as it does in
 * the checkout. It is made fresh in a temporary folder on every run (never a stale build) and
 * removed by test/cli-build-teardown.js. Tests find it through `builtCli()` (test/cli.ts); the
 * documented commands also run as real `bin/scoutql.js` processes (test/service/readme,
 * newcomer, and one real start per command in the files that use the build).
 */
const { build } = require('esbuild');
const { cpSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
/** Folders the CLI loads code or data from, relative to its own files. */
const COPIED = ['src', 'etl', 'testkit', 'schema', 'rules', 'examples'];
const TRANSPILED = ['src', 'etl', 'testkit'];
/** The environment variable the test processes (jest's workers inherit it) read the build's path from. */
const VARIABLE = 'BUILT_CLI_FOR_TESTS';

function typeScriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

module.exports = async function buildCli() {
  const out = mkdtempSync(join(tmpdir(), 'scoutql-test-cli-'));
  for (const dir of COPIED) cpSync(join(ROOT, dir), join(out, dir), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, file), join(out, file));
  // Packages resolve from the copy as from the checkout (Node follows the link to their real paths).
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  await build({
    entryPoints: TRANSPILED.flatMap((dir) => typeScriptFiles(join(out, dir))),
    outdir: out,
    outbase: out,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    tsconfig: join(out, 'tsconfig.json'),
    logLevel: 'error',
  });
  // The ingest workers' bootstrap registers tsx for the .ts worker; here the worker is built.
  writeFileSync(join(out, 'etl', 'worker', 'bootstrap.js'), "require('./ingest-worker.js');\n");
  writeFileSync(join(out, 'scoutql.js'), "require('./src/cli/main.js');\n");
  process.env[VARIABLE] = join(out, 'scoutql.js');
};
