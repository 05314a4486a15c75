/**
 * Sending one finding to one destination: an HTTPS webhook (POST of the OCSF JSON), Amazon SNS
 * (Publish) or Amazon EventBridge (PutEvents), with the real AWS SDK clients. Every attempt
 * carries the idempotency key (the finding id). The answer says whether a failure is worth
 * retrying (throttling, server errors, time-outs, network errors) or final (refused as sent).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { sha256Hex } from '../core/hash';
import type { Destination, EventBridgeDestination, SnsDestination, WebhookDestination } from './config';
import type { OcsfDetectionFinding } from './ocsf';

export type SendResult = { ok: true; detail?: string } | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

export interface Sender {
  send(key: string, finding: OcsfDetectionFinding): Promise<SendResult>;
  close(): void;
}

/** The header (webhook) and message attribute (SNS) carrying the idempotency key. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const SIGNATURE_HEADER = 'X-ScoutQL-Signature';

export function senderFor(destination: Destination, env: NodeJS.ProcessEnv = process.env): Sender {
  if (destination.type === 'webhook') return new WebhookSender(destination, env);
  if (destination.type === 'sns') return new SnsSender(destination);
  return new EventBridgeSender(destination);
}

class WebhookSender implements Sender {
  private readonly ca: string[] | undefined;
  private readonly secret: string | undefined;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly d: WebhookDestination,
    env: NodeJS.ProcessEnv,
  ) {
    this.ca = d.caFile ? [...rootCertificates, readFileSync(d.caFile, 'utf8')] : undefined;
    if (d.secretEnv && !env[d.secretEnv])
      throw new Error(`destination '${d.name}': environment variable ${d.secretEnv} (secretEnv) is not set`);
    this.secret = d.secretEnv ? env[d.secretEnv] : undefined;
    this.headers = { ...d.headers };
    for (const [header, variable] of Object.entries(d.headersEnv)) {
      const value = env[variable];
      if (!value) throw new Error(`destination '${d.name}': environment variable ${variable} (headersEnv.${header}) is not set`);
      this.headers[header] = value;
    }
  }

  send(key: string, finding: OcsfDetectionFinding): Promise<SendResult> {
    const body = Buffer.from(JSON.stringify(finding));
    const url = new URL(this.d.url);
    const headers: Record<string, string> = {
      ...this.headers,
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'User-Agent': 'ScoutQL-delivery/1',
      [IDEMPOTENCY_HEADER]: key,
      ...(this.secret ? { [SIGNATURE_HEADER]: `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}` } : {}),
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', headers, timeout: this.d.timeoutMs, ...(this.ca ? { ca: this.ca } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve({ ok: true, detail: `HTTP ${status}` });
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 300);
          const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
          resolve({ ok: false, retryable, error: `HTTP ${status}${text ? `: ${text}` : ''}`, ...retryAfter(res.headers['retry-after']) });
        });
        res.on('error', (err) => resolve({ ok: false, retryable: true, error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.d.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, retryable: true, error: err.message }));
      req.end(body);
    });
  }

  close(): void {}
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfter(value: string | undefined): { retryAfterMs?: number } {
  if (!value) return {};
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return { retryAfterMs: seconds * 1000 };
  const at = Date.parse(value);
  return Number.isFinite(at) ? { retryAfterMs: Math.max(0, at - Date.now()) } : {};
}

/** AWS error names that mean "try again later" whatever the status code. */
const RETRYABLE_AWS = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'InternalError',
  'InternalFailure',
  'InternalException',
  'ServiceUnavailable',
  'KMSThrottling',
  'RequestTimeout',
  'TimeoutError',
]);

function awsFailure(err: unknown): SendResult {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const retryable = Boolean(e.$retryable) || RETRYABLE_AWS.has(e.name ?? '') || status === undefined || status >= 500 || status === 429;
  return { ok: false, retryable, error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}` };
}

/** The SDK retries nothing itself: the outbox's own backoff counts and records every attempt. */
function awsClientConfig(d: SnsDestination | EventBridgeDestination) {
  return {
    maxAttempts: 1,
    ...(d.region ? { region: d.region } : {}),
    ...(d.endpoint ? { endpoint: d.endpoint } : {}),
  };
}

class SnsSender implements Sender {
  private readonly client: SNSClient;
  private readonly fifo: boolean;

  constructor(private readonly d: SnsDestination) {
    // An SNS topic's region is in its ARN.
    this.client = new SNSClient({ region: d.topicArn.split(':')[3], ...awsClientConfig(d) });
    this.fifo = d.topicArn.endsWith('.fifo');
  }

  async send(key: string, finding: OcsfDetectionFinding): Promise<SendResult> {
    try {
      const out = await this.client.send(
        new PublishCommand({
          TopicArn: this.d.topicArn,
          Message: JSON.stringify(finding),
          Subject: subject(finding),
          MessageAttributes: {
            idempotency_key: { DataType: 'String', StringValue: key },
            severity: { DataType: 'String', StringValue: finding.severity },
            rule: { DataType: 'String', StringValue: finding.finding_info.analytic.uid },
          },
          // FIFO topics drop a repeat within five minutes by this id.
          ...(this.fifo ? { MessageGroupId: 'scoutql-findings', MessageDeduplicationId: sha256Hex(key) } : {}),
        }),
        { abortSignal: AbortSignal.timeout(this.d.timeoutMs) },
      );
      return { ok: true, detail: `MessageId ${out.MessageId ?? '?'}` };
    } catch (err) {
      return awsFailure(err);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** SNS subjects: ASCII, at most 100 characters. */
function subject(finding: OcsfDetectionFinding): string {
  // SNS accepts printable ASCII only: everything else is replaced.
  const text = `[${finding.severity}] ${finding.finding_info.title}`.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 100 ? `${text.slice(0, 99)}…`.replace('…', '.') : text;
}

class EventBridgeSender implements Sender {
  private readonly client: EventBridgeClient;

  constructor(private readonly d: EventBridgeDestination) {
    this.client = new EventBridgeClient(awsClientConfig(d));
  }

  async send(key: string, finding: OcsfDetectionFinding): Promise<SendResult> {
    try {
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: this.d.source,
              DetailType: this.d.detailType,
              Detail: JSON.stringify(finding),
              EventBusName: this.d.eventBusName,
              Time: new Date(finding.time),
              // Only ARNs are accepted here; the finding's other resource ids stay in the detail.
              Resources: (finding.resources ?? []).map((r) => r.uid).filter((uid) => uid.startsWith('arn:')),
            },
          ],
        }),
        { abortSignal: AbortSignal.timeout(this.d.timeoutMs) },
      );
      const entry = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) === 0 && entry?.EventId) return { ok: true, detail: `EventId ${entry.EventId}` };
      const code = entry?.ErrorCode ?? 'UnknownError';
      return {
        ok: false,
        retryable: RETRYABLE_AWS.has(code),
        error: `${code}: ${entry?.ErrorMessage ?? 'entry not accepted'} (key ${key})`,
      };
    } catch (err) {
      return awsFailure(err);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
