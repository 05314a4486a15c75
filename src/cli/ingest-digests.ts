/**
 * The CloudTrail digest check `ingest` runs on its inputs (issue 10): the same verification as
 * `scoutql verify cloudtrail` (src/evidence), over each folder or s3:// prefix ingested that holds
 * CloudTrail digest files, so a log file edited, deleted or slipped into the bucket before ingest
 * is named in the ingest's own summary. It reports and never stops the ingest: the logs are read
 * either way, and what they are worth as evidence is said beside them.
 *
 * An input inside an `AWSLogs/` tree (a user pointing at `…/AWSLogs/` or an account's folder) is
 * checked from the folder that holds `AWSLogs/`: digests sit in CloudTrail-Digest/ beside the
 * CloudTrail/ folder of the logs, and keys are only understood from `AWSLogs/` on.
 */
import { statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { verifyCloudTrail } from '../evidence/cloudtrail-digests';
import { type PublicKeySet } from '../evidence/cloudtrail-keys';
import { isS3Url } from '../evidence/store';
import {
  addCounts,
  emptyCounts,
  type ChainBreak,
  type FileStatus,
  type LinkStatus,
  type Outcome,
  type VerifyReport,
} from '../evidence/report';

/** What ingest reports of the digests under its inputs (`cloudtrail_digests` in --json). */
export interface IngestDigestCheck {
  outcome: Outcome;
  /** The folders or prefixes verified (an input inside AWSLogs/ is verified from above it). */
  roots: string[];
  signatures: { checked: number; not_checked: number; note: string | null };
  digests: Record<LinkStatus, number>;
  /** Log files: listed and matching (valid), changed (modified), listed and gone (missing), present and listed nowhere (unlisted), matching an unproven digest (unsigned), outside every digest's period (uncovered). */
  log_files: Record<FileStatus, number>;
  breaks: Record<ChainBreak['kind'], number>;
  /** Each finding that is tampering or loss, as `<status> <path>: <why>` (at most 50; `verify cloudtrail` gives them all). */
  findings: string[];
  /** Inputs that could not be checked, and why (the ingest went on). */
  errors: string[];
}

const MAX_FINDINGS = 50;
const FAILED_FILES: ReadonlySet<FileStatus> = new Set(['modified', 'missing', 'unlisted']);

/** The folders of `AWSLogs/[<org id>/]<account>/` where CloudTrail writes its logs and digests. */
const CLOUDTRAIL_FOLDERS: ReadonlySet<string> = new Set(['CloudTrail', 'CloudTrail-Digest', 'CloudTrail-Insight']);

/**
 * Whether a folder inside AWSLogs/ (its path segments after `AWSLogs`) can hold CloudTrail's files:
 * AWSLogs/ itself, an organization's or an account's folder, or one of CloudTrail's own. Another
 * service's folder (`…/<account>/vpcflowlogs`, `…/elasticloadbalancing`) cannot, by AWS's layout:
 * ingesting it alone must not verify (read and hash) every CloudTrail file of the whole tree.
 */
function mayHoldCloudTrail(afterAwsLogs: readonly string[]): boolean {
  const parts = afterAwsLogs.filter((p) => p !== '');
  let i = 0;
  if (parts[i]?.startsWith('o-')) i += 1;
  if (i >= parts.length) return true;
  // Not an account id: a layout this check does not know, verified as before.
  if (!/^\d{12}$/.test(parts[i])) return true;
  i += 1;
  return i >= parts.length || CLOUDTRAIL_FOLDERS.has(parts[i]);
}

/** The account whose folder of AWSLogs/ an input is or lies in (`AWSLogs/[o-…/]<account>/…`); null for AWSLogs/ itself, an organization's folder or a path outside AWSLogs/. */
function accountOf(input: string): string | null {
  const parts = isS3Url(input) ? input.split('/') : resolve(input).split(sep);
  const at = parts.lastIndexOf('AWSLogs');
  if (at < 0) return null;
  const rest = parts.slice(at + 1).filter((p) => p !== '');
  const i = rest[0]?.startsWith('o-') ? 1 : 0;
  return rest[i] !== undefined && /^\d{12}$/.test(rest[i]) ? rest[i] : null;
}

/**
 * The root to verify for an input: itself, or the folder holding the AWSLogs/ it lies in; null for
 * a single file, and for a folder of AWSLogs/ that holds another service's logs only.
 */
export function digestRootOf(input: string): string | null {
  if (isS3Url(input)) {
    const at = input.indexOf('/AWSLogs/');
    if (at >= 0) return mayHoldCloudTrail(input.slice(at + '/AWSLogs/'.length).split('/')) ? input.slice(0, at + 1) : null;
    return input.endsWith('/AWSLogs') ? input.slice(0, -'AWSLogs'.length) : input;
  }
  const path = resolve(input);
  try {
    if (!statSync(path).isDirectory()) return null;
  } catch {
    return null;
  }
  const parts = path.split(sep);
  const at = parts.lastIndexOf('AWSLogs');
  if (at > 0 && !mayHoldCloudTrail(parts.slice(at + 1))) return null;
  return at > 0 ? parts.slice(0, at).join(sep) || sep : path;
}

/** Verifies the digests under the inputs; null when none of them holds a CloudTrail digest. */
export async function checkIngestDigests(inputs: readonly string[], keys: PublicKeySet): Promise<IngestDigestCheck | null> {
  const roots = [...new Set(inputs.map(digestRootOf).filter((r): r is string => r !== null))];
  // A root inside another one is verified with it.
  const outer = roots.filter((r) => !roots.some((o) => o !== r && isWithin(r, o)));
  // The accounts each root is verified for: those whose folders were given, or all of them when an
  // input is the root itself, AWSLogs/ or an organization's folder (null).
  const accounts = new Map<string, Set<string> | null>(outer.map((root) => [root, new Set<string>()]));
  for (const input of inputs) {
    const root = digestRootOf(input);
    if (root === null) continue;
    const outerRoot = outer.find((o) => o === root || isWithin(root, o))!;
    const account = root === outerRoot ? accountOf(input) : null;
    const set = accounts.get(outerRoot);
    if (account === null) accounts.set(outerRoot, null);
    else set?.add(account);
  }
  const reports: VerifyReport[] = [];
  const errors: string[] = [];
  for (const root of outer) {
    try {
      const only = accounts.get(root);
      const report = await verifyCloudTrail({ root, keys, ...(only ? { accounts: only } : {}) });
      if (report.chains.length > 0) reports.push(report);
    } catch (err) {
      errors.push(`${root}: ${(err as Error).message}`);
    }
  }
  if (reports.length === 0 && errors.length === 0) return null;
  const counts = reports.reduce((acc, r) => addCounts(acc, r.counts), emptyCounts());
  const findings: string[] = [];
  for (const r of reports) {
    for (const chain of r.chains) {
      for (const b of chain.breaks) if (b.kind !== 'open_start') findings.push(`${b.kind} ${b.before}: ${b.detail}`);
      for (const link of chain.links)
        if (link.status !== 'valid' && link.status !== 'unsigned' && link.status !== 'key_unknown')
          findings.push(`${link.status} ${link.path}: ${link.problems.map((p) => p.detail).join('; ')}`);
      for (const file of chain.files) if (FAILED_FILES.has(file.status)) findings.push(`${file.status} ${file.path}: ${file.detail ?? ''}`);
    }
    for (const file of r.outside) if (FAILED_FILES.has(file.status)) findings.push(`${file.status} ${file.path}: ${file.detail ?? ''}`);
  }
  const outcomes = reports.map((r) => r.outcome);
  const outcome: Outcome = outcomes.includes('failed')
    ? 'failed'
    : outcomes.includes('unproven') || errors.length
      ? 'unproven'
      : 'verified';
  const notes = [...new Set(reports.map((r) => r.signatures.note).filter((n): n is string => n !== null))];
  return {
    outcome,
    roots: reports.map((r) => r.root),
    signatures: {
      checked: reports.reduce((n, r) => n + r.signatures.checked, 0),
      not_checked: reports.reduce((n, r) => n + r.signatures.notChecked, 0),
      note: notes.length ? notes.join('; ') : null,
    },
    digests: counts.links,
    log_files: counts.files,
    breaks: counts.breaks,
    findings: findings.slice(0, MAX_FINDINGS),
    errors,
  };
}

/** The check in the ingest's text summary: one line of counts, then each finding. */
export function describeIngestDigests(check: IngestDigestCheck): string[] {
  const tally = (record: Record<string, number>) =>
    Object.entries(record)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status.replace('_', ' ')}`)
      .join(', ') || 'none';
  const lines = [
    `cloudtrail       digests ${check.outcome.toUpperCase()}: digests ${tally(check.digests)}; log files ${tally(check.log_files)}; signatures ${check.signatures.checked} checked, ${check.signatures.not_checked} not`,
  ];
  if (check.signatures.note) lines.push(`                 ${check.signatures.note}`);
  for (const finding of check.findings) lines.push(`  ${finding}`);
  for (const error of check.errors) lines.push(`  not checked: ${error}`);
  if (check.outcome !== 'verified')
    lines.push(
      `                 (the logs were ingested all the same; \`scoutql verify cloudtrail ${check.roots[0] ?? '<path>'}\` gives the whole report)`,
    );
  return lines;
}

function isWithin(inner: string, outer: string): boolean {
  if (isS3Url(inner) !== isS3Url(outer)) return false;
  const base = outer.endsWith('/') || outer.endsWith(sep) ? outer : `${outer}${isS3Url(outer) ? '/' : sep}`;
  return inner.startsWith(base);
}
