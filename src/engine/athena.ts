/**
 * The Athena engine: the QueryEngine seam over Amazon Athena (engine v3, Trino).
 *
 * One query = StartQueryExecution (values as ExecutionParameters, never pasted into the SQL),
 * GetQueryExecution polled with exponential backoff until a final state, then every page of
 * GetQueryResults. Throttled or 5xx API calls are retried here with full-jitter backoff (the SDK's
 * own retries are off, so there is one retry policy to reason about). An aborted signal (the
 * request deadline) stops the query with StopQueryExecution, so nothing keeps scanning and billing.
 *
 * Cost guard: every query runs under `maxBytesScanned`; a running query whose reported scan passes
 * it is stopped (COST_LIMIT). With `budget`, no query starts once the window's scanned bytes are
 * spent. Athena has no reliable pre-execution scan estimate (EXPLAIN's estimates are empty without
 * table statistics), so the guard acts on the scan Athena reports while the query runs; for a hard
 * per-query cap set the workgroup's BytesScannedCutoffPerQuery as well.
 */
import { randomUUID } from 'node:crypto';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type ColumnInfo,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { EngineError, type QueryEngine, type QueryOptions, type QueryResult, type SqlParam, type SqlRow } from './types';
import { executionParameters } from './athena-params';
import { parseAthenaValue } from './athena-values';
import { validateAthenaConfig, type AthenaEngineConfig } from './athena-config';

export { athenaConfigFromEnv, type AthenaEngineConfig } from './athena-config';

const RETRYABLE_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'SlowDown',
]);
/** Connection failures worth another try (every call is idempotent: Start carries a ClientRequestToken). */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const THROTTLE_ERRORS = new Set(['ThrottlingException', 'TooManyRequestsException', 'SlowDown']);

type ResolvedConfig = ReturnType<typeof validateAthenaConfig>;

export class AthenaEngine implements QueryEngine {
  readonly name = 'athena' as const;
  private readonly config: ResolvedConfig;
  private readonly client: AthenaClient;
  /** Bytes scanned by finished queries, for the rolling budget. */
  private readonly spent: { at: number; bytes: number }[] = [];

  constructor(config: AthenaEngineConfig, client?: AthenaClient) {
    this.config = validateAthenaConfig(config);
    this.client =
      client ??
      new AthenaClient({
        region: this.config.region,
        endpoint: this.config.endpoint,
        credentials: this.config.credentials,
        maxAttempts: 1,
      });
  }

  async query<R extends SqlRow = SqlRow>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<R>> {
    const started = Date.now();
    const signal = options.signal;
    const parameters = executionParameters(sql, params);
    this.checkBudget();
    if (signal?.aborted) throw deadlineError(undefined);

    const clientRequestToken = randomUUID(); // same token on retries: Athena starts the query once
    const { QueryExecutionId: queryId } = await this.call('StartQueryExecution', () =>
      this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          ExecutionParameters: parameters,
          ClientRequestToken: clientRequestToken,
          QueryExecutionContext: { Database: this.config.database, Catalog: this.config.catalog },
          WorkGroup: this.config.workgroup,
          ResultConfiguration: this.config.outputLocation ? { OutputLocation: this.config.outputLocation } : undefined,
          ResultReuseConfiguration:
            this.config.resultReuseMaxAgeMinutes !== undefined
              ? { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: this.config.resultReuseMaxAgeMinutes } }
              : undefined,
        }),
      ),
    );
    if (!queryId) throw new EngineError('Athena did not return a query execution id', 'QUERY_FAILED');

    const execution = await this.waitForCompletion(queryId, signal);
    const statistics = execution.Statistics ?? {};
    const bytesScanned = statistics.DataScannedInBytes ?? 0;
    this.spent.push({ at: Date.now(), bytes: bytesScanned });

    const rows = await this.fetchRows<R>(queryId, execution.StatementType, signal);
    return {
      rows,
      stats: {
        engine: 'athena',
        millis: Date.now() - started,
        bytesScanned,
        queueMillis: statistics.QueryQueueTimeInMillis,
        executionMillis: statistics.EngineExecutionTimeInMillis,
        queryId,
      },
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Bytes scanned within the budget window so far (for stats pages and tests). */
  bytesScannedInWindow(now = Date.now()): number {
    const windowMs = this.config.budget?.windowMs ?? Number.POSITIVE_INFINITY;
    while (this.spent.length > 0 && now - this.spent[0].at > windowMs) this.spent.shift();
    return this.spent.reduce((sum, s) => sum + s.bytes, 0);
  }

  private checkBudget(): void {
    const budget = this.config.budget;
    if (!budget) return;
    const used = this.bytesScannedInWindow();
    if (used >= budget.bytes) {
      throw new EngineError(
        `Athena scan budget spent: ${used} of ${budget.bytes} bytes scanned in the last ${Math.round(budget.windowMs / 60_000)} minute(s); query not started`,
        'COST_LIMIT',
      );
    }
  }

  private async waitForCompletion(queryId: string, signal: AbortSignal | undefined): Promise<QueryExecution> {
    let delay = this.config.pollMinMs;
    for (;;) {
      const { QueryExecution: execution } = await this.call('GetQueryExecution', () =>
        this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })),
      );
      const state = execution?.Status?.State;
      if (!execution || !state) throw new EngineError(`Athena returned no status for query ${queryId}`, 'QUERY_FAILED');
      if (state === 'SUCCEEDED') return execution;
      if (state === 'FAILED') throw failedError(queryId, execution);
      if (state === 'CANCELLED') throw new EngineError(`Athena query ${queryId} was cancelled`, 'QUERY_CANCELLED');

      const scanned = execution.Statistics?.DataScannedInBytes ?? 0;
      if (scanned > this.config.maxBytesScanned) {
        await this.stop(queryId);
        throw new EngineError(
          `Athena query ${queryId} stopped: it scanned ${scanned} bytes, over the limit of ${this.config.maxBytesScanned}`,
          'COST_LIMIT',
        );
      }
      const aborted = await sleep(delay, signal);
      if (aborted) {
        await this.stop(queryId);
        throw deadlineError(queryId);
      }
      delay = Math.min(delay * 2, this.config.pollMaxMs);
    }
  }

  private async stop(queryId: string): Promise<void> {
    try {
      await this.call('StopQueryExecution', () => this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })));
    } catch {
      // Best effort: the caller already gets the deadline or cost error; the query may have just finished.
    }
  }

  private async fetchRows<R extends SqlRow>(
    queryId: string,
    statementType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<R[]> {
    const rows: R[] = [];
    let columns: ColumnInfo[] | undefined;
    let nextToken: string | undefined;
    let firstPage = true;
    do {
      if (signal?.aborted) throw deadlineError(queryId);
      const page: GetQueryResultsCommandOutput = await this.call('GetQueryResults', () =>
        this.client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, NextToken: nextToken, MaxResults: 1000 })),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      let pageRows = page.ResultSet?.Rows ?? [];
      // A SELECT's first page starts with the header row (column labels); later pages do not.
      if (firstPage && statementType !== 'DDL' && pageRows.length > 0 && isHeaderRow(pageRows[0].Data ?? [], columns))
        pageRows = pageRows.slice(1);
      for (const row of pageRows) {
        const data = row.Data ?? [];
        const record: SqlRow = {};
        columns.forEach((column, i) => {
          record[column.Name ?? column.Label ?? `_col${i}`] = parseAthenaValue(data[i]?.VarCharValue, column.Type ?? 'varchar');
        });
        rows.push(record as R);
      }
      nextToken = page.NextToken;
      firstPage = false;
    } while (nextToken);
    return rows;
  }

  /** Runs one API call, retrying throttling and server errors with full-jitter exponential backoff. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const name = (err as { name?: string }).name ?? '';
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        const code = (err as { code?: string }).code ?? '';
        const retryable =
          RETRYABLE_ERRORS.has(name) ||
          status >= 500 ||
          (err as { $retryable?: unknown }).$retryable !== undefined ||
          TRANSIENT_NETWORK_CODES.has(code);
        if (!retryable) {
          if (name === 'InvalidRequestException')
            throw new EngineError(`Athena rejected ${operation}: ${safeMessage(err)}`, 'QUERY_FAILED', err);
          // Credentials, permissions, a wrong endpoint: name the failure, keep the details in `cause` for logs.
          throw new EngineError(`Athena ${operation} failed: ${name || code || 'unknown error'}: ${safeMessage(err)}`, 'QUERY_FAILED', err);
        }
        if (attempt >= this.config.maxRetries) {
          const throttled = THROTTLE_ERRORS.has(name);
          throw new EngineError(
            `Athena ${operation} ${throttled ? 'throttled' : 'failed'} after ${attempt + 1} attempts`,
            throttled ? 'THROTTLED' : 'QUERY_FAILED',
            err,
          );
        }
        const cap = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** attempt);
        await sleep(Math.random() * cap, undefined);
      }
    }
  }
}

/** True when a row holds exactly the column labels: the header row Athena puts first. */
function isHeaderRow(data: { VarCharValue?: string }[], columns: ColumnInfo[]): boolean {
  return data.length === columns.length && columns.every((c, i) => data[i]?.VarCharValue === (c.Label ?? c.Name));
}

/** A caller-safe message from an Athena failure: reason kept, string literals masked (they may hold query values). */
function failedError(queryId: string, execution: QueryExecution): EngineError {
  const status = execution.Status ?? {};
  const reason = maskLiterals(status.AthenaError?.ErrorMessage ?? status.StateChangeReason ?? 'no reason given');
  return new EngineError(`Athena query ${queryId} failed: ${reason}`, 'QUERY_FAILED', status);
}

function maskLiterals(text: string): string {
  return text.replace(/'(?:[^']|'')*'/g, "'…'").slice(0, 500);
}

function safeMessage(err: unknown): string {
  const message = (err as { message?: unknown })?.message;
  return maskLiterals(typeof message === 'string' ? message : String(err));
}

function deadlineError(queryId: string | undefined): EngineError {
  return new EngineError(
    queryId ? `Athena query ${queryId} stopped at the request deadline` : 'query not started: the request deadline had passed',
    'TIMEOUT',
  );
}

/** Waits ms; resolves true early if the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
