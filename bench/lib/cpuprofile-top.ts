/**
 * Summarizes V8 .cpuprofile files (from `node --cpu-prof`): self time per function and per
 * source file, so a bench finding can say where the time goes.
 *
 *   npx tsx bench/lib/cpuprofile-top.ts <dir-or-files…> [--top 25]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO, table } from './measure';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const argv = process.argv.slice(2);
const topIndex = argv.indexOf('--top');
const top = topIndex >= 0 ? Number(argv[topIndex + 1]) : 25;
const inputs = argv.filter((a, i) => (a !== '--top' && i !== topIndex + 1) || (topIndex < 0 && a !== '--top'));

const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);

const shortUrl = (url: string) => {
  const path = url.replace(/^file:\/\//, '');
  if (!path) return '(native)';
  const rel = relative(REPO, path);
  return rel.startsWith('..') ? path : rel;
};

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    const where = shortUrl(frame.url);
    const fn = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    const bucket = where.includes('node_modules/')
      ? where.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'npm:$1')
      : where.startsWith('node:')
        ? 'node:internal'
        : where;
    byFile.set(bucket, (byFile.get(bucket) ?? 0) + micros);
  }
  const pct = (m: number) => ((m / total) * 100).toFixed(1);
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k.slice(0, 110), (v / 1000).toFixed(0), pct(v)]);
  console.log(`\n# ${file}: ${(total / 1e6).toFixed(1)} s profiled`);
  console.log(table(['function (self time)', 'ms', '%'], rows(byFunction)));
  console.log();
  console.log(table(['file / package (self time)', 'ms', '%'], rows(byFile)));
}
