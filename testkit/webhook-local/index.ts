/**
 * TEST INFRASTRUCTURE: a local HTTPS webhook receiver on 127.0.0.1 with a self-signed certificate
 * made for it (openssl), which a test trusts through the destination's `caFile`. It records every
 * request (headers and body), answers with the statuses a test queues (then 200), and can hold
 * requests unanswered to stand for a receiver that hangs. Never used in production code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readBody } from '../aws-local/sigv4';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The Idempotency-Key header. */
  key: string | undefined;
  status: number;
}

export interface QueuedAnswer {
  status: number;
  /** Retry-After header (seconds). */
  retryAfter?: number;
}

/** Writes a self-signed certificate for 127.0.0.1 / localhost into `dir`; returns the PEM files. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'receiver-cert.pem');
  const key = join(dir, 'receiver-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=scoutql-test-receiver',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

export class WebhookLocalServer {
  readonly received: ReceivedHook[] = [];
  private readonly answers: QueuedAnswer[] = [];
  private holding = false;
  private readonly held: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    /** The receiver's certificate (PEM file): what a destination's caFile names to trust it. */
    readonly certFile: string,
  ) {}

  /** Starts on a free port with a certificate made in `dir`. */
  static async start(options: { dir: string; path?: string }): Promise<WebhookLocalServer> {
    const { cert, key } = selfSignedCertificate(options.dir);
    const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) });
    const local = new WebhookLocalServer(server, cert);
    local.path = options.path ?? '/hooks/scoutql';
    server.on('request', (req, res) => {
      void readBody(req).then((body) => {
        if (req.method !== 'POST' || req.url !== local.path) {
          res.writeHead(404).end();
          return;
        }
        const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
        if (local.holding) {
          local.received.push({ headers: req.headers, body: body.toString('utf8'), key, status: 0 });
          local.held.push(res);
          return;
        }
        const answer = local.answers.shift() ?? { status: 200 };
        local.received.push({ headers: req.headers, body: body.toString('utf8'), key, status: answer.status });
        res.writeHead(answer.status, answer.retryAfter !== undefined ? { 'Retry-After': String(answer.retryAfter) } : {});
        res.end(answer.status < 300 ? '{"ok":true}' : '{"error":"injected"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return local;
  }

  private path = '/hooks/scoutql';

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.path}`;
  }

  /** The next requests get these answers, one each, in order; then 200. */
  respondWith(...answers: (number | QueuedAnswer)[]): void {
    this.answers.push(...answers.map((a) => (typeof a === 'number' ? { status: a } : a)));
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const res of this.held.splice(0)) res.destroy();
  }

  /** Requests answered 2xx, by idempotency key (a key seen twice was delivered twice). */
  acceptedKeys(): string[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.key ?? '');
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
