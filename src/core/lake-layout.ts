/**
 * Where everything lives in a lake, as lake-relative '/'-separated paths (the same for a local
 * folder and an S3 prefix; join them with the lake root). Nothing else builds lake paths.
 *
 *   <table>/source=<s>/account=<a>/region=<r>/day=YYYY-MM-DD/part-<txn>.parquet   events
 *   graph/entities/day=YYYY-MM-DD/part-0.parquet, graph/edges/…                    the graph
 *   findings/product=<p>/account=<a>/day=YYYY-MM-DD/part-<txn>.parquet              findings
 *   _manifest/  _manifest_index/  _quarantine/  _oversize/  _staging/  _graph_pending/  _graph_state/  _identity/  _lookup/  _locks/  _audit/  _keys/  _outbox/  _investigations/  bookkeeping
 *   _commits/<seq>-<txn>.json, _commits/HEAD                                        the commit chain
 *
 * Readers never glob the underscore folders.
 */
import { FINDINGS_TABLE, GRAPH_TABLES, type GraphTableName, type TableName } from './tables';

export const MANIFEST_DIR = '_manifest';
/**
 * An S3 lake's manifest by content hash (etl/lake/manifest.ts): `_manifest_index/<sha256>.json`, the
 * latest entry of each object, published with it, so a run over a few objects looks each one up
 * (one GET) instead of reading every `_manifest/*.jsonl`; `COMPLETE` marks that every entry has one.
 */
export const MANIFEST_INDEX_DIR = '_manifest_index';
export const MANIFEST_INDEX_COMPLETE = `${MANIFEST_INDEX_DIR}/COMPLETE`;
export const QUARANTINE_DIR = '_quarantine';
/** Raw records too big to keep inline (see the writer's RAW_INLINE_LIMIT). */
export const OVERSIZE_DIR = '_oversize';
/** Transactions being written or published (see etl/lake/transaction.ts). */
export const STAGING_DIR = '_staging';
/** Days whose graph must be rebuilt: a marker file per day, published with the rows that touched it. */
export const GRAPH_PENDING_DIR = '_graph_pending';
/**
 * Each day's mergeable graph state (etl/graph.ts): `_graph_state/day=D/<part>.parquet`, the partial
 * aggregates the day's graph files are finished from, and `inputs.json`, the event files merged into it.
 */
export const GRAPH_STATE_DIR = '_graph_state';
/**
 * An S3 lake's identity index (etl/lake/identity-index.ts): per event or findings partition,
 * `_identity/<partition>/index.parquet`, the identity columns of every row its part files hold and
 * the file holding each, so the duplicate check at publish reads one object, not the partition's files.
 */
export const IDENTITY_INDEX_DIR = '_identity';
/**
 * The key lookup index of the event tables (src/core/lookup-index.ts): beside each part file, in the
 * same commit, `_lookup/<the part file's lake path>`, the distinct identities, sessions and addresses
 * the file holds, so a keyed read (a session's or an address's events) opens only the files holding its key.
 */
export const LOOKUP_INDEX_DIR = '_lookup';
/** The writer lock: one file per lock token, `_locks/<token, 20 digits>.json`; the highest token is the lock (etl/lake/lock.ts). */
export const LOCK_DIR = '_locks';
/** The API's request audit trail. */
export const AUDIT_DIR = '_audit';
/** API key records (hashes only), one object per key: the default store of `scoutql keys`. */
export const KEYS_DIR = '_keys';
/** Findings still to be delivered, per destination (src/delivery/outbox.ts). */
export const OUTBOX_DIR = '_outbox';
/** Investigations' pins and notes, one hash-chained object per change (src/api/investigations/store.ts). */
export const INVESTIGATIONS_DIR = '_investigations';
/** The commit chain: one manifest per transaction (src/core/lake-commits.ts) and HEAD naming the newest. */
export const COMMITS_DIR = '_commits';
export const COMMIT_HEAD_FILE = `${COMMITS_DIR}/HEAD`;

/**
 * What the commit chain does not vouch for: work in progress (staging, the lock), the chain
 * itself, trails with their own integrity (the API's audit lines and investigations' changes are
 * hash-chained; API keys are stored as hashes) and the delivery outbox (its own ledger of what was sent). Every other file in a lake must have been published by a commit.
 */
const OUTSIDE_THE_CHAIN = [STAGING_DIR, LOCK_DIR, COMMITS_DIR, AUDIT_DIR, KEYS_DIR, OUTBOX_DIR, INVESTIGATIONS_DIR];

/** Whether a lake file must be listed by a commit (lake-relative path). */
export function isChainTracked(path: string): boolean {
  return !OUTSIDE_THE_CHAIN.includes(path.split('/', 1)[0]);
}

/** The manifest a commit publishes: `_commits/<seq, 12 digits>-<txn>.json` (sorted by name = by sequence). */
export function commitManifestFile(seq: number, txnId: string): string {
  return `${COMMITS_DIR}/${String(seq).padStart(12, '0')}-${txnId}.json`;
}

/** Sequence and transaction of a commit manifest path, or null for any other path. */
export function commitManifestOf(path: string): { seq: number; txn: string } | null {
  const m = /^_commits\/(\d{12})-([A-Za-z0-9-]+)\.json$/.exec(path);
  return m ? { seq: Number(m[1]), txn: m[2] } : null;
}

export interface PartitionValues {
  source: string;
  account: string;
  region: string;
  /** YYYY-MM-DD */
  day: string;
}

export function tablePath(table: TableName): string {
  return table;
}

/** The partition folder of an event table. Values must already be safe (safePartitionValue). */
export function partitionPath(table: TableName, p: PartitionValues): string {
  return `${table}/source=${p.source}/account=${p.account}/region=${p.region}/day=${p.day}`;
}

/** The partition values of a partition folder (`source=…/account=…/region=…/day=…`, nothing more), or null. */
export function partitionValuesOf(folder: string): PartitionValues | null {
  const m = /^source=([^/]+)\/account=([^/]+)\/region=([^/]+)\/day=([^/]+)$/.exec(folder);
  return m ? { source: m[1], account: m[2], region: m[3], day: m[4] } : null;
}

/** The data file a transaction publishes into a partition folder. */
export function partFileName(txnId: string): string {
  return `part-${txnId}.parquet`;
}

export function isPartFileName(name: string): boolean {
  return name.startsWith('part-') && name.endsWith('.parquet');
}

export function graphTablePath(table: GraphTableName): string {
  return GRAPH_TABLES[table].dir.join('/');
}

/** A graph table's file for one day (the graph step rewrites it whole). */
export function graphDayFile(table: GraphTableName, day: string): string {
  return `${graphTablePath(table)}/day=${day}/part-0.parquet`;
}

export function manifestFile(txnId: string): string {
  return `${MANIFEST_DIR}/${txnId}.jsonl`;
}

/** The manifest index entry of an object's content (see MANIFEST_INDEX_DIR). */
export function manifestIndexFile(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256: '${sha256}'`);
  return `${MANIFEST_INDEX_DIR}/${sha256}.json`;
}

/** The quarantine file one writer (an ingest worker thread) of a transaction appends to. */
export function quarantineFile(txnId: string, writer: string): string {
  return `${QUARANTINE_DIR}/${txnId}-${writer}.jsonl`;
}

/** The file one writer of a transaction moves oversized raw records to. */
export function oversizeFile(txnId: string, writer: string): string {
  return `${OVERSIZE_DIR}/${txnId}-${writer}.jsonl`;
}

/** A transaction's staging folder in the lake (its files, laid out as they will be, plus COMMIT). */
export function stagingFolder(txnId: string): string {
  return `${STAGING_DIR}/${txnId}`;
}

/** Name of a transaction's commit point in its staging folder: the list of what it publishes, written last. */
export const COMMIT_LIST = 'COMMIT';

export function commitListFile(txnId: string): string {
  return `${stagingFolder(txnId)}/${COMMIT_LIST}`;
}

/** The lock file of a token (zero-padded, so names sort as numbers do). */
export function lockTokenFile(token: number): string {
  return `${LOCK_DIR}/${String(token).padStart(20, '0')}.json`;
}

/** The token a lock file names (`_locks/00000000000000000042.json` → 42), or null. */
export function tokenOfLockFile(path: string): number | null {
  const m = /(?:^|\/)(\d{20})\.json$/.exec(path);
  return m && path.startsWith(`${LOCK_DIR}/`) ? Number(m[1]) : null;
}

export function graphPendingMarker(day: string): string {
  return `${GRAPH_PENDING_DIR}/${day}`;
}

/** One part of a day's mergeable graph state (see GRAPH_STATE_DIR). */
export function graphStateFile(day: string, part: string): string {
  return `${GRAPH_STATE_DIR}/day=${day}/${part}.parquet`;
}

/** The event files (lake paths with their SHA-256) whose rows a day's graph state holds. */
export function graphStateInputs(day: string): string {
  return `${GRAPH_STATE_DIR}/day=${day}/inputs.json`;
}

/** The day a graph-pending marker names (`_graph_pending/YYYY-MM-DD`), or null. */
export function dayOfGraphPendingMarker(path: string): string | null {
  const day = path.startsWith(`${GRAPH_PENDING_DIR}/`) ? path.slice(GRAPH_PENDING_DIR.length + 1) : '';
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null;
}

/** Glob of an event table's files below the lake root, hive-partitioned. */
export function tableGlob(table: TableName): string {
  return `${table}/source=*/account=*/region=*/day=*/part-*.parquet`;
}

export function graphGlob(table: GraphTableName): string {
  return `${graphTablePath(table)}/day=*/part-*.parquet`;
}

export function findingsTablePath(): string {
  return FINDINGS_TABLE.dir.join('/');
}

export interface FindingsPartitionValues {
  /** A FindingProduct (or Athena's `${product}` placeholder in the DDL's location template). */
  product: string;
  account: string;
  /** YYYY-MM-DD */
  day: string;
}

/** The partition folder of the findings table. The account must already be safe (safePartitionValue). */
export function findingsPartitionPath(p: FindingsPartitionValues): string {
  return `${findingsTablePath()}/product=${p.product}/account=${p.account}/day=${p.day}`;
}

/** The partition values of a findings partition folder (`product=…/account=…/day=…`, nothing more), or null. */
export function findingsPartitionValuesOf(folder: string): FindingsPartitionValues | null {
  const m = /^product=([^/]+)\/account=([^/]+)\/day=(\d{4}-\d{2}-\d{2})$/.exec(folder);
  return m ? { product: m[1], account: m[2], day: m[3] } : null;
}

/** Glob of the findings table's files below the lake root, hive-partitioned. */
export function findingsGlob(): string {
  return `${findingsTablePath()}/product=*/account=*/day=*/part-*.parquet`;
}

/** The folder of one day inside a partition path or a graph table (`day=YYYY-MM-DD`). */
export function dayFolder(day: string): string {
  return `day=${day}`;
}

/** The day of a partition path (`…/day=YYYY-MM-DD`), or null. */
export function dayOfPartition(path: string): string | null {
  return /(?:^|\/)day=(\d{4}-\d{2}-\d{2})(?:\/|$)/.exec(path)?.[1] ?? null;
}

/** Partition values come from log content; keep them to characters that are safe in a path. */
export function safePartitionValue(value: string | null | undefined, fallback: string): string {
  if (!value) return fallback;
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '.' || cleaned === '..' ? fallback : cleaned;
}

/** The outbox folder of one delivery destination (its name is already checked: lower-case letters, digits, dashes). */
export function outboxDestinationPath(destination: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(destination)) throw new Error(`not a destination name: '${destination}'`);
  return `${OUTBOX_DIR}/${destination}`;
}

/** The lookup index of an event part file, by its lake path (see LOOKUP_INDEX_DIR). */
export function lookupIndexFile(partFile: string): string {
  return `${LOOKUP_INDEX_DIR}/${partFile}`;
}

/** The identity index of an event or findings partition folder (see IDENTITY_INDEX_DIR). */
export function identityIndexFile(partition: string): string {
  return `${IDENTITY_INDEX_DIR}/${partition}/index.parquet`;
}
