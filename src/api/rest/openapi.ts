/**
 * The OpenAPI 3.1 document of the HTTP routes a SOAR tool calls: `GET /api/context/{indicator}` and
 * persisted queries over `GET /graphql`. Served at /api/openapi.json and committed as
 * docs/openapi.json (`npx tsx src/api/rest/openapi.ts > docs/openapi.json && npx prettier --write
 * docs/openapi.json`); test/service/soar-context.test.ts checks the two are the same and that real
 * answers match its schemas. The response schema is generated from the zod schema of context.ts.
 */
import { z } from 'zod';
import { DEFAULT_LIMIT, MAX_LIMIT, soarContextSchema } from './context';

type JsonObject = Record<string, unknown>;

/** A zod schema as a JSON Schema (2020-12, OpenAPI 3.1's dialect) for components.schemas. */
function jsonSchema(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as JsonObject;
  return rest;
}

const errorSchema = z
  .object({
    errors: z
      .array(
        z.object({
          message: z.string(),
          extensions: z.object({ code: z.string(), reason: z.string().optional() }).describe('code: BAD_REQUEST, WINDOW_TOO_LARGE, …'),
        }),
      )
      .min(1),
  })
  .describe('A refusal or failure, as GraphQL errors are shaped.');

const graphqlResultSchema = z
  .object({
    data: z.record(z.string(), z.unknown()).nullable().optional(),
    errors: z.array(z.object({ message: z.string() }).passthrough()).optional(),
    extensions: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('A GraphQL result: `data` shaped by the persisted query, `extensions.stats` the engine work.');

const refusal = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const REFUSALS = {
  '400': refusal('Bad input: window (from / to), limit, or indicator; WINDOW_TOO_LARGE past the server cap.'),
  '401': refusal('No valid credentials (Authorization: Bearer <JWT> or X-API-Key).'),
  '403': refusal('The caller may not run this (a soar key without api/context in auth.soarOperations), or an account outside its grant.'),
  '429': refusal('Rate limit or concurrent-request cap of the caller (Retry-After says when to retry).'),
  '502': refusal('The query engine failed (ENGINE_ERROR); details are in the server log only.'),
  '503': refusal('The server is shutting down, its audit trail cannot be written, or the lake failed its integrity check.'),
};

export function openApiDocument(options: { publicUrl?: string | null } = {}): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ScoutQL SOAR API',
      version: '1',
      description:
        'What the ScoutQL lake knows of an indicator, for SOAR playbooks (docs/soar.md). Every request is authenticated ' +
        '(when the server has auth on), scoped to the caller’s accounts and recorded in the audit trail, as GraphQL requests are.',
    },
    ...(options.publicUrl ? { servers: [{ url: options.publicUrl.replace(/\/+$/, '') }] } : {}),
    security: [{ bearerAuth: [] }, { apiKey: [] }],
    paths: {
      '/api/context/{indicator}': {
        get: {
          operationId: 'getIndicatorContext',
          summary: 'Context and verdict for one indicator',
          description:
            'The indicator is tried as everything it could be (IP or CIDR range, access key id, ARN, user name, email, account id, ' +
            'instance id, bucket, resource name, domain). The verdict scores 0–3 from the findings that name what it matched ' +
            '(docs/soar.md#verdict). Same data as GraphQL `contextFor`; the caller’s role must allow the operation `api/context`.',
          parameters: [
            {
              name: 'indicator',
              in: 'path',
              required: true,
              description: 'The indicator, percent-encoded (an ARN or a CIDR range may also keep its `/`).',
              schema: { type: 'string', minLength: 1 },
            },
            {
              name: 'from',
              in: 'query',
              description:
                'Start of the window (ISO 8601 with a zone); with `to`. Neither: the server’s default window (latest days of data).',
              schema: { type: 'string', format: 'date-time' },
            },
            { name: 'to', in: 'query', description: 'End of the window, exclusive.', schema: { type: 'string', format: 'date-time' } },
            {
              name: 'limit',
              in: 'query',
              description: 'Most entries of each related list and of findings.',
              schema: { type: 'integer', minimum: 0, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
            },
          ],
          responses: {
            '200': {
              description: 'The context (also when nothing matched: `found` false, verdict 0).',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/IndicatorContext' } } },
            },
            ...REFUSALS,
          },
        },
      },
      '/graphql': {
        get: {
          operationId: 'runPersistedQuery',
          summary: 'Run a persisted query by name or sha256',
          description:
            'Runs one of the server’s persisted queries (server.persistedQueries, default examples/hunts): the only GraphQL a `soar` ' +
            'key may run, and only those its auth.soarOperations lists.',
          parameters: [
            {
              name: 'documentId',
              in: 'query',
              required: true,
              description: 'The persisted query’s name (e.g. 04-context-for-indicator) or `sha256:<hex>` of its text.',
              schema: { type: 'string' },
            },
            {
              name: 'variables',
              in: 'query',
              description: 'The variables as JSON text, e.g. {"indicator":"192.0.2.45","window":{"from":"…","to":"…"}}.',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': {
              description: 'The GraphQL result (errors such as WINDOW_TOO_LARGE come back in `errors`).',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/GraphQLResult' } } },
            },
            ...REFUSALS,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An OIDC access token (auth.oidc).' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A key from `scoutql keys create`.' },
      },
      schemas: {
        IndicatorContext: jsonSchema(soarContextSchema),
        Error: jsonSchema(errorSchema),
        GraphQLResult: jsonSchema(graphqlResultSchema),
      },
    },
  };
}

if (require.main === module) process.stdout.write(`${JSON.stringify(openApiDocument(), null, 2)}\n`);
