/**
 * Writes CloudTrail log files and digest files in the layout AWS delivers to S3:
 *
 *   AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz
 *   AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHmmssZ>.json.gz
 *
 * One stream per account and region; each stream is cut into delivery windows of 5–10 minutes,
 * and a window with events becomes one `{"Records":[…]}` file. Every hour a digest lists the files
 * delivered in it with the SHA-256 of their uncompressed content, chained to the previous digest.
 * Only one window's records are in memory at a time.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DAY, HOUR, randomActivity, scheduledForHour, type Stream } from './cloudtrail-baseline';
import { isoSeconds, type PlannedRecord } from './cloudtrail-records';
import { type ObjectOutput, pad, slashDate, stampMinutes } from './output';
import { ALNUM, Rng } from './prng';
import type { World } from './world';

export interface CloudTrailStats {
  logFiles: number;
  digestFiles: number;
  records: number;
  bytes: number;
}

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

export class CloudTrailWriter {
  readonly stats: CloudTrailStats = { logFiles: 0, digestFiles: 0, records: 0, bytes: 0 };
  private readonly states: StreamState[] = [];
  private readonly periodStart: number;
  private readonly periodEnd: number;
  private readonly fingerprint: string;

  /**
   * `write: false` computes the records without writing them (another source derives its lines
   * from them); `observe` sees every record in delivery order.
   */
  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
    private readonly options: { write?: boolean; observe?: (record: PlannedRecord) => void } = {},
  ) {
    this.periodStart = world.start.getTime();
    this.periodEnd = this.periodStart + world.days * DAY;
    this.fingerprint = new Rng(`${world.seed}:digest-key`).hex(32);
    for (const account of Object.values(world.accounts)) {
      for (const region of world.regions) {
        const offset = new Rng(`${world.seed}:digest-offset:${account.id}:${region}`).int(60, 3000) * 1000;
        this.states.push({
          stream: { account, region },
          key: streamKey(account.id, region),
          windowRng: new Rng(`${world.seed}:windows:${account.id}:${region}`),
          nextWindowStart: this.periodStart,
          digestStart: this.periodStart + offset - HOUR,
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
  writeDay(dayStart: number, storyRecords: readonly PlannedRecord[]): void {
    const dayEnd = dayStart + DAY;
    const byStream = new Map<string, PlannedRecord[]>();
    const add = (r: PlannedRecord): void => {
      const k = streamKey(r.account, r.region);
      let list = byStream.get(k);
      if (!list) byStream.set(k, (list = []));
      list.push(r);
    };
    for (let hour = dayStart; hour < dayEnd; hour += HOUR) for (const r of scheduledForHour(this.world, hour)) add(r);
    for (const r of storyRecords) add(r);
    for (const list of byStream.values()) list.sort((a, b) => a.time - b.time);

    for (const state of this.states) {
      const fixed = byStream.get(state.key) ?? [];
      let cursor = 0;
      while (state.nextWindowStart < dayEnd) {
        const ws = state.nextWindowStart;
        const we = Math.min(dayEnd, ws + state.windowRng.int(5, 10) * 60_000);
        state.nextWindowStart = we;
        const records = randomActivity(this.world, this.scale, state.stream, ws, we);
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

  /** Flushes the remaining digests (the hour after the last delivery). */
  finish(): void {
    if (this.options.write === false) return;
    for (const state of this.states) {
      while (state.digestEnd <= this.periodEnd + HOUR) this.writeDigest(state);
    }
  }

  private writeLogFile(state: StreamState, records: PlannedRecord[], delivered: number): void {
    if (this.options.observe) for (const r of records) this.options.observe(r);
    if (this.options.write === false) {
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
    this.stats.logFiles++;
    this.stats.records += records.length;
    state.pending.push({
      s3Object: key,
      hashValue: createHash('sha256').update(text).digest('hex'),
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
      digestPublicKeyFingerprint: this.fingerprint,
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
    this.stats.digestFiles++;
    // AWS signs each digest with its private key and keeps the signature in the object's
    // metadata; the sample cannot sign as AWS, so it chains a stand-in of the same length.
    const hashValue = createHash('sha256').update(text).digest('hex');
    const signature = createHash('sha512').update(`${this.world.seed}:${hashValue}`).digest('hex').repeat(4);
    state.previous = { s3Object: key, hashValue, signature };
    state.pending = [];
    state.digestStart = end;
    state.digestEnd = end + HOUR;
  }

  private put(key: string, body: Buffer): void {
    this.stats.bytes += this.output.write(key, body);
  }
}
