/**
 * Issue 13 "done when": the load balancer shapes read from the local S3 server as from disk. A
 * mixed Elastic Load Balancing object set (ALB access logs, ALB connection logs, NLB TLS listener
 * logs, as the sample writes them, and AWS's documented lines of every type mixed in one file) is
 * ingested from s3:// and from the same files on disk: the lakes hold the same rows.
 */
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { source as alb } from '../../etl/sources/alb/parser';
import { generateSample, type SampleSummary } from '../../testkit/sample';
import { goldenDir } from '../sources/golden';
import { lakeRows, tempDir } from '../etl/helpers';
import { startS3Env, type S3Env } from './helpers';

const ELB_FOLDER = 'AWSLogs/418295730146/elasticloadbalancing/us-east-1';
/** AWS's documented lines of every type in one file (4 NLB, 2 connection log, 4 ALB and Classic access lines). */
const MIXED = 'mixed-elb-line-types.log';

let s3env: S3Env;
let input: string;
let sample: SampleSummary;
let fromS3: string;
let fromDisk: string;
let s3Summary: IngestSummary;
let diskSummary: IngestSummary;

beforeAll(async () => {
  s3env = await startS3Env(['elb-logs']);
  const dir = tempDir('elb-s3');
  input = join(dir, 'logs');
  sample = generateSample({ out: join(dir, 'sample'), days: 1, scale: 0.3, sources: ['alb'], seed: 'elb-s3' });
  // Only the load balancer's folder: what a user points ingest at.
  cpSync(join(dir, 'sample', 'AWSLogs'), join(input, 'AWSLogs'), { recursive: true });
  mkdirSync(join(input, ELB_FOLDER, 'mixed'), { recursive: true });
  copyFileSync(join(goldenDir(alb), MIXED), join(input, ELB_FOLDER, 'mixed', MIXED));
  await s3env.s3.uploadDir(input, 'elb-logs', 'prod');
  fromS3 = tempDir('elb-s3-lake');
  fromDisk = tempDir('elb-disk-lake');
  s3Summary = await ingest({ inputs: ['s3://elb-logs/prod/'], lake: fromS3, graph: false, geoip: false });
  diskSummary = await ingest({ inputs: [input], lake: fromDisk, graph: false, geoip: false });
}, 240_000);
afterAll(async () => {
  await s3env?.close();
});

test('every object and line is read from S3, nothing quarantined, and the counts are those of the disk run', () => {
  const counts = sample.sections.alb!;
  const sampleLines = counts.accessLines + counts.connectionLines + counts.nlbTlsLines;
  expect(sampleLines).toBe(sample.bySource.alb!.records);
  expect(s3Summary).toMatchObject({
    objects: sample.bySource.alb!.files + 1,
    records: sampleLines + 10,
    quarantined: 0,
    damaged_objects: 0,
  });
  expect(s3Summary.records).toBe(s3Summary.written + s3Summary.quarantined + s3Summary.filtered + s3Summary.duplicates);
  for (const key of ['objects', 'records', 'written', 'quarantined', 'filtered', 'duplicates'] as const)
    expect(s3Summary[key]).toBe(diskSummary[key]);
});

test('the S3 lake holds the same rows as the disk lake, each line type in its table', async () => {
  const counts = sample.sections.alb!;
  const http = await lakeRows(fromS3, 'http_activity');
  const network = await lakeRows(fromS3, 'network_activity');
  expect(http).toEqual(await lakeRows(fromDisk, 'http_activity'));
  expect(network).toEqual(await lakeRows(fromDisk, 'network_activity'));
  // The sample's lines, and the mixed file's four access (ALB, Classic), two connection log and four NLB lines.
  expect(http).toHaveLength(counts.accessLines + 4);
  expect(network.filter((r) => r.activity === 'tls-handshake')).toHaveLength(counts.connectionLines + 2);
  expect(network.filter((r) => r.activity === 'tls-connection')).toHaveLength(counts.nlbTlsLines + 4);
  // Account and region come from the line's ARNs or the key's AWSLogs folder, the same under a bucket prefix.
  // The sample's rows (2026), not the documented lines of 2015–2023.
  const sampleRows = [...http, ...network].filter((r) => String(r.time) >= '2025');
  expect(sampleRows).toHaveLength(counts.accessLines + counts.connectionLines + counts.nlbTlsLines);
  expect(new Set(sampleRows.map((r) => `${r.account as string} ${r.region as string}`))).toEqual(new Set(['418295730146 us-east-1']));
});
