/**
 * The API's watch over its lake: the quick `verify lake` (every commit manifest and its link, HEAD,
 * the file list by size, each day's graph against its inputs; no re-hash) on start-up, again each
 * time the lake's head changes (a new commit: ingest or compaction while serving) and at least
 * every `recheckMs`; a full re-hash on demand. Manifests are read once (they never change).
 * Structurally a LakeIntegrityCheck (src/api/lake-integrity.ts), which the CLI wires in.
 */
import type { KeyObject } from 'node:crypto';
import { COMMIT_HEAD_FILE } from '../core/lake-layout';
import { ManifestCache, verifyLake } from './lake';
import type { FileResult, VerifyReport } from './report';
import { evidenceStoreFor } from './store';

export interface LakeGuardStatus {
  state: 'verified' | 'tampered' | 'unverified';
  head: string | null;
  checkedAt: string | null;
  findings: string[];
  findingCount: number;
}

export interface LakeGuardOptions {
  publicKeys?: ReadonlyMap<string, KeyObject>;
  /** Re-check at least this often even when the head has not moved (a deleted file moves no head). Default 60 s. */
  recheckMs?: number;
  /** Look at HEAD at most this often (default 1 s): requests in between get the last answer. */
  headPollMs?: number;
}

const SHOWN_FINDINGS = 10;

export const NO_CHAIN =
  'the lake has no commit chain (written before ScoutQL kept commit manifests, or all of them were deleted): nothing vouches for its files; ingest into a new lake to start one';

export class LakeGuard {
  private readonly cache = new ManifestCache();
  private last: { status: LakeGuardStatus; head: string | null; at: number } | null = null;
  private headCheckedAt = 0;
  private running: Promise<LakeGuardStatus> | null = null;

  constructor(
    readonly lake: string,
    private readonly options: LakeGuardOptions = {},
  ) {}

  async status(): Promise<LakeGuardStatus> {
    const now = Date.now();
    if (this.last && now - this.headCheckedAt < (this.options.headPollMs ?? 1000)) return this.last.status;
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        this.headCheckedAt = Date.now();
        const head = await this.readHead();
        const due = !this.last || this.last.head !== head || Date.now() - this.last.at >= (this.options.recheckMs ?? 60_000);
        if (due) await this.check(false);
        return this.last!.status;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Checks now; `rehash` re-hashes every file (the full verification). Returns the report and keeps its verdict. */
  async check(rehash: boolean): Promise<VerifyReport | null> {
    const at = Date.now();
    const head = await this.readHead();
    try {
      const report = await verifyLake({
        root: this.lake,
        rehash,
        publicKeys: this.options.publicKeys,
        gapMinutes: false,
        cache: this.cache,
      });
      this.last = { status: statusOf(report, this.options.publicKeys?.size ?? 0), head, at };
      return report;
    } catch (err) {
      const finding = `the lake cannot be verified: ${(err as Error).message}`;
      this.last = {
        status: { state: 'tampered', head, checkedAt: new Date(at).toISOString(), findings: [finding], findingCount: 1 },
        head,
        at,
      };
      return null;
    }
  }

  private async readHead(): Promise<string | null> {
    const store = evidenceStoreFor(this.lake);
    try {
      return (await store.read(COMMIT_HEAD_FILE, 64 * 1024))?.bytes.toString('utf8') ?? null;
    } catch {
      return null;
    } finally {
      store.close();
    }
  }
}

/** A report's verdict for the API: anything failed is tampering; with signing keys configured, anything unproven too. */
export function statusOf(report: VerifyReport, keys: number): LakeGuardStatus {
  const findings: string[] = [];
  for (const chain of report.chains) {
    for (const b of chain.breaks) if (b.kind !== 'open_start') findings.push(`${b.kind}: ${b.detail}`);
    for (const link of chain.links)
      if (isFinding(link.status, keys)) findings.push(`commit ${link.path} ${link.status}: ${link.problems[0]?.detail ?? ''}`);
    for (const file of chain.files) if (isFileFinding(file, keys)) findings.push(`${file.path} ${file.status}: ${file.detail ?? ''}`);
  }
  for (const file of report.outside) findings.push(`${file.path}: ${file.detail ?? file.status}`);
  for (const g of report.graphs ?? []) if (g.status === 'stale') findings.push(`graph of ${g.day} stale: ${g.problems[0] ?? ''}`);
  const head = report.chains[0]?.labels.head ?? null;
  // A lake written before ScoutQL kept commit manifests has no chain at all: nothing vouches for it,
  // yet nothing contradicts it either. It is served, every answer warned (refused when signed commits are required).
  if (keys === 0 && head === null && (report.chains[0]?.links.length ?? 0) === 0) {
    return {
      state: 'unverified',
      head,
      checkedAt: report.verifiedAt,
      findings: [NO_CHAIN],
      findingCount: 1,
    };
  }
  const tampered = report.outcome === 'failed' || (keys > 0 && report.outcome !== 'verified') || findings.length > 0;
  return {
    state: tampered ? 'tampered' : 'verified',
    head,
    checkedAt: report.verifiedAt,
    findings: findings.slice(0, SHOWN_FINDINGS),
    findingCount: findings.length,
  };
}

function isFinding(status: string, keys: number): boolean {
  if (status === 'valid') return false;
  return keys > 0 || (status !== 'unsigned' && status !== 'key_unknown');
}

function isFileFinding(file: FileResult, keys: number): boolean {
  if (file.status === 'valid') return false;
  return file.status !== 'unsigned' || keys > 0;
}
