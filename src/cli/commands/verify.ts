import { InvalidArgumentError, type Command } from 'commander';
import { addPublicKeysFile, cloudTrailClientsFromEnv, PublicKeySet } from '../../evidence/cloudtrail-keys';
import { verifyCloudTrail } from '../../evidence/cloudtrail-digests';
import { lakePublicKeys, verifyLake } from '../../evidence/lake';
import { exitCodeOf, renderReport } from '../../evidence/report';

export function registerVerify(program: Command): void {
  const verify = program
    .command('verify')
    .description('Prove evidence whole and unmodified: exit 0 verified, 1 tampering or loss found, 2 not everything provable');
  verify
    .command('cloudtrail')
    .description(
      "Validate CloudTrail digest files and the log files they list, offline or on S3: digest chain (gaps, restarts), each log file's SHA-256, log files no digest lists, and RSA signatures when the public keys are known",
    )
    .argument('<path>', 'folder or s3://bucket/prefix holding AWSLogs/ (local digest signatures: <digest file>.sig beside each)')
    .option('--public-keys <file>', 'output of `aws cloudtrail list-public-keys` (repeatable: one per region)', collect, [])
    .option('--fetch-keys', "fetch the digests' regions' public keys with CloudTrail ListPublicKeys (needs AWS credentials and network)")
    .option('--concurrency <n>', 'log files hashed at once', positiveInt, 4)
    .option('--json', 'print the whole report as one JSON object')
    .action(async (path: string, opts: { publicKeys: string[]; fetchKeys?: boolean; concurrency: number; json?: boolean }) => {
      const keys = new PublicKeySet();
      for (const file of opts.publicKeys) await addPublicKeysFile(keys, file);
      const clients = opts.fetchKeys ? cloudTrailClientsFromEnv() : null;
      const report = await verifyCloudTrail({ root: path, keys, fetchKeys: clients?.clientFor, concurrency: opts.concurrency }).finally(
        () => clients?.destroy(),
      );
      process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : renderReport(report));
      process.exitCode = exitCodeOf(report.outcome);
    });
  verify
    .command('lake')
    .description(
      "Prove a lake holds exactly what its commits published: walks the commit chain (every manifest linked to the one before by SHA-256, HEAD naming the newest), re-hashes every file against its commit, names files modified, missing or unknown, checks each day's graph against the event files it was built from, and reports silences per source, account and region",
    )
    .argument('<lake>', 'lake folder or s3://bucket/prefix')
    .option('--public-key <pem>', 'public key that signs commits (repeatable); with keys, an unsigned commit is not proven', collect, [])
    .option('--gap-minutes <n>', 'report silences of at least this many minutes per source, account and region', positiveInt, 60)
    .option('--no-coverage', 'skip the coverage (gaps) report')
    .option('--fail-on-gaps', 'exit 1 when any source, account and region fell silent')
    .option('--quick', 'compare files by size instead of re-hashing them (what the API checks on start-up)')
    .option('--concurrency <n>', 'files hashed at once', positiveInt, 4)
    .option('--json', 'print the whole report as one JSON object')
    .action(
      async (
        lake: string,
        opts: {
          publicKey: string[];
          gapMinutes: number;
          coverage: boolean;
          failOnGaps?: boolean;
          quick?: boolean;
          concurrency: number;
          json?: boolean;
        },
      ) => {
        const report = await verifyLake({
          root: lake,
          rehash: !opts.quick,
          publicKeys: lakePublicKeys(opts.publicKey),
          gapMinutes: opts.coverage ? opts.gapMinutes : false,
          concurrency: opts.concurrency,
        });
        process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : renderReport(report));
        const gaps = opts.failOnGaps && (report.coverage?.gaps.length ?? 0) > 0;
        process.exitCode = gaps ? 1 : exitCodeOf(report.outcome);
      },
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
