/**
 * The commit chain, writer's side (the format is src/core/lake-commits.ts). A transaction calls
 * `stageCommitManifest` once its files are staged, so the manifest is published by the same
 * COMMIT as the files it describes, and `advanceHead` as the last step of publishing (also when
 * recovery rolls a crashed commit forward), so HEAD never names a manifest that is not in place.
 *
 * Signing: `useCommitSigningKey()` (the CLI, from --signing-key or configuration) or the
 * SCOUTQL_LAKE_SIGNING_KEY environment variable (a PEM private key file: Ed25519, RSA or EC).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { COMMITS_DIR, COMMIT_HEAD_FILE, commitManifestFile, commitManifestOf } from '../../src/core/lake-layout';
import {
  COMMIT_FORMAT,
  ChainState,
  parseCommitHead,
  parseCommitManifest,
  serializeCommit,
  sha256Of,
  type CommitBody,
  type CommitLink,
  type CommittedFile,
  type GraphInput,
} from '../../src/core/lake-commits';
import { sha256Hasher } from '../../src/core/hash';
import type { LakeStore } from './store';

/** What a commit's manifest says beyond its files: who wrote it, what its files derive from, what a graph was built from. */
export interface CommitNotes {
  kind: string;
  /** Published path → the lake files whose rows it holds instead. */
  derivedFrom: Map<string, string[]>;
  /** Day → the event files its graph was built from. */
  graphInputs: Map<string, GraphInput[]>;
}

export function newCommitNotes(kind: string): CommitNotes {
  return { kind, derivedFrom: new Map(), graphInputs: new Map() };
}

let signingKey: KeyObject | null | undefined;

/** Signs every commit this process writes from now on (null: stop signing). */
export function useCommitSigningKey(key: KeyObject | string | null): void {
  signingKey = typeof key === 'string' ? loadSigningKey(key) : key;
}

/** A PEM private key file, read with a clear error. */
export function loadSigningKey(pemFile: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(pemFile);
  } catch (err) {
    throw new Error(`commit signing key ${pemFile}: ${(err as Error).message}`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`commit signing key ${pemFile} is not a PEM private key: ${(err as Error).message}`);
  }
}

function currentSigningKey(): KeyObject | undefined {
  if (signingKey === undefined) {
    const file = process.env.SCOUTQL_LAKE_SIGNING_KEY;
    signingKey = file ? loadSigningKey(file) : null;
  }
  return signingKey ?? undefined;
}

/**
 * Hashes the staged files, writes the commit manifest into the staging folder beside them and
 * returns its lake path (to publish with them). Files are lake-relative; `stagingDir` holds them.
 */
export async function stageCommitManifest(
  store: LakeStore,
  txnId: string,
  stagingDir: string,
  files: readonly string[],
  removed: readonly string[],
  notes: CommitNotes,
): Promise<string> {
  const previous = await currentHead(store);
  const seq = (previous?.seq ?? 0) + 1;
  const entries: CommittedFile[] = [];
  for (const path of files) {
    const local = join(stagingDir, ...path.split('/'));
    const derivedFrom = notes.derivedFrom.get(path);
    entries.push({
      path,
      size: (await stat(local)).size,
      sha256: await hashFile(local),
      ...(derivedFrom?.length ? { derivedFrom: [...derivedFrom].sort() } : {}),
    });
  }
  const body: CommitBody = {
    format: COMMIT_FORMAT,
    seq,
    txn: txnId,
    committedAt: new Date().toISOString(),
    kind: notes.kind,
    previous,
    files: entries,
    removed: [...removed],
    ...(notes.graphInputs.size ? { graphInputs: Object.fromEntries([...notes.graphInputs].sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
  };
  const path = commitManifestFile(seq, txnId);
  const local = join(stagingDir, ...path.split('/'));
  await mkdir(dirname(local), { recursive: true });
  await writeFile(local, serializeCommit(body, currentSigningKey()));
  return path;
}

/**
 * The newest commit: `_commits/HEAD`, or (when it is missing or unreadable) the manifest with the
 * highest sequence. Writers trust it; verifiers check it.
 */
export async function currentHead(store: LakeStore): Promise<CommitLink | null> {
  const head = parseCommitHead(await store.readText(COMMIT_HEAD_FILE));
  if (head) return head;
  const manifests = (await store.listFiles(COMMITS_DIR)).filter((p) => commitManifestOf(p) !== null).sort();
  const newest = manifests[manifests.length - 1];
  if (!newest) return null;
  const text = await store.readText(newest);
  return text === null ? null : { seq: commitManifestOf(newest)!.seq, path: newest, sha256: sha256Of(text) };
}

/** After a commit's files are in place: HEAD names its manifest (unless HEAD already names a later one). */
export async function advanceHead(store: LakeStore, published: readonly string[]): Promise<void> {
  const path = published.find((p) => commitManifestOf(p) !== null);
  if (!path) return;
  const text = await store.readText(path);
  if (text === null) return;
  const seq = commitManifestOf(path)!.seq;
  const head = parseCommitHead(await store.readText(COMMIT_HEAD_FILE));
  if (head && head.seq > seq) return;
  await store.writeText(COMMIT_HEAD_FILE, JSON.stringify({ seq, path, sha256: sha256Of(text) } satisfies CommitLink) + '\n');
}

/** Hex SHA-256 of a local file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = sha256Hasher();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The lake as its commit chain describes it: every commit manifest replayed in sequence order. A
 * damaged manifest is `verify lake`'s to report; what the others say still counts.
 */
export async function replayCommitChain(store: LakeStore): Promise<ChainState> {
  const state = new ChainState();
  const manifests = (await store.listFiles(COMMITS_DIR)).filter((p) => commitManifestOf(p) !== null).sort();
  for (const path of manifests) {
    const parsed = parseCommitManifest(Buffer.from((await store.readText(path)) ?? ''));
    if ('manifest' in parsed) state.apply(parsed.manifest, path);
  }
  return state;
}
