/**
 * The prebuilt JavaScript (`npm run build`; npm runs it as `prepare` on `npm ci` and `npm install`).
 *
 * The sources stay TypeScript run through tsx, so a checkout works without this; but tsx costs a
 * CLI process ≈0.6–1.2 CPU-s more to start (its hooks on every module, esbuild transforms where its
 * disk cache misses) and each ETL worker thread compiles the etl tree again. The build is esbuild's
 * transpile of every .ts file of src, etl and testkit, one output file per source file (not a
 * bundle: extension-less `require`s of discovered modules, such as the source folders' manifests,
 * resolve as in the checkout), into `dist/` at the same relative paths. Every other file of those
 * folders, the .ts sources included, and the data folders the code reads beside itself (schema,
 * rules, examples) are relative symbolic links to the checkout's own, so `__dirname`-relative reads
 * see the current files and nothing but code is ever a copy.
 *
 * The entry points (bin/scoutql.js, etl/worker/bootstrap.js, src/lambda/index.js) load the build
 * only while it is up to date: `dist/.stamp.json` records the size, modification time and content
 * hash of every .ts file and folder it was built from (a folder's time changes when a file is
 * added, removed or renamed in it), and a single difference means the sources win, through tsx. A developer who edits
 * a file and runs the CLI gets the edited code, never stale JavaScript.
 *
 *   node scripts/build.js [--if-stale]
 */
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { dirname, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const STAMP = '.stamp.json';
/** Folders whose TypeScript is built. */
const BUILT = ['src', 'etl', 'testkit'];
/** Folders the code reads data from beside itself, linked whole. */
const LINKED = ['schema', 'rules', 'examples'];
/** Files that change what the build writes, besides the sources. */
const INPUTS = ['tsconfig.json', 'package-lock.json', 'scripts/build.js'];
/** Files the build writes itself instead of linking: the worker's entry loads the built worker. */
const WRITTEN = { 'etl/worker/bootstrap.js': "require('./ingest-worker.js');\n" };

/** Every folder and file below `dir`, as paths relative to ROOT. */
function walk(dir) {
  const folders = [relative(ROOT, dir)];
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = relative(ROOT, join(entry.parentPath, entry.name));
    if (entry.isDirectory()) folders.push(path);
    else if (entry.isFile()) files.push(path);
  }
  return { folders, files };
}

function isBuilt(file) {
  return file.endsWith('.ts') && !file.endsWith('.d.ts');
}

/** A file's bytes, or a folder's sorted entry names, hashed: what a difference in time is checked against. */
function contentHash(path, isFolder) {
  const hash = createHash('sha1');
  if (isFolder) hash.update(readdirSync(path).sort().join('\n'));
  else hash.update(readFileSync(path));
  return hash.digest('hex');
}

/** What the build depends on: every built folder and .ts file, and the other inputs, each as [mtimeMs, size, content hash]. */
function fingerprint(folders, files) {
  const entries = {};
  for (const path of [...folders, ...files.filter(isBuilt), ...INPUTS.filter((f) => existsSync(join(ROOT, f)))]) {
    const full = join(ROOT, path);
    const stat = statSync(full);
    const isFolder = stat.isDirectory();
    entries[path] = [stat.mtimeMs, isFolder ? 0 : stat.size, contentHash(full, isFolder)];
  }
  return entries;
}

/**
 * True when `dist/` was built from the sources as they are now. Costs one stat per recorded
 * folder and .ts file (a few milliseconds), no esbuild, no directory walk. Where a time differs
 * (a copy, an unzip, a `touch`) the content decides: the file's bytes, or a folder's entry names.
 * A top-level folder or file that is absent altogether (a deployment that ships src and etl but
 * not testkit) is not compared: nothing can load it.
 */
function isFresh() {
  let entries;
  try {
    entries = JSON.parse(readFileSync(join(DIST, STAMP), 'utf8')).entries;
  } catch {
    return false;
  }
  const shipped = new Map();
  for (const path in entries) {
    const top = path.split(/[/\\]/)[0];
    if (!shipped.has(top)) shipped.set(top, existsSync(join(ROOT, top)));
    if (!shipped.get(top)) continue;
    const full = join(ROOT, path);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      return false;
    }
    const [mtimeMs, size, hash] = entries[path];
    const isFolder = stat.isDirectory();
    if (stat.mtimeMs === mtimeMs && (isFolder || stat.size === size)) continue;
    if ((!isFolder && stat.size !== size) || contentHash(full, isFolder) !== hash) return false;
  }
  // A new input file (e.g. a lock file that did not exist) is a difference too.
  return INPUTS.every((f) => f in entries || !existsSync(join(ROOT, f)));
}

/**
 * The built counterpart of a source file (path relative to the checkout, e.g. 'src/cli/main.ts')
 * when the build is up to date, else null. SCOUTQL_RUN_SOURCES=1 asks for the sources regardless
 * (to compare the two, or to rule the build out).
 */
function builtFile(sourcePath) {
  if (process.env.SCOUTQL_RUN_SOURCES === '1') return null;
  return isFresh() ? join(DIST, sourcePath.replace(/\.ts$/, '.js')) : null;
}

/** Builds `dist/` from scratch in a folder beside it, then puts it in place (a half-written build is never `dist/`). */
async function build() {
  const { build: esbuild } = require('esbuild');
  const folders = [];
  const files = [];
  for (const dir of BUILT.filter((d) => existsSync(join(ROOT, d)))) {
    const found = walk(join(ROOT, dir));
    folders.push(...found.folders);
    files.push(...found.files);
  }
  // Taken before reading the sources: a file edited during the build then differs from the stamp.
  const entries = fingerprint(folders, files);
  const out = join(ROOT, `dist.building-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  try {
    await esbuild({
      entryPoints: files.filter(isBuilt).map((f) => join(ROOT, f)),
      outdir: out,
      outbase: ROOT,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'error',
    });
    const link = (path) => {
      const at = join(out, path);
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(relative(dirname(at), join(ROOT, path)), at);
    };
    for (const folder of folders) mkdirSync(join(out, folder), { recursive: true });
    for (const file of files) {
      if (file in WRITTEN) writeFileSync(join(out, file), WRITTEN[file]);
      else link(file);
    }
    for (const dir of LINKED.filter((d) => existsSync(join(ROOT, d)))) link(dir);
    writeFileSync(join(out, STAMP), JSON.stringify({ entries }));
    rmSync(DIST, { recursive: true, force: true });
    renameSync(out, DIST);
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
}

/** Builds only when `dist/` is missing or out of date; true when it built. */
async function buildIfStale() {
  if (isFresh()) return false;
  await build();
  return true;
}

module.exports = { DIST, build, buildIfStale, builtFile, isFresh };

if (require.main === module) {
  const started = process.hrtime.bigint();
  const ifStale = process.argv.includes('--if-stale');
  (ifStale ? buildIfStale() : build().then(() => true)).then(
    (built) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(built ? `scoutql: built dist/ in ${Math.round(ms)} ms\n` : 'scoutql: dist/ is up to date\n');
    },
    (err) => {
      process.stderr.write(`scoutql: build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
