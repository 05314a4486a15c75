/**
 * --fetch-keys: the real @aws-sdk/client-cloudtrail against testkit/cloudtrail-local, a server
 * speaking CloudTrail's JSON 1.1 protocol on 127.0.0.1 (never AWS).
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { exampleRecords, makeTrailKey, startCloudTrailLocal, TrailWriter, type CloudTrailLocal } from '../../testkit/cloudtrail-local';
import { verifyCloudTrail } from '../../src/evidence/cloudtrail-digests';
import type { CloudTrailClientFor } from '../../src/evidence/cloudtrail-keys';
import { ACCOUNT, BUCKET, expected, HOUR, MINUTE, REGION, statuses, T0, tempDir, trailKey, TRAIL, removeTempDirs } from './helpers';

let server: CloudTrailLocal;
const rotated = makeTrailKey(new Date('2024-03-01T03:00:00Z'), new Date('2024-04-01T00:00:00Z'));
const expired = makeTrailKey(new Date('2023-01-01T00:00:00Z'), new Date('2023-02-01T00:00:00Z'));
const clients: CloudTrailClient[] = [];

beforeAll(async () => {
  // us-east-2's keys: the trail's, the one it rotated to at 03:00, and one long expired.
  server = await startCloudTrailLocal({ keys: { [REGION]: [trailKey(), rotated, expired], 'eu-west-1': [expired] }, pageSize: 1 });
});
afterAll(async () => {
  removeTempDirs();
  for (const c of clients) c.destroy();
  await server.close();
});

const clientFor: CloudTrailClientFor = (region) => {
  const client = new CloudTrailClient({
    region,
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};

/** Six hours; CloudTrail rotated the region's signing key after the third digest. */
function rotatedTrail() {
  const dir = tempDir('rotated');
  const writer = new TrailWriter({ dir, bucket: BUCKET, account: ACCOUNT, region: REGION, trail: TRAIL, key: trailKey() });
  for (let h = 0; h < 6; h++) {
    const start = T0 + h * HOUR;
    writer.logFile(start + 20 * MINUTE, exampleRecords(2, start, start + 10 * MINUTE, ACCOUNT, REGION, h));
    writer.digest(start, start + HOUR, h >= 3 ? { signWith: rotated, fingerprint: rotated.fingerprint } : {});
  }
  return { dir, writer, keysFile: '' };
}

test('keys fetched with ListPublicKeys (every page) verify digests signed before and after a key rotation', async () => {
  const trail = rotatedTrail();
  server.calls.length = 0;
  const report = await verifyCloudTrail({ root: trail.dir, fetchKeys: clientFor });
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid'));
  expect(report.chains[0].links.map((l) => l.signature.keyFingerprint)).toEqual([
    ...Array(3).fill(trailKey().fingerprint),
    ...Array(3).fill(rotated.fingerprint),
  ]);
  expect(report.outcome).toBe('verified');
  // One region asked, for the digests' period (an hour either side), a page per key.
  expect(server.calls.map((c) => [c.operation, c.region])).toEqual([
    ['ListPublicKeys', REGION],
    ['ListPublicKeys', REGION],
  ]);
  expect(server.calls[0].body).toEqual({ StartTime: (T0 - HOUR) / 1000, EndTime: (T0 + 7 * HOUR) / 1000 });
  expect(server.calls[1].body).toMatchObject({ NextToken: '1' });
});

test('when ListPublicKeys fails the digests are still checked, and say their key is unknown', async () => {
  const trail = rotatedTrail();
  server.failNext('AccessDeniedException', 'User is not authorized to perform: cloudtrail:ListPublicKeys');
  const report = await verifyCloudTrail({ root: trail.dir, fetchKeys: clientFor });
  expect(statuses(report)).toEqual(expected(trail, 'key_unknown', 'unsigned'));
  expect(report.notes).toEqual([
    `ListPublicKeys ${REGION}: could not fetch public keys (User is not authorized to perform: cloudtrail:ListPublicKeys); digests of ${REGION} are not signature-checked`,
  ]);
  expect(report.outcome).toBe('unproven');
});
