/**
 * `npx tsx bench/verify.ts --lake`: `verify lake` over lakes of 250k, 500k and 1M events
 * (`--quick`: 50k, 100k, 200k), beside the bare work of reading and hashing the same files,
 * measured in the same run. See bench/README.md.
 *
 * The lakes are written here, not by ingest (a 1M-event ingest takes far longer than the check it
 * feeds): api_activity rows with every column of the contract, CloudTrail-like values (ids and the
 * raw record drawn from MD5s, so they compress as real ones do, not as repeated text), Parquet ZSTD
 * per source/account/region/day as the ETL partitions, 100k events a day over 3 accounts × 3
 * regions, and one commit per day in the lake's own commit format (src/core/lake-commits.ts),
 * chained and named by HEAD. No graph step runs: each day's graph check says `absent`.
 * Cached in bench/out/verify-lakes/ by event count.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { COMMIT_FORMAT, serializeCommit, sha256Of, type CommitLink, type CommittedFile } from '../src/core/lake-commits';
import { COMMIT_HEAD_FILE, commitManifestFile } from '../src/core/lake-layout';
import { TABLES } from '../src/core/tables';
import { verifyLake } from '../src/evidence/lake';
import { OUT, listFiles, machine, mb, ratio, table, totalBytes, writeResult } from './lib/measure';

const EVENTS_PER_DAY = 100_000;
const START_MS = Date.parse('2026-03-01T00:00:00Z');

/** SQL for one column of a synthetic api_activity row `i` (of account `acct`); the contract's every column. */
function columnSql(name: string, type: string): string {
  const h = (salt: string) => `md5(CAST(i AS VARCHAR) || '${salt}')`;
  switch (name) {
    case 'time':
      return `make_timestamp(CAST(${START_MS} AS BIGINT) * 1000 + CAST(i AS BIGINT) * ${Math.floor(86_400_000_000 / EVENTS_PER_DAY)})`;
    case 'event_id':
      return `substr(${h('e')}, 1, 8) || '-' || substr(${h('e')}, 9, 4) || '-4' || substr(${h('e')}, 14, 3) || '-8' || substr(${h('e')}, 18, 3) || '-' || substr(${h('e')}, 21, 12)`;
    case 'class_uid':
      return '6003';
    case 'activity':
      return `(['DescribeInstances','GetObject','AssumeRole','ListBuckets','PutObject','GetCallerIdentity','Decrypt','CreateTags','ConsoleLogin','GetSecretValue'])[1 + i % 10]`;
    case 'service':
      return `(['ec2','s3','sts','s3','s3','sts','kms','ec2','signin','secretsmanager'])[1 + i % 10] || '.amazonaws.com'`;
    case 'outcome':
      return `CASE WHEN i % 23 = 0 THEN 'failure' ELSE 'success' END`;
    case 'error_code':
      return `CASE WHEN i % 23 = 0 THEN 'AccessDenied' END`;
    case 'actor_id':
    case 'actor_arn':
      return `'arn:aws:iam::' || acct || ':user/user-' || CAST(i % 400 AS VARCHAR)`;
    case 'actor_type':
      return `'IAMUser'`;
    case 'actor_name':
      return `'user-' || CAST(i % 400 AS VARCHAR)`;
    case 'actor_account':
    case 'recipient_account':
      return 'acct';
    case 'session_id':
      return `'ASIA' || upper(substr(md5(CAST(i // 50 AS VARCHAR)), 1, 16))`;
    case 'src_ip':
      return `'198.51.' || CAST(i % 200 AS VARCHAR) || '.' || CAST((i * 7) % 250 AS VARCHAR)`;
    case 'user_agent':
      return `'aws-cli/2.' || CAST(i % 30 AS VARCHAR) || '.4 Python/3.11.6 Linux/6.5.0 botocore/2.4.5'`;
    case 'resources':
      return `['arn:aws:ec2:us-east-1:' || acct || ':instance/i-' || substr(${h('r')}, 1, 17)]`;
    case 'raw':
      return `'{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::' || acct || ':user/user-' || CAST(i % 400 AS VARCHAR) || '"},"eventID":"' || ${h('e')} || '","requestID":"' || ${h('q')} || '","requestParameters":{"instanceId":"i-' || substr(${h('r')}, 1, 17) || '","nonce":"' || ${h('n')} || '"},"readOnly":true,"eventType":"AwsApiCall","managementEvent":true}'`;
    case 'request_parameters':
      return `'{"instanceId":"i-' || substr(${h('r')}, 1, 17) || '"}'`;
    case 'event_type':
      return `'AwsApiCall'`;
    case 'read_only':
      return 'i % 3 <> 0';
    case 'mfa':
      return 'false';
    default:
      return `CAST(NULL AS ${type})`;
  }
}

/** A lake of `events` events (built once, then reused). */
export async function benchLake(events: number): Promise<string> {
  const dir = join(OUT, 'verify-lakes', `events-${events}`);
  if (existsSync(`${dir}.done`)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const columns = TABLES.api_activity.columns.map((c) => `${columnSql(c.name, c.type)} AS "${c.name}"`);
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  let previous: CommitLink | null = null;
  try {
    await db.run(`SET preserve_insertion_order = false`);
    for (let day = 0, seq = 1; day * EVENTS_PER_DAY < events; day++, seq++) {
      const before = new Set(listFiles(join(dir, 'api_activity')));
      const from = day * EVENTS_PER_DAY;
      const to = Math.min(events, from + EVENTS_PER_DAY);
      await db.run(
        `COPY (
          SELECT ${columns.join(', ')}, 'cloudtrail' AS source, acct AS account,
                 (['us-east-1','eu-west-1','ap-southeast-2'])[1 + (i // 3) % 3] AS region,
                 CAST(make_timestamp(CAST(${START_MS} AS BIGINT) * 1000 + CAST(i AS BIGINT) * ${Math.floor(86_400_000_000 / EVENTS_PER_DAY)}) AS DATE) AS day
          FROM (SELECT range AS i, (['111122223333','444455556666','777788889999'])[1 + range % 3] AS acct FROM range(${from}, ${to}))
          ORDER BY ${TABLES.api_activity.sortBy.join(', ')}
        ) TO '${join(dir, 'api_activity')}' (FORMAT PARQUET, COMPRESSION ZSTD, PARTITION_BY (source, account, region, day), FILENAME_PATTERN 'part-{uuid}', APPEND)`,
      );
      const files: CommittedFile[] = listFiles(join(dir, 'api_activity'))
        .filter((f) => !before.has(f))
        .sort()
        .map((f) => ({ path: relative(dir, f).split(sep).join('/'), size: statSync(f).size, sha256: sha256Of(readFileSync(f)) }));
      const txn = randomUUID();
      const path = commitManifestFile(seq, txn);
      const text = serializeCommit({
        format: COMMIT_FORMAT,
        seq,
        txn,
        committedAt: new Date(START_MS + (day + 1) * 86_400_000).toISOString(),
        kind: 'ingest',
        previous,
        files,
        removed: [],
      });
      mkdirSync(join(dir, '_commits'), { recursive: true });
      writeFileSync(join(dir, path), text);
      previous = { seq, path, sha256: sha256Of(text) };
      writeFileSync(join(dir, COMMIT_HEAD_FILE), JSON.stringify(previous) + '\n');
    }
  } finally {
    db.closeSync();
    instance.closeSync();
  }
  writeFileSync(`${dir}.done`, '');
  return dir;
}

/** The least any verifier does: read every file and SHA-256 it, one after the other on one thread. */
function nodeFloor(files: readonly string[]): number {
  let bytes = 0;
  for (const file of files) {
    const data = readFileSync(file);
    createHash('sha256').update(data).digest('hex');
    bytes += data.length;
  }
  return bytes;
}

/** sha256sum over every file of the lake (one process per batch of files, as `xargs` runs it). */
function shellHash(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `find . -type f -print0 | xargs -0 sha256sum > /dev/null`], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sha256sum exited with ${code}`))));
  });
}

async function seconds(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function lakeBench(options: { quick: boolean; runs: number; events?: number }): Promise<void> {
  const before = machine();
  const base = options.events ?? (options.quick ? 50_000 : 250_000);
  const rows: Array<Record<string, number>> = [];
  for (const scale of [1, 2, 4]) {
    const events = base * scale;
    const started = Date.now();
    const dir = await benchLake(events);
    const built = (Date.now() - started) / 1000;
    const files = listFiles(dir);
    const timings = { verify: [] as number[], hashOnly: [] as number[], floor: [] as number[], shell: [] as number[] };
    let hashed = 0;
    let coverageStreams = 0;
    for (let run = 0; run < options.runs; run++) {
      // Interleaved, so load on the shared machine falls on all of them alike.
      timings.verify.push(
        await seconds(async () => {
          const report = await verifyLake({ root: dir });
          if (report.counts.files.valid !== report.chains[0].files.length || report.outside.length)
            throw new Error(`the bench lake did not verify: ${JSON.stringify(report.counts)}`);
          hashed = report.bytesHashed;
          coverageStreams = report.coverage?.streams.length ?? 0;
        }),
      );
      timings.hashOnly.push(await seconds(() => verifyLake({ root: dir, gapMinutes: false })));
      timings.floor.push(await seconds(() => nodeFloor(files)));
      timings.shell.push(await seconds(() => shellHash(dir)));
    }
    const row = {
      events,
      files: files.length,
      bytes: totalBytes(files),
      hashedBytes: hashed,
      coverageStreams,
      buildSeconds: built,
      verifySeconds: median(timings.verify),
      hashOnlySeconds: median(timings.hashOnly),
      floorSeconds: median(timings.floor),
      shellSeconds: median(timings.shell),
    };
    rows.push(row);
    console.log(
      `${events} events, ${files.length} files, ${mb(row.bytes)} MB: verify lake ${row.verifySeconds.toFixed(2)} s (without coverage ${row.hashOnlySeconds.toFixed(2)} s), node floor ${row.floorSeconds.toFixed(2)} s, sha256sum ${row.shellSeconds.toFixed(2)} s`,
    );
  }
  const first = rows[0];
  console.log(
    '\n' +
      table(
        [
          'events',
          'files',
          'lake MB',
          'verify s',
          'no coverage s',
          'node floor s',
          'sha256sum s',
          'verify/floor',
          'verify/sha256sum',
          'time ×',
          'bytes ×',
        ],
        rows.map((r) => [
          r.events,
          r.files,
          mb(r.bytes),
          r.verifySeconds.toFixed(2),
          r.hashOnlySeconds.toFixed(2),
          r.floorSeconds.toFixed(2),
          r.shellSeconds.toFixed(2),
          ratio(r.verifySeconds, r.floorSeconds),
          ratio(r.verifySeconds, r.shellSeconds),
          ratio(r.verifySeconds, first.verifySeconds),
          ratio(r.bytes, first.bytes),
        ]),
      ),
  );
  const file = writeResult('verify-lake', {
    machine: { before, after: machine() },
    runs: options.runs,
    eventsPerDay: EVENTS_PER_DAY,
    rows,
  });
  console.log(`\nresult: ${file}`);
}
