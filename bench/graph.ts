/**
 * The graph step as a day grows (issue #14): K CloudTrail objects of one day ingested one at a
 * time (graph step off), and after each, the day's graph step timed both ways on the same lake:
 *
 *   merge    the incremental step: reads the object's new event file and the day's graph state
 *   rebuild  a full rebuild, as every graph step was before: reads every event file of the day
 *
 * Both leave the same state (the merge first, then the rebuild over it), so the lake stays one.
 * Prints wall and CPU seconds (user+sys, DuckDB's threads included) per step for objects 1, K/2
 * and K, and the files each read.
 *
 *   npx tsx bench/graph.ts [--objects 40] [--records 2000]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../etl/ingest';
import { lakeStoreFor } from '../etl/lake/store';
import { materializeGraphInStore } from '../etl/lake/store-graph';
import { machine, parseArgs, table, writeResult } from './lib/measure';

const args = parseArgs(process.argv.slice(2));
const K = Number(args.get('objects') ?? 40);
const RECORDS = Number(args.get('records') ?? 2000);
const DAY = '2026-02-10';
const ACCOUNT = '123456789012';

/** One CloudTrail object of the day: many users, sessions, addresses and resources, some recurring across objects. */
function object(index: number): string {
  const records = Array.from({ length: RECORDS }, (_, j) => {
    const n = index * RECORDS + j;
    const user = `user${n % 400}`;
    return {
      eventVersion: '1.08',
      userIdentity: {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE:${user}`,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Role${n % 40}/${user}`,
        accountId: ACCOUNT,
        accessKeyId: `ASIA${String(n % 3000).padStart(16, '0')}`,
        sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Role${n % 40}`, userName: `Role${n % 40}` } },
      },
      eventTime: `${DAY}T${String(Math.floor((n / 97) % 24)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:07Z`,
      eventSource: 's3.amazonaws.com',
      eventName: ['GetObject', 'PutObject', 'ListBucket', 'DescribeInstances'][n % 4],
      awsRegion: ['us-east-1', 'eu-west-1'][n % 2],
      sourceIPAddress: `198.51.${(n >> 8) % 100}.${n % 250}`,
      userAgent: `aws-sdk-java/1.12.${n % 30}`,
      requestParameters: { bucketName: `bucket-${n % 50}`, key: `obj/${n % 5000}` },
      resources: [{ ARN: `arn:aws:s3:::bucket-${n % 50}/obj/${n % 5000}`, type: 'AWS::S3::Object' }],
      responseElements: null,
      requestID: `req-${n}`,
      eventID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: false,
      recipientAccountId: ACCOUNT,
    };
  });
  return JSON.stringify({ Records: records });
}

async function timed(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await work();
  const cpu = process.cpuUsage(cpu0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scoutql-bench-graph-'));
  const lake = join(dir, 'lake');
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const store = lakeStoreFor(lake);
  const marks = new Set([1, Math.round(K / 2), K]);
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown>[] = [];
  /** Every object's merge: the cost per object as the day grows, not just at the marks. */
  const series: { object: number; files: number; wall: number; cpu: number }[] = [];
  try {
    for (let i = 1; i <= K; i++) {
      const file = join(dir, `object-${i}.json`);
      writeFileSync(file, object(i));
      await ingest({ inputs: [file], lake, graph: false, workers: 1, outlierTimes: 'keep' });
      let read = { merge: 0, rebuild: 0 };
      const merge = await timed(async () => {
        read.merge = (await materializeGraphInStore(store, [DAY], scratch)).filesRead[DAY] ?? 0;
      });
      series.push({ object: i, files: read.merge, ...merge });
      if (!marks.has(i)) continue;
      const rebuild = await timed(async () => {
        read.rebuild = (await materializeGraphInStore(store, [DAY], scratch, undefined, { rebuild: true })).filesRead[DAY] ?? 0;
      });
      rows.push([
        i,
        i * RECORDS,
        read.rebuild,
        rebuild.wall.toFixed(2),
        rebuild.cpu.toFixed(2),
        read.merge,
        merge.wall.toFixed(2),
        merge.cpu.toFixed(2),
      ]);
      result.push({ object: i, events: i * RECORDS, rebuild: { ...rebuild, files: read.rebuild }, merge: { ...merge, files: read.merge } });
      read = { merge: 0, rebuild: 0 };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = machine();
  console.log(
    `graph step per object, one day, ${K} objects of ${RECORDS} CloudTrail events; load ${m.loadavg.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(
    table(['object', 'day events', 'rebuild files', 'rebuild wall s', 'rebuild cpu s', 'merge files', 'merge wall s', 'merge cpu s'], rows),
  );
  // Merge CPU per object in tenths of the run (mean of each tenth): flat if the cost does not grow with the day.
  const tenths = Array.from({ length: Math.min(10, series.length) }, (_, t) => {
    const part = series.slice(Math.floor((t * series.length) / 10), Math.floor(((t + 1) * series.length) / 10));
    const mean = (pick: (s: (typeof series)[number]) => number) => part.reduce((n, s) => n + pick(s), 0) / Math.max(1, part.length);
    return [
      `${part[0]?.object}–${part.at(-1)?.object}`,
      mean((s) => s.files).toFixed(1),
      mean((s) => s.wall).toFixed(2),
      mean((s) => s.cpu).toFixed(2),
    ];
  });
  console.log(table(['objects', 'merge files', 'merge wall s (mean)', 'merge cpu s (mean)'], tenths));
  console.log(`written: ${writeResult('graph', { machine: m, objects: K, records: RECORDS, steps: result, merges: series })}`);
}

void main();
