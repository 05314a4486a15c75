/**
 * Signing CloudTrail digest files as AWS signs them, for the sample generator and for
 * testkit/cloudtrail-local (both write trails that `verify cloudtrail` must accept). Written from
 * the user guide, independently of src/evidence, so the verifier is checked against this and not
 * against itself.
 *
 * The signature ("Custom implementations of CloudTrail log file integrity validation", section D)
 * is SHA256withRSA (PKCS #1 v1.5) over
 *   digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256(uncompressed digest) \n previousDigestSignature|null
 * hex-encoded. CloudTrail's public keys are 2048-bit RSA, listed by ListPublicKeys as PKCS #1
 * RSAPublicKey DER with the hex MD5 of that DER as fingerprint.
 */
import { checkPrimeSync, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TrailKey {
  privateKey: KeyObject;
  /** The public key as ListPublicKeys returns it: PKCS #1 RSAPublicKey, DER. */
  publicDer: Buffer;
  /** Hex MD5 of publicDer, as CloudTrail's fingerprints are. */
  fingerprint: string;
  validFrom: Date;
  validTo: Date;
}

function trailKeyOf(privateKey: KeyObject, validFrom: Date, validTo: Date): TrailKey {
  const publicDer = createPublicKey(privateKey).export({ type: 'pkcs1', format: 'der' });
  return { privateKey, publicDer, fingerprint: createHash('md5').update(publicDer).digest('hex'), validFrom, validTo };
}

/** A fresh RSA key pair like CloudTrail's regional signing keys (2048 bits). */
export function makeTrailKey(validFrom = new Date('2024-01-01T00:00:00Z'), validTo = new Date('2024-12-31T00:00:00Z')): TrailKey {
  return trailKeyOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, validFrom, validTo);
}

/**
 * A 2048-bit RSA key derived from `seed` alone, so a sample is byte-identical run after run. Node
 * draws its keys from the system's randomness, so the primes are searched here from a SHA-256
 * stream of the seed, each candidate tested by OpenSSL. For samples and tests only: anyone with
 * the seed has the private key.
 */
export function seededTrailKey(seed: string, validFrom: Date, validTo: Date): TrailKey {
  let privateKey = SEEDED.get(seed);
  if (!privateKey) SEEDED.set(seed, (privateKey = seededRsaKey(seed)));
  return trailKeyOf(privateKey, validFrom, validTo);
}

const SEEDED = new Map<string, KeyObject>();

/** What `aws cloudtrail list-public-keys` prints for these keys (AWS CLI v2: ISO times, base64 values). */
export function listPublicKeysJson(keys: readonly TrailKey[]): string {
  return JSON.stringify(
    {
      PublicKeyList: keys.map((k) => ({
        Value: k.publicDer.toString('base64'),
        ValidityStartTime: k.validFrom.toISOString().replace('.000Z', '+00:00'),
        ValidityEndTime: k.validTo.toISOString().replace('.000Z', '+00:00'),
        Fingerprint: k.fingerprint,
      })),
    },
    null,
    4,
  );
}

export interface DigestToSign {
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  /** Hex SHA-256 of the uncompressed digest text. */
  contentSha256: string;
  /** The previous digest's signature; null for a starting digest. */
  previousSignature: string | null;
}

/** The hex signature CloudTrail stores with a digest (x-amz-meta-signature). */
export function signDigest(digest: DigestToSign, key: KeyObject): string {
  const toSign = [
    digest.digestEndTime,
    `${digest.digestS3Bucket}/${digest.digestS3Object}`,
    digest.contentSha256,
    digest.previousSignature ?? 'null',
  ].join('\n');
  return sign('sha256', Buffer.from(toSign, 'utf8'), key).toString('hex');
}

// ---- deterministic RSA key generation ----

const E = 65537n;
/** Odd primes below 2000: dividing by them first spares most of OpenSSL's tests. */
const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: number[] = [];
  for (let n = 3; n < 2000; n += 2) if (out.every((p) => n % p !== 0)) out.push(n);
  return out.map(BigInt);
})();

function seededRsaKey(seed: string): KeyObject {
  let counter = 0;
  const randomBits = (bits: number): bigint => {
    const chunks: Buffer[] = [];
    for (let got = 0; got < bits; got += 256) chunks.push(createHash('sha256').update(`${seed}\0${counter++}`).digest());
    return BigInt(`0x${Buffer.concat(chunks).toString('hex')}`) >> BigInt(chunks.length * 256 - bits);
  };
  const prime = (): bigint => {
    for (;;) {
      // The two top bits set make p·q exactly 2048 bits; the low bit makes it odd.
      const candidate = randomBits(1024) | (3n << 1022n) | 1n;
      if (SMALL_PRIMES.some((p) => candidate % p === 0n) || (candidate - 1n) % E === 0n) continue;
      // OpenSSL's test (native, so fast), given the candidate: the search stays deterministic.
      if (checkPrimeSync(candidate)) return candidate;
    }
  };
  let p = prime();
  let q = prime();
  while (p === q) q = prime();
  if (p < q) [p, q] = [q, p];
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  const d = modInverse(E, phi);
  const b64 = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    return Buffer.from(hex, 'hex').toString('base64url');
  };
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      n: b64(n),
      e: b64(E),
      d: b64(d),
      p: b64(p),
      q: b64(q),
      dp: b64(d % (p - 1n)),
      dq: b64(d % (q - 1n)),
      qi: b64(modInverse(q, p)),
    },
  });
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return ((oldS % m) + m) % m;
}
