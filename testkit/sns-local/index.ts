/**
 * TEST INFRASTRUCTURE: a local Amazon SNS endpoint speaking SNS's real protocol (the AWS Query
 * protocol: form-encoded `Action=Publish`, XML answers and errors, Signature Version 4 checked) on
 * 127.0.0.1, so the real @aws-sdk/client-sns talks to it unchanged. It keeps what was published
 * and can fail or hold requests on demand. Never used in production code.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSigV4, readBody } from '../aws-local/sigv4';

export interface PublishedMessage {
  topicArn: string;
  message: string;
  subject?: string;
  attributes: Record<string, string>;
  messageId: string;
  groupId?: string;
  deduplicationId?: string;
}

export type SnsFailure = 'Throttling' | 'InternalError' | 'NotFound' | 'AuthorizationError';

const FAILURES: Record<SnsFailure, { status: number; type: 'Sender' | 'Receiver'; message: string }> = {
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  InternalError: { status: 500, type: 'Receiver', message: 'Internal Error' },
  NotFound: { status: 404, type: 'Sender', message: 'Topic does not exist' },
  AuthorizationError: { status: 403, type: 'Sender', message: 'User is not authorized to perform: SNS:Publish' },
};

export class SnsLocalServer {
  readonly published: PublishedMessage[] = [];
  /** Every Publish that arrived (answered or not), in order. */
  readonly requests: { topicArn: string; idempotencyKey?: string }[] = [];
  private readonly failures: SnsFailure[] = [];
  private holding = false;
  private readonly held: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    private readonly topics: Set<string>,
  ) {}

  static async start(options: { topics: readonly string[] }): Promise<SnsLocalServer> {
    const server = createServer();
    const local = new SnsLocalServer(server, new Set(options.topics));
    server.on('request', (req, res) => void local.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return local;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next Publish calls fail with these errors, one each, in order. */
  failNext(...failures: SnsFailure[]): void {
    this.failures.push(...failures);
  }

  /** From now on requests are read and recorded but never answered (a hung endpoint), until release(). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const res of this.held.splice(0)) res.destroy();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const requestId = randomUUID();
    const signatureProblem = checkSigV4(req, body, 'sns');
    if (signatureProblem) return this.error(res, 403, 'Sender', 'SignatureDoesNotMatch', signatureProblem, requestId);
    const form = new URLSearchParams(body.toString('utf8'));
    if (form.get('Action') !== 'Publish')
      return this.error(res, 400, 'Sender', 'InvalidAction', `unsupported action ${form.get('Action')}`, requestId);
    const topicArn = form.get('TopicArn') ?? '';
    const attributes: Record<string, string> = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
    }
    this.requests.push({ topicArn, idempotencyKey: attributes.idempotency_key });
    if (this.holding) {
      this.held.push(res);
      return;
    }
    const failure = this.failures.shift();
    if (failure) return this.error(res, FAILURES[failure].status, FAILURES[failure].type, failure, FAILURES[failure].message, requestId);
    if (!this.topics.has(topicArn)) return this.error(res, 404, 'Sender', 'NotFound', 'Topic does not exist', requestId);
    const message = form.get('Message');
    if (!message) return this.error(res, 400, 'Sender', 'InvalidParameter', 'Invalid parameter: Message', requestId);
    if (Buffer.byteLength(message) > 256 * 1024)
      return this.error(res, 400, 'Sender', 'InvalidParameter', 'Invalid parameter: Message too long', requestId);
    const fifo = topicArn.endsWith('.fifo');
    if (fifo && !form.get('MessageGroupId'))
      return this.error(
        res,
        400,
        'Sender',
        'InvalidParameter',
        'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
        requestId,
      );
    const messageId = randomUUID();
    this.published.push({
      topicArn,
      message,
      ...(form.get('Subject') ? { subject: form.get('Subject')! } : {}),
      attributes,
      messageId,
      ...(fifo ? { groupId: form.get('MessageGroupId')!, deduplicationId: form.get('MessageDeduplicationId') ?? undefined } : {}),
    });
    res.writeHead(200, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId });
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }

  private error(res: ServerResponse, status: number, type: string, code: string, message: string, requestId: string): void {
    res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId });
    res.end(
      `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
