/**
 * `verify lake`: proves (or disproves) that a lake holds exactly what its commits published.
 *
 *  1. The chain: `_commits/<seq>-<txn>.json` in sequence order, each naming the previous one with
 *     its SHA-256 (src/core/lake-commits.ts). A manifest that is edited shows in the next one's
 *     record of it; deleted, as a gap in the sequence; inserted or renamed, as a link that names
 *     another predecessor or sits at another name than its content says; a chain that starts
 *     afresh, as a restart. `_commits/HEAD` must name the newest (the newest commits deleted show
 *     as HEAD naming a missing one). Signatures are checked with the given public keys.
 *  2. The files: replaying the manifests gives every file the lake must hold with its size and
 *     SHA-256; each is re-hashed (or, for the API's quick check, compared by size): modified,
 *     missing. A file no commit published (outside the lake's bookkeeping) is unlisted: unknown.
 *  3. The graphs: each day's graph commit recorded the event files it was built from; the day's
 *     event files now in the lake must be those files, or what compaction or a restore derived
 *     from them, unchanged.
 *  4. Coverage: per source, account and region, silences inside the covered range (local lakes).
 *
 * A damaged manifest is reported as such; it never stops the rest.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_MIN_GAP_MINUTES, coverageFromRows, coverageSql, type CoverageReport } from '../core/coverage';
import { LocalDuckDb, eventTableSelect } from '../core/duckdb';
import {
  ChainState,
  checkCommitSignature,
  parseCommitHead,
  parseCommitManifest,
  sha256Of,
  signingKeyId,
  type CommitManifest,
} from '../core/lake-commits';
import {
  COMMIT_HEAD_FILE,
  COMMIT_LIST,
  GRAPH_PENDING_DIR,
  STAGING_DIR,
  commitManifestOf,
  dayOfGraphPendingMarker,
  dayOfPartition,
  isChainTracked,
  isPartFileName,
} from '../core/lake-layout';
import { sqlString } from '../core/sql';
import { TABLE_NAMES, type TableName } from '../core/tables';
import { mapPool } from './pool';
import {
  addCounts,
  countOf,
  emptyCounts,
  linkStatusOf,
  outcomeOf,
  sortProblems,
  type ChainBreak,
  type FileResult,
  type GraphDayCheck,
  type LinkResult,
  type Problem,
  type SignatureCheck,
  type VerifyReport,
} from './report';
import { evidenceStoreFor, type EvidenceStore } from './store';

export interface VerifyLakeOptions {
  /** A lake folder or s3://bucket/prefix. */
  root: string;
  /** Re-hash every file (default true); false compares sizes only (cheap: the API's check on start-up and reload). */
  rehash?: boolean;
  /** Public keys that may sign commits, by key id (see lakePublicKeys). With keys, an unsigned commit is unproven. */
  publicKeys?: ReadonlyMap<string, KeyObject>;
  /** Silences of at least this many minutes are coverage gaps (default 60); false: skip coverage. */
  gapMinutes?: number | false;
  /** Files hashed at once (default 4). */
  concurrency?: number;
  s3Client?: S3Client;
  /** Manifests already read, by path and size: the API re-checks without reading unchanged manifests again. */
  cache?: ManifestCache;
}

/** Commit manifests never change once written: a reader that checks again keeps them. */
export class ManifestCache {
  private readonly entries = new Map<string, { size: number; bytes: Buffer }>();

  get(path: string, size: number): Buffer | undefined {
    const hit = this.entries.get(path);
    return hit && hit.size === size ? hit.bytes : undefined;
  }

  set(path: string, size: number, bytes: Buffer): void {
    this.entries.set(path, { size, bytes });
  }
}

/** Largest commit manifest read (one lists every file of a transaction: thousands of lines at most). */
const MANIFEST_LIMIT = 64 * 1024 * 1024;
const HEAD_LIMIT = 64 * 1024;
/** Files up to this size are read whole in one go; larger ones are streamed. */
const SMALL_FILE = 1024 * 1024;

interface Commit {
  path: string;
  seqFromName: number;
  txnFromName: string;
  sha256: string | null;
  manifest: CommitManifest | null;
  problems: Problem[];
  signature: SignatureCheck;
}

/** Public keys from PEM files (SubjectPublicKeyInfo, or a private key whose public half is taken), by key id. */
export function lakePublicKeys(pemFiles: readonly string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const file of pemFiles) {
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(file));
    } catch (err) {
      throw new Error(`public key ${file}: ${(err as Error).message}`);
    }
    keys.set(signingKeyId(key), key);
  }
  return keys;
}

export async function verifyLake(options: VerifyLakeOptions): Promise<VerifyReport> {
  const store = evidenceStoreFor(options.root, { s3Client: options.s3Client });
  try {
    return await verifyStore(store, options);
  } finally {
    store.close();
  }
}

async function verifyStore(store: EvidenceStore, options: VerifyLakeOptions): Promise<VerifyReport> {
  const rehash = options.rehash ?? true;
  const keys = options.publicKeys ?? new Map<string, KeyObject>();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const notes: string[] = [];

  const objects = new Map<string, number>();
  const manifestPaths: string[] = [];
  const pendingCommits: string[] = [];
  for await (const object of store.list()) {
    objects.set(object.key, object.size);
    if (commitManifestOf(object.key)) manifestPaths.push(object.key);
    else if (object.key.startsWith(`${STAGING_DIR}/`) && object.key.endsWith(`/${COMMIT_LIST}`)) pendingCommits.push(object.key);
  }
  manifestPaths.sort();
  // A commit being published moves its files in, then its manifest, then removes what it replaces:
  // until it is done, what its COMMIT list names is neither unknown nor missing.
  const inFlight = new Set<string>();
  for (const path of pendingCommits) {
    const list = parseCommitList((await readSmall(store, path, MANIFEST_LIMIT).catch(() => null))?.toString('utf8') ?? '');
    for (const file of [...list.files, ...list.remove]) inFlight.add(file);
  }
  if (pendingCommits.length) {
    notes.push(
      `${pendingCommits.length} commit${pendingCommits.length > 1 ? 's are' : ' is'} being published or await recovery (${pendingCommits.join(', ')}): its files may show as unlisted until a writer (ingest, compact) finishes it`,
    );
  }

  // 1. The chain.
  const commits = await mapPool(manifestPaths, concurrency, (path) => readCommit(store, path, objects.get(path) ?? 0, options.cache));
  const breaks: ChainBreak[] = [];
  const missingLinks: LinkResult[] = [];
  linkCommits(commits, breaks, missingLinks);
  checkSignatures(commits, keys);
  const head = parseCommitHead((await readSmall(store, COMMIT_HEAD_FILE, HEAD_LIMIT))?.toString('utf8') ?? null);
  checkHead(commits, head, objects.has(COMMIT_HEAD_FILE), pendingCommits.length > 0, breaks, missingLinks);

  const state = new ChainState();
  for (const c of commits) if (c.manifest) state.apply(c.manifest, c.path);
  const linkStatus = new Map(commits.map((c) => [c.path, linkStatusOf(c.problems)]));

  // 2. The files.
  let bytesHashed = 0;
  const actualSha = new Map<string, string>();
  const live = [...state.live.values()].sort((a, b) => compare(a.path, b.path));
  const files = await mapPool(live, concurrency, async (file): Promise<FileResult> => {
    const base = { path: file.path, listedIn: file.commit, expectedSha256: file.sha256 };
    const size = objects.get(file.path);
    if (size === undefined) {
      return { ...base, status: 'missing', actualSha256: null, detail: `published by ${file.commit}; not present` };
    }
    let sha: string | null = null;
    if (rehash) {
      try {
        sha = await hashStored(store, file.path, size);
      } catch (err) {
        return { ...base, status: 'modified', actualSha256: null, detail: `cannot be read: ${(err as Error).message}` };
      }
      bytesHashed += size;
      actualSha.set(file.path, sha);
    }
    if (size !== file.size) {
      return { ...base, status: 'modified', actualSha256: sha, detail: `${size} bytes; ${file.commit} published ${file.size}` };
    }
    if (sha !== null && sha !== file.sha256) {
      return { ...base, status: 'modified', actualSha256: sha, detail: `its SHA-256 is ${sha}; ${file.commit} published ${file.sha256}` };
    }
    const status = linkStatus.get(file.commit) ?? 'valid';
    return status === 'valid'
      ? { ...base, status: 'valid', actualSha256: sha, detail: rehash ? null : 'size matches (not re-hashed)' }
      : { ...base, status: 'unsigned', actualSha256: sha, detail: `matches ${file.commit}, which is ${status.replace('_', ' ')}` };
  });

  const outside: FileResult[] = [];
  for (const path of [...objects.keys()].sort(compare)) {
    if (!isChainTracked(path) || state.live.has(path) || inFlight.has(path)) continue;
    const removedBy = state.removedBy.get(path);
    outside.push({
      path,
      status: 'unlisted',
      listedIn: null,
      expectedSha256: null,
      actualSha256: null,
      detail:
        removedBy !== undefined
          ? `removed by commit ${removedBy}, present again`
          : commits.length
            ? 'unknown: no commit published it'
            : 'unknown: the lake has no commit manifests (written before ScoutQL kept them, or they were deleted)',
    });
  }

  // 3. Graphs against the event files they were built from.
  const modified = new Set(files.filter((f) => f.status === 'modified' || f.status === 'missing').map((f) => f.path));
  const graphs = checkGraphs(state, objects, modified);

  // 4. Coverage.
  let coverage: CoverageReport | null = null;
  if (options.gapMinutes !== false) {
    const minutes = options.gapMinutes ?? DEFAULT_MIN_GAP_MINUTES;
    if (store.kind === 'local') {
      // Only files proven intact count: a damaged file is no evidence of logging (and may not even parse).
      const intact = files.filter((f) => (f.status === 'valid' || f.status === 'unsigned') && isEventFile(f.path)).map((f) => f.path);
      const left = live.filter((f) => isEventFile(f.path)).length - intact.length;
      if (left > 0) notes.push(`coverage leaves out ${left} event file${left > 1 ? 's' : ''} not proven intact`);
      try {
        coverage = await lakeCoverage(resolve(options.root), minutes, intact);
      } catch (err) {
        notes.push(`coverage gaps not computed: ${(err as Error).message.split('\n')[0]}`);
      }
    } else notes.push('coverage gaps not computed for an S3 lake here (DuckDB reads local folders): ask the API for lake { gaps(window) }');
  }

  const links = [...commits.map(toLinkResult), ...missingLinks].sort((a, b) => seqOf(a.path) - seqOf(b.path) || compare(a.path, b.path));
  const counts = countOf(links, files, breaks);
  const total = addCounts(emptyCounts(), counts);
  addCounts(total, countOf([], outside, []));
  let outcome = outcomeOf(total);
  if (graphs.some((g) => g.status === 'stale')) outcome = 'failed';
  if (!commits.length && outcome === 'verified') {
    outcome = objects.size && outside.length ? 'failed' : 'unproven';
    notes.push(`no commit manifests under ${options.root}: nothing vouches for its files`);
  }
  const checked = commits.filter((c) => c.signature.status === 'valid' || c.signature.status === 'invalid').length;
  const signed = commits.filter((c) => c.manifest?.signature).length;
  const note =
    signed === 0
      ? keys.size
        ? 'no commit is signed, though public keys were given'
        : 'commits are not signed: the chain proves the lake consistent, not who wrote it (sign with a key from configuration)'
      : checked < signed
        ? `${signed - checked} of ${signed} signed commits not checked (no public key with their key id)`
        : null;
  const times = commits.flatMap((c) => (c.manifest ? [c.manifest.committedAt] : [])).sort();
  return {
    kind: 'lake',
    root: options.root,
    verifiedAt: new Date().toISOString(),
    outcome,
    signatures: { checked, notChecked: commits.length - checked, note },
    chains: [
      {
        id: 'lake',
        labels: { lake: options.root, ...(head ? { head: head.path } : {}) },
        outcome: outcomeOf(counts),
        range: { start: times[0] ?? null, end: times[times.length - 1] ?? null },
        links,
        files,
        breaks,
        counts,
      },
    ],
    outside,
    notes,
    counts: total,
    bytesHashed,
    rehashed: rehash,
    graphs,
    coverage,
  };
}

async function readCommit(store: EvidenceStore, path: string, size: number, cache?: ManifestCache): Promise<Commit> {
  const name = commitManifestOf(path)!;
  const commit: Commit = {
    path,
    seqFromName: name.seq,
    txnFromName: name.txn,
    sha256: null,
    manifest: null,
    problems: [],
    signature: { status: 'unsigned', source: null, keyFingerprint: null },
  };
  let bytes = cache?.get(path, size);
  if (!bytes) {
    try {
      bytes = (await readSmall(store, path, MANIFEST_LIMIT)) ?? undefined;
    } catch (err) {
      commit.problems.push({ code: 'malformed', detail: `cannot be read: ${(err as Error).message}` });
      return commit;
    }
    if (!bytes) {
      commit.problems.push({ code: 'missing', detail: 'listed, then gone before it could be read' });
      return commit;
    }
    cache?.set(path, size, bytes);
  }
  commit.sha256 = sha256Of(bytes);
  const parsed = parseCommitManifest(bytes);
  if ('error' in parsed) {
    commit.problems.push({ code: 'malformed', detail: parsed.error });
    return commit;
  }
  commit.manifest = parsed.manifest;
  if (parsed.manifest.seq !== name.seq || parsed.manifest.txn !== name.txn) {
    commit.problems.push({
      code: 'misplaced',
      detail: `found at ${path}, but its content is commit ${parsed.manifest.seq} of transaction ${parsed.manifest.txn}`,
    });
  }
  return commit;
}

/** Each commit must name the one before it, with that manifest's SHA-256. */
function linkCommits(commits: Commit[], breaks: ChainBreak[], missing: LinkResult[]): void {
  const byPath = new Map(commits.map((c) => [c.path, c]));
  commits.forEach((cur, i) => {
    const prev: Commit | undefined = commits[i - 1];
    const doc = cur.manifest;
    if (!doc) return;
    if (!doc.previous) {
      if (prev) {
        breaks.push({
          kind: 'restart',
          after: prev.path,
          before: cur.path,
          from: prev.manifest?.committedAt ?? null,
          to: doc.committedAt,
          missing: [],
          detail: `starts a new chain after ${prev.path}: the commits before it no longer vouch for what follows`,
        });
      } else if (cur.seqFromName !== 1) {
        cur.problems.push({ code: 'chain_broken', detail: `is commit ${cur.seqFromName} but names no previous commit` });
      }
      return;
    }
    const named = doc.previous;
    if (prev && named.path === prev.path) {
      if (prev.sha256 !== null && named.sha256 !== prev.sha256) {
        prev.problems.push({ code: 'modified', detail: `its SHA-256 is ${prev.sha256}; ${cur.path} recorded ${named.sha256}` });
      }
      return;
    }
    const present = byPath.get(named.path);
    if (!present && (!prev || named.seq > prev.seqFromName) && named.seq < cur.seqFromName) {
      missing.push({
        path: named.path,
        status: 'missing',
        problems: [{ code: 'missing', detail: `${cur.path} names it as the commit before it; it is not present` }],
        period: null,
        sha256: named.sha256,
        signature: { status: 'unsigned', source: null, keyFingerprint: null },
        files: 0,
      });
      breaks.push({
        kind: 'gap',
        after: prev?.path ?? null,
        before: cur.path,
        from: prev?.manifest?.committedAt ?? null,
        to: doc.committedAt,
        missing: [named.path],
        detail: prev
          ? `commits are missing between ${prev.path} and ${cur.path} (it names ${named.path}): what they published and removed is unaccounted for`
          : `the chain starts at ${cur.path}, which names ${named.path}: the commits before it are missing`,
      });
      return;
    }
    cur.problems.push({
      code: 'chain_broken',
      detail: `names ${named.path} as the commit before it, but the commit before it is ${prev ? prev.path : 'none'}`,
    });
  });
}

function checkSignatures(commits: Commit[], keys: ReadonlyMap<string, KeyObject>): void {
  let signedBefore: string | null = null;
  for (const c of commits) {
    if (!c.manifest) continue;
    const signature = c.manifest.signature;
    const verdict = checkCommitSignature(c.manifest, keys);
    c.signature = { status: verdict, source: signature ? 'embedded' : null, keyFingerprint: signature?.keyId ?? null };
    if (verdict === 'invalid')
      c.problems.push({ code: 'signature_invalid', detail: `its signature does not verify with key ${signature!.keyId}` });
    else if (verdict === 'key_unknown')
      c.problems.push({
        code: 'key_unknown',
        detail: `signed with key ${signature!.keyId}, which is not among the ${keys.size} public keys given`,
      });
    else if (verdict === 'unsigned' && (keys.size > 0 || signedBefore))
      c.problems.push({ code: 'unsigned', detail: signedBefore ? `not signed, though ${signedBefore} before it is` : 'not signed' });
    if (signature) signedBefore = c.path;
  }
}

/** HEAD names the newest commit: anything after it was appended without a writer; a HEAD past the newest means commits were deleted. */
function checkHead(
  commits: Commit[],
  head: ReturnType<typeof parseCommitHead>,
  headPresent: boolean,
  pending: boolean,
  breaks: ChainBreak[],
  missing: LinkResult[],
): void {
  const newest = commits[commits.length - 1];
  if (!newest) {
    if (head) {
      missing.push(missingLink(head.path, `${COMMIT_HEAD_FILE} names it; no commit manifest is present`, head.sha256));
      breaks.push({
        kind: 'gap',
        after: null,
        before: head.path,
        from: null,
        to: null,
        missing: [head.path],
        detail: `every commit is missing; ${COMMIT_HEAD_FILE} names ${head.path}`,
      });
    }
    return;
  }
  if (!head) {
    newest.problems.push({
      code: 'chain_broken',
      detail: headPresent ? `${COMMIT_HEAD_FILE} is unreadable` : `${COMMIT_HEAD_FILE} is missing: nothing says this is the newest commit`,
    });
    return;
  }
  if (head.path === newest.path) {
    if (newest.sha256 !== null && head.sha256 !== newest.sha256) {
      newest.problems.push({ code: 'modified', detail: `its SHA-256 is ${newest.sha256}; ${COMMIT_HEAD_FILE} recorded ${head.sha256}` });
    }
    return;
  }
  if (head.seq > newest.seqFromName) {
    missing.push(missingLink(head.path, `${COMMIT_HEAD_FILE} names it as the newest commit; it is not present`, head.sha256));
    breaks.push({
      kind: 'gap',
      after: newest.path,
      before: head.path,
      from: newest.manifest?.committedAt ?? null,
      to: null,
      missing: [head.path],
      detail: `the newest commits are missing: ${COMMIT_HEAD_FILE} names ${head.path}, the newest present is ${newest.path}`,
    });
    return;
  }
  const index = commits.findIndex((c) => c.path === head.path);
  for (const c of commits.slice(index + 1)) {
    if (pending) continue;
    c.problems.push({ code: 'chain_broken', detail: `comes after ${head.path}, which ${COMMIT_HEAD_FILE} names as the newest commit` });
  }
  if (index === -1 && !pending) {
    newest.problems.push({ code: 'chain_broken', detail: `${COMMIT_HEAD_FILE} names ${head.path}, which is not in the chain` });
  }
}

function missingLink(path: string, detail: string, sha256: string | null): LinkResult {
  return {
    path,
    status: 'missing',
    problems: [{ code: 'missing', detail }],
    period: null,
    sha256,
    signature: { status: 'unsigned', source: null, keyFingerprint: null },
    files: 0,
  };
}

/** Each day's graph against the event files it was built from, as the chain and the lake hold them now. */
function checkGraphs(state: ChainState, objects: ReadonlyMap<string, number>, damaged: ReadonlySet<string>): GraphDayCheck[] {
  const eventFilesByDay = new Map<string, string[]>();
  for (const path of objects.keys()) {
    if (!isEventFile(path)) continue;
    const day = dayOfPartition(path)!;
    let list = eventFilesByDay.get(day);
    if (!list) eventFilesByDay.set(day, (list = []));
    list.push(path);
  }
  const pending = new Set([...objects.keys()].filter((p) => p.startsWith(`${GRAPH_PENDING_DIR}/`)).map(dayOfGraphPendingMarker));
  const days = [...new Set([...eventFilesByDay.keys(), ...state.graphs.keys()])].sort();
  return days.map((day): GraphDayCheck => {
    const graph = state.graphs.get(day);
    const present = eventFilesByDay.get(day) ?? [];
    if (!graph) return { day, status: pending.has(day) ? 'pending' : 'absent', commit: null, inputs: 0, problems: [] };
    const problems: string[] = [];
    const accounted = new Set<string>();
    for (const input of graph.inputs) {
      const holders = state.successors(input.path);
      if (holders.size === 0) {
        problems.push(`built from ${input.path}, whose rows no commit holds any more`);
        continue;
      }
      for (const holder of holders) {
        accounted.add(holder);
        if (!objects.has(holder))
          problems.push(
            `built from ${input.path}; ${holder === input.path ? 'it' : `its rows (now in ${holder})`} is missing from the lake`,
          );
        else if (damaged.has(holder))
          problems.push(`built from ${input.path}; ${holder === input.path ? 'it' : `its rows (now in ${holder})`} changed since`);
        else if (holder === input.path && state.live.get(holder)!.sha256 !== input.sha256)
          problems.push(
            `built from ${input.path} with SHA-256 ${input.sha256}; the lake's commits now record ${state.live.get(holder)!.sha256}`,
          );
      }
    }
    for (const path of present.sort())
      if (!accounted.has(path)) problems.push(`does not include ${path}, which the lake holds for that day`);
    const status = problems.length === 0 ? 'consistent' : pending.has(day) ? 'pending' : 'stale';
    return { day, status, commit: graph.commit, inputs: graph.inputs.length, problems };
  });
}

/** A transaction's COMMIT list (etl/lake/transaction.ts): `{ files, remove }`, or a bare array of files in older lakes. */
function parseCommitList(text: string): { files: string[]; remove: string[] } {
  try {
    const value: unknown = JSON.parse(text);
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    if (Array.isArray(value)) return { files: strings(value), remove: [] };
    const record = (value ?? {}) as { files?: unknown; remove?: unknown };
    return { files: strings(record.files), remove: strings(record.remove) };
  } catch {
    return { files: [], remove: [] };
  }
}

function isEventFile(path: string): boolean {
  const parts = path.split('/');
  return (
    (TABLE_NAMES as readonly string[]).includes(parts[0]) && parts.length === 6 && isPartFileName(parts[5]) && dayOfPartition(path) !== null
  );
}

/**
 * Silences per source, account and region, over the lake's events (DuckDB, local lakes): all its
 * event files, or only `files` (paths relative to the lake, e.g. those the chain proved intact).
 */
export async function lakeCoverage(lakeRoot: string, gapMinutes: number, files?: readonly string[]): Promise<CoverageReport> {
  const temp = await mkdtemp(join(tmpdir(), 'scoutql-coverage-'));
  const db = await LocalDuckDb.open({ memoryLimit: '400MB', tempDirectory: temp });
  try {
    for (const table of TABLE_NAMES) await db.run(`CREATE OR REPLACE VIEW "${table}" AS ${coverageSelect(lakeRoot, table, files)}`);
    const { sql } = coverageSql('time IS NOT NULL');
    return coverageFromRows(await db.rows(sql, [gapMinutes * 60]), gapMinutes);
  } finally {
    db.close();
    await rm(temp, { recursive: true, force: true });
  }
}

function coverageSelect(lakeRoot: string, table: TableName, files: readonly string[] | undefined): string {
  if (!files) return eventTableSelect(lakeRoot, table);
  const mine = files.filter((f) => f.startsWith(`${table}/`)).map((f) => sqlString(join(lakeRoot, f)));
  if (!mine.length) {
    return 'SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS account, CAST(NULL AS VARCHAR) AS region, CAST(NULL AS TIMESTAMP) AS time WHERE false';
  }
  return `SELECT source, account, region, time FROM read_parquet([${mine.join(', ')}], hive_partitioning = true, hive_types = ${EVENT_HIVE_TYPES}, union_by_name = true)`;
}

/** The partition columns' types, as src/core/duckdb.ts reads event tables. */
const EVENT_HIVE_TYPES = "{'source': 'VARCHAR', 'account': 'VARCHAR', 'region': 'VARCHAR', 'day': 'DATE'}";

async function readSmall(store: EvidenceStore, path: string, limit: number): Promise<Buffer | null> {
  return (await store.read(path, limit))?.bytes ?? null;
}

/** SHA-256 of a file's stored bytes (Parquet is not inflated: the commit hashed what it stored). */
async function hashStored(store: EvidenceStore, path: string, size: number): Promise<string> {
  if (size <= SMALL_FILE) {
    const bytes = await readSmall(store, path, SMALL_FILE);
    if (!bytes) throw new Error('gone before it could be read');
    return sha256Of(bytes);
  }
  const hash = createHash('sha256');
  for await (const chunk of await store.open(path, size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function toLinkResult(c: Commit): LinkResult {
  const problems = sortProblems(dedupe(c.problems));
  return {
    path: c.path,
    status: linkStatusOf(problems),
    problems,
    period: c.manifest ? { start: c.manifest.committedAt, end: c.manifest.committedAt } : null,
    sha256: c.sha256,
    signature: c.signature,
    files: c.manifest?.files.length ?? 0,
  };
}

function seqOf(path: string): number {
  return commitManifestOf(path)?.seq ?? Number.MAX_SAFE_INTEGER;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.code}\u0000${p.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
