/**
 * verify cloudtrail on a local copy of a bucket: a real-shaped, really signed trail (six hourly
 * digests, twelve log files), tampered with for real, and the exact report checked.
 */
import { readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { exampleRecords, listPublicKeysJson, TrailWriter } from '../../testkit/cloudtrail-local';
import { verifyCloudTrail } from '../../src/evidence/cloudtrail-digests';
import { addPublicKeyList, PublicKeySet } from '../../src/evidence/cloudtrail-keys';
import { renderReport } from '../../src/evidence/report';
import {
  ACCOUNT,
  editGzip,
  expected,
  findFile,
  findLink,
  HOUR,
  keysOf,
  MINUTE,
  pathOf,
  REGION,
  statuses,
  T0,
  tempDir,
  trailKey,
  writeTrail,
  type Trail,
  removeTempDirs,
} from './helpers';

afterAll(removeTempDirs);

const verify = (trail: Trail, keys: PublicKeySet | null = keysOf(trail)) => verifyCloudTrail({ root: trail.dir, keys: keys ?? undefined });

test('an untouched trail is verified: every digest signature, chain link and log file hash', async () => {
  const trail = writeTrail();
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid'));
  expect(report.outcome).toBe('verified');
  expect(report.signatures).toEqual({ checked: 6, notChecked: 0, note: null });
  expect(report.chains).toHaveLength(1);
  const chain = report.chains[0];
  expect(chain.labels).toEqual({ trail: 'management-events', account: ACCOUNT, region: REGION, homeRegion: REGION });
  expect(chain.range).toEqual({ start: '2024-03-01T00:01:31Z', end: '2024-03-01T06:01:31Z' });
  expect(chain.breaks).toEqual([]);
  expect(chain.links.every((l) => l.signature.status === 'valid' && l.signature.source === 'sidecar')).toBe(true);
  expect(chain.links.map((l) => l.sha256)).toEqual(trail.writer.digests.map((d) => d.sha256));
  expect(chain.files.map((f) => f.actualSha256)).toEqual(
    [...trail.writer.logs].sort((a, b) => (a.key < b.key ? -1 : 1)).map((l) => l.sha256),
  );
  expect(report.bytesHashed).toBeGreaterThan(0);
  expect(renderReport(report)).toContain('VERIFIED');
});

test('a log file whose content was edited (an attacker IP replaced) is modified; nothing else is', async () => {
  const trail = writeTrail();
  const target = trail.writer.logs[5];
  editGzip(pathOf(trail, target.key), (text) => text.replace('"205.251.233.', '"10.0.0.'));
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid', { files: { [target.key]: 'modified' } }));
  const file = findFile(report, target.key);
  expect(file.expectedSha256).toBe(target.sha256);
  expect(file.actualSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(file.actualSha256).not.toBe(target.sha256);
  expect(file.detail).toBe(`the SHA-256 of its content is ${file.actualSha256}; ${trail.writer.digests[2].key} lists ${target.sha256}`);
  expect(report.outcome).toBe('failed');
});

test('one byte flipped in a stored (gzip) log file: modified, because it cannot be read whole', async () => {
  const trail = writeTrail();
  const target = trail.writer.logs[0];
  const path = pathOf(trail, target.key);
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  writeFileSync(path, bytes);
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid', { files: { [target.key]: 'modified' } }));
  expect(findFile(report, target.key).detail).toMatch(/^cannot be read whole \(corrupt gzip: .+\); .+ lists its SHA-256 as [0-9a-f]{64}$/);
});

test('a deleted log file is missing', async () => {
  const trail = writeTrail();
  const target = trail.writer.logs[7];
  unlinkSync(pathOf(trail, target.key));
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid', { files: { [target.key]: 'missing' } }));
  expect(findFile(report, target.key).detail).toBe(`listed in ${trail.writer.digests[3].key}; not present`);
  expect(report.outcome).toBe('failed');
});

test('a log file added inside a covered hour is unlisted; one added after the last digest is uncovered', async () => {
  const trail = writeTrail();
  // Named and shaped as CloudTrail's own, delivered at 03:30 (inside the fourth digest's period) and at 06:20.
  const added = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/01/${ACCOUNT}_CloudTrail_${REGION}_20240301T0330Z_Zq0aD1xHyT4rB2mQ.json.gz`;
  const late = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/01/${ACCOUNT}_CloudTrail_${REGION}_20240301T0620Z_Pw9sE3kLmN7oQ1rT.json.gz`;
  const oddName = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/01/notes.json`;
  const body = gzipSync(JSON.stringify({ Records: exampleRecords(2, T0 + 3 * HOUR, T0 + 3 * HOUR + 20 * MINUTE, ACCOUNT, REGION, 99) }));
  for (const key of [added, late]) writeFileSync(pathOf(trail, key), body);
  writeFileSync(pathOf(trail, oddName), '{"Records":[]}');
  const report = await verify(trail);
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', { outside: { [added]: 'unlisted', [late]: 'uncovered', [oddName]: 'unlisted' } }),
  );
  expect(report.outside.find((f) => f.path === added)!.detail).toBe(
    `delivered 2024-03-01T03:30:00Z, inside the period 2024-03-01T00:01:31Z … 2024-03-01T06:01:31Z the digests of ${ACCOUNT}/${REGION} cover; listed in none`,
  );
  expect(report.outside.find((f) => f.path === late)!.detail).toBe(`no digest of ${ACCOUNT}/${REGION} covers 2024-03-01T06:20:00Z`);
  expect(report.outcome).toBe('failed');
});

test("two digests swapped (each file and signature at the other one's key): both misplaced, the next link shows the replaced content", async () => {
  const trail = writeTrail();
  const [, d2, d3, d4] = trail.writer.digests;
  const swap = (a: string, b: string) => {
    const tmp = `${a}.swap`;
    renameSync(a, tmp);
    renameSync(b, a);
    renameSync(tmp, b);
  };
  swap(pathOf(trail, d2.key), pathOf(trail, d3.key));
  swap(`${pathOf(trail, d2.key)}.sig`, `${pathOf(trail, d3.key)}.sig`);
  const report = await verify(trail);
  const listedBySwapped = Object.fromEntries([...d2.logFiles, ...d3.logFiles].map((k) => [k, 'unsigned']));
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', { links: { [d2.key]: 'misplaced', [d3.key]: 'misplaced' }, files: listedBySwapped }),
  );
  expect(findLink(report, d2.key).problems).toEqual([
    { code: 'misplaced', detail: `found at ${d2.key}, but its content names it ${d3.key}` },
  ]);
  expect(findLink(report, d3.key).problems).toEqual([
    { code: 'misplaced', detail: `found at ${d3.key}, but its content names it ${d2.key}` },
    { code: 'modified', detail: `its SHA-256 is ${d2.sha256}; ${d4.key} recorded ${d3.sha256}` },
    { code: 'modified', detail: `the signature stored with it (sidecar) is not the one ${d4.key} recorded` },
  ]);
  expect(findFile(report, d2.logFiles[0]).detail).toBe(`matches ${d3.key}, which is misplaced`);
  expect(report.outcome).toBe('failed');
});

test('two log files swapped: both modified', async () => {
  const trail = writeTrail();
  const [a, b] = [trail.writer.logs[2], trail.writer.logs[9]];
  const tmp = `${pathOf(trail, a.key)}.swap`;
  renameSync(pathOf(trail, a.key), tmp);
  renameSync(pathOf(trail, b.key), pathOf(trail, a.key));
  renameSync(tmp, pathOf(trail, b.key));
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid', { files: { [a.key]: 'modified', [b.key]: 'modified' } }));
  expect(findFile(report, a.key).actualSha256).toBe(b.sha256);
});

test('a removed digest is a gap: named missing, the hour without evidence given, its log files uncovered', async () => {
  const trail = writeTrail();
  const [, d2, d3, d4] = trail.writer.digests;
  unlinkSync(pathOf(trail, d3.key));
  unlinkSync(`${pathOf(trail, d3.key)}.sig`);
  const report = await verify(trail);
  const uncovered = Object.fromEntries(d3.logFiles.map((k) => [k, 'uncovered']));
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [d3.key]: 'missing' },
      files: Object.fromEntries(d3.logFiles.map((k) => [k, 'outside'])),
      outside: uncovered,
    }),
  );
  expect(report.chains[0].breaks).toEqual([
    {
      kind: 'gap',
      after: d2.key,
      before: d4.key,
      from: '2024-03-01T02:01:31Z',
      to: '2024-03-01T03:01:31Z',
      missing: [d3.key],
      detail: `digests are missing between ${d2.key} and ${d4.key}: no evidence from 2024-03-01T02:01:31Z to 2024-03-01T03:01:31Z (about 1 hour)`,
    },
  ]);
  expect(findLink(report, d3.key).problems).toEqual([
    { code: 'missing', detail: `${d4.key} names it as its previous digest; it is not present` },
  ]);
  expect(report.outcome).toBe('failed');
});

test('logging stopped for two hours and started again: a restart with the period named; every file still valid', async () => {
  const trail = writeTrail({ restartAt: 3, restartGapHours: 2 });
  const [, , d3, d4] = trail.writer.digests;
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid'));
  expect(report.chains[0].breaks).toEqual([
    {
      kind: 'restart',
      after: d3.key,
      before: d4.key,
      from: '2024-03-01T03:01:31Z',
      to: '2024-03-01T05:01:31Z',
      missing: [],
      detail: `starts a new chain: logging or log file validation was stopped after 2024-03-01T03:01:31Z and started again at 2024-03-01T05:01:31Z`,
    },
  ]);
  expect(report.outcome).toBe('failed');
});

test("a digest signed with another key (naming AWS's fingerprint): signature invalid; its log files unsigned", async () => {
  const trail = writeTrail({ forgeAt: 2 });
  const d3 = trail.writer.digests[2];
  const report = await verify(trail);
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [d3.key]: 'signature_invalid' },
      files: Object.fromEntries(d3.logFiles.map((k) => [k, 'unsigned'])),
    }),
  );
  expect(findLink(report, d3.key).problems).toEqual([
    { code: 'signature_invalid', detail: `its signature (sidecar) does not verify with public key ${trailKey().fingerprint}` },
  ]);
  expect(findFile(report, d3.logFiles[0]).detail).toBe(`matches ${d3.key}, which is signature invalid`);
  expect(report.outcome).toBe('failed');
});

test('a digest naming a key fingerprint that is not among the known keys: key unknown, nothing proven about it', async () => {
  const trail = writeTrail({ forgeAt: 4, forgeFingerprint: true });
  const d5 = trail.writer.digests[4];
  const report = await verify(trail);
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [d5.key]: 'key_unknown' },
      files: Object.fromEntries(d5.logFiles.map((k) => [k, 'unsigned'])),
    }),
  );
  expect(findLink(report, d5.key).problems).toEqual([
    {
      code: 'key_unknown',
      detail: `signature not checked: no public key with fingerprint ${findLink(report, d5.key).signature.keyFingerprint} among the 1 known`,
    },
  ]);
  expect(report.outcome).toBe('unproven');
});

test('a truncated digest and one missing fields are malformed, and everything else is still verified', async () => {
  const trail = writeTrail();
  const [, d2, d3, d4, d5] = trail.writer.digests;
  truncateSync(pathOf(trail, d3.key), Math.floor(statSync(pathOf(trail, d3.key)).size / 2));
  editGzip(pathOf(trail, d5.key), (text) => {
    const doc = JSON.parse(text) as Record<string, unknown>;
    delete doc.logFiles;
    delete doc.digestEndTime;
    return JSON.stringify(doc);
  });
  const report = await verify(trail);
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [d3.key]: 'malformed', [d5.key]: 'malformed' },
      files: Object.fromEntries([...d3.logFiles, ...d5.logFiles].map((k) => [k, 'outside'])),
      outside: Object.fromEntries([...d3.logFiles, ...d5.logFiles].map((k) => [k, 'uncovered'])),
    }),
  );
  const truncated = findLink(report, d3.key).problems;
  expect(truncated[0].code).toBe('malformed');
  expect(truncated[0].detail).toMatch(/^corrupt gzip \(truncated\?\): /);
  expect(truncated[1]).toEqual({ code: 'modified', detail: `it cannot be read whole; ${d4.key} recorded ${d3.sha256}` });
  expect(findLink(report, d5.key).problems[0]).toEqual({ code: 'malformed', detail: 'missing or invalid: digestEndTime, logFiles' });
  // The digest before the truncated one is still signature-checked from its own signature file.
  expect(findLink(report, d2.key).signature).toEqual({ status: 'valid', source: 'sidecar', keyFingerprint: trailKey().fingerprint });
  expect(report.outcome).toBe('failed');
});

test('a gap hidden behind a truncated digest is still found, from the time in its name', async () => {
  const trail = writeTrail();
  const [, d2, d3, d4] = trail.writer.digests;
  unlinkSync(pathOf(trail, d3.key));
  truncateSync(pathOf(trail, d4.key), 100);
  const report = await verify(trail);
  expect(report.chains[0].breaks).toEqual([
    {
      kind: 'gap',
      after: d2.key,
      before: d4.key,
      from: '2024-03-01T02:01:31Z',
      to: '2024-03-01T03:01:31Z',
      missing: [],
      detail: `no digest covers 2024-03-01T02:01:31Z to about 2024-03-01T03:01:31Z, between ${d2.key} and ${d4.key}; the digest after the hole cannot be used, so the missing digests cannot be named (nor a restart told apart)`,
    },
  ]);
  expect(findLink(report, d4.key).status).toBe('malformed');
  expect(report.outcome).toBe('failed');
});

test('a digest that is not JSON at all is malformed; a JSON log file put in its place is not taken for a digest', async () => {
  const trail = writeTrail({ hours: 3 });
  const [d1, d2] = trail.writer.digests;
  writeFileSync(pathOf(trail, d1.key), gzipSync('{"awsAccountId": "111122223333", "digestStartTime": '));
  writeFileSync(pathOf(trail, d2.key), gzipSync(JSON.stringify({ Records: [], digestStartTime: 'x', digestEndTime: 'y' })));
  const report = await verify(trail);
  expect(findLink(report, d1.key).problems[0].detail).toMatch(/^not JSON: /);
  expect(findLink(report, d2.key).problems[0]).toEqual({ code: 'malformed', detail: 'has Records: a log file, not a digest' });
  expect(findLink(report, trail.writer.digests[2].key).status).toBe('valid');
});

test('offline without public keys: chain and hashes still checked, signatures said not checked', async () => {
  const trail = writeTrail();
  const untouched = await verify(trail, null);
  expect(statuses(untouched)).toEqual(expected(trail, 'key_unknown', 'unsigned'));
  expect(untouched.outcome).toBe('unproven');
  expect(untouched.signatures).toEqual({
    checked: 0,
    notChecked: 6,
    note: 'signatures not checked: no public keys (give --public-keys with the output of `aws cloudtrail list-public-keys`, or --fetch-keys)',
  });
  expect(findLink(untouched, trail.writer.digests[0].key).problems).toEqual([
    { code: 'key_unknown', detail: 'signature not checked: no public keys given' },
  ]);
  expect(renderReport(untouched)).toContain('signatures not checked: no public keys');

  unlinkSync(pathOf(trail, trail.writer.logs[3].key));
  const tampered = await verify(trail, null);
  expect(statuses(tampered)).toEqual(expected(trail, 'key_unknown', 'unsigned', { files: { [trail.writer.logs[3].key]: 'missing' } }));
  expect(tampered.outcome).toBe('failed');
});

test('a plain copy without signature files: each digest is checked with the signature the next one recorded, the newest is unsigned', async () => {
  const trail = writeTrail();
  for (const d of trail.writer.digests) unlinkSync(`${pathOf(trail, d.key)}.sig`);
  const report = await verify(trail);
  const newest = trail.writer.digests[5];
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [newest.key]: 'unsigned' },
      files: Object.fromEntries(newest.logFiles.map((k) => [k, 'unsigned'])),
    }),
  );
  expect(report.chains[0].links.slice(0, 5).map((l) => l.signature.source)).toEqual(Array(5).fill('next-link'));
  expect(findLink(report, newest.key).problems).toEqual([
    { code: 'unsigned', detail: 'no signature: none in its object metadata, no .sig file beside it, and no later digest records it' },
  ]);
  expect(report.outcome).toBe('unproven');
});

test('a sidecar holding the metadata JSON that `aws s3api head-object --query Metadata` prints is read', async () => {
  const trail = writeTrail({ hours: 2 });
  const d2 = trail.writer.digests[1];
  writeFileSync(
    `${pathOf(trail, d2.key)}.sig`,
    JSON.stringify({ signature: d2.signature, 'signature-algorithm': 'SHA256withRSA' }, null, 4),
  );
  const report = await verify(trail);
  expect(findLink(report, d2.key).signature).toEqual({ status: 'valid', source: 'sidecar', keyFingerprint: trailKey().fingerprint });
  expect(report.outcome).toBe('verified');
});

test('an organization trail under a bucket prefix, delivering from a second region too: one chain per region, all verified', async () => {
  const trail = writeTrail({ prefix: 'cloudtrail/prod', organization: 'o-aa111bb222', hours: 3 });
  // The same multi-region trail (home us-east-2) delivering us-west-2's events; its name has an underscore.
  const west = new TrailWriter({
    dir: trail.dir,
    bucket: 'aws-cloudtrail-logs-111122223333-3f7a1c2b',
    prefix: 'cloudtrail/prod',
    organization: 'o-aa111bb222',
    account: ACCOUNT,
    region: 'us-west-2',
    trail: 'org_trail',
    homeRegion: REGION,
    key: trailKey(),
  });
  for (let h = 0; h < 2; h++) {
    west.logFile(T0 + h * HOUR + 20 * MINUTE, exampleRecords(2, T0 + h * HOUR, T0 + h * HOUR + 10 * MINUTE, ACCOUNT, 'us-west-2', h));
    west.digest(T0 + h * HOUR, T0 + (h + 1) * HOUR);
  }
  const report = await verify(trail);
  expect(report.outcome).toBe('verified');
  expect(report.chains.map((c) => [c.id, c.counts.links.valid, c.counts.files.valid])).toEqual([
    [`cloudtrail/prod/o-aa111bb222/${ACCOUNT}/${REGION}/management-events/${REGION}`, 3, 6],
    [`cloudtrail/prod/o-aa111bb222/${ACCOUNT}/us-west-2/org_trail/${REGION}`, 2, 2],
  ]);
  expect(report.chains[1].labels).toEqual({
    trail: 'org_trail',
    account: ACCOUNT,
    region: 'us-west-2',
    homeRegion: REGION,
    organization: 'o-aa111bb222',
    prefix: 'cloudtrail/prod',
  });
});

test('a big log file (streamed) and one inflating past the whole-read limit are hashed right; a damaged big one is modified', async () => {
  const dir = tempDir('big-trail');
  const writer = new TrailWriter({ dir, bucket: 'b', account: ACCOUNT, region: REGION, trail: 't', key: trailKey() });
  const record = (field: string) => ({ ...exampleRecords(1, T0, T0, ACCOUNT, REGION)[0], requestParameters: { policyDocument: field } });
  // 3 MB of hex: about 1.5 MB gzipped, above the size read whole. 40 MB of spaces: 40 kB gzipped, inflating past 32 MiB.
  const big = writer.logFile(T0 + 10 * MINUTE, [record(randomBytes(1_500_000).toString('hex'))]);
  const bomb = writer.logFile(T0 + 20 * MINUTE, [record(' '.repeat(40_000_000))]);
  const damaged = writer.logFile(T0 + 30 * MINUTE, [record(randomBytes(1_500_000).toString('hex'))]);
  writer.digest(T0, T0 + HOUR);
  expect(statSync(join(dir, big.key)).size).toBeGreaterThan(1024 * 1024);
  expect(statSync(join(dir, bomb.key)).size).toBeLessThan(1024 * 1024);
  const bytes = readFileSync(join(dir, damaged.key));
  bytes[bytes.length - 100] ^= 0xff;
  writeFileSync(join(dir, damaged.key), bytes);
  const keys = new PublicKeySet();
  addPublicKeyList(keys, JSON.parse(listPublicKeysJson([trailKey()])), 'keys');
  const report = await verifyCloudTrail({ root: dir, keys });
  expect(Object.fromEntries(report.chains[0].files.map((f) => [f.path, [f.status, f.actualSha256]]))).toEqual({
    [big.key]: ['valid', big.sha256],
    [bomb.key]: ['valid', bomb.sha256],
    [damaged.key]: ['modified', null],
  });
  expect(findFile(report, damaged.key).detail).toMatch(/^cannot be read whole \(corrupt gzip: /);
  expect(report.bytesHashed).toBeGreaterThan(40_000_000 + 3_000_000);
});

test('a backfill digest listing a late file is checked beside the chain, not as a restart of it', async () => {
  const trail = writeTrail({ hours: 3 });
  const late = trail.writer.logFile(T0 + 3 * HOUR + 5 * MINUTE, exampleRecords(2, T0 + 40 * MINUTE, T0 + 50 * MINUTE, ACCOUNT, REGION, 77));
  const backfill = trail.writer.digest(T0, T0 + HOUR, { backfill: true });
  const report = await verify(trail);
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid'));
  expect(report.chains[0].breaks).toEqual([]);
  expect(report.chains[0].links.map((l) => l.path)).toEqual(trail.writer.digests.map((d) => d.key));
  expect(findLink(report, backfill.key)).toMatchObject({ backfill: true, files: 1, signature: { status: 'valid', source: 'sidecar' } });
  expect(findFile(report, late.key).listedIn).toBe(backfill.key);
  expect(report.outcome).toBe('verified');
});

test('a log file copy that was gunzipped locally still matches (the hash is of the uncompressed content)', async () => {
  const trail = writeTrail({ hours: 2 });
  const log = trail.writer.logs[1];
  const path = pathOf(trail, log.key);
  writeFileSync(path.slice(0, -3), gunzipSync(readFileSync(path)));
  rmSync(path);
  const report = await verify(trail);
  expect(findFile(report, log.key.slice(0, -3))).toMatchObject({ status: 'valid', actualSha256: log.sha256 });
  expect(report.outcome).toBe('verified');
});
