/**
 * Wiring of the API as a service, from a settled configuration: the engine the config names
 * (DuckDB over a local lake, or Athena over an s3:// lake) behind the pool, authentication,
 * authorization policy, persisted queries, rate limits, the audit trail, metrics, readiness and
 * the structured log. `serve`, `demo` and `query` all start from here.
 */
import { resolve } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import pino, { type Logger } from 'pino';
import { AuditTrail } from '../api/audit/trail';
import { createAuthenticator } from '../api/auth/authenticate';
import { ApiMetrics } from '../api/metrics';
import { PersistedQueries } from '../api/persisted';
import { EnginePool } from '../api/pool';
import { checkBind, hostPolicy } from '../api/protect/host';
import { ConcurrencyLimiter, RateLimiter } from '../api/protect/limits';
import { lakeIntegrityPlugin } from '../api/lake-integrity';
import { ScoutApi, type ReadinessReport } from '../api/server';
import { objectStoreFor } from '../api/store/object-store';
import { InvestigationStore } from '../api/investigations/store';
import { INVESTIGATIONS_DIR } from '../core/lake-layout';
import type { ScoutConfig } from '../config/load';
import { poolLightReserved, poolPerRequest } from '../config/schema';
import { dayOfPartition, graphTablePath } from '../core/lake-layout';
import { AthenaEngine } from '../engine/athena';
import { DuckDbEngine } from '../engine/duckdb';
import { graphDays, lakeHead } from '../engine/lake';
import { SharedExecutions } from '../engine/shared-executions';
import type { QueryEngine } from '../engine/types';
import { lakePublicKeys } from '../evidence/lake';
import { LakeGuard } from '../evidence/lake-guard';
import { isS3Url } from '../evidence/store';
import { HUNTS_DIR } from '../explorer/examples';
import { parseS3Url, s3Client } from '../../etl/s3';

export interface OpenedEngine {
  /** Every query of the API goes through it: identical statements in flight shared (DuckDB), then the pool. */
  engine: QueryEngine;
  /** The pool in front of the engine (queue depth and running queries for metrics). */
  pool: EnginePool;
  /** Newest day with graph data (YYYY-MM-DD), for default windows. */
  latestDay: () => string | null;
  /** Throws when the lake cannot be read. */
  checkLake: () => Promise<void>;
  /** What it is, for the start-up line: `duckdb over /path` or `athena (db, workgroup) over s3://…`. */
  description: string;
  close: () => Promise<void>;
}

/** Opens the engine the configuration names, behind a pool of server.pool.connections slots. */
export async function openEngine(config: ScoutConfig): Promise<OpenedEngine> {
  const { lake } = config.engine;
  const { connections } = config.server.pool;
  const lightReserved = poolLightReserved(config.server.pool);
  if (config.engine.type === 'duckdb') {
    if (!existsSync(lake)) throw new Error(`lake folder '${lake}' does not exist (run scoutql ingest first, or set engine.lake)`);
    const { memoryLimit, threads, graphInMemory, graphInMemoryMaxMiB } = config.engine.duckdb;
    const duck = await DuckDbEngine.open({ lake, connections, memoryLimit, threads, graphInMemory, graphInMemoryMaxMiB });
    const pool = new EnginePool(duck, { slots: connections, lightReserved });
    return {
      // Above the pool, so callers waiting for another's execution hold no connection.
      engine: config.server.pool.shareIdentical ? new SharedExecutions(pool, () => lakeHead(lake)) : pool,
      pool,
      latestDay: () => graphDays(lake).at(-1) ?? null,
      checkLake: () => Promise.resolve(void readdirSync(lake)),
      description: `duckdb over ${lake}`,
      close: () => duck.close(),
    };
  }
  const athena = config.engine.athena;
  const { maxBytesScannedPerQuery, scanBudget } = config.limits;
  if (maxBytesScannedPerQuery === null) throw new Error('limits.maxBytesScannedPerQuery is required with engine.type athena');
  const engine: QueryEngine = new AthenaEngine({
    database: athena.database ?? '',
    workgroup: athena.workgroup,
    outputLocation: athena.outputLocation,
    region: athena.region ?? '',
    catalog: athena.catalog,
    endpoint: athena.endpoint,
    maxBytesScanned: maxBytesScannedPerQuery,
    budget: scanBudget ? { bytes: scanBudget.bytes, windowMs: scanBudget.windowMinutes * 60_000 } : undefined,
    resultReuseMaxAgeMinutes: athena.resultReuseMinutes,
  });
  const days = new S3GraphDays(lake);
  await days.refresh();
  const pool = new EnginePool(engine, { slots: connections, lightReserved });
  return {
    // Not shared: knowing the lake's version would cost an S3 read per statement (Athena's result reuse is the knob there).
    engine: pool,
    pool,
    latestDay: () => days.latest,
    checkLake: () => days.refresh(),
    description: `athena (database ${athena.database}, workgroup ${athena.workgroup}) over ${lake}`,
    close: async () => {
      days.stop();
      await engine.close();
    },
  };
}

/**
 * The graph days of an s3:// lake: its `graph/entities/day=…/` prefixes, listed with a delimiter (one
 * request per 1000 days, no object listing) and refreshed every minute, so new days widen the
 * default window without a restart.
 */
class S3GraphDays {
  latest: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly lake: string) {}

  async refresh(): Promise<void> {
    const { bucket, key } = parseS3Url(this.lake);
    const prefix = `${[key.replace(/\/+$/, ''), graphTablePath('graph_entities')].filter(Boolean).join('/')}/`;
    const days: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3Client().send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const common of page.CommonPrefixes ?? []) {
        const day = dayOfPartition((common.Prefix ?? '').slice(prefix.length).replace(/\/$/, ''));
        if (day) days.push(day);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    this.latest = days.sort().at(-1) ?? null;
    if (!this.timer) {
      this.timer = setInterval(() => void this.refresh().catch(() => {}), 60_000);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export function createLogger(config: ScoutConfig): Logger {
  return pino(
    { level: config.logging.level, base: { service: 'scoutql' }, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** Refuses a port already taken before any long work starts (`demo` ingests for half a minute first). */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} on ${host} is already in use (another scoutql serve or demo?); pick another with --port <n>, or --port 0 for any free port`,
            )
          : err,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export interface RunningService {
  url: string;
  api: ScoutApi;
  audit: AuditTrail | null;
  logger: Logger;
  /** Graceful: finishes in-flight requests (server.shutdownGraceSeconds), flushes the audit trail, closes the engine. */
  close: () => Promise<void>;
}

/** Starts the API server as the configuration says; warnings (auth none, open binds) go to the log. */
/** The lake's commit chain, checked before every answer (src/evidence/lake-guard.ts): local lakes. */
export interface LakeIntegrityOptions {
  /** Answer from a lake that does not match its chain, with the warning in every response's extensions. */
  allowUnverified?: boolean;
  /** PEM files of the keys that sign the lake's commits: unsigned commits are then refused. */
  publicKeyFiles?: string[];
}

export async function startService(
  config: ScoutConfig,
  options: { logger?: Logger; lakeIntegrity?: LakeIntegrityOptions } = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config);
  const { server } = config;
  const bind = checkBind({
    host: server.host,
    port: server.port,
    authMode: config.auth.mode,
    insecureBind: server.insecureBind,
    allowedHosts: server.allowedHosts,
  });
  if (!bind.ok) throw new Error(bind.error);
  for (const warning of bind.warnings) logger.warn(warning);

  const opened = await openEngine(config);
  const integrity = options.lakeIntegrity ?? {};
  const guard = isS3Url(config.engine.lake)
    ? null
    : new LakeGuard(config.engine.lake, { publicKeys: lakePublicKeys(integrity.publicKeyFiles ?? []) });
  if (guard) {
    const status = await guard.status();
    if (status.state === 'unverified')
      logger.warn({ findings: status.findings }, 'the lake has no commit chain: every answer carries a warning');
    else if (status.state === 'tampered')
      logger.error(
        { findingCount: status.findingCount, findings: status.findings },
        integrity.allowUnverified
          ? 'the lake does not match its commit chain: serving anyway (--allow-unverified), every answer carries the warning'
          : 'the lake does not match its commit chain: refusing queries with LAKE_TAMPERED (`scoutql verify lake` gives the report)',
      );
  }
  const closers: (() => Promise<void>)[] = [() => opened.close()];
  try {
    const s3 = () => s3Client();
    const authenticator = createAuthenticator(config.auth, (location) => objectStoreFor(location, { s3Client: s3 }));
    const audit = config.audit.enabled
      ? await AuditTrail.open({
          store: objectStoreFor(config.audit.location, { s3Client: s3 }),
          stream: config.audit.stream,
          maxChunkBytes: config.audit.maxChunkBytes,
          flushMs: config.audit.flushSeconds * 1000,
          logger,
        })
      : null;
    if (audit) closers.unshift(() => audit.close());
    const { limits } = config;
    const concurrency = new ConcurrencyLimiter({ perCaller: limits.concurrentQueriesPerCaller });
    let api: ScoutApi | null = null;
    const metrics = server.metrics
      ? new ApiMetrics({
          inFlight: () => api?.requestsInFlight ?? 0,
          queueDepth: () => opened.pool.waiting,
          running: () => opened.pool.active,
        })
      : null;
    const registry = PersistedQueries.fromDir(server.persistedQueries ?? HUNTS_DIR);
    api = new ScoutApi({
      engine: opened.engine,
      limits: {
        maxWindowDays: limits.maxWindowDays,
        defaultWindowDays: limits.defaultWindowDays,
        maxPageSize: limits.maxPageSize,
        defaultPageSize: limits.defaultPageSize,
        requestTimeoutMs: server.requestTimeoutSeconds * 1000,
        maxQueriesPerRequest: poolPerRequest(server.pool),
      },
      latestDay: opened.latestDay,
      publicUrl: server.publicUrl ?? null,
      investigations: new InvestigationStore(objectStoreFor(investigationsLocation(config.engine.lake), { s3Client: s3 })),
      plugins: guard ? [lakeIntegrityPlugin(guard, { allowUnverified: integrity.allowUnverified })] : [],
      onError: (error) => logger.error({ err: error }, 'request error (hidden from the caller)'),
      service: {
        authenticator,
        policy: { soarOperations: config.auth.mode === 'on' ? config.auth.soarOperations : '*' },
        registry,
        audit,
        rateLimiter: limits.ratePerMinute > 0 ? new RateLimiter({ perMinute: limits.ratePerMinute, burst: limits.burst }) : null,
        concurrency,
        failedSignIns:
          config.auth.mode === 'on' && limits.failedSignInsPerMinute > 0
            ? new RateLimiter({ perMinute: limits.failedSignInsPerMinute, burst: limits.failedSignInsPerMinute })
            : null,
        hosts: hostPolicy({ bindHost: server.host, allowedHosts: server.allowedHosts }),
        corsOrigins: server.corsOrigins,
        trustProxy: server.trustProxy,
        metrics,
        logger,
        readiness: readinessOf(opened),
        shutdownGraceMs: server.shutdownGraceSeconds * 1000,
      },
    });
    const listening = await api.listen({ port: server.port, host: server.host });
    const serving = api;
    logger.info(
      {
        url: listening.url,
        engine: opened.description,
        auth: config.auth.mode,
        audit: audit ? config.audit.location : 'off',
        persisted: registry.size,
      },
      'serving',
    );
    return {
      url: listening.url,
      api: serving,
      audit,
      logger,
      close: async () => {
        await listening.close();
        await serving.stop();
        for (const close of closers) await close();
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}

/** The lake's `_investigations/` (a folder, or a prefix beside an S3 lake). */
function investigationsLocation(lake: string): string {
  return isS3Url(lake) ? `${lake.replace(/\/+$/, '')}/${INVESTIGATIONS_DIR}` : resolve(lake, INVESTIGATIONS_DIR);
}

/** Engine reachable (a query), lake readable; answers cached for 10 s so probes do not become load. */
function readinessOf(opened: OpenedEngine): () => Promise<ReadinessReport> {
  let cached: { at: number; report: Promise<ReadinessReport> } | null = null;
  const check = async (what: () => Promise<unknown>) => {
    try {
      await what();
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) };
    }
  };
  return () => {
    if (cached && Date.now() - cached.at < 10_000) return cached.report;
    const report = (async (): Promise<ReadinessReport> => {
      const [engine, lake] = await Promise.all([
        check(() => opened.engine.query('SELECT 1 AS ok', [], { label: 'readyz', weight: 'light', signal: AbortSignal.timeout(10_000) })),
        check(() => opened.checkLake()),
      ]);
      return { ready: engine.ok && lake.ok, checks: { engine, lake } };
    })();
    cached = { at: Date.now(), report };
    return report;
  };
}
