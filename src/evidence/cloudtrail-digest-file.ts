/**
 * One CloudTrail digest file: its structure, the string CloudTrail signs, and the signature check.
 *
 * The string to sign (user guide, "Custom implementations of CloudTrail log file integrity
 * validation", section D "Recreate the data signing string"; the AWS CLI's `validate-logs` builds
 * the same in awscli/customizations/cloudtrail/validation.py, `_create_string_to_sign`):
 *
 *   <digestEndTime>\n<digestS3Bucket>/<digestS3Object>\n<hex SHA-256 of the uncompressed digest>\n<previousDigestSignature>
 *
 * with the digest's own field values verbatim, and `null` for the previous signature of a
 * starting digest. CloudTrail signs the SHA-256 of that string with RSA (PKCS #1 v1.5,
 * "SHA256withRSA") and stores the hex signature in the object's `x-amz-meta-signature` metadata.
 * `previousDigestHashValue` is the hex SHA-256 of the previous digest's uncompressed content
 * (digest file structure, field descriptions), and `logFiles[].hashValue` that of each log file's
 * uncompressed content.
 */
import { verify, type KeyObject } from 'node:crypto';

// Detection by structure lives in core: the ingest skips digests by the same test.
export { isDigestDocument } from '../core/cloudtrail-digest';

export const SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';

export interface ListedLogFile {
  s3Bucket: string;
  s3Object: string;
  hashValue: string;
  hashAlgorithm: string;
}

export interface PreviousDigest {
  s3Bucket: string | null;
  s3Object: string;
  hashValue: string;
  hashAlgorithm: string | null;
  signature: string;
}

export interface DigestDocument {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  /** Null in a starting digest (the first of a chain, or after logging or validation restarted). */
  previous: PreviousDigest | null;
  logFiles: ListedLogFile[];
}

/** Reads a digest's uncompressed content; every reason it is not a usable digest is named. */
export function parseDigestDocument(content: Buffer): { doc: DigestDocument } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  if (!isRecord(value)) return { error: 'not a JSON object' };
  if ('Records' in value) return { error: 'has Records: a log file, not a digest' };
  const wrong: string[] = [];
  const text = (name: string): string => {
    const v = value[name];
    if (typeof v !== 'string' || v === '') wrong.push(name);
    return typeof v === 'string' ? v : '';
  };
  const time = (name: string): string => {
    const v = text(name);
    if (v !== '' && Number.isNaN(Date.parse(v))) wrong.push(name);
    return v;
  };
  const nullable = (name: string): string | null => {
    if (!(name in value)) {
      wrong.push(name);
      return null;
    }
    const v = value[name];
    if (v === null) return null;
    if (typeof v !== 'string') wrong.push(name);
    return typeof v === 'string' ? v : null;
  };
  const doc = {
    awsAccountId: text('awsAccountId'),
    digestStartTime: time('digestStartTime'),
    digestEndTime: time('digestEndTime'),
    digestS3Bucket: text('digestS3Bucket'),
    digestS3Object: text('digestS3Object'),
    digestPublicKeyFingerprint: text('digestPublicKeyFingerprint'),
    digestSignatureAlgorithm: text('digestSignatureAlgorithm'),
  };
  const previousObject = nullable('previousDigestS3Object');
  const previousHash = nullable('previousDigestHashValue');
  const previousSignature = nullable('previousDigestSignature');
  const previousBucket = typeof value.previousDigestS3Bucket === 'string' ? value.previousDigestS3Bucket : null;
  const previousAlgorithm = typeof value.previousDigestHashAlgorithm === 'string' ? value.previousDigestHashAlgorithm : null;
  const previousSet = [previousObject, previousHash, previousSignature].filter((v) => v !== null).length;
  if (previousSet !== 0 && previousSet !== 3) wrong.push('previousDigest* (partly null)');
  const logFiles: ListedLogFile[] = [];
  if (!Array.isArray(value.logFiles)) wrong.push('logFiles');
  else {
    value.logFiles.forEach((item: unknown, i) => {
      const f = isRecord(item) ? item : {};
      const ok =
        typeof f.s3Object === 'string' &&
        f.s3Object !== '' &&
        typeof f.hashValue === 'string' &&
        /^[0-9a-fA-F]{64}$/.test(f.hashValue) &&
        typeof f.hashAlgorithm === 'string';
      if (!ok) wrong.push(`logFiles[${i}]`);
      else
        logFiles.push({
          s3Bucket: typeof f.s3Bucket === 'string' ? f.s3Bucket : '',
          s3Object: f.s3Object as string,
          hashValue: (f.hashValue as string).toLowerCase(),
          hashAlgorithm: f.hashAlgorithm as string,
        });
    });
  }
  if (wrong.length) return { error: `missing or invalid: ${[...new Set(wrong)].slice(0, 8).join(', ')}${wrong.length > 8 ? ', …' : ''}` };
  return {
    doc: {
      ...doc,
      previous:
        previousSet === 3
          ? {
              s3Bucket: previousBucket,
              s3Object: previousObject!,
              hashValue: previousHash!.toLowerCase(),
              hashAlgorithm: previousAlgorithm,
              signature: previousSignature!,
            }
          : null,
      logFiles,
    },
  };
}

/** The exact string CloudTrail signs for a digest (see the file comment for the source). */
export function digestSigningString(
  doc: Pick<DigestDocument, 'digestEndTime' | 'digestS3Bucket' | 'digestS3Object' | 'previous'>,
  contentSha256Hex: string,
): string {
  return [doc.digestEndTime, `${doc.digestS3Bucket}/${doc.digestS3Object}`, contentSha256Hex, doc.previous?.signature ?? 'null'].join('\n');
}

/** SHA256withRSA (PKCS #1 v1.5) over the signing string; false for a signature that is not even hex. */
export function verifyDigestSignature(signingString: string, signatureHex: string, key: KeyObject): boolean {
  const hex = signatureHex.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return false;
  try {
    return verify('sha256', Buffer.from(signingString, 'utf8'), key, Buffer.from(hex, 'hex'));
  } catch {
    // A signature OpenSSL cannot even parse for this key does not verify.
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
