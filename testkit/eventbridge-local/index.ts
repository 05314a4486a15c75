/**
 * TEST INFRASTRUCTURE: a local Amazon EventBridge endpoint speaking its real protocol (AWS JSON 1.1:
 * `X-Amz-Target: AWSEvents.PutEvents`, JSON answers with per-entry results and `__type` errors,
 * Signature Version 4 checked) on 127.0.0.1, so the real @aws-sdk/client-eventbridge talks to it
 * unchanged. It keeps the events put and can fail whole requests or single entries on demand.
 * Never used in production code.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSigV4, readBody } from '../aws-local/sigv4';

export interface PutEvent {
  eventId: string;
  source: string;
  detailType: string;
  detail: string;
  eventBusName: string;
  resources: string[];
  time?: number;
}

/** Whole-request errors (HTTP 400 / 500) and per-entry failures (HTTP 200, FailedEntryCount 1). */
export type EventBridgeFailure =
  'ThrottlingException' | 'InternalException' | 'entry:InternalFailure' | 'entry:ThrottlingException' | 'entry:AccessDeniedException';

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number;
}

export class EventBridgeLocalServer {
  readonly events: PutEvent[] = [];
  private readonly failures: EventBridgeFailure[] = [];

  private constructor(
    private readonly server: Server,
    private readonly buses: Set<string>,
  ) {}

  static async start(options: { buses: readonly string[] }): Promise<EventBridgeLocalServer> {
    const server = createServer();
    const local = new EventBridgeLocalServer(server, new Set(['default', ...options.buses]));
    server.on('request', (req, res) => void local.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return local;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  failNext(...failures: EventBridgeFailure[]): void {
    this.failures.push(...failures);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const signatureProblem = checkSigV4(req, body, 'events');
    if (signatureProblem) return this.error(res, 400, 'InvalidSignatureException', signatureProblem);
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents')
      return this.error(res, 400, 'UnknownOperationException', 'unsupported operation');
    if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1'))
      return this.error(res, 400, 'SerializationException', 'expected application/x-amz-json-1.1');
    let input: { Entries?: PutEventsEntry[] };
    try {
      input = JSON.parse(body.toString('utf8')) as { Entries?: PutEventsEntry[] };
    } catch {
      return this.error(res, 400, 'SerializationException', 'body is not JSON');
    }
    const entries = input.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) return this.error(res, 400, 'ValidationException', '1 to 10 entries per request');
    const failure = this.failures.shift();
    if (failure === 'ThrottlingException') return this.error(res, 400, failure, 'Rate exceeded');
    if (failure === 'InternalException') return this.error(res, 500, failure, 'Internal error');
    const results = entries.map((entry, i) => {
      if (i === 0 && failure?.startsWith('entry:'))
        return { ErrorCode: failure.slice('entry:'.length), ErrorMessage: 'entry failed (injected)' };
      const bus = entry.EventBusName ?? 'default';
      if (!this.buses.has(bus)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
      if (!entry.Source || !entry.DetailType || !entry.Detail)
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source, DetailType and Detail are required' };
      try {
        JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (Buffer.byteLength(entry.Detail) > 256 * 1024)
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Total size of the entries in the request is over the limit.' };
      const eventId = randomUUID();
      this.events.push({
        eventId,
        source: entry.Source,
        detailType: entry.DetailType,
        detail: entry.Detail,
        eventBusName: bus,
        resources: entry.Resources ?? [],
        time: entry.Time,
      });
      return { EventId: eventId };
    });
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
    res.end(JSON.stringify({ FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results }));
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
    res.end(JSON.stringify({ __type: type, message }));
  }
}
