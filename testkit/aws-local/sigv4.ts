/**
 * TEST INFRASTRUCTURE: checks AWS Signature Version 4 on requests to the local AWS-protocol
 * servers, as AWS does: the canonical request rebuilt from what arrived, signed with the secret of
 * the access key the Authorization header names, for the service and region of its scope.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The credentials tests give the SDK (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); fake, never AWS's. */
export const TEST_CREDENTIALS: TestCredentials = {
  accessKeyId: 'AKIDSCOUTQLTEST00001',
  secretAccessKey: 'scoutql-local-secret-key-for-tests-only',
};

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Null when the signature is valid for `service`; otherwise why not (an AWS-style error message). */
export function checkSigV4(
  req: IncomingMessage,
  body: Buffer,
  service: string,
  credentials: TestCredentials = TEST_CREDENTIALS,
): string | null {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'Missing or malformed Authorization header';
  const [, keyId, date, region, scopeService, signedHeaders, signature] = m;
  if (keyId !== credentials.accessKeyId) return `The security token included in the request is invalid (unknown access key ${keyId})`;
  if (scopeService !== service) return `Credential should be scoped to correct service: '${service}'`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return 'Date in Credential scope does not match X-Amz-Date';
  const url = new URL(req.url ?? '/', 'http://local');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
  if (req.headers['x-amz-content-sha256'] && payloadHash !== sha256(body))
    return 'The provided x-amz-content-sha256 header does not match what was computed';
  const canonical = [
    req.method ?? 'POST',
    url.pathname.split('/').map(encode).join('/') || '/',
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? null : 'The request signature we calculated does not match the signature you provided';
}

function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
