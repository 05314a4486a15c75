import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { AthenaEngine } from '../../engine/athena';
import { applyCatalog, catalogStatements, discoverPartitionValues } from '../../catalog';
import type * as AthenaLocal from '../../../testkit/athena-local';
import type * as S3Local from '../../../testkit/s3-local';

/**
 * `scoutql local-servers`: the local S3 server and the local Athena-protocol server (test
 * infrastructure from testkit/, loaded only when this command runs) for demos without AWS.
 * With --lake, that folder is uploaded to s3://scoutql-lake/lake/ and its tables are created in
 * database scoutql; the exports it prints point `scoutql serve` (engine athena) at both servers.
 */
export function registerLocalServers(program: Command): void {
  program
    .command('local-servers')
    .description(
      'Start a local S3 server and a local Athena-protocol server (DuckDB) on 127.0.0.1 for demos and tests; prints the env vars to use',
    )
    .option('--lake <dir>', 'a local lake folder, served as s3://scoutql-lake/ with its tables created in database scoutql')
    .option('--athena-port <port>', 'port of the Athena server (default: a free one)', port)
    .option('--s3-port <port>', 'port of the S3 server (default: a free one)', port)
    .action(async (opts: { lake?: string; athenaPort?: number; s3Port?: number }) => {
      const lake = opts.lake ? resolve(opts.lake) : undefined;
      if (lake && !existsSync(lake)) throw new Error(`lake folder ${lake} does not exist`);
      // Loaded here, not at the top: test infrastructure (s3rver is a dev dependency) only for this command.
      // A dynamic import() would go through Node's ES module loader, which resolves no extension-less path.
      /* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
      const { startS3Local, S3_LOCAL_CREDENTIALS } = require('../../../testkit/s3-local') as typeof S3Local;
      const { startAthenaLocal } = require('../../../testkit/athena-local') as typeof AthenaLocal;
      /* eslint-enable @typescript-eslint/no-require-imports */

      const s3 = await startS3Local({ buckets: ['scoutql-results', 'scoutql-lake'], port: opts.s3Port });
      // The lake goes into the local S3 server, so the API reads it (and writes its audit trail) as it would on AWS.
      const uploaded = lake ? await s3.uploadDir(lake, 'scoutql-lake', 'lake') : 0;
      const athena = await startAthenaLocal({ port: opts.athenaPort, s3Client: s3.client, writeResultsToS3: true });
      const env: Record<string, string> = {
        // The API (scoutql serve / query, configuration keys; see docs/config.md)
        SCOUTQL_ENGINE__TYPE: 'athena',
        SCOUTQL_ENGINE__LAKE: 's3://scoutql-lake/lake',
        SCOUTQL_ENGINE__ATHENA__ENDPOINT: athena.endpoint,
        SCOUTQL_ENGINE__ATHENA__REGION: 'us-east-1',
        SCOUTQL_ENGINE__ATHENA__DATABASE: 'scoutql',
        SCOUTQL_ENGINE__ATHENA__OUTPUT_LOCATION: 's3://scoutql-results/athena/',
        SCOUTQL_LIMITS__MAX_BYTES_SCANNED_PER_QUERY: '10GB',
        // scoutql catalog apply (it reads these)
        SCOUTQL_ATHENA_ENDPOINT: athena.endpoint,
        SCOUTQL_ATHENA_REGION: 'us-east-1',
        SCOUTQL_ATHENA_OUTPUT_LOCATION: 's3://scoutql-results/athena/',
        // S3 for every command (ingest to s3://, keys, audit, the lake's days)
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: S3_LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_LOCAL_CREDENTIALS.secretAccessKey,
        // s3rver predates the SDK's default CRC32 checksums (read by the SDK itself).
        AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
        AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      };
      if (lake) {
        const discovered = discoverPartitionValues(lake);
        const engine = new AthenaEngine({
          database: 'default',
          region: 'us-east-1',
          endpoint: athena.endpoint,
          credentials: S3_LOCAL_CREDENTIALS,
          maxBytesScanned: 0,
          pollMinMs: 10,
          pollMaxMs: 50,
        });
        await applyCatalog(
          engine,
          catalogStatements({
            lake: 's3://scoutql-lake/lake',
            database: 'scoutql',
            accounts: discovered.accounts.length > 0 ? discovered.accounts : undefined,
            extraRegions: discovered.regions,
          }),
        );
        await engine.close();
      }
      process.stdout.write(
        [
          `local S3 server      ${s3.endpoint}  (s3rver, data in ${s3.directory}; credentials S3RVER / S3RVER)`,
          `local Athena server  ${athena.endpoint}  (DuckDB; Athena JSON protocol)`,
          lake
            ? `lake                 s3://scoutql-lake/lake/ = ${lake} (${uploaded} objects uploaded); tables created in database scoutql`
            : 'lake                 none (pass --lake DIR to serve one)',
          '',
          'export these to point ScoutQL at them:',
          ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`),
          '',
          'Ctrl-C stops both.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await athena.close();
      await s3.close();
    });
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}
