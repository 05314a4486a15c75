/**
 * TEST INFRASTRUCTURE: one call to query a local lake folder through the Athena engine: starts the
 * local Athena server with the folder as s3://<bucket>/, applies the catalog DDL (accounts and
 * regions discovered from the folder) and returns an AthenaEngine on the real SDK. For running
 * engine-agnostic suites (the API's) on Athena as well as DuckDB.
 */
import { AthenaEngine, type AthenaEngineConfig } from '../../src/engine/athena';
import { applyCatalog, catalogStatements, discoverPartitionValues } from '../../src/catalog';
import { startAthenaLocal, type AthenaLocalServer, type AthenaLocalOptions } from './server';

export interface AthenaOverLake {
  server: AthenaLocalServer;
  engine: AthenaEngine;
  close(): Promise<void>;
}

export async function startAthenaOverLake(
  lakeDir: string,
  options: { database?: string; bucket?: string; server?: AthenaLocalOptions; engine?: Partial<AthenaEngineConfig> } = {},
): Promise<AthenaOverLake> {
  const database = options.database ?? 'scoutql';
  const bucket = options.bucket ?? 'scoutql-lake';
  const server = await startAthenaLocal({ ...options.server, localBuckets: { ...options.server?.localBuckets, [bucket]: lakeDir } });
  const base: AthenaEngineConfig = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    database,
    outputLocation: 's3://scoutql-results/athena/',
    maxBytesScanned: 1e12,
    pollMinMs: 2,
    pollMaxMs: 10,
  };
  const admin = new AthenaEngine({ ...base, database: 'default' });
  const { accounts, regions } = discoverPartitionValues(lakeDir);
  await applyCatalog(
    admin,
    catalogStatements({ lake: `s3://${bucket}`, database, accounts: accounts.length > 0 ? accounts : undefined, extraRegions: regions }),
  );
  await admin.close();
  const engine = new AthenaEngine({ ...base, ...options.engine });
  return {
    server,
    engine,
    async close() {
      await engine.close();
      await server.close();
    },
  };
}
