/**
 * The `delivery` configuration: where new findings go and how hard to try. One zod schema, so the
 * service's configuration file can hold it as its `delivery:` section; until then `--delivery FILE`
 * reads it from a JSON file of its own.
 *
 *   {
 *     "destinations": [
 *       { "name": "soc", "type": "webhook", "url": "https://soc.example.com/hooks/scoutql", "secretEnv": "SOC_HOOK_SECRET" },
 *       { "name": "alerts", "type": "sns", "topicArn": "arn:aws:sns:us-east-1:111122223333:scoutql-findings" },
 *       { "name": "bus", "type": "eventbridge", "eventBusName": "security", "region": "eu-west-1" }
 *     ],
 *     "products": ["scoutql"], "minLevel": "medium", "maxAttempts": 8, "backoff": { "baseMs": 1000, "maxMs": 300000 }
 *   }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FINDING_LEVELS, FINDING_PRODUCTS } from '../core/tables';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a destination name is lower-case letters, digits and dashes (it names a folder of the outbox)');

const common = {
  name,
  /** Per-request timeout. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
};

/** Endpoint override for AWS destinations (a VPC endpoint, or a local server in tests). */
const awsCommon = {
  ...common,
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')
    .optional(),
  endpoint: z.url().optional(),
};

export const webhookSchema = z.object({
  ...common,
  type: z.literal('webhook'),
  /** HTTPS only (http is allowed for loopback addresses, for local receivers). */
  url: z.url(),
  /** Extra headers (an Authorization header, say); values from `headersEnv` stay out of the file. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Header name → environment variable holding its value. */
  headersEnv: z.record(z.string(), z.string()).default({}),
  /** Environment variable holding an HMAC-SHA256 key: the body is signed in `X-ScoutQL-Signature: sha256=<hex>`. */
  secretEnv: z.string().optional(),
  /** PEM file of extra certificate authorities to trust (a private CA, a self-signed receiver). */
  caFile: z.string().optional(),
});

export const snsSchema = z.object({
  ...awsCommon,
  type: z.literal('sns'),
  topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'an SNS topic ARN'),
});

export const eventBridgeSchema = z.object({
  ...awsCommon,
  type: z.literal('eventbridge'),
  eventBusName: z.string().min(1).default('default'),
  source: z.string().min(1).default('scoutql'),
  detailType: z.string().min(1).default('ScoutQL Detection Finding'),
});

export const destinationSchema = z.discriminatedUnion('type', [webhookSchema, snsSchema, eventBridgeSchema]);

export const deliverySchema = z
  .object({
    destinations: z.array(destinationSchema).default([]),
    /** Which reporters' findings to send (GuardDuty and Security Hub findings reach AWS's own channels already). */
    products: z.array(z.enum(FINDING_PRODUCTS)).default(['scoutql']),
    /** Findings below this level are not sent. */
    minLevel: z.enum(FINDING_LEVELS).default('informational'),
    /** Attempts per finding and destination before it is set aside in the outbox's failed/ folder. */
    maxAttempts: z.number().int().min(1).max(100).default(8),
    /** Exponential backoff with full jitter: a wait drawn from 0 … min(maxMs, baseMs × 2^attempt). */
    backoff: z
      .object({ baseMs: z.number().int().min(1).default(1000), maxMs: z.number().int().min(1).default(300_000) })
      .default({ baseMs: 1000, maxMs: 300_000 }),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.destinations.forEach((d, i) => {
      if (seen.has(d.name))
        ctx.addIssue({ code: 'custom', path: ['destinations', i, 'name'], message: `duplicate destination name '${d.name}'` });
      seen.add(d.name);
      if (d.type === 'webhook') {
        const url = new URL(d.url);
        const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
        if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
          ctx.addIssue({
            code: 'custom',
            path: ['destinations', i, 'url'],
            message: 'a webhook must be https:// (http:// only for a loopback receiver)',
          });
      }
    });
  });

export type DeliveryConfig = z.output<typeof deliverySchema>;
export type Destination = z.output<typeof destinationSchema>;
export type WebhookDestination = z.output<typeof webhookSchema>;
export type SnsDestination = z.output<typeof snsSchema>;
export type EventBridgeDestination = z.output<typeof eventBridgeSchema>;

/** Parses a delivery configuration; problems name the key (`destinations.1.url: …`). */
export function parseDeliveryConfig(value: unknown, where = 'delivery configuration'): DeliveryConfig {
  const parsed = deliverySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new Error(`${where}: ${problems.join('; ')}`);
}

export function readDeliveryConfig(file: string): DeliveryConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`delivery configuration ${file}: ${(err as Error).message}`);
  }
  return parseDeliveryConfig(value, `delivery configuration ${file}`);
}
