/**
 * Closing an engine or the local Athena server while DuckDB is still running a statement: the
 * statement is cancelled and DuckDB freed only after it has stopped. Freeing the instance under a
 * running statement is a use-after-free in the native library; it killed a jest worker with SIGSEGV
 * in CI, so a regression here takes the whole test process down, not only this test.
 */
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { EngineError } from '../../src/engine/types';
import { startAthenaLocal } from '../../testkit/athena-local';
import { TEST_CREDENTIALS } from './helpers';

/** Ten billion joined rows: minutes of work, so it is surely still running when close() comes. */
const LONG_STATEMENT = 'SELECT sum(a.range * b.range) AS total FROM range(100000) a, range(100000) b';

/** CPU this process spends over half a second: DuckDB threads still scanning show here after close(). */
async function cpuMillisOverHalfASecond(): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { user, system } = process.cpuUsage(before);
  return (user + system) / 1000;
}

test('DuckDbEngine.close() cancels a running statement, waits for it, then refuses new work', async () => {
  const engine = await DuckDbEngine.open();
  const running = engine.query(LONG_STATEMENT).then(
    () => 'finished',
    (err: unknown) => err,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  await engine.close();
  const outcome = await running;
  expect(outcome).toBeInstanceOf(EngineError);
  expect(Date.now() - started).toBeLessThan(30_000); // interrupted, not waited out
  await expect(engine.query('SELECT 1')).rejects.toThrow('engine is closed');
  expect(await cpuMillisOverHalfASecond()).toBeLessThan(250);
});

test('closing the local Athena server stops the queries it is running before it frees DuckDB', async () => {
  const server = await startAthenaLocal();
  const client = new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { QueryExecutionId } = await client.send(new StartQueryExecutionCommand({ QueryString: LONG_STATEMENT }));
      ids.push(QueryExecutionId!);
    }
    const state = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: ids[0] }));
    expect(['QUEUED', 'RUNNING']).toContain(state.QueryExecution?.Status?.State);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await cpuMillisOverHalfASecond()).toBeLessThan(250); // the queries stopped, not orphaned
  } finally {
    client.destroy();
  }
});
