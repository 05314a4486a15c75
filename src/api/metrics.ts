/**
 * Prometheus metrics of the API (prom-client, a registry of its own): requests by operation and
 * outcome, latency, bytes scanned, requests in flight and the engine queue. `operation` is a
 * persisted query's registry name, `adhoc` for any other document, or `none` when the request was
 * refused before a document was read: never a caller's free text, so the label set stays small.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Requests being handled now. */
  inFlight: () => number;
  /** Engine queries waiting for a pool slot. */
  queueDepth: () => number;
  /** Engine queries running. */
  running: () => number;
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly duration: Histogram<'operation'>;
  private readonly scanned: Counter<'operation'>;
  private readonly engineQueries: Counter<'operation'>;

  constructor(sources: MetricsSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'scoutql_requests_total',
      help: 'GraphQL requests by operation and outcome (ok, partial, error, unauthenticated, forbidden, limited, timeout, cancelled).',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'scoutql_request_duration_seconds',
      help: 'Time from request to response, by operation.',
      labelNames: ['operation'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.scanned = new Counter({
      name: 'scoutql_bytes_scanned_total',
      help: 'Bytes the engine scanned for requests (Athena bills by these), by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.engineQueries = new Counter({
      name: 'scoutql_engine_queries_total',
      help: 'SQL statements run for requests, by operation.',
      labelNames: ['operation'],
      registers,
    });
    new Gauge({
      name: 'scoutql_requests_in_flight',
      help: 'Requests being handled now.',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: 'scoutql_engine_queue_depth',
      help: 'Engine queries waiting for a pool slot.',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'scoutql_engine_queries_running',
      help: 'Engine queries running now.',
      registers,
      collect() {
        this.set(sources.running());
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'scoutql_' });
  }

  observe(request: { operation: string; outcome: string; seconds: number; bytesScanned: number; queries: number }): void {
    this.requests.inc({ operation: request.operation, outcome: request.outcome });
    this.duration.observe({ operation: request.operation }, request.seconds);
    if (request.bytesScanned > 0) this.scanned.inc({ operation: request.operation }, request.bytesScanned);
    if (request.queries > 0) this.engineQueries.inc({ operation: request.operation }, request.queries);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
