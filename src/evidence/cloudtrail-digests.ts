/**
 * `verify cloudtrail`: proves (or disproves) a copy of a CloudTrail bucket, offline or on S3.
 *
 * For each trail stream (organization, account, delivery region, trail, home region: the digest
 * key names them), the digests are walked in time order:
 *  (a) each digest's previousDigestS3Object / previousDigestHashValue / previousDigestSignature must
 *      name the digest before it, match the SHA-256 of its uncompressed content and the signature
 *      stored with it. A digest with null previous fields mid-stream is a restart (logging or
 *      validation stopped and started); a named previous digest that is absent is a gap.
 *  (b) every log file a digest lists must exist and the SHA-256 of its uncompressed content match.
 *  (c) every object in a CloudTrail log folder must be listed by some digest when its time lies in
 *      a period the digests of its account and region cover (else it is `unlisted`; outside every
 *      covered period it is `uncovered`).
 *  (d) each digest's RSA signature is checked when a signature and the public key are known.
 *      The signature comes from S3 object metadata (`x-amz-meta-signature`, `-signature-algorithm`),
 *      or for a local copy from a sidecar file `<digest file name>.sig` beside it holding the hex
 *      signature (or the JSON `aws s3api head-object --query Metadata` prints), or else from the next
 *      digest's previousDigestSignature (the user guide's offline method: every digest but the
 *      newest is then checkable). Keys come from `list-public-keys` JSON or ListPublicKeys.
 * A digest or log file that is damaged is reported as such; it never stops the rest.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { contentOf, hashContent, hashSmall, type ContentHash } from './content-hash';
import { fetchPublicKeys, PublicKeySet, type CloudTrailClientFor } from './cloudtrail-keys';
import {
  parseDigestKey,
  parseLogFileKey,
  SIGNATURE_SIDECAR_SUFFIX,
  splitAwsLogs,
  type DigestKey,
  type LogFileKey,
} from './cloudtrail-layout';
import {
  digestSigningString,
  HASH_ALGORITHM,
  parseDigestDocument,
  SIGNATURE_ALGORITHM,
  verifyDigestSignature,
  type DigestDocument,
} from './cloudtrail-digest-file';
import {
  addCounts,
  countOf,
  emptyCounts,
  linkStatusOf,
  outcomeOf,
  sortProblems,
  type ChainBreak,
  type ChainReport,
  type FileResult,
  type LinkResult,
  type Problem,
  type SignatureCheck,
  type SignatureSource,
  type VerifyReport,
} from './report';
import { mapPool } from './pool';
import { evidenceStoreFor, type EvidenceStore } from './store';

export interface VerifyCloudTrailOptions {
  /** A folder or s3:// prefix holding `AWSLogs/` (at any depth). */
  root: string;
  /** Public keys already loaded (from --public-keys files). */
  keys?: PublicKeySet;
  /** Fetch the keys of the digests' regions and period with ListPublicKeys through these clients. */
  fetchKeys?: CloudTrailClientFor;
  s3Client?: S3Client;
  /** Log files hashed at once (default 4: enough to overlap reads with inflating and hashing). */
  concurrency?: number;
  /**
   * Only these accounts' digests and log files (default: every account under the root). Ingest
   * sets it when its inputs are accounts' folders: it vouches for what it read, not for the tree.
   */
  accounts?: ReadonlySet<string>;
}

/** Largest digest read (stored bytes); real ones are kilobytes to a few megabytes. */
const DIGEST_LIMIT = 64 * 1024 * 1024;
const DIGEST_CONTENT_LIMIT = 256 * 1024 * 1024;
const SIDECAR_LIMIT = 64 * 1024;
/** Log files up to this size (stored) are read whole and inflated in one go; bigger ones are streamed. */
const SMALL_FILE = 1024 * 1024;
/**
 * A log file's name carries about the time it was delivered; the digest of the period it was
 * delivered in lists it. A file stamped less than this before the end of the last covered
 * period may be listed by the digest after it, not yet delivered, so it counts as uncovered.
 */
const DELIVERY_SLACK_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
/** Digest periods are an hour; one that starts this much later than the previous one ended leaves a hole. */
const GAP_TOLERANCE_MS = 5 * 60_000;

interface StoredSignature {
  hex: string;
  algorithm: string | null;
  source: SignatureSource;
}

interface Digest {
  path: string;
  key: DigestKey;
  streamId: string;
  /** Organization, account and region: the log folder whose files it may list. */
  scopeId: string;
  sha256: string | null;
  doc: DigestDocument | null;
  problems: Problem[];
  stored: StoredSignature | null;
  /** The digest after it that names it as previous (it then records this one's signature). */
  referencedBy: Digest | null;
  misplaced: boolean;
  signature: SignatureCheck;
}

export async function verifyCloudTrail(options: VerifyCloudTrailOptions): Promise<VerifyReport> {
  const store = evidenceStoreFor(options.root, { s3Client: options.s3Client });
  try {
    return await verifyStore(store, options);
  } finally {
    store.close();
  }
}

async function verifyStore(store: EvidenceStore, options: VerifyCloudTrailOptions): Promise<VerifyReport> {
  const keys = options.keys ?? new PublicKeySet();
  const concurrency = Math.max(1, options.concurrency ?? 4);

  // Every object once: what exists is what the digests are checked against.
  const objects = new Map<string, number>();
  const digestKeys: Array<{ path: string; key: DigestKey }> = [];
  const logFiles: Array<{ path: string; key: LogFileKey }> = [];
  const wanted = (account: string) => !options.accounts || options.accounts.has(account);
  for await (const object of store.list()) {
    objects.set(object.key, object.size);
    const digestKey = parseDigestKey(object.key);
    if (digestKey) {
      if (wanted(digestKey.account)) digestKeys.push({ path: object.key, key: digestKey });
      continue;
    }
    const logKey = parseLogFileKey(object.key);
    if (logKey && wanted(logKey.account)) logFiles.push({ path: object.key, key: logKey });
  }

  const digests = await mapPool(digestKeys, concurrency, (d) => readDigest(store, objects, d.path, d.key));
  const byPath = new Map(digests.map((d) => [d.path, d]));

  if (options.fetchKeys && digests.length) {
    const times = digests.flatMap((d) => (d.doc ? [Date.parse(d.doc.digestStartTime), Date.parse(d.doc.digestEndTime)] : [d.key.endMs]));
    const regions = [...new Set(digests.map((d) => d.key.region))].sort();
    await fetchPublicKeys(keys, {
      regions,
      start: new Date(Math.min(...times) - HOUR_MS),
      end: new Date(Math.max(...times) + HOUR_MS),
      clientFor: options.fetchKeys,
    });
  }

  // Streams in time order; backfill digests stand outside the hourly chain.
  const streams = new Map<string, Digest[]>();
  for (const d of digests) {
    let list = streams.get(d.streamId);
    if (!list) streams.set(d.streamId, (list = []));
    list.push(d);
  }
  const chains: Array<{ id: string; first: Digest; links: Digest[]; missing: LinkResult[]; breaks: ChainBreak[] }> = [];
  for (const [id, list] of [...streams].sort(([a], [b]) => compare(a, b))) {
    list.sort((a, b) => a.key.endMs - b.key.endMs || compare(a.path, b.path));
    const hourly = list.filter((d) => !d.key.backfill);
    const { missing, breaks } = linkChain(hourly, byPath, objects);
    chains.push({ id, first: list[0], links: [...hourly, ...list.filter((d) => d.key.backfill)], missing, breaks });
  }

  for (const d of digests) checkSignature(d, keys);
  for (const chain of chains) checkLinks(chain.links.filter((d) => !d.key.backfill));

  // (b) every listed log file, hashed once however many digests list it.
  const listings = new Map<string, Array<{ digest: Digest; hashValue: string; hashAlgorithm: string }>>();
  for (const d of digests) {
    if (!d.doc) continue;
    for (const f of d.doc.logFiles) {
      const path = resolveExisting(objects, mapToLocal(d, f.s3Object));
      let list = listings.get(path);
      if (!list) listings.set(path, (list = []));
      list.push({ digest: d, hashValue: f.hashValue, hashAlgorithm: f.hashAlgorithm });
    }
  }
  let bytesHashed = 0;
  const fileResults = await mapPool([...listings.keys()].sort(compare), concurrency, async (path): Promise<FileResult> => {
    const list = listings.get(path)!;
    const first = list[0];
    const others = list.length > 1 ? ` (and ${list.length - 1} other digest${list.length > 2 ? 's' : ''})` : '';
    const base = { path, listedIn: first.digest.path, expectedSha256: first.hashValue };
    if (!objects.has(path)) {
      return { ...base, status: 'missing', actualSha256: null, detail: `listed in ${first.digest.path}${others}; not present` };
    }
    let hashed: ContentHash | null = null;
    try {
      const size = objects.get(path) ?? 0;
      if (size <= SMALL_FILE) {
        const whole = await store.read(path, SMALL_FILE);
        if (!whole) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
        hashed = await hashSmall(whole.bytes);
      }
      hashed ??= await hashContent(await store.open(path, size));
    } catch (err) {
      const gone = isNotFound(err);
      return {
        ...base,
        status: gone ? 'missing' : 'modified',
        actualSha256: null,
        detail: gone
          ? `listed in ${first.digest.path}${others}; gone before it could be read`
          : `cannot be read: ${(err as Error).message}`,
      };
    }
    bytesHashed += hashed.contentBytes;
    if (hashed.sha256 === null) {
      return {
        ...base,
        status: 'modified',
        actualSha256: null,
        detail: `cannot be read whole (${hashed.error}); ${first.digest.path} lists its SHA-256 as ${first.hashValue}`,
      };
    }
    const matching = list.filter((l) => l.hashAlgorithm === HASH_ALGORITHM && l.hashValue === hashed.sha256);
    if (!matching.length) {
      const algorithm = list.find((l) => l.hashAlgorithm !== HASH_ALGORITHM);
      const detail = algorithm
        ? `${algorithm.digest.path} lists it with hash algorithm ${algorithm.hashAlgorithm}, not ${HASH_ALGORITHM}`
        : `the SHA-256 of its content is ${hashed.sha256}; ${first.digest.path}${others} lists ${first.hashValue}`;
      return { ...base, status: 'modified', actualSha256: hashed.sha256, detail };
    }
    const best = matching.find((l) => linkStatusOf(l.digest.problems) === 'valid') ?? matching[0];
    const bestStatus = linkStatusOf(best.digest.problems);
    return {
      path,
      listedIn: best.digest.path,
      expectedSha256: best.hashValue,
      actualSha256: hashed.sha256,
      status: bestStatus === 'valid' ? 'valid' : 'unsigned',
      detail: bestStatus === 'valid' ? null : `matches ${best.digest.path}, which is ${bestStatus.replace('_', ' ')}`,
    };
  });
  const filesByChain = new Map<string, FileResult[]>();
  for (const result of fileResults) {
    const streamId = byPath.get(result.listedIn!)!.streamId;
    let list = filesByChain.get(streamId);
    if (!list) filesByChain.set(streamId, (list = []));
    list.push(result);
  }

  // (c) objects in log folders that no digest lists.
  const covered = coveredPeriods(digests);
  const outside: FileResult[] = [];
  for (const { path, key } of logFiles) {
    if (listings.has(path)) continue;
    outside.push(outsideFile(path, key, covered.get(scopeIdOf(key)) ?? []));
  }

  const reports: ChainReport[] = chains.map((chain) => {
    const links = [...chain.links.map(toLinkResult), ...chain.missing].sort(
      (a, b) => Number(a.backfill ?? false) - Number(b.backfill ?? false) || timeOfLink(a) - timeOfLink(b) || compare(a.path, b.path),
    );
    const files = filesByChain.get(chain.id) ?? [];
    const counts = countOf(links, files, chain.breaks);
    const periods = chain.links.flatMap((d) => (d.doc ? [d.doc] : []));
    const { key } = chain.first;
    return {
      id: chain.id,
      labels: {
        trail: key.trail,
        account: key.account,
        region: key.region,
        homeRegion: key.homeRegion,
        ...(key.organization ? { organization: key.organization } : {}),
        ...(key.tree ? { prefix: key.tree.replace(/\/$/, '') } : {}),
      },
      outcome: outcomeOf(counts),
      range: {
        start: periods.length ? periods.map((p) => p.digestStartTime).sort(byTime)[0] : null,
        end: periods.length ? periods.map((p) => p.digestEndTime).sort(byTime)[periods.length - 1] : null,
      },
      links,
      files,
      breaks: chain.breaks,
      counts,
    };
  });

  const counts = reports.reduce((acc, r) => addCounts(acc, r.counts), emptyCounts());
  addCounts(counts, countOf([], outside, []));
  let outcome = outcomeOf(counts);
  const notes = [...keys.notes];
  if (!digests.length) {
    notes.push(`no CloudTrail digest files under ${options.root}: nothing vouches for its log files (is log file validation on?)`);
    if (outcome === 'verified') outcome = 'unproven';
  }
  const checked = digests.filter((d) => d.signature.status === 'valid' || d.signature.status === 'invalid').length;
  const readable = digests.filter((d) => d.doc).length;
  let note: string | null = null;
  if (readable > checked) {
    note =
      keys.size === 0
        ? 'signatures not checked: no public keys (give --public-keys with the output of `aws cloudtrail list-public-keys`, or --fetch-keys)'
        : `${readable - checked} of ${readable} digest signatures not checked (no signature found, or no key with their fingerprint)`;
  }
  return {
    kind: 'cloudtrail',
    root: options.root,
    verifiedAt: new Date().toISOString(),
    outcome,
    signatures: { checked, notChecked: readable - checked, note },
    chains: reports,
    outside: outside.sort((a, b) => compare(a.path, b.path)),
    notes,
    counts,
    bytesHashed,
  };
}

async function readDigest(store: EvidenceStore, objects: Map<string, number>, path: string, key: DigestKey): Promise<Digest> {
  const scopeId = scopeIdOf(key);
  const streamId = [scopeId, key.trail, key.homeRegion].join('/');
  const digest: Digest = {
    path,
    key,
    streamId,
    scopeId,
    sha256: null,
    doc: null,
    problems: [],
    stored: null,
    referencedBy: null,
    misplaced: false,
    signature: { status: 'unsigned', source: null, keyFingerprint: null },
  };
  const malformed = (detail: string) => digest.problems.push({ code: 'malformed', detail });
  let object;
  try {
    object = await store.read(path, DIGEST_LIMIT);
  } catch (err) {
    malformed(`cannot be read: ${(err as Error).message}`);
    return digest;
  }
  if (!object) {
    digest.problems.push({ code: 'missing', detail: 'listed, then gone before it could be read' });
    return digest;
  }
  let content: Buffer;
  try {
    content = contentOf(object.bytes, DIGEST_CONTENT_LIMIT).content;
  } catch (err) {
    malformed((err as Error).message);
    return digest;
  }
  digest.sha256 = createHash('sha256').update(content).digest('hex');
  const parsed = parseDigestDocument(content);
  if ('error' in parsed) {
    malformed(parsed.error);
    return digest;
  }
  const doc = parsed.doc;
  digest.doc = doc;

  // Where it claims to have been delivered must be where it is (the .gz of a local copy may be gone).
  const claimed = splitAwsLogs(doc.digestS3Object)?.suffix ?? doc.digestS3Object;
  if (withoutGz(claimed) !== withoutGz(key.suffix)) {
    digest.misplaced = true;
    digest.problems.push({ code: 'misplaced', detail: `found at ${path}, but its content names it ${doc.digestS3Object}` });
  }

  const metadataSignature = object.metadata['signature'];
  if (metadataSignature) {
    digest.stored = { hex: metadataSignature.trim(), algorithm: object.metadata['signature-algorithm'] ?? null, source: 'metadata' };
  } else {
    const sidecar = path + SIGNATURE_SIDECAR_SUFFIX;
    if (objects.has(sidecar)) {
      try {
        const text = (await store.read(sidecar, SIDECAR_LIMIT))?.bytes.toString('utf8').trim() ?? '';
        digest.stored = sidecarSignature(text);
      } catch (err) {
        digest.problems.push({
          code: 'signature_invalid',
          detail: `its signature file ${sidecar} cannot be read: ${(err as Error).message}`,
        });
      }
    }
  }
  return digest;
}

/** A sidecar holds the hex signature, or the metadata JSON `aws s3api head-object --query Metadata` prints. */
function sidecarSignature(text: string): StoredSignature {
  if (text.startsWith('{')) {
    try {
      const metadata = JSON.parse(text) as Record<string, unknown>;
      const hex = metadata['signature'] ?? metadata['x-amz-meta-signature'];
      const algorithm = metadata['signature-algorithm'] ?? metadata['x-amz-meta-signature-algorithm'];
      return {
        hex: typeof hex === 'string' ? hex.trim() : '',
        algorithm: typeof algorithm === 'string' ? algorithm : null,
        source: 'sidecar',
      };
    } catch {
      return { hex: '', algorithm: null, source: 'sidecar' };
    }
  }
  return { hex: text, algorithm: null, source: 'sidecar' };
}

/**
 * Pass 1 of the chain walk: which digest names which as previous (by location only), and the
 * restarts and gaps. Hash and signature agreement along each link is checked after signatures.
 */
function linkChain(
  hourly: Digest[],
  byPath: Map<string, Digest>,
  objects: Map<string, number>,
): { missing: LinkResult[]; breaks: ChainBreak[] } {
  const missing: LinkResult[] = [];
  const breaks: ChainBreak[] = [];
  hourly.forEach((cur, i) => {
    const prev: Digest | undefined = hourly[i - 1];
    const doc = cur.doc;
    const prevEnd = prev ? (prev.doc && !prev.misplaced ? prev.doc.digestEndTime : prev.key.end) : null;
    // A digest that cannot be read, or sits in another's place, cannot say where the chain goes;
    // its name still gives its time, so a whole period missing before it is still a gap.
    if (!doc || cur.misplaced) {
      const startMs = cur.key.endMs - HOUR_MS;
      if (prev && prevEnd && startMs - Date.parse(prevEnd) > GAP_TOLERANCE_MS) {
        breaks.push({
          kind: 'gap',
          after: prev.path,
          before: cur.path,
          from: prevEnd,
          to: iso(startMs),
          missing: [],
          detail: `no digest covers ${prevEnd} to about ${iso(startMs)}, between ${prev.path} and ${cur.path}; the digest after the hole cannot be used, so the missing digests cannot be named (nor a restart told apart)`,
        });
      }
      return;
    }
    if (!doc.previous) {
      if (prev) {
        breaks.push({
          kind: 'restart',
          after: prev.path,
          before: cur.path,
          from: prevEnd,
          to: doc.digestStartTime,
          missing: [],
          detail: `starts a new chain: logging or log file validation was stopped after ${prevEnd} and started again at ${doc.digestStartTime}`,
        });
      }
      return;
    }
    const target = resolveExisting(objects, mapToLocal(cur, doc.previous.s3Object));
    const named = byPath.get(target);
    if (named && named === prev) {
      prev.referencedBy = cur;
      return;
    }
    const targetMs = parseDigestKey(target)?.endMs ?? null;
    if (!named && prev === undefined) {
      breaks.push({
        kind: 'open_start',
        after: null,
        before: cur.path,
        from: null,
        to: doc.digestStartTime,
        missing: [target],
        detail: `the chain continues before ${cur.path}: its previous digest ${target} is not in the input`,
      });
      return;
    }
    if (!named && prev && (targetMs === null || targetMs > prev.key.endMs) && (targetMs === null || targetMs < cur.key.endMs)) {
      const hours = prevEnd ? Math.round((Date.parse(doc.digestStartTime) - Date.parse(prevEnd)) / HOUR_MS) : null;
      missing.push({
        path: target,
        status: 'missing',
        problems: [{ code: 'missing', detail: `${cur.path} names it as its previous digest; it is not present` }],
        period: null,
        sha256: null,
        signature: { status: 'unsigned', source: null, keyFingerprint: null },
        files: 0,
      });
      breaks.push({
        kind: 'gap',
        after: prev.path,
        before: cur.path,
        from: prevEnd,
        to: doc.digestStartTime,
        missing: [target],
        detail: `digests are missing between ${prev.path} and ${cur.path}: no evidence from ${prevEnd} to ${doc.digestStartTime}${hours && hours > 0 ? ` (about ${hours} hour${hours > 1 ? 's' : ''})` : ''}`,
      });
      return;
    }
    const where = named
      ? named.key.endMs >= cur.key.endMs
        ? 'a digest that is not earlier'
        : 'an earlier digest'
      : 'a digest that is not present';
    cur.problems.push({
      code: 'chain_broken',
      detail: `names ${target} (${where}) as its previous digest, but the digest before it is ${prev ? prev.path : 'none'}`,
    });
  });
  return { missing, breaks };
}

/** (d) The digest's own signature, else the one the next digest recorded for it. */
function checkSignature(d: Digest, keys: PublicKeySet): void {
  const doc = d.doc;
  if (!doc || d.sha256 === null) return;
  const recorded = d.referencedBy?.doc?.previous?.signature;
  const signature: StoredSignature | null = d.stored ?? (recorded ? { hex: recorded, algorithm: null, source: 'next-link' } : null);
  const fingerprint = doc.digestPublicKeyFingerprint;
  if (!signature) {
    d.signature = { status: 'unsigned', source: null, keyFingerprint: fingerprint };
    d.problems.push({
      code: 'unsigned',
      detail: `no signature: none in its object metadata, no ${SIGNATURE_SIDECAR_SUFFIX} file beside it, and no later digest records it`,
    });
    return;
  }
  const invalid = (detail: string) => {
    d.signature = { status: 'invalid', source: signature.source, keyFingerprint: fingerprint };
    d.problems.push({ code: 'signature_invalid', detail });
  };
  const algorithm = signature.algorithm ?? doc.digestSignatureAlgorithm;
  if (algorithm !== SIGNATURE_ALGORITHM || doc.digestSignatureAlgorithm !== SIGNATURE_ALGORITHM) {
    return invalid(
      `signature algorithm ${algorithm !== SIGNATURE_ALGORITHM ? algorithm : doc.digestSignatureAlgorithm} is not ${SIGNATURE_ALGORITHM}`,
    );
  }
  const key = keys.get(fingerprint);
  if (!key) {
    d.signature = { status: 'key_unknown', source: signature.source, keyFingerprint: fingerprint };
    d.problems.push({
      code: 'key_unknown',
      detail:
        keys.size === 0
          ? `signature not checked: no public keys given`
          : `signature not checked: no public key with fingerprint ${fingerprint} among the ${keys.size} known`,
    });
    return;
  }
  if (!verifyDigestSignature(digestSigningString(doc, d.sha256), signature.hex, key.key)) {
    return invalid(`its signature (${signature.source}) does not verify with public key ${fingerprint}`);
  }
  d.signature = { status: 'valid', source: signature.source, keyFingerprint: fingerprint };
}

/** Pass 2: along each link, the next digest's record of the previous one must match it. */
function checkLinks(hourly: Digest[]): void {
  for (const prev of hourly) {
    const cur = prev.referencedBy;
    const recorded = cur?.doc?.previous;
    if (!cur || !recorded) continue;
    if (recorded.hashAlgorithm !== null && recorded.hashAlgorithm !== HASH_ALGORITHM) {
      cur.problems.push({
        code: 'chain_broken',
        detail: `records ${prev.path} with hash algorithm ${recorded.hashAlgorithm}, not ${HASH_ALGORITHM}`,
      });
    } else if (prev.sha256 !== recorded.hashValue) {
      const actual = prev.sha256 === null ? 'it cannot be read whole' : `its SHA-256 is ${prev.sha256}`;
      if (cur.signature.status === 'invalid') {
        // The record itself is not authentic: the fault is the next digest's.
        cur.problems.push({
          code: 'chain_broken',
          detail: `records SHA-256 ${recorded.hashValue} for ${prev.path}, whose content differs (${actual})`,
        });
      } else {
        prev.problems.push({ code: 'modified', detail: `${actual}; ${cur.path} recorded ${recorded.hashValue}` });
      }
    }
    if (prev.stored && prev.stored.hex.toLowerCase() !== recorded.signature.trim().toLowerCase()) {
      if (cur.signature.status === 'invalid') {
        cur.problems.push({ code: 'chain_broken', detail: `records another signature for ${prev.path} than the one stored with it` });
      } else {
        prev.problems.push({
          code: 'modified',
          detail: `the signature stored with it (${prev.stored.source}) is not the one ${cur.path} recorded`,
        });
      }
    }
  }
}

function toLinkResult(d: Digest): LinkResult {
  const problems = sortProblems(dedupe(d.problems));
  return {
    path: d.path,
    status: linkStatusOf(problems),
    problems,
    period: d.doc ? { start: d.doc.digestStartTime, end: d.doc.digestEndTime } : null,
    sha256: d.sha256,
    signature: d.signature,
    files: d.doc?.logFiles.length ?? 0,
    ...(d.key.backfill ? { backfill: true } : {}),
  };
}

/** Merged [start, end] periods (epoch ms) the readable, well-placed digests cover, per log folder. */
function coveredPeriods(digests: readonly Digest[]): Map<string, Array<[number, number]>> {
  const byScope = new Map<string, Array<[number, number]>>();
  for (const d of digests) {
    if (!d.doc || d.misplaced) continue;
    let list = byScope.get(d.scopeId);
    if (!list) byScope.set(d.scopeId, (list = []));
    list.push([Date.parse(d.doc.digestStartTime), Date.parse(d.doc.digestEndTime)]);
  }
  for (const [scope, list] of byScope) {
    list.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [s, e] of list) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    byScope.set(scope, merged);
  }
  return byScope;
}

function outsideFile(path: string, key: LogFileKey, periods: Array<[number, number]>): FileResult {
  const base = { path, listedIn: null, expectedSha256: null, actualSha256: null };
  const scope = `${key.organization ? `${key.organization}/` : ''}${key.account}/${key.region}`;
  if (key.stampMs === null) {
    return periods.length
      ? {
          ...base,
          status: 'unlisted',
          detail: `not a CloudTrail log file name, in a log folder (${scope}) that digests cover; listed in none`,
        }
      : { ...base, status: 'uncovered', detail: `no digest covers ${scope}` };
  }
  const t = key.stampMs;
  const within = periods.find(([s, e]) => s <= t && t + DELIVERY_SLACK_MS <= e);
  if (within) {
    return {
      ...base,
      status: 'unlisted',
      detail: `delivered ${iso(t)}, inside the period ${iso(within[0])} … ${iso(within[1])} the digests of ${scope} cover; listed in none`,
    };
  }
  return { ...base, status: 'uncovered', detail: periods.length ? `no digest of ${scope} covers ${iso(t)}` : `no digest covers ${scope}` };
}

/** A key the digest names (in the bucket it was delivered to) as a path under the verified root. */
function mapToLocal(d: Digest, originalKey: string): string {
  const claimedTree = d.doc ? (splitAwsLogs(d.doc.digestS3Object)?.tree ?? '') : '';
  if (originalKey.startsWith(claimedTree)) return d.key.tree + originalKey.slice(claimedTree.length);
  const split = splitAwsLogs(originalKey);
  return split ? d.key.tree + split.suffix : originalKey;
}

/** The key as named, or its uncompressed twin when only that is present (a local copy gunzipped). */
function resolveExisting(objects: Map<string, number>, key: string): string {
  if (objects.has(key)) return key;
  if (key.endsWith('.gz') && objects.has(key.slice(0, -3))) return key.slice(0, -3);
  return key;
}

function scopeIdOf(key: { tree: string; organization: string | null; account: string; region: string }): string {
  return [key.tree.replace(/\/$/, ''), key.organization, key.account, key.region].filter(Boolean).join('/');
}

function timeOfLink(link: LinkResult): number {
  return parseDigestKey(link.path)?.endMs ?? (link.period ? Date.parse(link.period.end) : 0);
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.code === 'ENOENT' || e.name === 'NoSuchKey' || e.name === 'NotFound';
}

function withoutGz(key: string): string {
  return key.endsWith('.gz') ? key.slice(0, -3) : key;
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

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function byTime(a: string, b: string): number {
  return Date.parse(a) - Date.parse(b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
