/**
 * Writes CloudTrail log files and digest files in the layout AWS delivers to S3:
 *
 *   AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz
 *   AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHmmssZ>.json.gz
 *
 * One stream per account and region; each stream is cut into delivery windows of 5–10 minutes,
 * and a window with events becomes one `{"Records":[…]}` file. Every hour a digest lists the files
 * delivered in it with the SHA-256 of their uncompressed content, chained to the previous digest,
 * signed as CloudTrail signs it (SHA256withRSA, testkit/sample/cloudtrail-signing.ts) with a key
 * derived from the seed. A local copy has no S3 metadata, so each signature is written beside its
 * digest as `<digest>.sig` (what `verify cloudtrail` reads), and the public key, as
 * `aws cloudtrail list-public-keys` prints it, to `cloudtrail-public-keys.json` at the top of the
 * sample: `scoutql verify cloudtrail <sample> --public-keys <sample>/cloudtrail-public-keys.json`.
 * Only one window's records are in memory at a time.
 */
import { gzipSync } from 'node:zlib';
import { sha256Hex } from '../../../src/core/hash';
import { listPublicKeysJson, seededTrailKey, signDigest, type TrailKey } from '../../../testkit/sample/cloudtrail-signing';
import { DAY_MS, HOUR_MS, pad, slashDate, stampMinutes, type SourceStats } from '../../../testkit/sample/output';
import { feed, storyChannel } from '../../../testkit/sample/plan';
import { ALNUM, Rng } from '../../../testkit/sample/prng';
import { defineSampleWriter, type SampleDay, type SampleWriter, type SampleWriterContext } from '../../../testkit/sample/writers';
import type { World } from '../../../testkit/sample/world';
import { randomActivity, scheduledForHour, type Stream } from './sample-baseline';
import { isoSeconds, type PlannedRecord } from './sample-records';

export type { PlannedRecord } from './sample-records';

/** The stories' CloudTrail records (any account and region). */
export const cloudTrailRecords = storyChannel<PlannedRecord>('cloudtrail', 'CloudTrail records', (r) => r.time);

/** Every record, baseline and story, in delivery order (whether or not CloudTrail's files are written). */
export const cloudTrailDeliveries = feed<PlannedRecord>('cloudtrail', 'CloudTrail records as delivered');

/** The sample's CloudTrail public key, as `aws cloudtrail list-public-keys` prints it (top of the sample folder, beside sample.json). */
export const SAMPLE_PUBLIC_KEYS_FILE = 'cloudtrail-public-keys.json';

/** A digest's signature beside it (a local copy has no S3 object metadata). */
const SIGNATURE_SUFFIX = '.sig';

export type CloudTrailStats = {
  logFiles: number;
  digestFiles: number;
  records: number;
  bytes: number;
};

interface LogFileEntry {
  s3Object: string;
  hashValue: string;
  oldestEventTime: string;
  newestEventTime: string;
}

interface StreamState {
  stream: Stream;
  key: string;
  windowRng: Rng;
  nextWindowStart: number;
  digestEnd: number;
  digestStart: number;
  pending: LogFileEntry[];
  previous?: { s3Object: string; hashValue: string; signature: string };
}

function stampSeconds(ms: number): string {
  const d = new Date(ms);
  return `${stampMinutes(ms).slice(0, -1)}${pad(d.getUTCSeconds())}Z`;
}

export function streamKey(account: string, region: string): string {
  return `${account}/${region}`;
}

export class CloudTrailWriter implements SampleWriter {
  private readonly counts: CloudTrailStats = { logFiles: 0, digestFiles: 0, records: 0, bytes: 0 };
  private readonly states: StreamState[] = [];
  private readonly periodStart: number;
  private readonly periodEnd: number;
  private signingKey: TrailKey | null = null;

  private readonly world: World;

  /** With `write: false` the records are computed but not written (another source derives its lines from them). */
  constructor(private readonly ctx: SampleWriterContext) {
    const world = ctx.world;
    this.world = world;
    this.periodStart = world.start.getTime();
    this.periodEnd = this.periodStart + world.days * DAY_MS;
    for (const account of Object.values(world.accounts)) {
      for (const region of world.regions) {
        const offset = new Rng(`${world.seed}:digest-offset:${account.id}:${region}`).int(60, 3000) * 1000;
        this.states.push({
          stream: { account, region },
          key: streamKey(account.id, region),
          windowRng: new Rng(`${world.seed}:windows:${account.id}:${region}`),
          nextWindowStart: this.periodStart,
          digestStart: this.periodStart + offset - HOUR_MS,
          digestEnd: this.periodStart + offset,
          pending: [],
        });
      }
    }
  }

  /**
   * Writes one day. `storyRecords` are the stories' records of this day (any stream); scheduled
   * records are computed here per hour.
   */
  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyRecords = day.items(cloudTrailRecords);
    const dayEnd = dayStart + DAY_MS;
    const byStream = new Map<string, PlannedRecord[]>();
    const add = (r: PlannedRecord): void => {
      const k = streamKey(r.account, r.region);
      let list = byStream.get(k);
      if (!list) byStream.set(k, (list = []));
      list.push(r);
    };
    for (let hour = dayStart; hour < dayEnd; hour += HOUR_MS) for (const r of scheduledForHour(this.world, hour)) add(r);
    for (const r of storyRecords) add(r);
    for (const list of byStream.values()) list.sort((a, b) => a.time - b.time);

    for (const state of this.states) {
      const fixed = byStream.get(state.key) ?? [];
      let cursor = 0;
      while (state.nextWindowStart < dayEnd) {
        const ws = state.nextWindowStart;
        const we = Math.min(dayEnd, ws + state.windowRng.int(5, 10) * 60_000);
        state.nextWindowStart = we;
        const records = randomActivity(this.world, this.ctx.scale, state.stream, ws, we);
        while (cursor < fixed.length && fixed[cursor].time < we) {
          if (fixed[cursor].time >= ws) records.push(fixed[cursor]);
          cursor++;
        }
        if (records.length === 0) continue;
        records.sort((a, b) => a.time - b.time);
        const delivered = we + state.windowRng.int(30, 240) * 1000;
        this.writeLogFile(state, records, delivered);
      }
    }
  }

  /** Flushes the remaining digests (the hour after the last delivery), then writes the public key. */
  finish(): void {
    if (!this.ctx.write) return;
    for (const state of this.states) {
      while (state.digestEnd <= this.periodEnd + HOUR_MS) this.writeDigest(state);
    }
    // Not a log file: outside AWSLogs/, and not counted in the source's files.
    this.ctx.output.write(SAMPLE_PUBLIC_KEYS_FILE, listPublicKeysJson([this.key]) + '\n');
  }

  /** The trail's signing key, derived from the seed (made on first use: it takes a moment). */
  private get key(): TrailKey {
    // Valid from a day before the first digest to a day after the last, as a regional key would be.
    this.signingKey ??= seededTrailKey(
      `${this.world.seed}:cloudtrail-digest-key`,
      new Date(this.periodStart - DAY_MS),
      new Date(this.periodEnd + DAY_MS),
    );
    return this.signingKey;
  }

  private writeLogFile(state: StreamState, records: PlannedRecord[], delivered: number): void {
    for (const r of records) this.ctx.feeds.publish(cloudTrailDeliveries, r);
    if (!this.ctx.write) {
      // Keep the file-name generator in step, so the files written are the same either way.
      state.windowRng.chars(ALNUM, 16);
      return;
    }
    while (delivered >= state.digestEnd) this.writeDigest(state);
    const { account, region } = state.stream;
    const name = `${account.id}_CloudTrail_${region}_${stampMinutes(delivered)}_${state.windowRng.chars(ALNUM, 16)}.json.gz`;
    const key = `AWSLogs/${account.id}/CloudTrail/${region}/${slashDate(delivered)}/${name}`;
    const parts: string[] = [];
    for (const r of records) parts.push(JSON.stringify(r.record));
    const text = `{"Records":[${parts.join(',')}]}`;
    const body = gzipSync(text);
    this.put(key, body);
    this.counts.logFiles++;
    this.counts.records += records.length;
    state.pending.push({
      s3Object: key,
      hashValue: sha256Hex(text),
      oldestEventTime: isoSeconds(records[0].time),
      newestEventTime: isoSeconds(records[records.length - 1].time),
    });
  }

  private writeDigest(state: StreamState): void {
    const { account, region } = state.stream;
    const trail = this.world.orgTrail;
    const end = state.digestEnd;
    const name = `${account.id}_CloudTrail-Digest_${region}_${trail.name}_${trail.homeRegion}_${stampSeconds(end)}.json.gz`;
    const key = `AWSLogs/${account.id}/CloudTrail-Digest/${region}/${slashDate(end)}/${name}`;
    const files = state.pending;
    const times = files.flatMap((f) => [f.oldestEventTime, f.newestEventTime]).sort();
    const digest = {
      awsAccountId: account.id,
      digestStartTime: isoSeconds(state.digestStart),
      digestEndTime: isoSeconds(end),
      digestS3Bucket: trail.bucket,
      digestS3Object: key,
      digestPublicKeyFingerprint: this.key.fingerprint,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: times.length ? times[times.length - 1] : null,
      oldestEventTime: times.length ? times[0] : null,
      previousDigestS3Bucket: state.previous ? trail.bucket : null,
      previousDigestS3Object: state.previous?.s3Object ?? null,
      previousDigestHashValue: state.previous?.hashValue ?? null,
      previousDigestHashAlgorithm: state.previous ? 'SHA-256' : null,
      previousDigestSignature: state.previous?.signature ?? null,
      logFiles: files.map((f) => ({
        s3Bucket: trail.bucket,
        s3Object: f.s3Object,
        hashValue: f.hashValue,
        hashAlgorithm: 'SHA-256',
        newestEventTime: f.newestEventTime,
        oldestEventTime: f.oldestEventTime,
      })),
    };
    const text = JSON.stringify(digest);
    this.put(key, gzipSync(text));
    this.counts.digestFiles++;
    const hashValue = sha256Hex(text);
    const signature = signDigest(
      {
        digestEndTime: digest.digestEndTime,
        digestS3Bucket: digest.digestS3Bucket,
        digestS3Object: key,
        contentSha256: hashValue,
        previousSignature: digest.previousDigestSignature,
      },
      this.key.privateKey,
    );
    // Beside the digest, as S3's x-amz-meta-signature would be; not counted as a log file.
    this.ctx.output.write(key + SIGNATURE_SUFFIX, signature);
    state.previous = { s3Object: key, hashValue, signature };
    state.pending = [];
    state.digestStart = end;
    state.digestEnd = end + HOUR_MS;
  }

  private put(key: string, body: Buffer): void {
    this.counts.bytes += this.ctx.output.write(key, body);
  }

  /** Log and digest files count as the source's files. */
  get stats(): SourceStats {
    const c = this.counts;
    return { files: c.logFiles + c.digestFiles, records: c.records, bytes: c.bytes };
  }

  section(): Record<string, number> {
    return { ...this.counts };
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'cloudtrail',
  emptySection: (): CloudTrailStats => ({ logFiles: 0, digestFiles: 0, records: 0, bytes: 0 }),
  create: (ctx) => new CloudTrailWriter(ctx),
});
