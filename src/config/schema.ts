/**
 * The one configuration schema (zod). Every key's type, default and description live here once; the
 * environment names, the flags and the reference in docs/config.md are derived from it (keys.ts).
 *
 * Sizes accept a number of bytes or a unit (500MB, 10GiB); durations are whole numbers of the unit
 * their key names (…Seconds, …Minutes, …Days), so a value never needs a unit parser to be read.
 */
import { z } from 'zod';
import { isLoopbackHost } from '../api/protect/host';

export const ROLES = ['analyst', 'soar', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Asymmetric JWS algorithms only: `none` and the HMAC family (HS256 key confusion) cannot be configured. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const BYTE_SIZE = /^\s*\d+(?:\.\d+)?\s*(?:[kmgt]i?b?|b)?\s*$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An account id as the lake partitions it: AWS account, Azure tenant or subscription, GCP project. */
const ACCOUNT = /^[A-Za-z0-9._-]{1,128}$/;
const STREAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const byteSize = z.union([int(0), z.string().regex(BYTE_SIZE, 'expected a byte size such as 1048576, 500MB or 10GiB')]);
const s3Url = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/.*)?$/, 'expected an s3://bucket/prefix URL');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const role = z.enum(ROLES);
const accountList = z.union([z.literal('*'), z.array(z.string().regex(ACCOUNT, 'expected an account id (letters, digits, . _ -)'))]);

const engine = z
  .strictObject({
    type: z
      .enum(['duckdb', 'athena'])
      .default('duckdb')
      .describe('Query engine: `duckdb` in-process over a local lake folder, or `athena`.'),
    lake: z
      .string()
      .min(1)
      .default('.scoutql/lake')
      .describe('The lake: a local folder (duckdb) or `s3://bucket/prefix` (athena). Relative paths in the file are relative to the file.'),
    duckdb: z
      .strictObject({
        memoryLimit: z
          .string()
          .regex(BYTE_SIZE)
          .optional()
          .describe("DuckDB's memory limit (e.g. 2GB); past it DuckDB spills to disk. Default: DuckDB's own."),
        threads: int(1, 256)
          .optional()
          .describe(
            "DuckDB's worker threads for the whole instance (its `threads` setting), shared by every connection of the pool. Default: DuckDB's own (the machine's cores).",
          ),
        graphInMemory: z
          .boolean()
          .default(true)
          .describe(
            "Hold the graph tables (entities, edges, coverage) in DuckDB memory, loaded again when a commit changes them: graph look-ups scan decoded columns instead of decompressing Parquet per statement. Costs memory: about twice the graph's Parquet bytes (compressed). Lakes with a commit chain only.",
          ),
        graphInMemoryMaxMiB: int(0)
          .default(256)
          .describe(
            'With graphInMemory: hold the graph only while its Parquet files come to at most this many MiB (held, it takes about twice that); a larger graph is read from its files, as with graphInMemory off. 0: never hold it.',
          ),
      })
      .prefault({}),
    athena: z
      .strictObject({
        database: z
          .string()
          .regex(IDENTIFIER, 'expected a plain identifier (letters, digits, _)')
          .optional()
          .describe('Glue database holding the lake tables (required with athena).'),
        workgroup: z.string().min(1).default('primary').describe('Athena workgroup (engine v3; its enforced settings apply).'),
        outputLocation: s3Url
          .optional()
          .describe('Where Athena writes results, `s3://bucket/prefix/`; optional when the workgroup enforces one.'),
        region: z.string().min(1).optional().describe('AWS region (required with athena; falls back to AWS_REGION).'),
        catalog: z.string().min(1).default('AwsDataCatalog').describe('Data catalog.'),
        endpoint: httpUrl.optional().describe('Endpoint override: the local Athena-protocol server of tests and demos.'),
        resultReuseMinutes: int(0)
          .optional()
          .describe("Reuse an identical query's results up to this age (Athena result reuse); off when unset."),
      })
      .prefault({}),
  })
  .prefault({});

const server = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Beyond loopback with `auth: none` needs `insecureBind`.'),
    port: int(0, 65535).default(4000).describe('Port to listen on (0: any free port).'),
    insecureBind: z
      .boolean()
      .default(false)
      .describe('Allow binding beyond loopback with `auth: none` (everyone who reaches the port reads everything).'),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Host header names accepted besides localhost, 127.0.0.1, [::1] and the bound address (DNS rebinding guard); `*.example.com` matches subdomains, `*` turns the check off.',
      ),
    corsOrigins: z
      .array(z.string().min(1))
      .default([])
      .describe('Origins allowed by CORS (e.g. https://notebooks.example.com); none: CORS off.'),
    requestTimeoutSeconds: int(1, 3600).default(60).describe("A request's engine queries are cancelled after this long."),
    shutdownGraceSeconds: int(0, 3600).default(30).describe('On SIGTERM, in-flight requests get this long to finish.'),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Take the client address from X-Forwarded-For (only behind a load balancer that sets it).'),
    persistedQueries: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Folder of persisted queries (`<name>.graphql`, run by name or sha256; the only documents `soar` may run). Default: the bundled examples/hunts.',
      ),
    metrics: z.boolean().default(true).describe('Serve Prometheus metrics at /metrics (admin callers only when auth is on).'),
    publicUrl: httpUrl
      .optional()
      .describe(
        'The URL people reach this server at (e.g. https://scoutql.acme.example, with a path prefix if behind one): the base of workbench links in `contextFor` and `/api/context`. Unset: links are relative (`/ui/#/context/…`).',
      ),
    pool: z
      .strictObject({
        connections: int(1, 256).default(8).describe('Engine connections (DuckDB) or concurrent engine queries (Athena).'),
        lightReserved: int(0, 255)
          .optional()
          .describe(
            "Connections kept for light queries (pivots, lookups, an entity's events) so heavy scans (whole-window pages, counts, aggregates) cannot take them all: heavy ones run at most connections − lightReserved at once. Default: all but 2 (connections − 2, at least 0).",
          ),
        perRequest: int(1, 256)
          .optional()
          .describe(
            'Engine queries one request runs at once (its others wait for its own to end), so one wide request cannot hold every connection while other callers queue. Default: half the connections (at least 1).',
          ),
        shareIdentical: z
          .boolean()
          .default(true)
          .describe(
            "DuckDB: statements identical in SQL, parameters (the caller's accounts included), window and lake commit that are in flight at once run once, each caller getting its own copy of the rows (many callers asking about one indicator at once). Off: every call runs.",
          ),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * The pool's light lane: as configured, else all connections but two. Heavy scans then run at most
 * two at once (bench/api.ts --light-vs-heavy: on 2 cores more of them only share the same CPU and
 * a light pivot waits behind them), and light statements get every other connection.
 */
export function poolLightReserved(pool: { connections: number; lightReserved?: number }): number {
  return pool.lightReserved ?? Math.max(0, pool.connections - 2);
}

/** Engine queries one request may run at once: as configured, else half the connections (at least 1). */
export function poolPerRequest(pool: { connections: number; perRequest?: number }): number {
  return pool.perRequest ?? Math.max(1, Math.floor(pool.connections / 2));
}

const oidc = z.strictObject({
  issuer: httpUrl.describe('Issuer URL; tokens must carry exactly this `iss`. https, or http on loopback (tests, demos).'),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('Accepted `aud` value(s).'),
  jwksUri: httpUrl.optional().describe("JWKS URL; default: the issuer's /.well-known/openid-configuration `jwks_uri`."),
  clockSkewSeconds: int(0, 300).default(30).describe('Tolerance for `exp` and `nbf`.'),
  algorithms: z
    .array(z.enum(JWT_ALGORITHMS))
    .min(1)
    .default(['RS256', 'ES256'])
    .describe('Accepted signature algorithms (asymmetric only).'),
  jwksCacheSeconds: z
    .number()
    .min(0)
    .max(86_400)
    .default(600)
    .describe('How long fetched signing keys are trusted before a refetch (a removed key stops working after this).'),
  jwksCooldownSeconds: z
    .number()
    .min(0)
    .max(3600)
    .default(30)
    .describe('Least time between JWKS refetches triggered by an unknown `kid` (new keys are picked up after this).'),
  claims: z
    .strictObject({
      subject: z.string().min(1).default('sub').describe('Claim naming the person (audit trail subject).'),
      roles: z.string().min(1).default('groups').describe('Claim (string or list) whose values map to roles and accounts.'),
      accounts: z.string().min(1).default('scoutql_accounts').describe('Optional claim (list, or "*") of accounts granted directly.'),
    })
    .prefault({}),
  roles: z
    .record(z.string().min(1), role)
    .default({ analyst: 'analyst', soar: 'soar', admin: 'admin' })
    .describe('Value of the roles claim → role. With several matches the strongest wins (admin > analyst > soar).'),
  accounts: z
    .record(z.string().min(1), accountList)
    .default({})
    .describe('Value of the roles claim → accounts (a list, or "*"); the union of all matches.'),
  defaultRole: role.optional().describe('Role of a signed-in person whose claims map to none (default: refused with 403).'),
});

const apiKeys = z.strictObject({
  enabled: z.boolean().default(true).describe('Accept API keys (`scoutql keys create`).'),
  store: z
    .string()
    .min(1)
    .optional()
    .describe("Folder or `s3://` prefix holding one hashed record per key (default: the lake's `_keys/`)."),
  cacheSeconds: z
    .number()
    .min(0)
    .max(3600)
    .default(30)
    .describe('How long a verified key is cached; a revocation takes effect within this.'),
});

const authSettings = z.strictObject({
  oidc: oidc.optional().describe('Sign-in of people with OIDC bearer tokens (JWT).'),
  apiKeys: apiKeys.optional().describe('API keys for machines (SOAR, notebooks).'),
  soarOperations: z
    .union([z.literal('*'), z.array(z.string().min(1))])
    .default('*')
    .describe(
      'Persisted queries (by name) the `soar` role may run, and `api/context` for GET /api/context/{indicator}; `*`: all of them. Ad-hoc documents are always refused to soar.',
    ),
});

const audit = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Append one hash-chained line per API request.'),
    location: z.string().min(1).optional().describe("Folder or `s3://` prefix of the trail (default: the lake's `_audit/`)."),
    stream: z
      .string()
      .regex(STREAM, 'expected letters, digits, . _ - (up to 64)')
      .default('main')
      .describe('Chain name; each server process writing at once needs its own (e.g. the pod name).'),
    maxChunkBytes: byteSize.default('64MiB').describe('A local chunk file is closed past this size (and at each UTC day).'),
    flushSeconds: z
      .number()
      .min(0.01)
      .max(3600)
      .default(5)
      .describe('On S3 (no appends) lines are gathered this long into one new object.'),
  })
  .prefault({});

const limits = z
  .strictObject({
    ratePerMinute: int(0)
      .optional()
      .describe('Requests per caller per minute (token bucket; 0 off). Default: off with `auth: none`, else 600.'),
    burst: int(1)
      .optional()
      .describe('Requests a caller may make at once before the rate applies. Default: ratePerMinute / 6, at least 10.'),
    concurrentQueriesPerCaller: int(0)
      .optional()
      .describe('Requests of one caller in flight at once (0 off). Default: off with `auth: none`, else 4.'),
    failedSignInsPerMinute: int(0)
      .default(30)
      .describe('Failed sign-ins one client address may make per minute before it is refused with 429 (0 off).'),
    maxWindowDays: int(1, 3660).default(31).describe('Longest time window a query may read.'),
    defaultWindowDays: int(1, 3660).default(7).describe('Window of lookups that give none (the latest days of data).'),
    maxPageSize: int(1, 100_000).default(500).describe('Largest `first` a query may ask for.'),
    defaultPageSize: int(1, 100_000).default(50).describe('`first` when a query gives none.'),
    maxBytesScannedPerQuery: byteSize
      .optional()
      .describe('Cost guard: a query scanning more is stopped (required with athena, which bills by bytes scanned).'),
    scanBudgetBytes: byteSize
      .optional()
      .describe('Cost guard: refuse new queries once this much was scanned within scanBudgetWindowMinutes.'),
    scanBudgetWindowMinutes: int(1).default(60).describe('Rolling window of scanBudgetBytes.'),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    engine,
    server,
    auth: z
      .union([z.literal('none'), authSettings])
      .default('none')
      .describe('`none` (anonymous, loopback only unless insecureBind), or oidc and/or apiKeys.'),
    audit,
    limits,
    rules: z.strictObject({ dir: z.string().min(1).default('rules').describe('Folder of detection rules (Sigma files).') }).prefault({}),
    suppressions: z
      .strictObject({ file: z.string().min(1).optional().describe('Reserved for detections: a file of finding suppressions.') })
      .prefault({}),
    logging: z.strictObject({ level: z.enum(LOG_LEVELS).default('info').describe('Log level (pino, JSON on stderr).') }).prefault({}),
  })
  .superRefine((config, ctx) => {
    // A key required because of another one is reported where that other one was set.
    const becauseAthena = { because: ['engine', 'type'] };
    const athena = config.engine.type === 'athena';
    const s3Lake = config.engine.lake.startsWith('s3://');
    if (athena) {
      if (!s3Lake) ctx.addIssue({ code: 'custom', path: ['engine', 'lake'], message: 'must be an s3:// URL with engine.type athena' });
      if (!config.engine.athena.database)
        ctx.addIssue({
          code: 'custom',
          path: ['engine', 'athena', 'database'],
          message: 'is required with engine.type athena',
          params: becauseAthena,
        });
      if (config.limits.maxBytesScannedPerQuery === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['limits', 'maxBytesScannedPerQuery'],
          message: 'is required with engine.type athena (Athena bills by bytes scanned; there is no unlimited default)',
          params: becauseAthena,
        });
    } else if (s3Lake) {
      ctx.addIssue({
        code: 'custom',
        path: ['engine', 'lake'],
        message: 'an s3:// lake needs engine.type athena (DuckDB reads a local folder)',
      });
    }
    if (config.limits.defaultWindowDays > config.limits.maxWindowDays)
      ctx.addIssue({ code: 'custom', path: ['limits', 'defaultWindowDays'], message: 'must not exceed limits.maxWindowDays' });
    if (config.limits.defaultPageSize > config.limits.maxPageSize)
      ctx.addIssue({ code: 'custom', path: ['limits', 'defaultPageSize'], message: 'must not exceed limits.maxPageSize' });
    if (config.server.pool.lightReserved !== undefined && config.server.pool.lightReserved >= config.server.pool.connections)
      ctx.addIssue({ code: 'custom', path: ['server', 'pool', 'lightReserved'], message: 'must be less than server.pool.connections' });
    if (config.auth !== 'none') {
      const { oidc: o, apiKeys: k } = config.auth;
      if (!o && !(k && k.enabled))
        ctx.addIssue({ code: 'custom', path: ['auth'], message: "needs oidc and/or apiKeys (enabled), or the value 'none'" });
      if (o) {
        for (const [name, url] of [
          ['issuer', o.issuer],
          ['jwksUri', o.jwksUri],
        ] as const) {
          if (url !== undefined && url.startsWith('http:') && !isLoopbackUrl(url))
            ctx.addIssue({
              code: 'custom',
              path: ['auth', 'oidc', name],
              message: 'must be https (http only on loopback, for tests and demos)',
            });
        }
      }
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type AuthSettings = z.output<typeof authSettings>;
export type OidcSettings = z.output<typeof oidc>;

export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}
