/**
 * The formats verify cloudtrail reads, checked against AWS's own documentation: the user guide's
 * list-public-keys sample, its data-signing-string example, its sample digest, and digest keys.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addPublicKeyList, PublicKeySet, publicKeyFingerprint } from '../../src/evidence/cloudtrail-keys';
import {
  digestSigningString,
  isDigestDocument,
  parseDigestDocument,
  verifyDigestSignature,
} from '../../src/evidence/cloudtrail-digest-file';
import { parseDigestKey, parseLogFileKey } from '../../src/evidence/cloudtrail-layout';

/** `aws cloudtrail list-public-keys`, sample response, user guide "Custom implementations of CloudTrail log file integrity validation". */
const USER_GUIDE_KEYS = {
  publicKeyList: [
    {
      ValidityStartTime: '1436317441.0',
      ValidityEndTime: '1438909441.0',
      Value:
        'MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8NrwQ/r7Ah5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU6VmiPCrAUojuSk6/GjvA8iOPFsYDuBtviXarvuLPlrT9kAd4Lb+rFfR5peEgBEkhlzc5HuWO7S0y+KunqxX6jQBnXGMtxmPBPP0FylgWGNdFtks/4YSKcgqwH0YDcawP9GGGDAeCIqPWIXDLG1jOjRRzWfCmD0iJUkz8vTsn4hq/5ZxRFE7UBAUiVcGbdnDdvVfhF9C3dQiDq3k7adQIziLT0cShgQIDAQAB',
      Fingerprint: '8eba5db5bea9b640d1c96a77256fe7f2',
    },
    {
      ValidityStartTime: '1434589460.0',
      ValidityEndTime: '1437181460.0',
      Value:
        'MIIBCgKCAQEApfYL2FiZhpN74LNWVUzhR+VheYhwhYm8w0n5Gf6i95ylW5kBAWKVEmnAQG7BvS5g9SMqFDQx52fW7NWV44IvfJ2xGXT+wT+DgR6ZQ+6yxskQNqV5YcXj4Aa5Zz4jJfsYjDuO2MDTZNIzNvBNzaBJ+r2WIWAJ/Xq54kyF63B6WE38vKuDE7nSd1FqQuEoNBFLPInvgggYe2Ym1Refe2z71wNcJ2kY+q0h1BSHrSM8RWuJIw7MXwF9iQncg9jYzUlNJomozQzAG5wSRfbplcCYNY40xvGd/aAmO0m+Y+XFMrKwtLCwseHPvj843qVno6x4BJN9bpWnoPo9sdsbGoiK3QIDAQAB',
      Fingerprint: '8933b39ddc64d26d8e14ffbf6566fee4',
    },
    {
      ValidityStartTime: '1434589370.0',
      ValidityEndTime: '1437181370.0',
      Value:
        'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqlzPJbvZJ42UdcmLfPUqXYNfOs6I8lCfao/tOs8CmzPOEdtLWugB9xoIUz78qVHdKIqxbaG4jWHfJBiOSSFBM0lt8cdVo4TnRa7oG9io5pysS6DJhBBAeXsicufsiFJR+wrUNh8RSLxL4k6G1+BhLX20tJkZ/erT97tDGBujAelqseGg3vPZbTx9SMfOLN65PdLFudLP7Gat0Z9p5jw/rjpclKfo9Bfc3heeBxWGKwBBOKnFAaN9V57pOaosCvPKmHd9bg7jsQkI9Xp22IzGLsTFJZYVA3KiTAElDMu80iFXPHEq9hKNbt9e4URFam+1utKVEiLkR2disdCmPTK0VQIDAQAB',
      Fingerprint: '31e8b5433410dfb61a9dc45cc65b22ff',
    },
  ],
};

test("the user guide's list-public-keys sample loads: PKCS #1 and X.509 values, fingerprints the MD5 of the DER", () => {
  const keys = new PublicKeySet();
  expect(addPublicKeyList(keys, USER_GUIDE_KEYS, 'user-guide.json')).toBe(3);
  expect(keys.notes).toEqual([]);
  for (const fp of ['8eba5db5bea9b640d1c96a77256fe7f2', '8933b39ddc64d26d8e14ffbf6566fee4', '31e8b5433410dfb61a9dc45cc65b22ff']) {
    const key = keys.get(fp);
    expect(key?.key.asymmetricKeyType).toBe('rsa');
    expect(key?.key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  }
  expect(keys.get('8eba5db5bea9b640d1c96a77256fe7f2')).toMatchObject({
    validFrom: '2015-07-08T01:04:01.000Z',
    validTo: '2015-08-07T01:04:01.000Z',
  });
});

test('a key file entry whose fingerprint is not that of its value, or whose value is no key, is ignored with a note', () => {
  const keys = new PublicKeySet();
  const [first, second] = USER_GUIDE_KEYS.publicKeyList;
  const added = addPublicKeyList(
    keys,
    {
      PublicKeyList: [
        { ...first, Fingerprint: second.Fingerprint },
        { ...second, Value: 'bm90IGEga2V5' },
      ],
    },
    'keys.json',
  );
  expect(added).toBe(0);
  expect(keys.size).toBe(0);
  expect(keys.notes).toEqual([
    `keys.json PublicKeyList[0] ignored: its Fingerprint ${second.Fingerprint} is not the MD5 of its Value (${first.Fingerprint})`,
    `keys.json PublicKeyList[1] ignored: its Fingerprint ${second.Fingerprint} is not the MD5 of its Value (${publicKeyFingerprint(Buffer.from('bm90IGEga2V5', 'base64'))})`,
  ]);
  expect(() => addPublicKeyList(keys, { Trails: [] }, 'other.json')).toThrow(
    "other.json: not the output of 'aws cloudtrail list-public-keys'",
  );
});

test("the signing string has the user guide's layout: end time, bucket/key, digest hash, previous signature; `null` for a starting digest", () => {
  // The user guide's "Data_To_Sign_String" example (section D), with its previous signature shortened.
  const doc = {
    digestEndTime: '2015-08-12T04:01:31Z',
    digestS3Bucket: 'S3-bucket-name',
    digestS3Object:
      'AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/12/111122223333_us-east-2_CloudTrail-Digest_us-east-2_20150812T040131Z.json.gz',
  };
  const hash = '4ff08d7c6ecd6eb313257e839645d20363ee3784a2328a7d76b99b53cc9bcacd';
  expect(
    digestSigningString(
      { ...doc, previous: { s3Bucket: null, s3Object: 'x', hashValue: 'y', hashAlgorithm: null, signature: '6e8540b83c3ac86a' } },
      hash,
    ),
  ).toBe(
    [
      '2015-08-12T04:01:31Z',
      'S3-bucket-name/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/12/111122223333_us-east-2_CloudTrail-Digest_us-east-2_20150812T040131Z.json.gz',
      '4ff08d7c6ecd6eb313257e839645d20363ee3784a2328a7d76b99b53cc9bcacd',
      '6e8540b83c3ac86a',
    ].join('\n'),
  );
  expect(digestSigningString({ ...doc, previous: null }, hash).split('\n')[3]).toBe('null');
});

test('a SHA256withRSA signature verifies over exactly that string and nothing else', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const text = '2024-03-01T01:01:31Z\nbucket/AWSLogs/x.json.gz\n' + 'a'.repeat(64) + '\nnull';
  const signature = sign('sha256', Buffer.from(text), privateKey).toString('hex');
  expect(verifyDigestSignature(text, signature, publicKey)).toBe(true);
  expect(verifyDigestSignature(text.replace('null', 'nul1'), signature, publicKey)).toBe(false);
  expect(verifyDigestSignature(text, signature.slice(0, -2) + (signature.endsWith('00') ? '01' : '00'), publicKey)).toBe(false);
  expect(verifyDigestSignature(text, 'not hex', publicKey)).toBe(false);
});

test("the user guide's empty-hour digest parses, and a digest is told by its structure, not by a substring", () => {
  const sample = readFileSync(
    join(
      __dirname,
      '..',
      '..',
      'etl',
      'sources',
      'cloudtrail',
      'golden',
      '111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150820T180131Z.json',
    ),
  );
  const parsed = parseDigestDocument(sample);
  expect(parsed).toEqual({
    doc: expect.objectContaining({
      awsAccountId: '111122223333',
      digestStartTime: '2015-08-20T17:01:31Z',
      digestEndTime: '2015-08-20T18:01:31Z',
      digestPublicKeyFingerprint: '31e8b5433410dfb61a9dc45cc65b22ff',
      previous: expect.objectContaining({
        hashValue: 'ed96c4bac9eaa8fe9716ca0e515da51938be651b1db31d781956416a9d05cdfa',
        hashAlgorithm: 'SHA-256',
      }),
      logFiles: [],
    }),
  });
  expect(isDigestDocument(JSON.parse(sample.toString('utf8')))).toBe(true);
  // A CloudTrail log file whose record carries the digest's field names in its tags is not a digest.
  const logFile = {
    Records: [
      {
        eventName: 'TagResource',
        requestParameters: {
          tags: { digestStartTime: '2015-08-20T17:01:31Z', digestEndTime: 'x', digestS3Bucket: 'b', digestS3Object: 'o', logFiles: [] },
        },
      },
    ],
  };
  expect(isDigestDocument(logFile)).toBe(false);
  expect(isDigestDocument({ ...JSON.parse(sample.toString('utf8')), Records: [] })).toBe(false);
});

test('digest and log file keys: organization, prefix, a trail name with underscores, backfill, and what is not CloudTrail', () => {
  expect(
    parseDigestKey(
      'logs/AWSLogs/o-aa111bb222/111122223333/CloudTrail-Digest/eu-west-1/2024/03/01/111122223333_CloudTrail-Digest_eu-west-1_org_trail_v2_us-east-1_20240301T010131Z.json.gz',
    ),
  ).toMatchObject({
    tree: 'logs/',
    organization: 'o-aa111bb222',
    account: '111122223333',
    region: 'eu-west-1',
    trail: 'org_trail_v2',
    homeRegion: 'us-east-1',
    end: '2024-03-01T01:01:31Z',
    backfill: false,
  });
  expect(
    parseDigestKey(
      'AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2024/03/01/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20240301T010131Z_backfill.json.gz',
    ),
  ).toMatchObject({ trail: 't', backfill: true });
  expect(
    parseDigestKey('AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/01/111122223333_CloudTrail_us-east-2_20240301T0013Z_abc.json.gz'),
  ).toBeNull();
  expect(
    parseLogFileKey(
      'AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/01/111122223333_CloudTrail_us-east-2_20240301T0013Z_vmXpgpLnP0eQR5dT.json.gz',
    ),
  ).toEqual({
    tree: '',
    suffix:
      'AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/01/111122223333_CloudTrail_us-east-2_20240301T0013Z_vmXpgpLnP0eQR5dT.json.gz',
    organization: null,
    account: '111122223333',
    region: 'us-east-2',
    stampMs: Date.parse('2024-03-01T00:13:00Z'),
  });
  expect(parseLogFileKey('AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/01/readme.txt')).toMatchObject({ stampMs: null });
  expect(parseLogFileKey('AWSLogs/111122223333/vpcflowlogs/us-east-2/2024/03/01/x.log.gz')).toBeNull();
});
