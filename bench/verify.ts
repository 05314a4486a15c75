/**
 * verify bench: `verify cloudtrail` over signed trails of growing size, beside the bare work of
 * hashing the same files' uncompressed content, measured in the same run. See bench/README.md.
 *
 *   npx tsx bench/verify.ts            # trails of 400, 800 and 1,600 log files (≈100 KB each uncompressed)
 *   npx tsx bench/verify.ts --quick    # 100, 200, 400
 *   options: --files N (log files at scale 1) --records N (records per log file) --runs N (timed runs, median)
 *   npx tsx bench/verify.ts --lake     # `verify lake` over lakes of 250k, 500k, 1M events (bench/verify-lake.ts)
 *   npx tsx bench/verify.ts --lake --quick   # 50k, 100k, 200k; --events N sets the smallest
 *
 * Baselines, on the very same files:
 *  - node floor: read + gunzipSync + SHA-256 of every log and digest file, one after the other on
 *    one thread: the least work any verifier must do.
 *  - gzip -dc | sha256sum: the system tools decompressing and hashing the same bytes as one stream
 *    (two processes, so two cores).
 * Trails are written by testkit/cloudtrail-local (RSA-signed digests, sidecar signatures) into
 * bench/out/verify-trails/, cached by their parameters.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { exampleRecords, listPublicKeysJson, makeTrailKey, TrailWriter } from '../testkit/cloudtrail-local';
import { verifyCloudTrail } from '../src/evidence/cloudtrail-digests';
import { addPublicKeysFile, PublicKeySet } from '../src/evidence/cloudtrail-keys';
import { lakeBench } from './verify-lake';
import { OUT, listFiles, machine, mb, parseArgs, ratio, runScoutql, table, totalBytes, writeResult } from './lib/measure';

const args = parseArgs(process.argv.slice(2));
const QUICK = args.has('quick');
const BASE_FILES = Number(args.get('files') ?? (QUICK ? 100 : 400));
const RECORDS = Number(args.get('records') ?? 100);
const RUNS = Number(args.get('runs') ?? 5);
const SCALES = [1, 2, 4];
const FILES_PER_HOUR = 20;
const HOUR = 3_600_000;
const ACCOUNT = '111122223333';
const REGION = 'us-east-2';

interface Trail {
  dir: string;
  keysFile: string;
  files: string[];
}

function writeTrail(logFiles: number): Trail {
  const dir = join(OUT, 'verify-trails', `files-${logFiles}-records-${RECORDS}`);
  const keysFile = `${dir}.keys.json`;
  const done = `${dir}.done`;
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    const key = makeTrailKey();
    const writer = new TrailWriter({ dir, bucket: 'bench-trail', account: ACCOUNT, region: REGION, trail: 'management-events', key });
    const start = Date.parse('2024-03-01T00:01:31Z');
    for (let n = 0, hour = 0; n < logFiles; hour++) {
      const from = start + hour * HOUR;
      for (let i = 0; i < FILES_PER_HOUR && n < logFiles; i++, n++) {
        const delivered = from + Math.floor(((i + 0.5) * HOUR) / FILES_PER_HOUR);
        writer.logFile(delivered, exampleRecords(RECORDS, delivered - 300_000, delivered - 60_000, ACCOUNT, REGION, n));
      }
      writer.digest(from, from + HOUR);
    }
    writeFileSync(keysFile, listPublicKeysJson([key]));
    writeFileSync(done, '');
  }
  return { dir, keysFile, files: listFiles(dir, (p) => p.endsWith('.json.gz')).sort() };
}

function nodeFloor(files: readonly string[]): number {
  let bytes = 0;
  for (const file of files) {
    const content = gunzipSync(readFileSync(file));
    createHash('sha256').update(content).digest('hex');
    bytes += content.length;
  }
  return bytes;
}

function shellHash(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `find . -name '*.json.gz' -print0 | sort -z | xargs -0 cat | gzip -dc | sha256sum > /dev/null`], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`shell baseline exited with ${code}`))));
  });
}

async function seconds(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const before = machine();
  const rows: Array<Record<string, number>> = [];
  for (const scale of SCALES) {
    const logFiles = BASE_FILES * scale;
    const trail = writeTrail(logFiles);
    const keys = new PublicKeySet();
    await addPublicKeysFile(keys, trail.keysFile);
    const timings = { verify: [] as number[], floor: [] as number[], shell: [] as number[] };
    let contentBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      // Interleaved, so load on the shared machine falls on all three alike.
      timings.verify.push(
        await seconds(async () => {
          const report = await verifyCloudTrail({ root: trail.dir, keys });
          if (report.outcome !== 'verified') throw new Error(`the bench trail did not verify: ${report.outcome}`);
          contentBytes = report.bytesHashed;
        }),
      );
      timings.floor.push(await seconds(() => nodeFloor(trail.files)));
      timings.shell.push(await seconds(() => shellHash(trail.dir)));
    }
    const digests = trail.files.length - logFiles;
    const row = {
      scale,
      logFiles,
      digests,
      storedBytes: totalBytes(trail.files),
      contentBytes,
      verifySeconds: median(timings.verify),
      floorSeconds: median(timings.floor),
      shellSeconds: median(timings.shell),
    };
    rows.push(row);
    console.log(
      `scale ${scale}: ${logFiles} log files + ${digests} digests, ${mb(row.contentBytes)} MB content: verify ${row.verifySeconds.toFixed(2)} s, node floor ${row.floorSeconds.toFixed(2)} s, gzip|sha256sum ${row.shellSeconds.toFixed(2)} s`,
    );
  }

  // Peak memory of the CLI itself, smallest and largest trail: it must not grow with the bytes.
  const rss: Array<{ logFiles: number; peakRssBytes: number | null; wallSeconds: number }> = [];
  for (const scale of [SCALES[0], SCALES[SCALES.length - 1]]) {
    const trail = writeTrail(BASE_FILES * scale);
    const run = await runScoutql(['verify', 'cloudtrail', trail.dir, '--public-keys', trail.keysFile, '--json']);
    rss.push({ logFiles: BASE_FILES * scale, peakRssBytes: run.peakRssBytes, wallSeconds: run.wallSeconds });
  }

  const first = rows[0];
  console.log(
    '\n' +
      table(
        [
          'log files',
          'content MB',
          'verify s',
          'node floor s',
          'gzip|sha256sum s',
          'verify/floor',
          'verify/shell',
          'verify MB/s',
          'time ×',
          'bytes ×',
        ],
        rows.map((r) => [
          r.logFiles,
          mb(r.contentBytes),
          r.verifySeconds.toFixed(2),
          r.floorSeconds.toFixed(2),
          r.shellSeconds.toFixed(2),
          ratio(r.verifySeconds, r.floorSeconds),
          ratio(r.verifySeconds, r.shellSeconds),
          (r.contentBytes / 1e6 / r.verifySeconds).toFixed(0),
          ratio(r.verifySeconds, first.verifySeconds),
          ratio(r.contentBytes, first.contentBytes),
        ]),
      ),
  );
  console.log(
    '\n' +
      table(
        ['CLI, log files', 'peak RSS MB', 'wall s (with start-up)'],
        rss.map((r) => [r.logFiles, r.peakRssBytes === null ? 'n/a' : mb(r.peakRssBytes), r.wallSeconds.toFixed(2)]),
      ),
  );
  const file = writeResult('verify', { machine: { before, after: machine() }, runs: RUNS, recordsPerFile: RECORDS, rows, rss });
  console.log(`\nresult: ${file}`);
}

(args.has('lake')
  ? lakeBench({
      quick: QUICK,
      runs: Number(args.get('runs') ?? (QUICK ? 1 : 3)),
      events: args.has('events') ? Number(args.get('events')) : undefined,
    })
  : main()
).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
