/**
 * Delivery of new findings as OCSF Detection Findings: to an HTTPS webhook (a local receiver with
 * a self-signed certificate the destination trusts), to SNS and to EventBridge through the real AWS
 * SDK clients against local servers speaking their protocols (testkit/sns-local,
 * testkit/eventbridge-local, SigV4 checked). Retries with backoff and jitter, Retry-After, final
 * refusals, the idempotency key, "only new findings", and crashes: between detection and queueing,
 * between queueing and sending, and mid-request (the CLI killed while the receiver holds it).
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backoffMs,
  deliverOutbox,
  DestinationOutbox,
  parseDeliveryConfig,
  prepareOutbox,
  queueNewFindings,
  toOcsf,
  type DeliveryClock,
  type DeliveryConfig,
  type OcsfDetectionFinding,
} from '../../src/delivery';
import { runDelivery } from '../../src/cli/commands/deliver';
import { TEST_CREDENTIALS } from '../../testkit/aws-local/sigv4';
import { EventBridgeLocalServer } from '../../testkit/eventbridge-local';
import { SnsLocalServer } from '../../testkit/sns-local';
import { WebhookLocalServer } from '../../testkit/webhook-local';
import { finding, writeFindings } from './findings-fixture';

const ROOT = join(__dirname, '..', '..');
const TOPIC = 'arn:aws:sns:us-east-1:660712384915:scoutql-findings';
let dir: string;
let receiver: WebhookLocalServer;
let sns: SnsLocalServer;
let bus: EventBridgeLocalServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-delivery-'));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    SCOUTQL_TEST_HOOK_SECRET: 'hook-secret',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  receiver = await WebhookLocalServer.start({ dir });
  sns = await SnsLocalServer.start({ topics: [TOPIC, `${TOPIC}.fifo`] });
  bus = await EventBridgeLocalServer.start({ buses: ['security'] });
});
afterAll(async () => {
  await Promise.all([receiver?.close(), sns?.close(), bus?.close()]);
  process.env = savedEnv;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let lakeCount = 0;
/** A fresh lake whose destinations were set up before its findings were reported. */
function newLake(config: DeliveryConfig): string {
  const lake = join(dir, `lake-${++lakeCount}`);
  prepareOutbox(lake, config, clockAt(new Date('2026-11-01T00:00:00Z')).clock);
  return lake;
}

function clockAt(start: Date, random = () => 0.5): { clock: DeliveryClock; slept: number[] } {
  let t = start.getTime();
  const slept: number[] = [];
  return {
    slept,
    clock: {
      now: () => new Date(t),
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
      random,
    },
  };
}

const webhook = (extra: Record<string, unknown> = {}) =>
  parseDeliveryConfig({
    destinations: [
      {
        name: 'soc',
        type: 'webhook',
        url: receiver.url,
        caFile: receiver.certFile,
        secretEnv: 'SCOUTQL_TEST_HOOK_SECRET',
        timeoutMs: 2000,
      },
    ],
    maxAttempts: 4,
    backoff: { baseMs: 1000, maxMs: 8000 },
    ...extra,
  });

describe('OCSF Detection Finding', () => {
  test('a finding maps onto class 2004 with its rule, ATT&CK technique, entities and evidence', () => {
    const f = toOcsf(finding('f-ocsf', { level: 'critical', severity: 5 }));
    expect(f).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      activity_id: 1,
      type_uid: 200401,
      severity_id: 5,
      severity: 'Critical',
      status_id: 1,
      is_alert: true,
      time: Date.parse('2026-11-02T10:00:00Z'),
      start_time: Date.parse('2026-11-02T09:59:00Z'),
      end_time: Date.parse('2026-11-02T10:00:00Z'),
      metadata: { version: '1.3.0', uid: 'f-ocsf', product: { name: 'ScoutQL', vendor_name: 'ScoutQL' }, profiles: ['cloud'] },
      finding_info: {
        uid: 'f-ocsf',
        title: 'CloudTrail logging stopped',
        types: ['aws-cloudtrail-stopped'],
        analytic: { uid: 'aws-cloudtrail-stopped', type_id: 1, type: 'Rule', category: 'detection' },
        attacks: [{ technique: { uid: 'T1562.008' }, tactic: { name: 'defense-evasion' } }],
        related_events: [{ uid: 'ev-1' }, { uid: 'ev-2' }],
        related_events_count: 2,
      },
      cloud: { provider: 'AWS', account: { uid: '418295730146' }, region: 'us-east-1' },
      resources: [{ uid: 'arn:aws:cloudtrail:us-east-1:418295730146:trail/main' }, { uid: 'i-0abc' }],
      evidences: [
        {
          actor: { user: { uid: 'arn:aws:iam::418295730146:user/mallory' }, session: { uid: 'AKIAEXAMPLEKEY000001' } },
          src_endpoint: { ip: '192.0.2.150' },
        },
      ],
    });
    expect(toOcsf(finding('b', { rule_kind: 'baseline' })).finding_info.analytic).toMatchObject({ type_id: 2, type: 'Behavioral' });
    expect(toOcsf(finding('g', { product: 'guardduty', rule_kind: null })).metadata.product.name).toBe('Amazon GuardDuty');
  });
});

describe('HTTPS webhook', () => {
  test('each new finding is POSTed once, signed, with its id as the idempotency key, over TLS the destination trusts', async () => {
    const config = webhook();
    const lake = newLake(config);
    await writeFindings(lake, [finding('wh-1'), finding('wh-2', { level: 'medium', severity: 3 })]);
    const before = receiver.received.length;
    const run = await runDelivery(lake, config);
    expect(run.queued).toBe(2);
    expect(run.destinations).toEqual([{ destination: 'soc', delivered: 2, retried: 0, failed: 0, pending: 0 }]);
    const got = receiver.received.slice(before);
    expect(got.map((r) => r.key).sort()).toEqual(['wh-1', 'wh-2']);
    for (const r of got) {
      const body = JSON.parse(r.body) as OcsfDetectionFinding;
      expect(body.class_uid).toBe(2004);
      expect(body.finding_info.uid).toBe(r.key);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-scoutql-signature']).toBe(`sha256=${createHmac('sha256', 'hook-secret').update(r.body).digest('hex')}`);
    }
    // Run again: nothing new, nothing sent.
    const again = await runDelivery(lake, config);
    expect(again.queued).toBe(0);
    expect(receiver.received.length).toBe(before + 2);
    expect(
      new DestinationOutbox(lake, 'soc')
        .delivered()
        .map((d) => d.id)
        .sort(),
    ).toEqual(['wh-1', 'wh-2']);
  });

  test('without the receiver’s certificate trusted, TLS fails and the finding stays owed', async () => {
    const trusted = webhook();
    const config = parseDeliveryConfig({ ...trusted, destinations: [{ ...trusted.destinations[0], caFile: undefined }] });
    const lake = newLake(config);
    await writeFindings(lake, [finding('tls-1')]);
    const run = await runDelivery(lake, config);
    expect(run.destinations[0]).toMatchObject({ delivered: 0, retried: 1, pending: 1 });
    const [entry] = new DestinationOutbox(lake, 'soc').pending();
    expect(entry.lastError).toMatch(/self.signed certificate/i);
    // Trusting it, the next run sends what was owed.
    const later = await deliverOutbox(lake, trusted, { clock: clockAt(new Date(Date.now() + 3_600_000)).clock });
    expect(later[0]).toMatchObject({ delivered: 1, pending: 0 });
  });

  test('server errors and throttling are retried with exponential backoff and jitter, honouring Retry-After', async () => {
    const config = webhook();
    const lake = newLake(config);
    await writeFindings(lake, [finding('retry-1')]);
    await queueNewFindings(lake, config);
    receiver.respondWith(503, { status: 429, retryAfter: 7 }, 500);
    const { clock, slept } = clockAt(new Date(), () => 0.5);
    const events: string[] = [];
    const [summary] = await deliverOutbox(lake, config, {
      clock,
      waitMs: 60_000,
      onAttempt: (e) => events.push(`${e.attempt}:${e.outcome}:${e.delayMs ?? ''}`),
    });
    expect(summary).toEqual({ destination: 'soc', delivered: 1, retried: 3, failed: 0, pending: 0 });
    // Attempt n waits random × min(max, base × 2^(n-1)): 0.5 × 1 s, then Retry-After 7 s over 0.5 × 2 s, then 0.5 × 4 s.
    expect(events).toEqual(['1:retry:500', '2:retry:7000', '3:retry:2000', '4:delivered:']);
    expect(slept).toEqual([500, 7000, 2000]);
    expect(receiver.received.filter((r) => r.key === 'retry-1').map((r) => r.status)).toEqual([503, 429, 500, 200]);
  });

  test('a refusal (4xx) is final at once; running out of attempts is final too; both are kept with their error', async () => {
    const config = webhook({ maxAttempts: 2 });
    const lake = newLake(config);
    await writeFindings(lake, [finding('refused-1'), finding('tired-1', { created_at: new Date('2026-11-02T11:00:00Z') })]);
    await queueNewFindings(lake, config);
    receiver.respondWith(400, 503, 503);
    const [summary] = await deliverOutbox(lake, config, { clock: clockAt(new Date()).clock, waitMs: 60_000 });
    expect(summary).toMatchObject({ delivered: 0, failed: 2, pending: 0 });
    const failed = new DestinationOutbox(lake, 'soc').failed();
    expect(failed.map((f) => [f.key, f.attempts, f.lastError?.slice(0, 8)])).toEqual(
      expect.arrayContaining([
        ['refused-1', 1, 'HTTP 400'],
        ['tired-1', 2, 'HTTP 503'],
      ]),
    );
  });

  test('full jitter stays under the exponential ceiling and the cap', () => {
    const config = webhook({ backoff: { baseMs: 100, maxMs: 1000 } });
    for (let attempts = 1; attempts <= 8; attempts++) {
      const ceiling = Math.min(1000, 100 * 2 ** (attempts - 1));
      expect(backoffMs(attempts, config, () => 0)).toBe(0);
      expect(backoffMs(attempts, config, () => 0.999999)).toBe(ceiling - 1);
    }
  });
});

describe('only new findings, at least once, across crashes', () => {
  test('findings reported before a destination was set up are not sent; later ones are', async () => {
    const config = webhook();
    const lake = join(dir, 'late-destination');
    await writeFindings(lake, [finding('old-1', { created_at: new Date('2026-10-01T00:00:00Z'), time: new Date('2026-10-01T00:00:00Z') })]);
    prepareOutbox(lake, config, clockAt(new Date('2026-10-15T00:00:00Z')).clock);
    await writeFindings(lake, [finding('new-1', { created_at: new Date('2026-11-02T00:00:00Z') })]);
    const before = receiver.received.length;
    await runDelivery(lake, config);
    expect(receiver.received.slice(before).map((r) => r.key)).toEqual(['new-1']);
  });

  test('a crash after detection, before queueing: the next run finds the findings in the lake and sends them', async () => {
    const config = webhook();
    const lake = newLake(config);
    // The detect run committed its findings and died: nothing was queued.
    await writeFindings(lake, [finding('crash-a')]);
    expect(new DestinationOutbox(lake, 'soc').pending()).toEqual([]);
    const before = receiver.received.length;
    await runDelivery(lake, config);
    expect(receiver.received.slice(before).map((r) => r.key)).toEqual(['crash-a']);
  });

  test('a crash after queueing, before sending: the pending file is sent by the next run, and queued only once', async () => {
    const config = webhook();
    const lake = newLake(config);
    await writeFindings(lake, [finding('crash-b')]);
    await queueNewFindings(lake, config);
    const before = receiver.received.length;
    const run = await runDelivery(lake, config);
    expect(run.queued).toBe(0);
    expect(receiver.received.slice(before).map((r) => r.key)).toEqual(['crash-b']);
  });

  test('the CLI killed mid-request: the next run sends the finding again, with the same idempotency key', async () => {
    const config = webhook();
    const lake = newLake(config);
    await writeFindings(lake, [finding('crash-c')]);
    const configFile = join(dir, 'crash-delivery.json');
    writeFileSync(configFile, JSON.stringify(config));
    receiver.hold();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'scoutql.js'), 'deliver', '--lake', lake, '--delivery', configFile], {
      env: process.env,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Wait (bounded) until the receiver holds the request, then kill the sender without warning.
    for (let i = 0; i < 300 && !receiver.received.some((r) => r.key === 'crash-c'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.some((r) => r.key === 'crash-c')).toBe(true);
    child.kill('SIGKILL');
    await exited;
    receiver.release();
    const outbox = new DestinationOutbox(lake, 'soc');
    // The dead process's lock and the owed finding are still there.
    expect(existsSync(join(outbox.dir, 'lock'))).toBe(true);
    expect(outbox.pending().map((e) => e.key)).toEqual(['crash-c']);
    const run = await runDelivery(lake, config);
    expect(run.destinations[0]).toMatchObject({ delivered: 1, pending: 0 });
    // Delivered twice in all (at least once), accepted once, both times under the finding's id.
    expect(receiver.received.filter((r) => r.key === 'crash-c').length).toBe(2);
    expect(receiver.acceptedKeys().filter((k) => k === 'crash-c')).toEqual(['crash-c']);
  });
});

describe('Amazon SNS (real SDK client, local SNS protocol server)', () => {
  const config = (topicArn = TOPIC) =>
    parseDeliveryConfig({ destinations: [{ name: 'alerts', type: 'sns', topicArn, endpoint: sns.endpoint }], maxAttempts: 3 });

  test('published as OCSF JSON with the idempotency key as a message attribute; throttling retried', async () => {
    const c = config();
    const lake = newLake(c);
    await writeFindings(lake, [finding('sns-1')]);
    sns.failNext('Throttling', 'InternalError');
    const { clock } = clockAt(new Date());
    await queueNewFindings(lake, c);
    const [summary] = await deliverOutbox(lake, c, { clock, waitMs: 60_000 });
    expect(summary).toMatchObject({ delivered: 1, retried: 2, failed: 0 });
    const message = sns.published.find((m) => m.attributes.idempotency_key === 'sns-1')!;
    expect(message.topicArn).toBe(TOPIC);
    expect(message.subject).toBe('[High] CloudTrail logging stopped');
    expect(message.attributes).toMatchObject({ severity: 'High', rule: 'aws-cloudtrail-stopped' });
    expect((JSON.parse(message.message) as OcsfDetectionFinding).finding_info.uid).toBe('sns-1');
    expect(sns.requests.filter((r) => r.idempotencyKey === 'sns-1')).toHaveLength(3);
  });

  test('a FIFO topic gets a group and a deduplication id from the finding id', async () => {
    const c = config(`${TOPIC}.fifo`);
    const lake = newLake(c);
    await writeFindings(lake, [finding('sns-fifo')]);
    await runDelivery(lake, c);
    const message = sns.published.find((m) => m.attributes.idempotency_key === 'sns-fifo')!;
    expect(message.groupId).toBe('scoutql-findings');
    expect(message.deduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a missing topic and a bad signature are final refusals', async () => {
    const missing = parseDeliveryConfig({
      destinations: [{ name: 'alerts', type: 'sns', topicArn: `${TOPIC}-gone`, endpoint: sns.endpoint }],
    });
    const lake = newLake(missing);
    await writeFindings(lake, [finding('sns-gone')]);
    const run = await runDelivery(lake, missing);
    expect(run.destinations[0]).toMatchObject({ delivered: 0, failed: 1 });
    expect(new DestinationOutbox(lake, 'alerts').failed()[0].lastError).toMatch(/^NotFoundException: Topic does not exist/);

    const c = config();
    const lake2 = newLake(c);
    await writeFindings(lake2, [finding('sns-badsig')]);
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const run2 = await runDelivery(lake2, c);
      expect(run2.destinations[0]).toMatchObject({ delivered: 0, failed: 1 });
      expect(new DestinationOutbox(lake2, 'alerts').failed()[0].lastError).toMatch(/SignatureDoesNotMatch/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });
});

describe('Amazon EventBridge (real SDK client, local EventBridge protocol server)', () => {
  const config = (eventBusName = 'security') =>
    parseDeliveryConfig({
      destinations: [{ name: 'bus', type: 'eventbridge', eventBusName, region: 'eu-west-1', endpoint: bus.endpoint }],
      maxAttempts: 4,
    });

  test('put on the bus as OCSF detail; a failed entry and a throttled request are retried', async () => {
    const c = config();
    const lake = newLake(c);
    await writeFindings(lake, [finding('eb-1')]);
    bus.failNext('entry:InternalFailure', 'ThrottlingException');
    await queueNewFindings(lake, c);
    const [summary] = await deliverOutbox(lake, c, { clock: clockAt(new Date()).clock, waitMs: 60_000 });
    expect(summary).toMatchObject({ delivered: 1, retried: 2, failed: 0 });
    const event = bus.events.find((e) => (JSON.parse(e.detail) as OcsfDetectionFinding).finding_info.uid === 'eb-1')!;
    expect(event).toMatchObject({ source: 'scoutql', detailType: 'ScoutQL Detection Finding', eventBusName: 'security' });
    // Only ARNs go in Resources; the instance id stays in the detail.
    expect(event.resources).toEqual(['arn:aws:cloudtrail:us-east-1:418295730146:trail/main']);
  });

  test('a missing bus is a final refusal', async () => {
    const c = config('nope');
    const lake = newLake(c);
    await writeFindings(lake, [finding('eb-gone')]);
    const run = await runDelivery(lake, c);
    expect(run.destinations[0]).toMatchObject({ delivered: 0, failed: 1 });
    expect(new DestinationOutbox(lake, 'bus').failed()[0].lastError).toMatch(/ResourceNotFoundException: Event bus nope does not exist/);
  });
});

describe('configuration', () => {
  test.each([
    [{ destinations: [{ name: 'a', type: 'webhook', url: 'http://soc.example.com/x' }] }, /destinations\.0\.url: a webhook must be https/],
    [
      { destinations: [{ name: 'A b', type: 'webhook', url: 'https://x.example' }] },
      /destinations\.0\.name: a destination name is lower-case/,
    ],
    [{ destinations: [{ name: 'a', type: 'sns', topicArn: 'arn:aws:sqs:us-east-1:1:q' }] }, /destinations\.0\.topicArn: an SNS topic ARN/],
    [{ destinations: [{ name: 'a', type: 'pager' }] }, /destinations\.0\.type/],
    [
      {
        destinations: [
          { name: 'a', type: 'eventbridge' },
          { name: 'a', type: 'eventbridge' },
        ],
      },
      /duplicate destination name 'a'/,
    ],
    [{ minLevel: 'urgent' }, /minLevel/],
  ])('%j is refused naming the key', (value, message) => {
    expect(() => parseDeliveryConfig(value)).toThrow(message);
  });

  test('products and minLevel choose what is sent', async () => {
    const config = webhook({ products: ['scoutql', 'guardduty'], minLevel: 'medium' });
    const lake = newLake(config);
    await writeFindings(lake, [
      finding('lvl-low', { level: 'low', severity: 2 }),
      finding('lvl-med', { level: 'medium', severity: 3 }),
      finding('gd-high', { product: 'guardduty' }),
      finding('sh-high', { product: 'securityhub' }),
    ]);
    const before = receiver.received.length;
    await runDelivery(lake, config);
    expect(
      receiver.received
        .slice(before)
        .map((r) => r.key)
        .sort(),
    ).toEqual(['gd-high', 'lvl-med']);
    expect(readdirSync(join(lake, '_outbox'))).toEqual(['soc']);
  });
});
