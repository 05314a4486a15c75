import { InvalidArgumentError, Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { ingest, type IngestProgress, type IngestSummary } from '../../../etl/ingest';
import { DEFAULT_MEMORY_BUDGET_MB, memoryBudgetBytes } from '../../../etl/worker/memory-budget';
import { LISTED_SOURCE_IDS, MANIFESTS } from '../../../etl/sources/manifests';
import type { GeoIpOptions } from '../../core/geoip';
import type * as DeliveryConfig from '../../delivery';
import type * as DeliverCommand from './deliver';
import type { SourceId } from '../../generated/sources';
import type * as DetectRun from '../detect-run';
import type * as Suppressions from '../../rules/suppressions';
import type * as DetectCommand from './detect';
import { addPublicKeysFile, PublicKeySet } from '../../evidence/cloudtrail-keys';
import { checkIngestDigests, describeIngestDigests } from '../ingest-digests';

/*
 * Detection (--detect) and delivery (--delivery) are loaded only when asked for: they bring the
 * rules compiler, zod and the EventBridge and SNS clients, about three quarters of a second of
 * start-up that a plain ingest does not need.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
const deliveryConfig = () => require('../../delivery') as typeof DeliveryConfig;
const deliverCommand = () => require('./deliver') as typeof DeliverCommand;
const detectRun = () => require('../detect-run') as typeof DetectRun;
const suppressions = () => require('../../rules/suppressions') as typeof Suppressions;
const detectCommand = () => require('./detect') as typeof DetectCommand;
/* eslint-enable @typescript-eslint/no-require-imports */

/** A source option as a flag: `--<source>-<name>` (vpcflow's `format` is `--vpcflow-format`), and its key in the parsed options. */
const SOURCE_FLAGS = MANIFESTS.flatMap((manifest) =>
  Object.entries(manifest.options ?? {}).map(([name, option]) => ({
    source: manifest.id,
    name,
    option,
    flag: `--${manifest.id}-${name}`,
    key: camel(`${manifest.id}-${name}`),
  })),
);

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

interface IngestFlags extends GeoIpFlags {
  delivery?: string;
  lake: string;
  source: SourceId | 'auto';
  json?: boolean;
  batchRows?: number;
  memoryBudget?: number;
  retrySkipped?: boolean;
  keepOutlierTimes?: boolean;
  sqlIngest: boolean;
  sqlIngestAll?: boolean;
  maxRecordBytes?: number;
  maxObjectBytes?: number;
  detect?: boolean;
  rules: string[];
  suppressions?: string;
  verifyDigests: boolean;
  publicKeys: string[];
  [sourceOption: string]: unknown;
}

export function registerIngest(program: Command): void {
  const command = program
    .command('ingest')
    .description('Read raw log objects (files or folders, gzip or plain) into the Parquet lake')
    .argument('<path...>', 'log files or folders (read recursively), or s3://bucket/prefix')
    .requiredOption('--lake <dir|s3://bucket/prefix>', 'lake to write: a local folder or an S3 prefix')
    .addOption(
      new Option('--source <source>', 'force one source instead of detecting per object')
        .choices(['auto', ...LISTED_SOURCE_IDS])
        .default('auto'),
    )
    .option('--json', 'print one JSON summary object instead of a progress bar and a table')
    .addOption(new Option('--batch-rows <n>', 'rows staged per commit (memory bound and crash granularity)').argParser(positiveInt))
    .addOption(
      new Option(
        '--memory-budget <MiB>',
        `resident memory to stay within: while a batch is published, new objects are read only when it fits (default ${DEFAULT_MEMORY_BUDGET_MB})`,
      ).argParser(memoryBudget),
    )
    .option(
      '--keep-outlier-times',
      'store events dated more than a day ahead or before their provider existed (default: quarantine them with the reason)',
    )
    .option('--retry-skipped', 'read again objects the lake skipped or quarantined whole before (a changed --source does too)')
    .addOption(
      new Option(
        '--max-record-bytes <n>',
        'longest record or line an object may hold; a longer one quarantines the object (default 64 MiB)',
      ).argParser(positiveInt),
    )
    .addOption(
      new Option(
        '--max-object-bytes <n>',
        'most bytes an object may hold once decompressed; more quarantines it (default 4 GiB)',
      ).argParser(positiveInt),
    )
    .option(
      '--geoip-overrides <file>',
      "JSON file of networks with their own country / ASN (the sample's geoip-overrides.json), consulted first",
    )
    .option('--geoip-mmdb <file>', 'MaxMind MMDB file (Country, City or ASN) consulted before the bundled data; repeatable', collect, [])
    .option('--no-geoip-bundled', 'do not use the offline GeoIP / ASN data shipped with ScoutQL')
    .option('--no-geoip', 'no GeoIP / ASN enrichment (src_country, src_asn… stay empty)')
    .option(
      '--no-sql-ingest',
      'read every object with its source parser, record by record, not in SQL batches (VPC flow logs delivered to S3 are parsed by DuckDB by default; the rows are the same)',
    )
    .option(
      '--sql-ingest-all',
      'also parse CloudTrail trail files in SQL batches (opt-in: byte-identical rows, but slower than its parser today)',
    )
    .option('--delivery <file>', 'after the run, send new findings to the destinations this delivery configuration names (see `deliver`)')
    .option('--detect', 'after publishing, run the detection rules over the days this run touched and write their findings')
    // Not variadic: it would swallow the <path...> arguments that follow it.
    .option('--rules <dir>', "a rule folder for --detect, repeatable (default: the project's rule set)", collect, [])
    .option('--suppressions <file>', 'suppressions file for --detect (YAML: known_networks, break_glass, allow)')
    .option(
      '--no-verify-digests',
      'do not check the CloudTrail digest files found in the inputs (by default their chain, the SHA-256 of every log file they list and the files they do not list are checked and reported, as `verify cloudtrail` does; the ingest goes on whatever they say)',
    )
    .option(
      '--public-keys <file>',
      'for the digest check: output of `aws cloudtrail list-public-keys` (repeatable), to check signatures too',
      collect,
      [],
    );
  for (const { flag, option } of SOURCE_FLAGS) {
    command.addOption(
      new Option(`${flag} ${option.value}`, option.description).argParser((value: string) => {
        const problem = option.check?.(value) ?? null;
        if (problem) throw new InvalidArgumentError(problem);
        return value;
      }),
    );
  }
  command.action(async (paths: string[], opts: IngestFlags) => {
    if (!opts.detect && (opts.rules.length > 0 || opts.suppressions))
      throw new InvalidArgumentError('--rules and --suppressions are options of --detect');
    // A bad suppressions file is refused before anything is read, not after the lake has moved on.
    if (opts.detect && opts.suppressions) suppressions().loadSuppressions(opts.suppressions);
    const delivery = opts.delivery ? deliveryConfig().readDeliveryConfig(opts.delivery) : null;
    // A bad keys file is refused before anything is read.
    const keys = new PublicKeySet();
    if (opts.verifyDigests) for (const file of opts.publicKeys) await addPublicKeysFile(keys, file);
    else if (opts.publicKeys.length > 0)
      throw new InvalidArgumentError('--public-keys is an option of the digest check (--no-verify-digests turns it off)');
    // Destinations set up by this run count the findings it reports as new.
    if (delivery) deliverCommand().prepareDelivery(opts.lake, delivery);
    const progress = opts.json ? null : progressBar();
    const sourceOptions: Partial<Record<SourceId, Record<string, string>>> = {};
    for (const { source, name, key } of SOURCE_FLAGS) {
      const value = opts[key];
      if (typeof value === 'string') sourceOptions[source] = { ...sourceOptions[source], [name]: value };
    }
    // The digest check reads only the inputs: it starts once the ingest has read them, beside its last publish and graph step.
    let digestCheck: ReturnType<typeof checkIngestDigests> | null = null;
    const checkDigests = () => (digestCheck ??= checkIngestDigests(paths, keys));
    const summary = await ingest({
      inputs: paths,
      ...(opts.verifyDigests ? { onInputsRead: () => void checkDigests().catch(() => undefined) } : {}),
      lake: opts.lake,
      source: opts.source,
      batchRows: opts.batchRows,
      memoryBudgetMb: opts.memoryBudget,
      retrySkipped: opts.retrySkipped === true,
      outlierTimes: opts.keepOutlierTimes ? 'keep' : 'quarantine',
      sourceOptions,
      limits: {
        ...(opts.maxRecordBytes ? { maxRecordBytes: opts.maxRecordBytes } : {}),
        ...(opts.maxObjectBytes ? { maxObjectBytes: opts.maxObjectBytes } : {}),
      },
      onProgress: progress?.update,
      geoip: geoipOptions(opts),
      sqlIngest: opts.sqlIngest === false ? false : opts.sqlIngestAll ? 'all' : true,
    });
    progress?.stop();
    // The digests vouch for the logs as they were read: checked once they were, never stopping the ingest.
    const digests = opts.verifyDigests ? await checkDigests() : null;
    const detect = opts.detect
      ? await detectRun().detectIngestedDays({
          lake: opts.lake,
          days: summary.days,
          ruleDirs: opts.rules,
          suppressionsFile: opts.suppressions,
        })
      : null;
    // A rule that failed leaves its findings of these days unwritten: say so in the exit code, as detect does.
    if (detect && !('skipped' in detect) && detect.runs.some((r) => r.failed.length > 0)) process.exitCode = 1;
    // Delivery after detection: the findings this run wrote are among those it sends.
    const delivered = delivery ? await deliverCommand().runDelivery(opts.lake, delivery) : null;
    if (opts.json) {
      const { days: _days, ...rest } = summary;
      const extra = {
        ...(digests ? { cloudtrail_digests: digests } : {}),
        ...(detect ? { detect: detectRun().detectSummaryJson(detect) } : {}),
        ...(delivered ? { delivery: delivered } : {}),
      };
      process.stdout.write(JSON.stringify({ ...rest, ...extra }) + '\n');
      return;
    }
    printSummary(summary, opts.lake);
    if (digests) process.stdout.write(describeIngestDigests(digests).join('\n') + '\n');
    if (detect && 'skipped' in detect) process.stdout.write(`detect           skipped: ${detect.skipped}\n`);
    else if (detect) detectCommand().printDetectSummary(detect);
    if (delivered) deliverCommand().printDelivery(delivered, false);
  });
}

/** The GeoIP flags of ingest (and demo). */
export interface GeoIpFlags {
  geoip: boolean;
  geoipBundled: boolean;
  geoipMmdb: string[];
  geoipOverrides?: string;
}

export function geoipOptions(flags: GeoIpFlags): GeoIpOptions | false {
  if (!flags.geoip) return false;
  return { bundled: flags.geoipBundled, mmdb: flags.geoipMmdb, ...(flags.geoipOverrides ? { overrides: flags.geoipOverrides } : {}) };
}

/** A progress bar on stderr when it is a terminal (nothing otherwise, so pipes and CI stay clean). */
export function progressBar(): { update: (p: IngestProgress) => void; stop: () => void } | null {
  if (!process.stderr.isTTY) return null;
  const bar = new SingleBar(
    // cli-progress's own {eta_formatted} prints its 'INF' as "NFs" before any progress: our ETA says "--" then.
    { format: 'ingest |{bar}| {percentage}% {value}/{total} MB · {records} records · ETA {etaText}', stream: process.stderr },
    Presets.shades_classic,
  );
  const mb = (n: number) => Math.round(n / 1e6);
  let started = false;
  const startedAt = Date.now();
  return {
    update: (p) => {
      if (!started) {
        bar.start(Math.max(1, mb(p.bytesTotal)), 0, { records: 0, etaText: '--' });
        started = true;
      }
      bar.update(mb(p.bytesDone), { records: p.records, etaText: etaText(p.bytesDone, p.bytesTotal, Date.now() - startedAt) });
    },
    stop: () => started && bar.stop(),
  };
}

/** Time left at the rate so far, as 45s, 3m05s or 1h02m; "--" until there is a rate to go by. */
export function etaText(done: number, total: number, elapsedMs: number): string {
  if (!(done > 0) || !(elapsedMs > 0) || !(total >= done)) return '--';
  const seconds = Math.ceil(((total - done) * elapsedMs) / done / 1000);
  if (!Number.isFinite(seconds) || seconds > 360_000) return '--';
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${two(Math.floor((seconds % 3600) / 60))}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  return `${seconds}s`;
}

export function printSummary(summary: IngestSummary, lake: string): void {
  const lines = [
    `objects          ${summary.objects} (${summary.already_ingested} already in the lake, ${summary.skipped_objects} skipped, ${summary.damaged_objects} damaged)`,
    `records          ${summary.records} = ${summary.written} written + ${summary.quarantined} quarantined + ${summary.filtered} filtered + ${summary.duplicates} duplicates`,
    `partitions       ${summary.partitions}`,
    `bytes            ${summary.bytes_in} in → ${summary.bytes_out} Parquet`,
    `seconds          ${summary.seconds.toFixed(2)}`,
  ];
  if (summary.invalid_utf8) lines.push(`invalid UTF-8    ${summary.invalid_utf8} records (their rows are flagged 'invalid-utf8')`);
  process.stdout.write(lines.join('\n') + '\n');
  for (const warning of summary.warnings) process.stdout.write(`warning: ${warning}\n`);
  if (summary.quarantined || summary.damaged_objects) {
    process.stdout.write(`see ${lake}/_quarantine/ for what was set aside and why\n`);
  }
  if (summary.skipped_objects) {
    process.stdout.write(`skipped objects (digests, empty or unrecognized files) are listed with their reason in ${lake}/_manifest/\n`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** --memory-budget's value (ingest, graph rebuild): whole MiB of at least the minimum, else the reason. */
export function memoryBudget(value: string): number {
  const mb = Number(value);
  try {
    memoryBudgetBytes(mb);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(String(mb), `'${value}'`));
  }
  return mb;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
