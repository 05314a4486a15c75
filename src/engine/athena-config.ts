/**
 * Configuration of the Athena engine, from code or from SCOUTQL_ATHENA_* environment variables.
 * Credentials are not configured here: the AWS SDK's default provider chain finds them (env,
 * profile, SSO, instance role). Tests pass static ones for the local server.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

export interface AthenaEngineConfig {
  /** Glue database holding the lake's tables (unqualified table names resolve here). */
  database: string;
  /** Athena workgroup; its settings (engine v3, encryption, enforced output location) apply. */
  workgroup?: string;
  /** Where Athena writes result files, `s3://bucket/prefix/`. Optional when the workgroup enforces one. */
  outputLocation?: string;
  region: string;
  /** Data catalog; default AwsDataCatalog. */
  catalog?: string;
  /** Endpoint override: the local Athena-protocol server in tests and demos. */
  endpoint?: string;
  /** Static credentials (tests); omit to use the default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** GetQueryExecution polling: first wait, doubled each poll up to the max. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /**
   * Cost guard, required: the most bytes one query may scan. A query reported (while running)
   * past it is stopped with COST_LIMIT. Athena bills by bytes scanned; there is no unlimited default.
   */
  maxBytesScanned: number;
  /** Optional rolling budget: refuse to start queries once this many bytes were scanned within windowMs. */
  budget?: { bytes: number; windowMs: number };
  /** Reuse a previous identical query's results up to this age (Athena result reuse); off when unset. */
  resultReuseMaxAgeMinutes?: number;
  /** Retries of a throttled or 5xx API call (full-jitter backoff between retryBaseMs and retryMaxMs). */
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateAthenaConfig(
  config: AthenaEngineConfig,
): Required<Pick<AthenaEngineConfig, 'pollMinMs' | 'pollMaxMs' | 'maxRetries' | 'retryBaseMs' | 'retryMaxMs' | 'workgroup'>> &
  AthenaEngineConfig {
  const problems: string[] = [];
  if (!config.database || !IDENTIFIER.test(config.database))
    problems.push(`database must be a plain identifier (letters, digits, _), got '${config.database ?? ''}'`);
  if (!config.region) problems.push('region is required');
  if (config.outputLocation !== undefined && !/^s3:\/\/[^/]+/.test(config.outputLocation))
    problems.push(`outputLocation must be an s3:// URI, got '${config.outputLocation}'`);
  if (config.endpoint !== undefined && !/^https?:\/\//.test(config.endpoint))
    problems.push(`endpoint must be an http(s) URL, got '${config.endpoint}'`);
  if (typeof config.maxBytesScanned !== 'number' || !(config.maxBytesScanned >= 0))
    problems.push('maxBytesScanned (the per-query scan limit in bytes) is required');
  if (config.budget && (!(config.budget.bytes >= 0) || !(config.budget.windowMs > 0)))
    problems.push('budget needs bytes >= 0 and windowMs > 0');
  const pollMinMs = config.pollMinMs ?? 200;
  const pollMaxMs = config.pollMaxMs ?? 5000;
  if (!(pollMinMs > 0) || !(pollMaxMs >= pollMinMs)) problems.push('pollMinMs must be > 0 and pollMaxMs >= pollMinMs');
  if (problems.length > 0) throw new Error(`invalid Athena engine configuration: ${problems.join('; ')}`);
  return {
    ...config,
    workgroup: config.workgroup ?? 'primary',
    pollMinMs,
    pollMaxMs,
    maxRetries: config.maxRetries ?? 5,
    retryBaseMs: config.retryBaseMs ?? 200,
    retryMaxMs: config.retryMaxMs ?? 10_000,
  };
}

/** Parses a byte size: a plain number or with a unit (10GB, 500MiB). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a byte size: '${text}' (examples: 1048576, 500MB, 10GiB)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const power = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] as 'b' | 'k' | 'm' | 'g' | 't'];
  const base = unit.includes('i') ? 1024 : unit === 'b' ? 1 : 1000;
  return Math.round(Number(m[1]) * base ** power);
}

/**
 * Reads SCOUTQL_ATHENA_DATABASE, _WORKGROUP, _OUTPUT_LOCATION, _REGION (or AWS_REGION),
 * _CATALOG, _ENDPOINT, _POLL_MIN_MS, _POLL_MAX_MS, _MAX_BYTES_SCANNED, _BUDGET_BYTES,
 * _BUDGET_WINDOW_MINUTES, _RESULT_REUSE_MINUTES. Values given in `overrides` win.
 */
export function athenaConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AthenaEngineConfig> = {}): AthenaEngineConfig {
  const get = (name: string) => {
    const value = env[`SCOUTQL_ATHENA_${name}`];
    return value === undefined || value === '' ? undefined : value;
  };
  const num = (name: string) => {
    const value = get(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`SCOUTQL_ATHENA_${name} must be a number, got '${value}'`);
    return n;
  };
  const maxBytes = get('MAX_BYTES_SCANNED');
  const budgetBytes = get('BUDGET_BYTES');
  const config: AthenaEngineConfig = {
    database: get('DATABASE') ?? '',
    workgroup: get('WORKGROUP'),
    outputLocation: get('OUTPUT_LOCATION'),
    region: get('REGION') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '',
    catalog: get('CATALOG'),
    endpoint: get('ENDPOINT'),
    pollMinMs: num('POLL_MIN_MS'),
    pollMaxMs: num('POLL_MAX_MS'),
    maxBytesScanned: maxBytes === undefined ? Number.NaN : parseByteSize(maxBytes),
    budget:
      budgetBytes === undefined
        ? undefined
        : { bytes: parseByteSize(budgetBytes), windowMs: (num('BUDGET_WINDOW_MINUTES') ?? 60) * 60_000 },
    resultReuseMaxAgeMinutes: num('RESULT_REUSE_MINUTES'),
    ...overrides,
  };
  validateAthenaConfig(config);
  return config;
}
