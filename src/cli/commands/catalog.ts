import { InvalidArgumentError, type Command } from 'commander';
import { AthenaEngine, athenaConfigFromEnv } from '../../engine/athena';
import { parseByteSize } from '../../engine/athena-config';
import { applyCatalog, catalogStatements, discoverPartitionValues, type CatalogOptions } from '../../catalog';

interface DdlOptions {
  lake: string;
  database: string;
  accounts?: string[];
  regions?: string[];
  since?: string;
  partitionValuesFrom?: string;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

function catalogOptions(opts: DdlOptions): CatalogOptions {
  const discovered = opts.partitionValuesFrom ? discoverPartitionValues(opts.partitionValuesFrom) : { accounts: [], regions: [] };
  const accounts = [...(opts.accounts ?? []), ...discovered.accounts];
  return {
    lake: opts.lake,
    database: opts.database,
    accounts: accounts.length > 0 ? accounts : undefined,
    extraRegions: [...(opts.regions ?? []), ...discovered.regions],
    since: opts.since,
  };
}

function addDdlOptions(command: Command): Command {
  return command
    .requiredOption('--lake <s3uri>', 'where the lake lives, e.g. s3://my-bucket/lake')
    .requiredOption('--database <name>', 'Glue / Athena database to create the tables in')
    .option(
      '--accounts <ids>',
      'comma-separated account / tenant / project ids (enum projection); without them, queries must pin account = …',
      list,
    )
    .option('--regions <names>', 'extra region values beyond the AWS regions, global and unknown (Azure locations, GCP regions)', list)
    .option('--since <YYYY-MM-DD>', 'first day of the day projection', '2015-01-01')
    .option('--partition-values-from <dir>', 'a local copy of the lake: add every account and region found there');
}

export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('Athena catalog for the lake: CREATE EXTERNAL TABLE with partition projection');
  addDdlOptions(catalog.command('ddl').description('Print the DDL (one statement per table, separated by blank lines and ;)')).action(
    (opts: DdlOptions) => {
      const statements = catalogStatements(catalogOptions(opts));
      process.stdout.write(statements.map((s) => `-- ${s.name}\n${s.sql};\n`).join('\n'));
      if (!opts.accounts && !opts.partitionValuesFrom) {
        process.stderr.write("note: no --accounts given, so account uses injected projection: every Athena query must pin account = '…'\n");
      }
    },
  );
  addDdlOptions(
    catalog
      .command('apply')
      .description('Run the DDL through Athena (configured by SCOUTQL_ATHENA_* and the AWS default credential chain)'),
  )
    .option('--endpoint <url>', 'Athena endpoint (the local server of `scoutql local-servers`)')
    .option('--region <region>', 'AWS region')
    .option('--workgroup <name>', 'Athena workgroup')
    .option('--output-location <s3uri>', 'where Athena writes results')
    .option('--max-bytes-scanned <size>', 'per-query scan limit (DDL scans nothing)', byteSize, 10 * 1024 * 1024)
    .action(
      async (
        opts: DdlOptions & { endpoint?: string; region?: string; workgroup?: string; outputLocation?: string; maxBytesScanned: number },
      ) => {
        const statements = catalogStatements(catalogOptions(opts));
        const config = athenaConfigFromEnv(
          { ...process.env, SCOUTQL_ATHENA_DATABASE: 'default', SCOUTQL_ATHENA_MAX_BYTES_SCANNED: String(opts.maxBytesScanned) },
          {
            ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
            ...(opts.region ? { region: opts.region } : {}),
            ...(opts.workgroup ? { workgroup: opts.workgroup } : {}),
            ...(opts.outputLocation ? { outputLocation: opts.outputLocation } : {}),
          },
        );
        const engine = new AthenaEngine(config);
        try {
          await applyCatalog(engine, statements, (a) =>
            process.stdout.write(`created ${a.name} (query ${a.queryId ?? '?'}, ${a.millis} ms)\n`),
          );
        } finally {
          await engine.close();
        }
      },
    );
}

function byteSize(value: string): number {
  try {
    return parseByteSize(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
