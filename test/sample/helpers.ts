import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateSample, type SampleOptions, type SampleSummary } from '../../testkit/sample';

export type CtRecord = Record<string, any>;

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `scoutql-sample-${label}-`));
}

export function generate(label: string, options: Omit<SampleOptions, 'out'>): { dir: string; summary: SampleSummary } {
  const dir = tempDir(label);
  return { dir, summary: generateSample({ ...options, out: dir }) };
}

/** Every file under `dir`, as paths relative to it (forward slashes), sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export function fileHashes(dir: string): Map<string, string> {
  return new Map(
    listFiles(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

export function gunzipText(dir: string, file: string): string {
  return gunzipSync(readFileSync(join(dir, file))).toString('utf8');
}

export const LOG_FILE =
  /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z]{2}-[a-z]+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8})T(\d{4})Z_([A-Za-z0-9]{16})\.json\.gz$/;
export const DIGEST_FILE =
  /^AWSLogs\/(\d{12})\/CloudTrail-Digest\/([a-z]{2}-[a-z]+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_CloudTrail-Digest_([a-z]{2}-[a-z]+-\d)_([A-Za-z0-9-]+)_([a-z]{2}-[a-z]+-\d)_(\d{8})T(\d{6})Z\.json\.gz$/;

/** A digest's signature beside it (`<digest>.sig`): a local copy has no S3 object metadata to hold it. */
export const DIGEST_SIGNATURE_FILE = new RegExp(`${DIGEST_FILE.source.slice(0, -1)}\\.sig$`);

/** What the sample writes besides log files and signatures: its own summary, stories, GeoIP overrides and CloudTrail's public key. */
export const SAMPLE_EXTRA_FILES = ['cloudtrail-public-keys.json', 'geoip-overrides.json', 'sample.json', 'stories.json'];

export const FLOW_FILE =
  /^AWSLogs\/(\d{12})\/vpcflowlogs\/([a-z]{2}-[a-z]+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_vpcflowlogs_([a-z]{2}-[a-z]+-\d)_(fl-[0-9a-f]{17})_(\d{8})T(\d{4})Z_([0-9a-f]{8})\.log\.gz$/;

export interface LoadedLogs {
  files: { file: string; text: string; records: CtRecord[] }[];
  records: CtRecord[];
  byEventId: Map<string, CtRecord>;
}

export function loadCloudTrail(dir: string): LoadedLogs {
  const files = listFiles(dir)
    .filter((f) => f.includes('/CloudTrail/'))
    .map((file) => {
      const text = gunzipText(dir, file);
      return { file, text, records: (JSON.parse(text) as { Records: CtRecord[] }).Records };
    });
  const records = files.flatMap((f) => f.records);
  return { files, records, byEventId: new Map(records.map((r) => [r.eventID as string, r])) };
}

const REGION = '[a-z]{2}-[a-z]+-\\d';
/** Object key layouts of the other sources, as each provider delivers them. */
export const LAYOUTS: Record<string, RegExp> = {
  s3access: new RegExp(
    `^s3-access/(\\d{12})/(${REGION})/([a-z0-9.-]+)/(\\d{4})/(\\d{2})/(\\d{2})/(\\d{4})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-[0-9A-F]{16}$`,
  ),
  // ALB access logs, ALB connection logs (`conn_log_`) and NLB access logs (`net.`, no node address).
  alb: new RegExp(
    `^AWSLogs/(\\d{12})/elasticloadbalancing/(${REGION})/(\\d{4})/(\\d{2})/(\\d{2})/(conn_log_)?(\\d{12})_elasticloadbalancing_(${REGION})_(app|net)\\.([a-z0-9-]+)\\.([0-9a-f]{16})_(\\d{8})T(\\d{4})Z_(?:(\\d+\\.\\d+\\.\\d+\\.\\d+)_)?([a-z0-9]{8})\\.log\\.gz$`,
  ),
  cloudfront: /^AWSLogs\/(\d{12})\/CloudFront\/(E[A-Z0-9]{13})\.(\d{4})-(\d{2})-(\d{2})-(\d{2})\.([0-9a-f]{8})\.gz$/,
  route53resolver:
    /^AWSLogs\/(\d{12})\/vpcdnsquerylogs\/(vpc-[0-9a-f]{17})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_vpcdnsquerylogs_(vpc-[0-9a-f]{17})_(\d{8})T(\d{4})Z_([0-9a-f]{8})\.log\.gz$/,
  azuread:
    /^insights-logs-(signinlogs|auditlogs)\/resourceId=\/tenants\/([0-9a-f-]{36})\/providers\/Microsoft\.aadiam\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=00\/PT1H\.json$/,
  azureactivity:
    /^insights-activity-logs\/resourceId=\/SUBSCRIPTIONS\/([0-9A-F-]{36})\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=00\/PT1H\.json$/,
  nsgflow:
    /^insights-logs-networksecuritygroupflowevent\/resourceId=\/SUBSCRIPTIONS\/([0-9A-F-]{36})\/RESOURCEGROUPS\/([A-Z0-9-]+)\/PROVIDERS\/MICROSOFT\.NETWORK\/NETWORKSECURITYGROUPS\/([A-Z0-9-]+)\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=00\/macAddress=([0-9A-F]{12})\/PT1H\.json$/,
  apigateway: /^API-Gateway-Access-Logs_([a-z0-9]{10})\/([0-9a-f-]{36})\/([0-9a-f]{32})\/000000\.gz$/,
  guardduty: new RegExp(`^AWSLogs/(\\d{12})/GuardDuty/(${REGION})/(\\d{4})/(\\d{2})/(\\d{2})/[0-9a-f-]{36}\\.jsonl\\.gz$`),
  securityhub:
    /^securityhub-findings\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/securityhub-findings-to-s3-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}$/,
  gcpaudit: /^cloudaudit\.googleapis\.com\/(activity|data_access)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2}):00:00_(\d{2}):59:59_S0\.json$/,
};

/** Which source's layout a key follows (CloudTrail and VPC flow included), or undefined. */
export function layoutOf(file: string): string | undefined {
  if (LOG_FILE.test(file) || DIGEST_FILE.test(file)) return 'cloudtrail';
  if (FLOW_FILE.test(file)) return 'vpcflow';
  return Object.entries(LAYOUTS).find(([, re]) => re.test(file))?.[0];
}

/** The object's bytes, gunzipped when its name says gzip. */
export function objectBytes(dir: string, file: string): Buffer {
  const raw = readFileSync(join(dir, file));
  return file.endsWith('.gz') ? gunzipSync(raw) : raw;
}
