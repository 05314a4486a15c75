import { InvalidArgumentError, type Command } from 'commander';
import { addPublicKeysFile, cloudTrailClientsFromEnv, PublicKeySet } from '../../evidence/cloudtrail-keys';
import { verifyCloudTrail } from '../../evidence/cloudtrail-digests';
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
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
