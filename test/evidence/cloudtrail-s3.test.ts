/**
 * verify cloudtrail s3://… against the local S3 server (s3rver): digests carry their signatures in
 * object metadata, as CloudTrail delivers them, and the tampering is done through the S3 API.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { startS3Local, type S3Local } from '../../testkit/s3-local';
import { exampleRecords, uploadTrail } from '../../testkit/cloudtrail-local';
import { verifyCloudTrail } from '../../src/evidence/cloudtrail-digests';
import {
  ACCOUNT,
  expected,
  findFile,
  findLink,
  HOUR,
  keysOf,
  MINUTE,
  REGION,
  statuses,
  T0,
  trailKey,
  writeTrail,
  removeTempDirs,
} from './helpers';

let s3: S3Local;
beforeAll(async () => {
  s3 = await startS3Local({ buckets: ['evidence'] });
});
afterAll(async () => {
  removeTempDirs();
  await s3.close();
});

test('an untouched trail on S3 is verified with the signatures from object metadata', async () => {
  const trail = writeTrail({ hours: 4 });
  expect(await uploadTrail(s3.client, 'evidence', trail.dir, 'clean')).toBe(4 + 8);
  const answer = await s3.client.send(new GetObjectCommand({ Bucket: 'evidence', Key: `clean/${trail.writer.digests[0].key}` }));
  await answer.Body?.transformToByteArray();
  expect(answer.Metadata).toEqual({ signature: trail.writer.digests[0].signature, 'signature-algorithm': 'SHA256withRSA' });

  const report = await verifyCloudTrail({ root: 's3://evidence/clean', keys: keysOf(trail), s3Client: s3.client });
  expect(statuses(report)).toEqual(expected(trail, 'valid', 'valid'));
  expect(report.chains[0].links.map((l) => l.signature)).toEqual(
    Array(4).fill({ status: 'valid', source: 'metadata', keyFingerprint: trailKey().fingerprint }),
  );
  expect(report.outcome).toBe('verified');
});

test('tampering through the S3 API is named file by file: edited, deleted, added, a deleted digest, a forged one, replaced metadata', async () => {
  const trail = writeTrail({ hours: 8, forgeAt: 4 });
  await uploadTrail(s3.client, 'evidence', trail.dir, 'tampered');
  const { logs, digests } = trail.writer;
  const put = (key: string, body: Buffer | string, metadata?: Record<string, string>) =>
    s3.client.send(new PutObjectCommand({ Bucket: 'evidence', Key: `tampered/${key}`, Body: body, Metadata: metadata }));
  const remove = (key: string) => s3.client.send(new DeleteObjectCommand({ Bucket: 'evidence', Key: `tampered/${key}` }));

  // An edited log file, a deleted one, and one added inside a covered hour.
  await put(logs[2].key, gzipSync(JSON.stringify({ Records: exampleRecords(3, T0 + HOUR, T0 + HOUR + 9 * MINUTE, ACCOUNT, REGION, 7) })));
  await remove(logs[5].key);
  const added = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/01/${ACCOUNT}_CloudTrail_${REGION}_20240301T0530Z_Zq0aD1xHyT4rB2mQ.json.gz`;
  await put(added, gzipSync(JSON.stringify({ Records: exampleRecords(1, T0 + 5 * HOUR, T0 + 5 * HOUR + MINUTE, ACCOUNT, REGION, 8) })));
  // A deleted digest, and the newest digest's signature metadata replaced.
  await remove(digests[3].key);
  const newest = digests[7];
  const replaced = newest.signature.replace(/^../, newest.signature.startsWith('00') ? '01' : '00');
  const original = await s3.client.send(new GetObjectCommand({ Bucket: 'evidence', Key: `tampered/${newest.key}` }));
  await put(newest.key, Buffer.from(await original.Body!.transformToByteArray()), {
    signature: replaced,
    'signature-algorithm': 'SHA256withRSA',
  });

  const report = await verifyCloudTrail({ root: 's3://evidence/tampered/', keys: keysOf(trail), s3Client: s3.client });
  expect(statuses(report)).toEqual(
    expected(trail, 'valid', 'valid', {
      links: { [digests[3].key]: 'missing', [digests[4].key]: 'signature_invalid', [newest.key]: 'signature_invalid' },
      files: {
        [logs[2].key]: 'modified',
        [logs[5].key]: 'missing',
        [logs[6].key]: 'outside',
        [logs[7].key]: 'outside',
        [logs[8].key]: 'unsigned',
        [logs[9].key]: 'unsigned',
        [logs[14].key]: 'unsigned',
        [logs[15].key]: 'unsigned',
      },
      outside: { [logs[6].key]: 'uncovered', [logs[7].key]: 'uncovered', [added]: 'unlisted' },
    }),
  );
  expect(report.chains[0].breaks.map((b) => [b.kind, b.after, b.before, b.missing])).toEqual([
    ['gap', digests[2].key, digests[4].key, [digests[3].key]],
  ]);
  expect(findLink(report, newest.key).problems).toEqual([
    { code: 'signature_invalid', detail: `its signature (metadata) does not verify with public key ${trailKey().fingerprint}` },
  ]);
  expect(findFile(report, logs[2].key)).toMatchObject({ status: 'modified', expectedSha256: logs[2].sha256 });
  expect(report.outcome).toBe('failed');
});
