/**
 * Issue 13, "loses nothing that was good": a gzip damaged part way keeps every record zlib decoded
 * whole before it met the damage. Node's zlib stream drops what the failing inflate call had
 * decoded (up to a 16 KiB chunk), so without care the good records of the last chunk were lost.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { ObjectContent } from '../../etl/objects';
import { generateSample } from '../../testkit/sample';
import { objectBytes } from '../sample/helpers';
import { lakeRows, quarantineLines, tempDir } from './helpers';

const ACCOUNT_FOLDER = 'AWSLogs/418295730146/elasticloadbalancing/us-east-1';
/** Where each copy is damaged, as a share of its compressed length. */
const CUTS = [0.13, 0.42, 0.77, 0.96];

/** Deterministic bytes that are not deflate data (a torn copy's tail): a sha256 chain. */
function junk(seed: string, length: number): Buffer {
  const out: Buffer[] = [];
  let block = createHash('sha256').update(seed).digest();
  for (let n = 0; n < length; n += block.length) {
    out.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(out).subarray(0, length);
}

/** What zlib can decode of the first `length` stored bytes without meeting an error (no end of stream needed). */
function decodable(bytes: Buffer, length: number): Buffer {
  return gunzipSync(bytes.subarray(0, length), { finishFlush: constants.Z_SYNC_FLUSH });
}

/** Everything zlib decodes before it notices the damage, found byte by byte: the most any reader can keep. */
function beforeDetection(bytes: Buffer): Buffer {
  let lo = 0;
  let hi = bytes.length;
  const ok = (n: number) => {
    try {
      decodable(bytes, n);
      return true;
    } catch {
      return false;
    }
  };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return decodable(bytes, lo);
}

/** The lines a text ends with a newline: the whole records in it. */
function wholeLines(text: Buffer): string[] {
  const s = text.toString('utf8');
  return s
    .slice(0, s.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
}

const sha1 = (line: string) => createHash('sha1').update(line).digest('hex');

async function content(bytes: Buffer): Promise<{ out: Buffer; error: string | undefined }> {
  // Two reads, as a file or an S3 body arrives: the damage falls in either.
  const cut = Math.floor(bytes.length / 3);
  const reader = new ObjectContent({
    key: 'damaged.log.gz',
    size: bytes.length,
    open: () => Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]),
  });
  const chunks: Buffer[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return { out: Buffer.concat(chunks), error: reader.error()?.message };
}

describe('a damaged gzip keeps every record decoded whole before the damage', () => {
  const dir = tempDir('corrupt-gzip');
  const damaged: { name: string; bytes: Buffer; text: Buffer; clean: Buffer }[] = [];
  let summary: IngestSummary;
  const lake = join(dir, 'lake');

  beforeAll(async () => {
    // A day of the sample's ALB access lines per object (a busy node's file; zlib's default level, as
    // ELB's): one day per damaged copy, so no two copies hold the same record.
    const sample = join(dir, 'sample');
    generateSample({ out: sample, days: CUTS.length, scale: 2, sources: ['alb'], seed: 'corrupt-gzip', start: '2026-11-02' });
    const input = join(dir, 'input', ACCOUNT_FOLDER);
    mkdirSync(input, { recursive: true });
    CUTS.forEach((share, i) => {
      const day = `2026/11/0${2 + i}`;
      const files = readdirSync(join(sample, ACCOUNT_FOLDER, day))
        .filter((f) => f.includes('_app.') && !f.startsWith('conn_log_'))
        .sort();
      const text = Buffer.concat(files.map((f) => objectBytes(sample, `${ACCOUNT_FOLDER}/${day}/${f}`)));
      const gz = gzipSync(text);
      const at = Math.floor(gz.length * share);
      const bytes = Buffer.concat([gz.subarray(0, at), junk(`cut ${share}`, 2048)]);
      const name = `418295730146_elasticloadbalancing_us-east-1_app.acme-web-prod.0123456789abcdef_2026110${2 + i}T2355Z_10.10.1.5_damaged${i}.log.gz`;
      writeFileSync(join(input, name), bytes);
      damaged.push({ name, bytes, text, clean: decodable(gz, at) });
    });
    summary = await ingest({ inputs: [join(dir, 'input')], lake, graph: false, geoip: false, workers: 1 });
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the object is big enough for a 16 KiB chunk to matter, and each damage is one zlib detects', () => {
    for (const d of damaged) {
      expect(d.text.length).toBeGreaterThan(200_000);
      expect(() => gunzipSync(d.bytes)).toThrow();
    }
  });

  test('the reader hands out every byte zlib decodes before it detects the damage, and says why it stopped', async () => {
    for (const d of damaged) {
      const { out, error } = await content(d.bytes);
      expect(out.equals(beforeDetection(d.bytes))).toBe(true);
      // What came before the damage is all there, byte for byte.
      expect(out.subarray(0, d.clean.length).equals(d.clean)).toBe(true);
      expect(error).toMatch(/^corrupt gzip: (invalid|incorrect|unexpected)/);
    }
  });

  test('ingest keeps exactly the complete records before the damage and quarantines the object with the reason', async () => {
    const rows = await lakeRows(lake, 'http_activity');
    const quarantine = quarantineLines(lake);
    for (const d of damaged) {
      // The records before the damage: the whole lines of what the undamaged bytes decode to.
      const expected = wholeLines(d.clean).map(sha1).sort();
      const fromThisObject = new Set(wholeLines(d.text).map(sha1));
      const kept = rows
        .map((r) => r.event_id as string)
        .filter((id) => fromThisObject.has(id))
        .sort();
      expect(kept).toEqual(expected);
      const mine = quarantine.filter((q) => q.object.endsWith(d.name));
      expect(mine.map((q) => q.reason)).toContainEqual(expect.stringMatching(/^corrupt gzip: /));
    }
    // Nothing is made up: every row is a whole line zlib decoded before it detected the damage. Deflate
    // cannot say where damage starts (its check is the CRC at the end), so a few lines decoded from
    // damaged bytes can still look well formed; their object's quarantine record names the damage.
    const decodedLines = new Set(damaged.flatMap((d) => wholeLines(beforeDetection(d.bytes)).map(sha1)));
    expect(rows.filter((r) => !decodedLines.has(r.event_id as string)).map((r) => r.event_id)).toEqual([]);
    const genuine = new Set(damaged.flatMap((d) => wholeLines(d.clean).map(sha1)));
    expect(rows.filter((r) => genuine.has(r.event_id as string))).toHaveLength(genuine.size);
    expect(summary.damaged_objects).toBe(CUTS.length);
  });
});
