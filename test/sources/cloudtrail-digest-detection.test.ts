/**
 * A CloudTrail digest is recognized by its structure (a JSON object whose top level has the
 * digest's fields and no `Records`), never by a substring: attacker-controlled text (a tag on a
 * resource, an HTTP user agent) carrying the digest's field names must not hide a log file from the
 * ingest. Real inputs: the user guide's sample digest, a Lambda record from the golden files tagged
 * with the digest's field names, an ALB line from the ELB guide with them in its user agent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { detectObject } from '../../etl/detect';
import { listLocalObjects } from '../../etl/objects';
import { isDigestHead, topLevelKeys } from '../../src/core/cloudtrail-digest';
import { lakeRows, tempDir } from '../etl/helpers';

const GOLDEN = join(__dirname, '..', '..', 'etl', 'sources');
const DIGEST_NAME = '111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150820T180131Z.json';
const digestText = readFileSync(join(GOLDEN, 'cloudtrail', 'golden', DIGEST_NAME), 'utf8');
/** What ingest used to take for a digest: any head with one of these names followed by a colon. */
const OLD_SUBSTRING_TEST = /"(?:digestPublicKeyFingerprint|digestStartTime)"\s*:/;

/** The digest's own top-level fields and values, as an attacker would copy them into a tag. */
const DIGEST_LOOKALIKE = {
  digestStartTime: '2015-08-20T17:01:31Z',
  digestEndTime: '2015-08-20T18:01:31Z',
  digestS3Bucket: 'your-bucket-name',
  digestS3Object: `AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/${DIGEST_NAME}.gz`,
  digestPublicKeyFingerprint: '31e8b5433410dfb61a9dc45cc65b22ff',
};

/** The golden Lambda record, as the TagResource call that put the tags on the function. */
function taggedLambdaRecord(): Record<string, unknown> {
  const records = (JSON.parse(readFileSync(join(GOLDEN, 'cloudtrail', 'golden', 'resource-events.json'), 'utf8')) as { Records: Array<Record<string, unknown>> })
    .Records;
  const base = records.find((r) => String(r.eventName).startsWith('UpdateFunctionConfiguration'))!;
  return {
    ...base,
    eventName: 'TagResource20170331v2',
    eventID: '10000000-0000-4000-8000-0000000000aa',
    requestID: '00000000-0000-4000-8000-0000000000aa',
    requestParameters: { resource: 'arn:aws:lambda:us-east-1:111122223333:function:payments-webhook', tags: { ...DIGEST_LOOKALIKE } },
  };
}

/** The ELB guide's HTTP entry, its user agent carrying the digest's field names. */
function albLineWithUserAgent(): string {
  const line = readFileSync(join(GOLDEN, 'alb', 'golden', 'docs-current-fields.log'), 'utf8').split('\n')[0];
  return line.replace('"curl/7.46.0"', `"Mozilla/5.0 ${JSON.stringify(DIGEST_LOOKALIKE)}"`);
}

function put(root: string, key: string, body: Buffer | string): void {
  const path = join(root, ...key.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

describe('digest detection by structure', () => {
  test('the top-level key scan sees only keys of the outer object', () => {
    expect(topLevelKeys('{"a":1,"b":{"c":"{\\"d\\":2}"},"e":["f"]}')).toEqual({ names: new Set(['a', 'b', 'e']), complete: true });
    expect(topLevelKeys('{"Records":[{"digestStartTime":')).toEqual({ names: new Set(['Records']), complete: false });
    expect(topLevelKeys('[{"a":1}]')).toBeNull();
    expect(topLevelKeys('{"a":1}} trailing')).toBeNull();
  });

  test('a whole digest, and one cut short inside its logFiles, are digests; the same names anywhere else are not', () => {
    expect(isDigestHead(digestText)).toBe(true);
    const big = JSON.parse(digestText) as Record<string, unknown>;
    big.logFiles = Array.from({ length: 600 }, (_, i) => ({
      s3Bucket: 'your-bucket-name',
      s3Object: `AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/20/111122223333_CloudTrail_us-east-2_20150820T1755Z_${String(i).padStart(16, '0')}.json.gz`,
      hashValue: 'f'.repeat(64),
      hashAlgorithm: 'SHA-256',
      newestEventTime: '2015-08-20T17:55:00Z',
      oldestEventTime: '2015-08-20T17:50:00Z',
    }));
    const bigText = JSON.stringify(big);
    expect(bigText.length).toBeGreaterThan(65536);
    expect(isDigestHead(bigText.slice(0, 65536))).toBe(true);
    // A log file whose records carry the names, a digest with Records, and the names quoted inside a string.
    const log = JSON.stringify({ Records: [taggedLambdaRecord()] });
    expect(OLD_SUBSTRING_TEST.test(log)).toBe(true);
    expect(isDigestHead(log)).toBe(false);
    expect(isDigestHead(JSON.stringify({ ...big, Records: [] }))).toBe(false);
    expect(isDigestHead(JSON.stringify({ note: JSON.stringify(big) }).slice(0, 65536))).toBe(false);
    // A JSON lines file whose first record is a tagged record: the first line's object is not a digest.
    expect(isDigestHead(`${JSON.stringify(taggedLambdaRecord())}\n${JSON.stringify(taggedLambdaRecord())}\n`)).toBe(false);
    expect(isDigestHead(albLineWithUserAgent())).toBe(false);
  });

  describe('ingest', () => {
    const input = tempDir('digest-detect-in');
    const lake = tempDir('digest-detect-lake');
    const digestKey = `AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/${DIGEST_NAME}.gz`;
    let summary: IngestSummary;

    beforeAll(async () => {
      put(input, 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/08/01/111122223333_CloudTrail_us-east-1_20240801T1215Z_TaggedLambda0001.json.gz', gzipSync(JSON.stringify({ Records: [taggedLambdaRecord()] })));
      put(input, 'AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/07/02/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_192.168.131.39_2ex1ds6k.log.gz', gzipSync(albLineWithUserAgent() + '\n'));
      put(input, digestKey, gzipSync(digestText));
      // The signature of a local copy, kept beside its digest (as verify cloudtrail reads it).
      put(input, `${digestKey}.sig`, 'ab'.repeat(256));
      summary = await ingest({ inputs: [input], lake, graph: false });
    });

    test('both heads carry what the substring test took for a digest', () => {
      expect(OLD_SUBSTRING_TEST.test(JSON.stringify({ Records: [taggedLambdaRecord()] }))).toBe(true);
      expect(OLD_SUBSTRING_TEST.test(albLineWithUserAgent())).toBe(true);
    });

    test('the tagged CloudTrail record and the ALB line are ingested as logs; the digest and its signature are skipped', async () => {
      expect(summary).toMatchObject({ objects: 4, skipped_objects: 2, damaged_objects: 0, quarantined: 0, written: 2 });
      const api = await lakeRows(lake, 'api_activity');
      expect(api.map((r) => [r.source, r.activity, r.event_id])).toEqual([
        ['cloudtrail', 'TagResource20170331v2', '10000000-0000-4000-8000-0000000000aa'],
      ]);
      const http = await lakeRows(lake, 'http_activity');
      expect(http).toHaveLength(1);
      expect(http[0]).toMatchObject({ source: 'alb', user_agent: `Mozilla/5.0 ${JSON.stringify(DIGEST_LOOKALIKE)}` });
    });

    test('detection names why each skipped object is skipped', async () => {
      const verdicts: Record<string, string> = {};
      for await (const object of listLocalObjects([input])) {
        const verdict = await detectObject(object);
        verdicts[object.key.slice(input.length + 1)] = verdict.kind === 'source' ? verdict.source.id : `${verdict.kind}: ${verdict.reason}`;
      }
      expect(Object.values(verdicts).sort()).toEqual(['alb', 'cloudtrail', 'skip: CloudTrail digest file', 'skip: CloudTrail digest signature']);
    });
  });
});
