/**
 * Where CloudTrail delivers log and digest files, and what their keys say (user guide, "Finding
 * your CloudTrail log files" and "CloudTrail digest file structure"):
 *
 *   [prefix/]AWSLogs/[o-orgid/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
 *   [prefix/]AWSLogs/[o-orgid/]<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/
 *       <acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz
 *
 * The organization folder is there for organization trails. Trail names may contain `_`, regions
 * never do, so the trail is what lies between the delivery region and the home region.
 */

/** A key split at its first `AWSLogs/` folder: what precedes it (the bucket prefix) and the rest. */
export interface AwsLogsKey {
  /** '' or ends with '/'. */
  tree: string;
  /** From `AWSLogs/` on. */
  suffix: string;
}

export function splitAwsLogs(key: string): AwsLogsKey | null {
  const m = /^((?:[^/]+\/)*?)(AWSLogs\/.*)$/.exec(key);
  return m ? { tree: m[1], suffix: m[2] } : null;
}

export interface DigestKey extends AwsLogsKey {
  organization: string | null;
  account: string;
  /** The region the digest was delivered from (its folder). */
  region: string;
  trail: string;
  homeRegion: string;
  /** The digest end time its name carries. */
  end: string;
  endMs: number;
  backfill: boolean;
}

const DIGEST_KEY =
  /^AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\d{12}_CloudTrail-Digest_[a-z0-9-]+_(.+)_([a-z0-9-]+)_(\d{8}T\d{6}Z)(_backfill)?\.json(?:\.gz)?$/;

export function parseDigestKey(key: string): DigestKey | null {
  const split = splitAwsLogs(key);
  if (!split) return null;
  const m = DIGEST_KEY.exec(split.suffix);
  if (!m) return null;
  const endMs = stampToMs(m[6]);
  if (endMs === null) return null;
  return {
    ...split,
    organization: m[1] ?? null,
    account: m[2],
    region: m[3],
    trail: m[4],
    homeRegion: m[5],
    end: new Date(endMs).toISOString().replace('.000Z', 'Z'),
    endMs,
    backfill: m[7] !== undefined,
  };
}

/** The sidecar holding a local digest's signature (see cloudtrail-digests.ts). */
export const SIGNATURE_SIDECAR_SUFFIX = '.sig';

export interface LogFileKey extends AwsLogsKey {
  organization: string | null;
  account: string;
  region: string;
  /** The time in the file name (minute precision), null when the name is not CloudTrail's. */
  stampMs: number | null;
}

const LOG_KEY = /^AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(.+)$/;
const LOG_NAME = /^\d{12}_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json(?:\.gz)?$/;

/** Any object in a CloudTrail log folder (whatever its name: an added file must not hide behind one). */
export function parseLogFileKey(key: string): LogFileKey | null {
  const split = splitAwsLogs(key);
  if (!split) return null;
  const m = LOG_KEY.exec(split.suffix);
  if (!m) return null;
  const name = m[4].slice(m[4].lastIndexOf('/') + 1);
  const stamp = LOG_NAME.exec(name)?.[1];
  return { ...split, organization: m[1] ?? null, account: m[2], region: m[3], stampMs: stamp ? stampToMs(stamp) : null };
}

/** `20150820T180131Z` or `20150820T1801Z` → epoch ms. */
export function stampToMs(stamp: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z$/.exec(stamp);
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  return Number.isNaN(ms) ? null : ms;
}
