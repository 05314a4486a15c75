/**
 * publishPartitions (etl/lake/row-spiller.ts) sorts each partition straight from the workers' spill
 * files: rows of several partitions in each spill, a partition's rows across several spills. Each
 * partition's file must hold exactly its rows, sorted; a repeated event keeps its first copy in
 * staging order (even when the copies sit in different spills of one object); an object quarantined
 * whole gives no row; and the files do not depend on how many threads DuckDB sorts with.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RowSpiller, publishPartitions, type Published } from '../../etl/lake/row-spiller';
import { partFileName } from '../../src/core/lake-layout';
import type { RowOf } from '../../src/core/tables';

const ACCOUNTS = ['111122223333', '444455556666', '777788889999'];
const DAY_MS = Date.parse('2026-11-03T00:00:00Z');

function row(event: string, i: number, raw: string): RowOf<'http_activity'> {
  return {
    // Objects span midnight: a spill holds rows of two days.
    time: new Date(DAY_MS - 3_600_000 + i * 97_000),
    event_id: event,
    class_uid: 4002,
    activity: 'GET',
    service: 'elasticloadbalancing.amazonaws.com',
    outcome: 'success',
    error_code: null,
    error_message: null,
    actor_id: null,
    actor_type: null,
    actor_name: null,
    actor_arn: null,
    actor_account: null,
    session_id: null,
    src_ip: `10.0.${i % 5}.${i % 3}`,
    user_agent: null,
    resources: [],
    raw,
    account: ACCOUNTS[i % 3],
    region: 'us-east-1',
    http_method: 'GET',
    url: null,
    host: null,
    path: null,
    status: 200,
    bytes_out: i,
    bytes_in: null,
    duration_ms: null,
    referrer: null,
    bucket: null,
    object_key: null,
    dst_ip: null,
    dst_port: 443,
    tls_protocol: null,
  };
}

/** Six objects of 30 rows, spilled every 40 rows; object 3 holds e3-0 twice (across a spill), object 5 repeats object 1's e1-7, object 4 is quarantined. */
async function stage(dir: string): Promise<Map<'http_activity', string[]>> {
  const spiller = await RowSpiller.open({ tempDir: dir, spillRows: 40 });
  let i = 0;
  for (let object = 0; object < 6; object++) {
    for (let n = 0; n < 30; n++) {
      // A repeated event is the same row but for its raw text (row 37 is object 1's e1-7).
      const [event, at] = object === 5 && n === 0 ? ['e1-7', 37] : [`e${object}-${n}`, i];
      i++;
      spiller.append({ table: 'http_activity', row: row(event, at, `{"object":${object},"n":${n}}`) }, 'alb', object, true);
      if (object === 3 && n === 10) {
        await spiller.spillIfLarge();
        // Row 90 is e3-0.
        spiller.append({ table: 'http_activity', row: row('e3-0', 90, '{"second copy":true}') }, 'alb', object, true);
      }
    }
    await spiller.spillIfLarge();
  }
  const spills = await spiller.takeSpills();
  await spiller.close();
  return spills as Map<'http_activity', string[]>;
}

async function publish(temp: string, name: string, threads: number): Promise<{ published: Published; out: string }> {
  const spills = await stage(join(temp, `spill-${name}`));
  expect(spills.get('http_activity')!.length).toBeGreaterThan(3);
  const out = join(temp, `lake-${name}`);
  const published = await publishPartitions(spills, out, 'T1', join(temp, `publish-${name}`), {
    rejectedObjects: new Set([4]),
    identityOf: () => ['event_id'],
    lakeFiles: async () => [],
    threads,
  });
  return { published, out };
}

test('each partition is sorted straight from the spills: its rows only, first copies kept, same files whatever the threads', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'scoutql-publish-'));
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const one = await publish(temp, 'one', 1);
    const two = await publish(temp, 'two', 2);
    const expected = ACCOUNTS.flatMap((account) =>
      ['2026-11-02', '2026-11-03'].map((day) => `http_activity/source=alb/account=${account}/region=us-east-1/day=${day}`),
    ).sort();
    expect(one.published.partitions).toEqual(expected);
    expect(two.published.partitions).toEqual(expected);
    // e3-0's second copy (object 3) and object 5's e1-7: one record each dropped.
    expect([...one.published.duplicates].sort()).toEqual([
      [3, { records: 1, rows: 1 }],
      [5, { records: 1, rows: 1 }],
    ]);

    const eventsOf = new Map<string, string[]>(expected.map((p) => [p, []]));
    for (let at = 0; at < 180; at++) {
      // Object 4 is quarantined; row 150 is object 5's copy of e1-7.
      if ((at >= 120 && at < 150) || at === 150) continue;
      const { account, time } = row('', at, '');
      const partition = `http_activity/source=alb/account=${account}/region=us-east-1/day=${time.toISOString().slice(0, 10)}`;
      eventsOf.get(partition)!.push(`e${Math.floor(at / 30)}-${at % 30}`);
    }
    const connection = await instance.connect();
    let total = 0;
    for (const partition of expected) {
      const file = (out: string) => join(out, ...partition.split('/'), partFileName('T1'));
      expect(readFileSync(file(two.out)).equals(readFileSync(file(one.out)))).toBe(true);
      const read = await connection.runAndReadAll(
        `SELECT event_id, raw, src_ip, "time"::VARCHAR AS t
         FROM read_parquet('${file(one.out)}', hive_partitioning = false, file_row_number = true) ORDER BY file_row_number`,
      );
      const rows = read.getRowObjectsJS() as Array<{ event_id: string; raw: string; src_ip: string; t: string }>;
      total += rows.length;
      // Exactly the partition's events (none of object 4's).
      expect(rows.map((r) => r.event_id).sort()).toEqual(eventsOf.get(partition)!.sort());
      // Sorted by the table's keys (actor_id and session_id are null here: src_ip, then time), then the identity.
      const keys = rows.map((r) => `${r.src_ip}|${r.t}|${r.event_id}`);
      expect(keys).toEqual([...keys].sort());
      for (const r of rows) {
        if (r.event_id === 'e3-0') expect(r.raw).toBe('{"object":3,"n":0}');
        if (r.event_id === 'e1-7') expect(r.raw).toBe('{"object":1,"n":7}');
      }
    }
    // 6 objects of 30 rows and one extra copy, less object 4 and the two copies dropped.
    expect(total).toBe(6 * 30 + 1 - 30 - 2);
    connection.closeSync();
  } finally {
    instance.closeSync();
    rmSync(temp, { recursive: true, force: true });
  }
}, 60_000);
