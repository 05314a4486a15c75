/**
 * CloudTrail's public keys for digest signatures: read from the JSON that
 * `aws cloudtrail list-public-keys` prints, or fetched with the SDK's ListPublicKeys.
 *
 * Each key is `{ Value, ValidityStartTime, ValidityEndTime, Fingerprint }`; Value is the DER
 * public key (base64 in JSON), PKCS #1 RSAPublicKey as the API reference says (the user guide's
 * own example also shows an X.509 SubjectPublicKeyInfo one, so both are read). The fingerprint is
 * the hex MD5 of those DER bytes (true of every key in the user guide's example), so a key file
 * entry whose fingerprint does not match its value is ignored with a note rather than trusted.
 * Keys are per region; a digest names the fingerprint of the key that signed it.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as ClientCloudTrail from '@aws-sdk/client-cloudtrail';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use (--fetch-keys): every ingest imports this module for its digest check */
const sdk = () => require('@aws-sdk/client-cloudtrail') as typeof ClientCloudTrail;
/* eslint-enable @typescript-eslint/no-require-imports */

export interface PublicKeyEntry {
  fingerprint: string;
  key: KeyObject;
  validFrom: string | null;
  validTo: string | null;
  /** Where it came from: a file path, or `ListPublicKeys <region>`. */
  source: string;
}

export class PublicKeySet {
  private readonly keys = new Map<string, PublicKeyEntry>();
  /** Entries ignored, keys not fetched: told to the operator, never silently dropped. */
  readonly notes: string[] = [];
  readonly sources: string[] = [];

  get size(): number {
    return this.keys.size;
  }

  get(fingerprint: string): PublicKeyEntry | undefined {
    return this.keys.get(fingerprint.toLowerCase());
  }

  add(entry: PublicKeyEntry): void {
    this.keys.set(entry.fingerprint.toLowerCase(), entry);
  }
}

/** The hex MD5 of a public key's DER bytes: CloudTrail's key fingerprint. */
export function publicKeyFingerprint(der: Buffer): string {
  return createHash('md5').update(der).digest('hex');
}

/** Reads a DER public key, PKCS #1 or SubjectPublicKeyInfo. */
export function publicKeyFromDer(der: Buffer): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
  } catch {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  }
}

interface RawKey {
  Value?: unknown;
  ValidityStartTime?: unknown;
  ValidityEndTime?: unknown;
  Fingerprint?: unknown;
}

/** Adds the keys of a `list-public-keys` answer (`PublicKeyList`, or the user guide's `publicKeyList`). */
export function addPublicKeyList(set: PublicKeySet, answer: unknown, source: string): number {
  const list = isRecord(answer) ? (answer.PublicKeyList ?? answer.publicKeyList) : undefined;
  if (!Array.isArray(list)) throw new Error(`${source}: not the output of 'aws cloudtrail list-public-keys' (no PublicKeyList array)`);
  let added = 0;
  list.forEach((item: unknown, index) => {
    const raw: RawKey = isRecord(item) ? item : {};
    const where = `${source} PublicKeyList[${index}]`;
    const der = derOf(raw.Value);
    if (!der) {
      set.notes.push(`${where} ignored: Value is not a base64 DER public key`);
      return;
    }
    const computed = publicKeyFingerprint(der);
    const stated = typeof raw.Fingerprint === 'string' ? raw.Fingerprint.toLowerCase() : null;
    if (stated !== null && stated !== computed) {
      set.notes.push(`${where} ignored: its Fingerprint ${stated} is not the MD5 of its Value (${computed})`);
      return;
    }
    let key: KeyObject;
    try {
      key = publicKeyFromDer(der);
      if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    } catch {
      set.notes.push(`${where} ignored: Value is not an RSA public key in PKCS #1 or X.509 DER`);
      return;
    }
    set.add({ fingerprint: computed, key, validFrom: timeOf(raw.ValidityStartTime), validTo: timeOf(raw.ValidityEndTime), source });
    added++;
  });
  set.sources.push(source);
  return added;
}

export async function addPublicKeysFile(set: PublicKeySet, path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read public keys file ${path}: ${(err as Error).message}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (err) {
    throw new Error(`public keys file ${path} is not JSON: ${(err as Error).message}`);
  }
  return addPublicKeyList(set, answer, path);
}

export type CloudTrailClientFor = (region: string) => Pick<CloudTrailClient, 'send'>;

/**
 * Clients per region from the environment: credentials from the SDK's default chain, endpoint
 * from AWS_ENDPOINT_URL_CLOUDTRAIL / AWS_ENDPOINT_URL when set (a local stand-in in tests).
 */
export function cloudTrailClientsFromEnv(env: NodeJS.ProcessEnv = process.env): { clientFor: CloudTrailClientFor; destroy(): void } {
  const endpoint = env.AWS_ENDPOINT_URL_CLOUDTRAIL || env.AWS_ENDPOINT_URL || undefined;
  const clients = new Map<string, CloudTrailClient>();
  return {
    clientFor: (region) => {
      let client = clients.get(region);
      if (!client)
        clients.set(region, (client = new (sdk().CloudTrailClient)({ region, maxAttempts: 2, ...(endpoint ? { endpoint } : {}) })));
      return client;
    },
    destroy: () => {
      for (const client of clients.values()) client.destroy();
    },
  };
}

/**
 * Fetches the keys valid between `start` and `end` for each region (ListPublicKeys, every page).
 * A region that cannot be reached is a note, not a failure: its digests then say key_unknown.
 */
export async function fetchPublicKeys(
  set: PublicKeySet,
  options: { regions: readonly string[]; start: Date; end: Date; clientFor: CloudTrailClientFor },
): Promise<void> {
  for (const region of options.regions) {
    const source = `ListPublicKeys ${region}`;
    try {
      const client = options.clientFor(region);
      let token: string | undefined;
      let count = 0;
      do {
        const page = await client.send(
          new (sdk().ListPublicKeysCommand)({ StartTime: options.start, EndTime: options.end, NextToken: token }),
        );
        count += addPublicKeyList(
          set,
          {
            PublicKeyList: (page.PublicKeyList ?? []).map((k) => ({
              Value: k.Value ? Buffer.from(k.Value).toString('base64') : undefined,
              ValidityStartTime: k.ValidityStartTime,
              ValidityEndTime: k.ValidityEndTime,
              Fingerprint: k.Fingerprint,
            })),
          },
          source,
        );
        token = page.NextToken;
      } while (token);
      if (count === 0) set.notes.push(`${source}: no public keys for ${options.start.toISOString()} … ${options.end.toISOString()}`);
    } catch (err) {
      set.notes.push(`${source}: could not fetch public keys (${(err as Error).message}); digests of ${region} are not signature-checked`);
    }
  }
}

function derOf(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(value)) return null;
  const der = Buffer.from(value.replace(/\s+/g, ''), 'base64');
  return der.length > 0 ? der : null;
}

/** ISO-8601, epoch seconds (number, or the string the CLI once printed: "1436317441.0") or a Date. */
function timeOf(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'number') return new Date(value * 1000).toISOString();
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000).toISOString();
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
