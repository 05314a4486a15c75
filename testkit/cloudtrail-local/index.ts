/**
 * TEST INFRASTRUCTURE: a local server that speaks AWS CloudTrail's JSON 1.1 protocol
 * (`X-Amz-Target: CloudTrail_20131101.<Operation>`) on 127.0.0.1, so the real
 * @aws-sdk/client-cloudtrail pointed at it (`endpoint`) behaves as against AWS. Nothing reaches AWS.
 *
 * Operations: ListPublicKeys (StartTime / EndTime select the keys whose validity overlaps the
 * range, as the API reference describes; without them, the keys valid now; pages of `pageSize`
 * with NextToken). Values travel as base64 blobs, times as epoch seconds. Other operations answer
 * UnknownOperationException. Errors are `{"__type", "message"}` with HTTP 400.
 *
 * Test controls: failNext(type, message); `calls` records each operation and its regions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TrailKey } from './trail';

export { makeTrailKey, listPublicKeysJson, TrailWriter, exampleRecords, uploadTrail, type TrailKey } from './trail';

export interface CloudTrailLocalOptions {
  /** Public keys per region (the region comes from the request's SigV4 credential scope). */
  keys: Record<string, readonly TrailKey[]>;
  pageSize?: number;
  port?: number;
}

export interface CloudTrailCall {
  operation: string;
  region: string | null;
  body: Record<string, unknown>;
}

export interface CloudTrailLocal {
  endpoint: string;
  calls: CloudTrailCall[];
  /** The next request fails with this error type (e.g. ThrottlingException) and message. */
  failNext(type: string, message: string): void;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'CloudTrail_20131101.';

export async function startCloudTrailLocal(options: CloudTrailLocalOptions): Promise<CloudTrailLocal> {
  const calls: CloudTrailCall[] = [];
  const pageSize = options.pageSize ?? 50;
  let failure: { type: string; message: string } | null = null;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': String(calls.length),
    });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    // SigV4: Credential=<key>/<date>/<region>/cloudtrail/aws4_request
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\/cloudtrail\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? null;
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'request body is not JSON' });
    }
    calls.push({ operation, region, body });
    if (failure) {
      const { type, message } = failure;
      failure = null;
      return reply(res, 400, { __type: type, message });
    }
    if (operation !== 'ListPublicKeys')
      return reply(res, 400, { __type: 'UnknownOperationException', message: `${operation} is not served here` });

    const now = Date.now() / 1000;
    const start = typeof body.StartTime === 'number' ? body.StartTime : now;
    const end = typeof body.EndTime === 'number' ? body.EndTime : now;
    if (end < start) return reply(res, 400, { __type: 'InvalidTimeRangeException', message: 'EndTime is before StartTime' });
    const keys = (options.keys[region ?? ''] ?? []).filter(
      (k) => k.validFrom.getTime() / 1000 <= end && k.validTo.getTime() / 1000 >= start,
    );
    const offset = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > keys.length) {
      return reply(res, 400, { __type: 'InvalidTokenException', message: 'NextToken is not one this server gave' });
    }
    const page = keys.slice(offset, offset + pageSize);
    reply(res, 200, {
      PublicKeyList: page.map((k) => ({
        Value: k.publicDer.toString('base64'),
        ValidityStartTime: k.validFrom.getTime() / 1000,
        ValidityEndTime: k.validTo.getTime() / 1000,
        Fingerprint: k.fingerprint,
      })),
      ...(offset + pageSize < keys.length ? { NextToken: String(offset + pageSize) } : {}),
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  // Idle keep-alive connections stay open until close(): a client reusing one the server had just
  // dropped (Node's default 5 s) would see ECONNRESET on a slow machine.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    failNext(type, message) {
      failure = { type, message };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
