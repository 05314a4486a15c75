import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest } from '../../etl/ingest';
import { cloudTrailRecord, tempDir, withDuckDb } from './helpers';

function parquetFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? parquetFiles(join(dir, e.name)) : e.name.endsWith('.parquet') ? [join(dir, e.name)] : [],
  );
}

test('the lake is standard Parquet: an independent reader (hyparquet) reads what DuckDB reads', async () => {
  const input = tempDir('compat-in');
  const lake = tempDir('compat-lake');
  const records = Array.from({ length: 300 }, (_, i) => cloudTrailRecord(i));
  writeFileSync(join(input, 'a.json.gz'), gzipSync(JSON.stringify({ Records: records })));
  await ingest({ inputs: [input], lake });

  const file = parquetFiles(join(lake, 'api_activity'))[0];
  const columns = 'time,event_id,actor_id,src_ip,resources,read_only';
  const independent = spawnSync(process.execPath, [join(__dirname, 'compat', 'read-with-hyparquet.mjs'), file, columns], {
    encoding: 'utf8',
  });
  expect(independent.stderr).toBe('');
  const { codecs, rows } = JSON.parse(independent.stdout) as { codecs: string[]; rows: Record<string, unknown>[] };
  expect(codecs).toEqual(['ZSTD']);

  const duck = await withDuckDb((run) =>
    run(`SELECT strftime(time, '%Y-%m-%dT%H:%M:%S.000Z') AS time, event_id, actor_id, src_ip, resources, read_only
         FROM read_parquet('${file}')`),
  );
  expect(rows).toEqual(duck);
  expect(rows.length).toBeGreaterThan(50);
  // Typed columns survive: a timestamp, a list, a boolean.
  expect(rows[0].time).toMatch(/^2024-03-0\dT20:\d\d:07\.000Z$/);
  expect(Array.isArray(rows[0].resources)).toBe(true);
  expect(rows[0].read_only).toBe(false);
});
