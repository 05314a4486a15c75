/**
 * The lake's commit chain, the one format its writers (etl/lake/commit-manifest.ts) and its
 * verifiers (src/evidence/lake.ts, the API's start-up check) share.
 *
 * Every transaction that publishes to a lake also publishes a commit manifest,
 * `_commits/<seq>-<txn>.json` (src/core/lake-layout.ts): each file it published with its size and
 * SHA-256, the files it removed, and the sequence, path and SHA-256 of the previous commit's
 * manifest. `_commits/HEAD` names the newest. Replaying the manifests in order gives the set of
 * files the lake must hold, byte for byte; any edit, deletion or addition of a file, and any
 * edit, deletion, insertion or reordering of a manifest, shows as a mismatch.
 *
 * A manifest may be signed (the writer's key from configuration): the signature covers the
 * manifest's JSON text without its `signature` member, exactly as written. Unsigned, the chain
 * proves consistency but not authorship: someone who rewrites every manifest along with the files
 * is caught only by a signature, or by a reader that remembers an earlier head.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const COMMIT_FORMAT = 'scoutql-commit/1';

export interface CommittedFile {
  /** Lake-relative path. */
  path: string;
  size: number;
  /** Hex SHA-256 of the file's bytes as stored. */
  sha256: string;
  /** Files whose rows this one holds instead (compaction's inputs, lost files a restore rewrote). */
  derivedFrom?: string[];
}

export interface CommitLink {
  seq: number;
  path: string;
  /** Hex SHA-256 of that manifest's bytes. */
  sha256: string;
}

/** An event file the graph of a day was built from, as it was when the graph step read it. */
export interface GraphInput {
  path: string;
  sha256: string;
}

export interface CommitSignature {
  /** First 32 hex digits of the SHA-256 of the public key (SubjectPublicKeyInfo DER). */
  keyId: string;
  algorithm: SignatureAlgorithm;
  /** Base64. */
  value: string;
}

export type SignatureAlgorithm = 'Ed25519' | 'SHA256withRSA' | 'SHA256withECDSA';

export interface CommitManifest {
  format: typeof COMMIT_FORMAT;
  /** 1 for the first commit of a lake, then +1 per commit. */
  seq: number;
  txn: string;
  committedAt: string;
  /** What wrote it: ingest, compact, graph, restore, manifest-merge. */
  kind: string;
  previous: CommitLink | null;
  files: CommittedFile[];
  removed: string[];
  /** Graph commits: per day, the event files the day's graph was built from. */
  graphInputs?: Record<string, GraphInput[]>;
  signature?: CommitSignature;
}

export type CommitBody = Omit<CommitManifest, 'signature'>;

/** Hex SHA-256 of bytes (a manifest's link hash). */
export function sha256Of(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The identifier a signature names its key by. */
export function signingKeyId(publicKey: KeyObject): string {
  return sha256Of(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 32);
}

function algorithmOf(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'Ed25519';
    case 'rsa':
      return 'SHA256withRSA';
    case 'ec':
      return 'SHA256withECDSA';
    default:
      throw new Error(`commit signing key: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported (use Ed25519, RSA or EC)`);
  }
}

/** The manifest's text as stored: the body, then its signature when a private key is given. */
export function serializeCommit(body: CommitBody, privateKey?: KeyObject): string {
  const text = JSON.stringify(body);
  if (!privateKey) return text + '\n';
  const algorithm = algorithmOf(privateKey);
  const value = sign(algorithm === 'Ed25519' ? null : 'sha256', Buffer.from(text), privateKey).toString('base64');
  const signature: CommitSignature = { keyId: signingKeyId(createPublicKey(privateKey)), algorithm, value };
  return JSON.stringify({ ...body, signature }) + '\n';
}

export type SignatureVerdict = 'valid' | 'invalid' | 'key_unknown' | 'unsigned';

/** Checks a parsed manifest's signature against the known public keys (by key id). */
export function checkCommitSignature(manifest: CommitManifest, keys: ReadonlyMap<string, KeyObject>): SignatureVerdict {
  const signature = manifest.signature;
  if (!signature) return 'unsigned';
  const key = keys.get(signature.keyId);
  if (!key) return 'key_unknown';
  const { signature: _omitted, ...body } = manifest;
  try {
    if (algorithmOf(key) !== signature.algorithm) return 'invalid';
    const ok = verify(
      signature.algorithm === 'Ed25519' ? null : 'sha256',
      Buffer.from(JSON.stringify(body)),
      key,
      Buffer.from(signature.value, 'base64'),
    );
    return ok ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/** A commit manifest from its stored bytes; every reason it is not one is named. */
export function parseCommitManifest(bytes: Buffer): { manifest: CommitManifest } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(value)) return { error: 'not a JSON object' };
  const wrong: string[] = [];
  if (value.format !== COMMIT_FORMAT) wrong.push(`format (${JSON.stringify(value.format)})`);
  if (!isCount(value.seq) || value.seq < 1) wrong.push('seq');
  for (const name of ['txn', 'committedAt', 'kind'] as const) if (typeof value[name] !== 'string') wrong.push(name);
  if (value.previous !== null && !isLink(value.previous)) wrong.push('previous');
  if (!Array.isArray(value.files) || !value.files.every(isCommittedFile)) wrong.push('files');
  if (!Array.isArray(value.removed) || !value.removed.every((p) => typeof p === 'string')) wrong.push('removed');
  if (value.graphInputs !== undefined && !isGraphInputs(value.graphInputs)) wrong.push('graphInputs');
  if (value.signature !== undefined && !isSignature(value.signature)) wrong.push('signature');
  if (wrong.length) return { error: `missing or invalid: ${wrong.join(', ')}` };
  return { manifest: value as unknown as CommitManifest };
}

/** What `_commits/HEAD` holds: the newest commit's link. */
export function parseCommitHead(text: string | null): CommitLink | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isLink(value) ? value : null;
  } catch {
    return null;
  }
}

/** A file the replayed chain says the lake holds. */
export interface LiveFile extends CommittedFile {
  /** The commit that published it (its latest publication). */
  seq: number;
  commit: string;
}

/**
 * The lake as its commits describe it: replaying manifests in sequence order, each adds its
 * files and drops the ones it removed. Also keeps every file's lineage (what it was derived from)
 * and, per day, the newest graph commit's inputs.
 */
export class ChainState {
  readonly live = new Map<string, LiveFile>();
  /** Every file ever published → the files it derived from (empty for fresh rows). */
  readonly derivedFrom = new Map<string, readonly string[]>();
  /** Every file ever published → the first commit that published it, with its transaction. */
  readonly origin = new Map<string, { seq: number; txn: string }>();
  /** Per day: the newest graph commit's inputs, and that commit. */
  readonly graphs = new Map<string, { seq: number; commit: string; inputs: GraphInput[] }>();
  /** Removed file → the commit that removed it (the newest). */
  readonly removedBy = new Map<string, number>();
  /** Parent → children, built on first use after the replay. */
  private derivedBy: Map<string, string[]> | null = null;

  apply(manifest: CommitManifest, manifestPath: string): void {
    this.derivedBy = null;
    for (const file of manifest.files) {
      this.live.set(file.path, { ...file, seq: manifest.seq, commit: manifestPath });
      if (!this.origin.has(file.path)) this.origin.set(file.path, { seq: manifest.seq, txn: manifest.txn });
      this.derivedFrom.set(file.path, file.derivedFrom ?? this.derivedFrom.get(file.path) ?? []);
      this.removedBy.delete(file.path);
    }
    for (const path of manifest.removed) {
      this.live.delete(path);
      this.removedBy.set(path, manifest.seq);
    }
    for (const [day, inputs] of Object.entries(manifest.graphInputs ?? {})) {
      this.graphs.set(day, { seq: manifest.seq, commit: manifestPath, inputs });
    }
  }

  /** The files now holding the rows of `path`: itself while live, else what was derived from it, transitively. */
  successors(path: string): Set<string> {
    if (!this.derivedBy) {
      this.derivedBy = new Map();
      for (const [child, parents] of this.derivedFrom) {
        for (const parent of parents) {
          let list = this.derivedBy.get(parent);
          if (!list) this.derivedBy.set(parent, (list = []));
          list.push(child);
        }
      }
    }
    const derivedBy = this.derivedBy;
    const out = new Set<string>();
    const seen = new Set<string>();
    const walk = (p: string) => {
      if (seen.has(p)) return;
      seen.add(p);
      if (this.live.has(p)) out.add(p);
      for (const child of derivedBy.get(p) ?? []) walk(child);
    };
    walk(path);
    return out;
  }

  /** The transactions whose fresh rows a file holds: its own, or (for derived files) its ancestors', transitively. */
  originTransactions(path: string): Set<string> {
    const out = new Set<string>();
    const seen = new Set<string>();
    const walk = (p: string) => {
      if (seen.has(p)) return;
      seen.add(p);
      const parents = this.derivedFrom.get(p) ?? [];
      if (parents.length === 0) {
        const origin = this.origin.get(p);
        if (origin) out.add(origin.txn);
      }
      for (const parent of parents) walk(parent);
    };
    walk(path);
    return out;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

const HEX64 = /^[0-9a-f]{64}$/;

function isLink(value: unknown): value is CommitLink {
  return (
    isObject(value) && isCount(value.seq) && typeof value.path === 'string' && typeof value.sha256 === 'string' && HEX64.test(value.sha256)
  );
}

function isCommittedFile(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.path === 'string' &&
    isCount(value.size) &&
    typeof value.sha256 === 'string' &&
    HEX64.test(value.sha256) &&
    (value.derivedFrom === undefined || (Array.isArray(value.derivedFrom) && value.derivedFrom.every((p) => typeof p === 'string')))
  );
}

function isGraphInputs(value: unknown): boolean {
  return (
    isObject(value) &&
    Object.values(value).every(
      (list) => Array.isArray(list) && list.every((i) => isObject(i) && typeof i.path === 'string' && typeof i.sha256 === 'string'),
    )
  );
}

function isSignature(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.keyId === 'string' &&
    typeof value.value === 'string' &&
    (value.algorithm === 'Ed25519' || value.algorithm === 'SHA256withRSA' || value.algorithm === 'SHA256withECDSA')
  );
}
