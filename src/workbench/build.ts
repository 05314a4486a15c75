/**
 * Builds the workbench's browser bundle (src/workbench/client, Cytoscape.js included) with esbuild,
 * in memory. The server builds it once, on the first request for it, as `bin/scoutql.js` runs the
 * TypeScript through tsx: `npm ci && npm start` needs no build step, and the page can never be
 * served from a stale build of other sources.
 *
 * `npx tsx src/workbench/build.ts <dir>` writes the same files to a folder (to inspect their size).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { getName, numericToAlpha2, registerLocale } from 'i18n-iso-countries';
import english from 'i18n-iso-countries/langs/en.json';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

export interface WorkbenchBundle {
  /** app.js: the whole application, one IIFE, no import from anywhere at run time. */
  js: Buffer;
  /** app.css */
  css: Buffer;
}

const ENTRY = join(__dirname, 'client', 'main.ts');

/** A country as the map needs it: [latitude, longitude, name, ISO 3166-1 numeric]. */
export type CountryCentroid = [number, number, string, string];

type Ring = [number, number][];

/** Planar area and centroid (in degrees) of a ring: good enough to place a country's point. */
function ringCentroid(input: Ring): { area: number; lng: number; lat: number } {
  // A ring across the antimeridian (Fiji) is taken in 0–360° of longitude, then brought back.
  const lngs = input.map((p) => p[0]);
  const across = Math.max(...lngs) - Math.min(...lngs) > 180;
  const ring: Ring = across ? input.map(([lng, lat]) => [lng < 0 ? lng + 360 : lng, lat]) : input;
  const wrap = (lng: number) => (lng > 180 ? lng - 360 : lng);
  let area = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    area += cross;
    x += (ring[j][0] + ring[i][0]) * cross;
    y += (ring[j][1] + ring[i][1]) * cross;
  }
  return area === 0
    ? { area: 0, lng: wrap(ring[0][0]), lat: ring[0][1] }
    : { area: Math.abs(area / 2), lng: wrap(x / (3 * area)), lat: y / (3 * area) };
}

/**
 * `virtual:country-centroids`: per ISO 3166-1 alpha-2 code (what the ingest's GeoIP data gives), the
 * centre of the country's largest land mass, its name and numeric code (what the drawn outline's
 * shapes are keyed by). Derived at build time from Natural Earth's 1:50m countries (world-atlas, public
 * domain; more small countries than the 1:110m outline the page draws) and the ISO code tables of
 * i18n-iso-countries, so the page carries a few hundred short rows, not the 50m shapes.
 */
export function countryCentroids(): Record<string, CountryCentroid> {
  const topology = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8')) as Topology<{
    countries: GeometryCollection<{ name: string }>;
  }>;
  registerLocale(english);
  const shapes = feature(topology, topology.objects.countries) as FeatureCollection<Polygon | MultiPolygon, { name: string }>;
  const out: Record<string, CountryCentroid> = {};
  for (const shape of shapes.features) {
    const numeric = shape.id == null ? null : String(shape.id);
    const alpha2 = numeric ? numericToAlpha2(numeric) : shape.properties.name === 'Kosovo' ? 'XK' : undefined;
    if (!alpha2 || !shape.geometry) continue;
    const polygons = shape.geometry.type === 'Polygon' ? [shape.geometry.coordinates] : shape.geometry.coordinates;
    const largest = polygons.map((p) => ringCentroid(p[0] as Ring)).sort((a, b) => b.area - a.area)[0];
    if (!largest) continue;
    const round = (n: number) => Math.round(n * 100) / 100;
    out[alpha2] = [round(largest.lat), round(largest.lng), getName(alpha2, 'en') ?? shape.properties.name, numeric ?? ''];
  }
  return out;
}

const centroidsPlugin: Plugin = {
  name: 'country-centroids',
  setup(b) {
    b.onResolve({ filter: /^virtual:country-centroids$/ }, (args) => ({ path: args.path, namespace: 'scoutql' }));
    b.onLoad({ filter: /.*/, namespace: 'scoutql' }, () => ({ contents: JSON.stringify(countryCentroids()), loader: 'json' }));
  },
};

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
    plugins: [centroidsPlugin],
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
