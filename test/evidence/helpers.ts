/** A small trail's worth of CloudTrail evidence, written and signed as AWS delivers it, to tamper with. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { exampleRecords, listPublicKeysJson, makeTrailKey, TrailWriter, type TrailKey } from '../../testkit/cloudtrail-local';
import { addPublicKeyList, PublicKeySet } from '../../src/evidence/cloudtrail-keys';
import type { VerifyReport } from '../../src/evidence/report';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-2';
export const TRAIL = 'management-events';
export const BUCKET = 'aws-cloudtrail-logs-111122223333-3f7a1c2b';
/** Digest periods start 1 min 31 s past the hour, as in the user guide's example digest. */
export const T0 = Date.parse('2024-03-01T00:01:31Z');
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `scoutql-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes the folders tempDir() made (each test file calls it after its tests). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** One RSA key for the whole suite: generating 2048-bit keys is the slow part. */
let sharedKey: TrailKey | null = null;
let otherKey: TrailKey | null = null;
export function trailKey(): TrailKey {
  return (sharedKey ??= makeTrailKey());
}
/** A key AWS never had: for forgeries. */
export function forgerKey(): TrailKey {
  return (otherKey ??= makeTrailKey());
}

export interface Trail {
  dir: string;
  writer: TrailWriter;
  /** Public keys file (list-public-keys JSON) outside the trail folder. */
  keysFile: string;
}

export interface TrailPlan {
  hours?: number;
  /** Before the digest of this hour, logging was stopped for `restartGapHours` and started again. */
  restartAt?: number;
  restartGapHours?: number;
  /** Hours whose digest is signed by the forger's key (still naming AWS's fingerprint unless `forgeFingerprint`). */
  forgeAt?: number;
  forgeFingerprint?: boolean;
  prefix?: string;
  organization?: string;
}

/**
 * `hours` hourly digests (default 6), each listing two log files delivered 12 and 41 minutes into
 * its period, each holding three records.
 */
export function writeTrail(plan: TrailPlan = {}): Trail {
  const dir = tempDir('trail');
  const key = trailKey();
  const writer = new TrailWriter({
    dir,
    bucket: BUCKET,
    account: ACCOUNT,
    region: REGION,
    trail: TRAIL,
    key,
    prefix: plan.prefix,
    organization: plan.organization,
  });
  let start = T0;
  for (let h = 0; h < (plan.hours ?? 6); h++) {
    if (h === plan.restartAt) {
      writer.restart();
      start += (plan.restartGapHours ?? 1) * HOUR;
    }
    for (const at of [12, 41]) {
      const delivered = start + at * MINUTE;
      writer.logFile(delivered, exampleRecords(3, delivered - 10 * MINUTE, delivered - MINUTE, ACCOUNT, REGION, h * 10 + at));
    }
    const forge =
      h === plan.forgeAt ? { signWith: forgerKey(), fingerprint: plan.forgeFingerprint ? forgerKey().fingerprint : undefined } : {};
    writer.digest(start, start + HOUR, forge);
    start += HOUR;
  }
  const keysFile = join(tempDir('keys'), 'public-keys.json');
  writeFileSync(keysFile, listPublicKeysJson([key]));
  return { dir, writer, keysFile };
}

export function keysOf(trail: Trail): PublicKeySet {
  const keys = new PublicKeySet();
  addPublicKeyList(keys, JSON.parse(readFileSync(trail.keysFile, 'utf8')), trail.keysFile);
  return keys;
}

export function pathOf(trail: Trail, key: string): string {
  return join(trail.dir, ...key.split('/'));
}

/** Rewrites a gzip file's uncompressed content. */
export function editGzip(path: string, edit: (text: string) => string): void {
  writeFileSync(path, gzipSync(edit(gunzipSync(readFileSync(path)).toString('utf8'))));
}

/** Status of every link and file, by path: the shape the tests compare exactly. */
export function statuses(report: VerifyReport): {
  links: Record<string, string>;
  files: Record<string, string>;
  outside: Record<string, string>;
} {
  const links: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const chain of report.chains) {
    for (const link of chain.links) links[link.path] = link.status;
    for (const file of chain.files) files[file.path] = file.status;
  }
  return { links, files, outside: Object.fromEntries(report.outside.map((f) => [f.path, f.status])) };
}

/** Every path of the trail mapped to one status, then the exceptions. */
export function expected(
  trail: Trail,
  linkStatus: string,
  fileStatus: string,
  exceptions: { links?: Record<string, string>; files?: Record<string, string>; outside?: Record<string, string> } = {},
) {
  const links = Object.fromEntries(trail.writer.digests.map((d) => [d.key, linkStatus]));
  const files = Object.fromEntries(trail.writer.logs.map((l) => [l.key, fileStatus]));
  for (const [k, v] of Object.entries(exceptions.links ?? {})) links[k] = v;
  for (const [k, v] of Object.entries(exceptions.files ?? {})) {
    if (v === 'outside') delete files[k];
    else files[k] = v;
  }
  return { links, files, outside: exceptions.outside ?? {} };
}

export function findLink(report: VerifyReport, path: string) {
  for (const chain of report.chains) {
    const link = chain.links.find((l) => l.path === path);
    if (link) return link;
  }
  throw new Error(`no link ${path} in the report`);
}

export function findFile(report: VerifyReport, path: string) {
  for (const chain of report.chains) {
    const file = chain.files.find((f) => f.path === path);
    if (file) return file;
  }
  const outside = report.outside.find((f) => f.path === path);
  if (outside) return outside;
  throw new Error(`no file ${path} in the report`);
}
