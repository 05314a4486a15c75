import { ingest } from '/work/wt/ct-sql/etl/ingest';
import { generateSample } from '/work/wt/ct-sql/testkit/sample';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
const dir = mkdtempSync('/tmp/ctsql/s-');
generateSample({ out: join(dir, 'sample'), days: 1, scale: Number(process.env.SCALE ?? 1), sources: ['cloudtrail'], seed: 'sql-ingest', start: '2026-11-08' });
for (const sql of [true]) {
  const lake = mkdtempSync('/tmp/ctsql/l-');
  const t0 = performance.now();
  const s = await ingest({ inputs: [join(dir, 'sample')], lake, now: new Date('2026-11-10T12:00:00Z'), graph: false, sqlIngest: sql, workers: 1 });
  console.log(sql, ((performance.now() - t0) / 1000).toFixed(1), 's', JSON.stringify({ records: s.records, sql_objects: s.sql_objects, sql_records: s.sql_records, written: s.written, q: s.quarantined }));
  rmSync(lake, { recursive: true, force: true });
}
rmSync(dir, { recursive: true, force: true });
