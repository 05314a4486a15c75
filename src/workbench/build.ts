/**
 * Builds the workbench's browser bundle (src/workbench/client, Cytoscape.js included) with esbuild,
 * in memory. The server builds it once, on the first request for it, as `bin/scoutql.js` runs the
 * TypeScript through tsx: `npm ci && npm start` needs no build step, and the page can never be
 * served from a stale build of other sources.
 *
 * `npx tsx src/workbench/build.ts <dir>` writes the same files to a folder (to inspect their size).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface WorkbenchBundle {
  /** app.js: the whole application, one IIFE, no import from anywhere at run time. */
  js: Buffer;
  /** app.css */
  css: Buffer;
}

const ENTRY = join(__dirname, 'client', 'main.ts');

export async function buildWorkbench(): Promise<WorkbenchBundle> {
  const result = await build({
    entryPoints: { app: ENTRY },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'eof',
    // No source file may be fetched at run time: an import that esbuild cannot bundle is an error here.
    logLevel: 'silent',
  });
  const file = (ext: string): Buffer => {
    const out = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!out) throw new Error(`the workbench build wrote no ${ext} file`);
    return Buffer.from(out.contents);
  };
  return { js: file('.js'), css: file('.css') };
}

let building: Promise<WorkbenchBundle> | null = null;

/** The bundle, built once per process (a failed build is retried on the next request). */
export function workbenchBundle(): Promise<WorkbenchBundle> {
  building ??= buildWorkbench().catch((err: unknown) => {
    building = null;
    throw err;
  });
  return building;
}

if (require.main === module) {
  const dir = process.argv[2] ?? 'workbench-build';
  buildWorkbench()
    .then((bundle) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'app.js'), bundle.js);
      writeFileSync(join(dir, 'app.css'), bundle.css);
      process.stdout.write(`${dir}/app.js ${bundle.js.length} bytes, ${dir}/app.css ${bundle.css.length} bytes\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    });
}
