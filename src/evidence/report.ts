/**
 * What a verification found, in one shape for every kind of evidence chain: a CloudTrail trail's
 * digest files (each lists log files with their SHA-256 and chains to the previous digest) and,
 * next, the lake's own commits (each manifest lists Parquet files with size and SHA-256 and chains
 * to the previous manifest). A *link* is one element of a chain (a digest, a commit manifest); a
 * *file* is what a link vouches for (a log file, a Parquet file).
 */
import { describeGap, type CoverageReport } from '../core/coverage';

/** A file a link lists, or one found where links should have listed it. */
export type FileStatus =
  /** Present, its hash matches the listing, and the listing link is valid (signature included). */
  | 'valid'
  /** Present but its content differs from the listing (or cannot be read whole). */
  | 'modified'
  /** Listed, not present. */
  | 'missing'
  /** Present inside a period the chain covers, listed by no link. */
  | 'unlisted'
  /** Present and matching its listing, but the listing link itself is not proven (no signature checked, or it failed). */
  | 'unsigned'
  /** Present outside every period the chain covers: nothing can vouch for it. */
  | 'uncovered';

/** A link of the chain (a digest file, a commit manifest). Listed from worst to best: `status` is the worst of `problems`. */
export type LinkStatus =
  /** Another link names it, and it is not there. */
  | 'missing'
  /** Unreadable (corrupt compression, truncated, not JSON) or lacking required fields. */
  | 'malformed'
  /** Its content names another location than the one it was found at. */
  | 'misplaced'
  /** Its content differs from what the next link recorded of it. */
  | 'modified'
  /** A signature is present and does not verify (or uses an algorithm other than SHA256withRSA). */
  | 'signature_invalid'
  /** Its reference to the previous link does not match the chain (skips, points forward, records another signature). */
  | 'chain_broken'
  /** Signed, but no public key with its fingerprint is known, so the signature was not checked. */
  | 'key_unknown'
  /** No signature available for it, so its authenticity was not checked. */
  | 'unsigned'
  | 'valid';

export const LINK_STATUSES: readonly LinkStatus[] = [
  'missing',
  'malformed',
  'misplaced',
  'modified',
  'signature_invalid',
  'chain_broken',
  'key_unknown',
  'unsigned',
  'valid',
];
export const FILE_STATUSES: readonly FileStatus[] = ['modified', 'missing', 'unlisted', 'uncovered', 'unsigned', 'valid'];

export type SignatureStatus = 'valid' | 'invalid' | 'key_unknown' | 'unsigned';
/** Where a link's signature came from: the stored object's metadata, a sidecar file, the next link's record of it, or the link itself (a lake commit). */
export type SignatureSource = 'metadata' | 'sidecar' | 'next-link' | 'embedded';

export interface SignatureCheck {
  status: SignatureStatus;
  source: SignatureSource | null;
  /** The fingerprint of the key that signed it, as the link names it. */
  keyFingerprint: string | null;
}

export interface Problem {
  code: Exclude<LinkStatus, 'valid'>;
  detail: string;
}

export interface LinkResult {
  /** Where the link is (or should be), relative to the verified root, '/'-separated. */
  path: string;
  status: LinkStatus;
  /** Every problem found, worst first; empty when valid. */
  problems: Problem[];
  /** The period it covers (ISO-8601), when readable. */
  period: { start: string; end: string } | null;
  /** SHA-256 (hex) of its uncompressed content, when readable. */
  sha256: string | null;
  signature: SignatureCheck;
  /** Files it lists. */
  files: number;
  /** A CloudTrail backfill digest: lists late files, outside the hourly chain. */
  backfill?: boolean;
}

export interface FileResult {
  /** Where the file is (or should be), relative to the verified root. */
  path: string;
  status: FileStatus;
  /** The link that lists it (relative path), null for files no link lists. */
  listedIn: string | null;
  expectedSha256: string | null;
  /** Of the uncompressed content; null when missing or not hashed. */
  actualSha256: string | null;
  /** Why it has this status, in words; null when valid. */
  detail: string | null;
}

export type BreakKind =
  /** Links are missing from the chain (a digest period with no digest): deleted evidence. */
  | 'gap'
  /** The chain starts afresh mid-way (a link with no previous link): logging or validation was stopped and started. */
  | 'restart'
  /** The first link present names a previous one that is not in the input (a partial copy, or earlier links deleted). Informational. */
  | 'open_start';

export interface ChainBreak {
  kind: BreakKind;
  /** The last link before the break (relative path), null when the break is at the start. */
  after: string | null;
  /** The first link after the break. */
  before: string;
  /** The period with no evidence, when known (ISO-8601). */
  from: string | null;
  to: string | null;
  /** Links named by the chain and not present. */
  missing: string[];
  detail: string;
}

/** Verified: everything proven. Unproven: nothing wrong found, but something could not be proven (signature, coverage). Failed: evidence of tampering or loss. */
export type Outcome = 'verified' | 'unproven' | 'failed';

export interface Counts {
  links: Record<LinkStatus, number>;
  files: Record<FileStatus, number>;
  breaks: Record<BreakKind, number>;
}

export interface ChainReport {
  /** Stable id, e.g. `111122223333/us-east-2/management-events` (CloudTrail) or `lake`. */
  id: string;
  /** What the chain is of: trail, account, region, home region, organization… */
  labels: Record<string, string>;
  outcome: Outcome;
  /** From the start of the first readable link to the end of the last. */
  range: { start: string | null; end: string | null };
  /** In chain order (oldest first), backfill digests after the chain. */
  links: LinkResult[];
  /** Files the links list, by path. */
  files: FileResult[];
  breaks: ChainBreak[];
  counts: Counts;
}

/** Whether a day's graph was built from the event files now in the lake (lake verification). */
export interface GraphDayCheck {
  day: string;
  /**
   * consistent: built from exactly the event files the lake holds (or the files compaction or a
   * restore derived from them); stale: it disagrees with them (failed); pending: a rebuild is owed
   * (a writer's graph step has not finished); absent: the day has events and no graph commit.
   */
  status: 'consistent' | 'stale' | 'pending' | 'absent';
  /** The commit that built it, null when absent. */
  commit: string | null;
  /** Event files it was built from. */
  inputs: number;
  /** Each disagreement, in words. */
  problems: string[];
}

export interface VerifyReport {
  kind: 'cloudtrail' | 'lake';
  /** The verified location as given (folder or s3:// URL). */
  root: string;
  verifiedAt: string;
  outcome: Outcome;
  /** Whether signatures could be checked, and if not why. */
  signatures: { checked: number; notChecked: number; note: string | null };
  chains: ChainReport[];
  /** Files of the kind the chains vouch for that no link lists: `unlisted` inside a covered period, `uncovered` outside. */
  outside: FileResult[];
  /** Things the operator should know that are not findings about a file (a key file entry ignored, keys not fetched…). */
  notes: string[];
  counts: Counts;
  /** Uncompressed bytes hashed. */
  bytesHashed: number;
  /** Lake: false when files were checked by size only (the API's start-up check), not re-hashed. */
  rehashed?: boolean;
  /** Lake: each day's graph against the event files it was built from. */
  graphs?: GraphDayCheck[];
  /** Per source, account and region: silences inside the covered range (null when not computed, with a note). */
  coverage?: CoverageReport | null;
}

const FAILED_LINKS = new Set<LinkStatus>(['missing', 'malformed', 'misplaced', 'modified', 'signature_invalid', 'chain_broken']);
const UNPROVEN_LINKS = new Set<LinkStatus>(['key_unknown', 'unsigned']);
const FAILED_FILES = new Set<FileStatus>(['modified', 'missing', 'unlisted']);
const UNPROVEN_FILES = new Set<FileStatus>(['unsigned', 'uncovered']);
const FAILED_BREAKS = new Set<BreakKind>(['gap', 'restart']);

export function emptyCounts(): Counts {
  return {
    links: Object.fromEntries(LINK_STATUSES.map((s) => [s, 0])) as Record<LinkStatus, number>,
    files: Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>,
    breaks: { gap: 0, restart: 0, open_start: 0 },
  };
}

export function countOf(links: readonly LinkResult[], files: readonly FileResult[], breaks: readonly ChainBreak[]): Counts {
  const counts = emptyCounts();
  for (const link of links) counts.links[link.status]++;
  for (const file of files) counts.files[file.status]++;
  for (const b of breaks) counts.breaks[b.kind]++;
  return counts;
}

export function addCounts(into: Counts, more: Counts): Counts {
  for (const s of LINK_STATUSES) into.links[s] += more.links[s];
  for (const s of FILE_STATUSES) into.files[s] += more.files[s];
  for (const k of Object.keys(into.breaks) as BreakKind[]) into.breaks[k] += more.breaks[k];
  return into;
}

export function outcomeOf(counts: Counts): Outcome {
  const any = <T extends string>(record: Record<T, number>, set: Set<T>) => [...set].some((s) => record[s] > 0);
  if (any(counts.links, FAILED_LINKS) || any(counts.files, FAILED_FILES) || any(counts.breaks, FAILED_BREAKS)) return 'failed';
  if (any(counts.links, UNPROVEN_LINKS) || any(counts.files, UNPROVEN_FILES)) return 'unproven';
  return 'verified';
}

/** The process exit code for an outcome: 0 verified, 1 failed (tampering or loss found), 2 unproven. */
export function exitCodeOf(outcome: Outcome): number {
  return outcome === 'verified' ? 0 : outcome === 'failed' ? 1 : 2;
}

/** The worst status of a link's problems (problems are kept worst first). */
export function linkStatusOf(problems: readonly Problem[]): LinkStatus {
  let worst: LinkStatus = 'valid';
  for (const p of problems) if (LINK_STATUSES.indexOf(p.code) < LINK_STATUSES.indexOf(worst)) worst = p.code;
  return worst;
}

export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => LINK_STATUSES.indexOf(a.code) - LINK_STATUSES.indexOf(b.code));
}

const OUTCOME_TEXT: Record<Outcome, string> = {
  verified: 'VERIFIED: every file and link proven',
  unproven: 'UNPROVEN: nothing wrong found, but not everything could be proven',
  failed: 'FAILED: tampering or loss found',
};

/** How many lines of files that are merely unproven (uncovered) are printed before a count stands for the rest. */
const UNPROVEN_LINES = 20;

/** The report for a terminal: a summary per chain, then every finding, one per line. */
export function renderReport(report: VerifyReport, what = report.kind === 'cloudtrail' ? 'CloudTrail evidence' : 'lake'): string {
  const lines: string[] = [`${what} under ${report.root}: ${OUTCOME_TEXT[report.outcome]}`];
  const tally = <T extends string>(record: Record<T, number>, order: readonly T[]) => {
    const total = order.reduce((n, s) => n + record[s], 0);
    const parts = order.filter((s) => record[s] > 0).map((s) => `${record[s]} ${s.replace('_', ' ')}`);
    return `${total}${parts.length ? `: ${parts.join(', ')}` : ''}`;
  };
  const finding = (label: string, path: string, detail: string | null) =>
    lines.push(`  ${label.toUpperCase().replace('_', ' ').padEnd(18)} ${path}${detail ? `\n  ${''.padEnd(18)} ${detail}` : ''}`);
  for (const chain of report.chains) {
    const l = chain.labels;
    const title =
      report.kind === 'cloudtrail'
        ? `trail ${l.trail} · account ${l.account}${l.organization ? ` (${l.organization})` : ''} · region ${l.region} (home ${l.homeRegion})${l.prefix ? ` · prefix ${l.prefix}` : ''}`
        : chain.id;
    lines.push('', `${title}   ${chain.range.start ?? '?'} → ${chain.range.end ?? '?'}   ${chain.outcome.toUpperCase()}`);
    lines.push(`  ${(report.kind === 'cloudtrail' ? 'digests' : 'commits').padEnd(18)} ${tally(chain.counts.links, LINK_STATUSES)}`);
    lines.push(`  ${(report.kind === 'cloudtrail' ? 'log files' : 'files').padEnd(18)} ${tally(chain.counts.files, FILE_STATUSES)}`);
    for (const b of chain.breaks) finding(b.kind, b.before, b.detail);
    for (const link of chain.links) {
      if (link.status === 'valid' || UNPROVEN_LINKS.has(link.status)) continue;
      finding(
        link.status,
        link.path,
        link.problems.map((p) => (p.code === link.status ? p.detail : `${p.code.replace('_', ' ')}: ${p.detail}`)).join('; '),
      );
    }
    const unproven = chain.links.filter((link) => UNPROVEN_LINKS.has(link.status));
    if (unproven.length) {
      const newest = unproven[unproven.length - 1];
      lines.push(
        `  ${'not proven'.padEnd(18)} ${unproven.length} link${unproven.length > 1 ? 's' : ''}, e.g. ${newest.path}: ${newest.problems[0]?.detail ?? ''}`,
      );
    }
    for (const file of chain.files) if (FAILED_FILES.has(file.status)) finding(file.status, file.path, file.detail);
  }
  if (report.outside.length) {
    const counts = countOf([], report.outside, []);
    lines.push('', `files no link lists: ${tally(counts.files, FILE_STATUSES)}`);
    for (const file of report.outside) if (FAILED_FILES.has(file.status)) finding(file.status, file.path, file.detail);
    const uncovered = report.outside.filter((f) => !FAILED_FILES.has(f.status));
    for (const file of uncovered.slice(0, UNPROVEN_LINES)) finding(file.status, file.path, file.detail);
    if (uncovered.length > UNPROVEN_LINES) lines.push(`  … and ${uncovered.length - UNPROVEN_LINES} more (see --json)`);
  }
  if (report.graphs?.length) {
    const off = report.graphs.filter((g) => g.status !== 'consistent');
    lines.push(
      '',
      `graphs: ${report.graphs.length} days, ${report.graphs.length - off.length} consistent with the events they were built from`,
    );
    for (const g of off) {
      if (g.status === 'absent')
        finding('no graph', `day ${g.day}`, 'the day has events and no graph commit (ingested without the graph step?)');
      else
        finding(g.status === 'stale' ? 'graph stale' : 'graph pending', `day ${g.day} (${g.commit ?? 'no commit'})`, g.problems.join('; '));
    }
  }
  if (report.coverage) {
    const c = report.coverage;
    lines.push(
      '',
      `coverage: ${c.streams.length} log streams (source/account/region), ${c.gaps.length} silence${c.gaps.length === 1 ? '' : 's'} of ${c.minGapMinutes} min or more`,
    );
    for (const gap of c.gaps.slice(0, UNPROVEN_LINES)) lines.push(`  GAP                ${describeGap(gap)}`);
    if (c.gaps.length > UNPROVEN_LINES) lines.push(`  … and ${c.gaps.length - UNPROVEN_LINES} more (see --json)`);
  }
  lines.push('', `signatures: ${report.signatures.checked} checked, ${report.signatures.notChecked} not checked`);
  if (report.signatures.note) lines.push(`  ${report.signatures.note}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push(
    report.rehashed === false ? 'files compared by size (not re-hashed)' : `${(report.bytesHashed / 1e6).toFixed(1)} MB of content hashed`,
  );
  return lines.join('\n') + '\n';
}
