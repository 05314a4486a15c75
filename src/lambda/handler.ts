/**
 * AWS Lambda ETL: each invocation ingests the S3 objects its event says were created into the S3
 * lake named by SCOUTQL_LAKE. Local staging and scratch go to /tmp. Redelivery is harmless: the
 * lake's manifest (keyed by content sha256) makes a second read of the same bytes change nothing.
 *
 * Environment:
 *   SCOUTQL_LAKE            s3://bucket/prefix of the lake (required)
 *   SCOUTQL_WORKERS         parser threads (default: the vCPUs Lambda gives the memory size)
 *   SCOUTQL_GRAPH           'off' skips the graph step (e.g. when a scheduled job rebuilds it)
 *   SCOUTQL_LOCK_WAIT_MS    how long to wait for another invocation's lake lock (default 60000)
 *   SCOUTQL_BATCH_ROWS      rows per commit (default 100000)
 *   SCOUTQL_DETECT          'on' runs the detection rules over the days each ingest touched, after it
 *                           publishes (what `scoutql ingest --detect` runs); the s3:// lake is searched
 *                           with Athena, set by the SCOUTQL_ATHENA_* variables (DATABASE at least)
 *   SCOUTQL_RULES           rule folders for SCOUTQL_DETECT, comma-separated (default: the project's rules)
 *   SCOUTQL_SUPPRESSIONS    suppressions file for SCOUTQL_DETECT (YAML: known_networks, break_glass, allow)
 *   AWS_REGION etc.         as for the CLI (etl/s3.ts); credentials from the execution role
 */
import { tmpdir } from 'node:os';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { isS3Url, parseS3Url, s3Url } from '../../etl/s3';
import { detectIngestedDays, detectSummaryJson } from '../cli/detect-run';
import { objectsFromEvent, type CreatedObject } from './events';

export interface HandlerResult {
  lake: string;
  /** s3:// URLs of the objects this invocation was asked to read. */
  objects: string[];
  /** Records of the event that named no object to read, with why. */
  ignored: { what: string; reason: string }[];
  /** The ingest summary (null when the event named nothing to read). */
  summary: IngestSummary | null;
  /** Detection over the days the ingest touched (null unless SCOUTQL_DETECT is on). */
  detect: ReturnType<typeof detectSummaryJson> | null;
}

export async function handler(event: unknown): Promise<HandlerResult> {
  const lake = process.env.SCOUTQL_LAKE?.trim();
  if (!lake || !isS3Url(lake)) throw new Error('SCOUTQL_LAKE must name the lake as s3://bucket/prefix');
  const lakeAt = parseS3Url(lake.replace(/\/+$/, ''));
  const { objects, ignored, scheduled } = objectsFromEvent(event);

  const wanted: CreatedObject[] = [];
  for (const object of objects) {
    if (object.key.endsWith('/')) ignored.push({ what: s3Url(object.bucket, object.key), reason: 'a folder marker, not a log object' });
    else if (insideLake(object, lakeAt))
      ignored.push({ what: s3Url(object.bucket, object.key), reason: 'inside the lake itself (would loop)' });
    else wanted.push(object);
  }
  const inputs = wanted.map((o) => s3Url(o.bucket, o.key));
  const result: HandlerResult = { lake, objects: inputs, ignored, summary: null, detect: null };
  const detect = detectSettings(process.env);
  if (inputs.length === 0 && !scheduled) return log(result);

  // A scheduled invocation reads nothing: it finishes any crashed commit and rebuilds the graph of
  // the days owed one (all that a function running with SCOUTQL_GRAPH=off leaves behind).
  result.summary = await ingest({
    inputs,
    lake,
    workers: scheduled ? 1 : lambdaWorkers(process.env),
    batchRows: positive(process.env.SCOUTQL_BATCH_ROWS) ?? 100_000,
    graph: scheduled || process.env.SCOUTQL_GRAPH !== 'off',
    // An object deleted before this invocation ran is reported, not retried forever.
    skipMissingInputs: true,
    lockWaitMs: positive(process.env.SCOUTQL_LOCK_WAIT_MS) ?? 60_000,
    tempRoot: tmpdir(),
  });
  if (detect) await detectAfterIngest(result, result.summary.days, detect);
  return log(result);
}

interface DetectSettings {
  ruleDirs: string[];
  suppressionsFile: string | null;
}

/** SCOUTQL_DETECT and its options, or null when detection is off. A value that is neither on nor off is refused. */
export function detectSettings(env: NodeJS.ProcessEnv): DetectSettings | null {
  const switchValue = (env.SCOUTQL_DETECT ?? '').trim().toLowerCase();
  if (['', 'off', 'false', '0'].includes(switchValue)) return null;
  if (!['on', 'true', '1'].includes(switchValue)) throw new Error(`SCOUTQL_DETECT must be on or off, got '${env.SCOUTQL_DETECT}'`);
  const ruleDirs = (env.SCOUTQL_RULES ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  return { ruleDirs, suppressionsFile: env.SCOUTQL_SUPPRESSIONS?.trim() || null };
}

/**
 * The rules over the days the ingest touched. The ingest has committed by now, and a redelivery of
 * the same event reads nothing new (so searches nothing): a detection that fails, or a rule that
 * fails, fails the invocation after its log line, naming the days to search again with
 * `scoutql detect --window`, so the function's error metric and its failure destination show it.
 */
async function detectAfterIngest(result: HandlerResult, days: readonly string[], settings: DetectSettings): Promise<void> {
  let failure: string | null = null;
  try {
    const summary = await detectIngestedDays({
      lake: result.lake,
      days,
      ruleDirs: settings.ruleDirs,
      suppressionsFile: settings.suppressionsFile,
      tempRoot: tmpdir(),
    });
    result.detect = detectSummaryJson(summary);
    const failed = 'skipped' in summary ? [] : summary.runs.flatMap((r) => r.failed);
    if (failed.length > 0) failure = `${failed.length} rule(s) failed`;
  } catch (err) {
    failure = (err as Error).message;
    result.detect = { skipped: `detection failed: ${failure}` };
  }
  if (failure !== null) {
    log(result);
    const window = days.length > 0 ? `${[...days].sort()[0]}/${[...days].sort().at(-1)}` : '';
    throw new Error(`detection after the ingest failed (${failure}); the events are in the lake: run scoutql detect --window ${window}`);
  }
}

/** The lake writes into its own bucket; a notification on that prefix must not feed the lake to itself. */
function insideLake(object: CreatedObject, lake: { bucket: string; key: string }): boolean {
  return object.bucket === lake.bucket && (lake.key === '' || object.key === lake.key || object.key.startsWith(`${lake.key}/`));
}

/**
 * Lambda gives a function vCPUs in proportion to its memory: about one per 1,769 MB, up to 6 at
 * 10,240 MB. One parser thread per vCPU; the main thread's work (hashing, publishing) mostly waits
 * on S3 and DuckDB's own threads.
 */
export function lambdaWorkers(env: NodeJS.ProcessEnv): number {
  const explicit = positive(env.SCOUTQL_WORKERS);
  if (explicit) return explicit;
  const memory = positive(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) ?? 1769;
  return Math.max(1, Math.min(6, Math.round(memory / 1769)));
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return text && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** One structured line per invocation for CloudWatch Logs. */
function log(result: HandlerResult): HandlerResult {
  const { summary, ...rest } = result;
  // eslint-disable-next-line no-console -- the Lambda runtime sends console output to CloudWatch Logs, tagged with the request id
  console.log(JSON.stringify({ scoutql: 'lambda-ingest', ...rest, objects: rest.objects.length, summary }));
  return result;
}
