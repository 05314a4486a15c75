import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingest } from '../../etl/ingest';
import { cloudTrailRecord, lakeRows, quarantineLines, scoutql, tempDir, withDuckDb } from './helpers';

const envelope = (records: unknown[]) => JSON.stringify({ Records: records });

describe('ingest: bad input never stops the run and never loses good records', () => {
  const input = tempDir('bad-in');
  const lake = tempDir('bad-lake');
  let summary: Awaited<ReturnType<typeof ingest>>;

  beforeAll(async () => {
    const good = Array.from({ length: 120 }, (_, i) => cloudTrailRecord(i));
    // A delivered CloudTrail file, gzip.
    writeFileSync(join(input, 'good.json.gz'), gzipSync(envelope(good.slice(0, 100))));
    // A gzip cut in half: the records before the cut survive, the torn one is quarantined.
    const whole = gzipSync(envelope(good.slice(100, 120)));
    writeFileSync(join(input, 'truncated.json.gz'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    // JSON lines (CloudTrail Lake / SIEM export) with a line that is not JSON and a record that is not an object.
    const lines = [
      JSON.stringify(cloudTrailRecord(200)),
      'this line is not JSON',
      '"a string, not a record"',
      JSON.stringify(cloudTrailRecord(201)),
    ];
    writeFileSync(join(input, 'export.jsonl'), lines.join('\n') + '\n');
    // Records without a usable eventTime.
    const { eventTime: _drop, ...noTime } = cloudTrailRecord(300);
    writeFileSync(
      join(input, 'times.json'),
      envelope([noTime, cloudTrailRecord(301, { eventTime: 'yesterday at noon' }), cloudTrailRecord(302)]),
    );
    writeFileSync(join(input, 'empty.json'), '');
    writeFileSync(join(input, 'bom.json'), '\ufeff' + envelope([cloudTrailRecord(400)]));
    // One 50 MB record: too big to keep inline for Athena, still written, its raw kept beside the lake.
    const huge = cloudTrailRecord(500, { requestParameters: { policyDocument: 'x'.repeat(50 * 1024 * 1024) } });
    writeFileSync(join(input, 'huge.json'), envelope([huge]));
    writeFileSync(join(input, 'notes.txt'), 'meeting notes, not a log\n');
    summary = await ingest({ inputs: [input], lake });
  });

  test('counts reconcile: records = written + quarantined', () => {
    expect(summary.objects).toBe(8);
    expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered);
    expect(summary.skipped_objects).toBe(2); // empty.json and notes.txt
    expect(summary.damaged_objects).toBe(1); // truncated.json.gz
  });

  test('every good record is in the lake exactly once', async () => {
    const rows = await lakeRows(lake);
    const ids = rows.map((r) => r.event_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const i of [0, 50, 99, 200, 201, 302, 400, 500]) {
      expect(ids).toContain(cloudTrailRecord(i).eventID);
    }
    // Of the truncated gzip, everything decoded before the cut survives.
    const fromTruncated = ids.filter((id) => Number(id.slice(-12)) >= 100 && Number(id.slice(-12)) < 120);
    expect(fromTruncated.length).toBeGreaterThan(0);
    expect(rows.length).toBe(summary.written);
  });

  test('each bad record is quarantined with its object, position and reason', () => {
    const q = quarantineLines(lake);
    const reasonFor = (file: string) =>
      q
        .filter((r) => r.object.endsWith(file))
        .map((r) => r.reason)
        .join(' | ');
    expect(reasonFor('export.jsonl')).toMatch(/invalid JSON/);
    expect(reasonFor('export.jsonl')).toMatch(/not an object|not a JSON object/i);
    expect(q.filter((r) => r.object.endsWith('export.jsonl')).map((r) => r.position)).toEqual(['line 2', 'line 3']);
    expect(reasonFor('times.json')).toMatch(/eventTime/);
    expect(q.filter((r) => r.object.endsWith('times.json'))).toHaveLength(2);
    expect(reasonFor('truncated.json.gz')).toMatch(/corrupt gzip/);
    expect(reasonFor('notes.txt')).toMatch(/no source recognizes/);
    // The bad line's text is kept verbatim.
    expect(q.find((r) => r.position === 'line 2')?.text).toBe('this line is not JSON');
  });

  test('the oversized raw record is kept whole beside the lake', async () => {
    const dir = join(lake, '_oversize');
    const kept = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(kept).toHaveLength(1);
    const entry = JSON.parse(kept[0]);
    expect(entry.eventId).toBe(cloudTrailRecord(500).eventID);
    expect(entry.raw.length).toBeGreaterThan(50 * 1024 * 1024);
    // Its row stays small enough for Athena: the 50 MB parameters live only in the kept record.
    const row = (await lakeRows(lake)).find((r) => r.event_id === cloudTrailRecord(500).eventID);
    expect(row).toMatchObject({ activity: 'StartInstances', request_parameters: null });
  });

  test('a byte-order mark does not hide the record behind it', async () => {
    const rows = await lakeRows(lake);
    expect(rows.some((r) => r.event_id === cloudTrailRecord(400).eventID)).toBe(true);
  });
});

describe('ingest: idempotent', () => {
  test('ingesting the same objects again (even by another path) adds nothing', async () => {
    const input = tempDir('idem-in');
    const lake = tempDir('idem-lake');
    writeFileSync(join(input, 'a.json.gz'), gzipSync(envelope(Array.from({ length: 50 }, (_, i) => cloudTrailRecord(i)))));
    const first = await ingest({ inputs: [input], lake });
    const filesBefore = listTree(lake);
    const copy = tempDir('idem-copy');
    writeFileSync(join(copy, 'renamed.json.gz'), readFileSync(join(input, 'a.json.gz')));
    const second = await ingest({ inputs: [input, copy], lake });
    expect(first.written).toBe(50);
    expect(second).toMatchObject({ objects: 2, already_ingested: 2, records: 0, written: 0 });
    expect(listTree(lake)).toEqual(filesBefore);
    expect(await lakeRows(lake)).toHaveLength(50);
  });
  test('the same bytes under many names in one run, several objects in flight per worker, are read once', async () => {
    const input = tempDir('idem-names');
    const lake = tempDir('idem-names-lake');
    const bytes = gzipSync(envelope(Array.from({ length: 20 }, (_, i) => cloudTrailRecord(i))));
    for (let i = 0; i < 12; i++) writeFileSync(join(input, `copy-${String(i).padStart(2, '0')}.json.gz`), bytes);
    writeFileSync(join(input, 'other.json.gz'), gzipSync(envelope([cloudTrailRecord(100)])));
    const summary = await ingest({ inputs: [input], lake, workers: 2 });
    expect(summary).toMatchObject({ objects: 13, already_ingested: 11, records: 21, written: 21 });
    expect(await lakeRows(lake)).toHaveLength(21);
  });
});

/** The lake's files, but the writer lock's (a run takes the next token: bookkeeping, not content). */
function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .filter((e) => !(prefix === '' && e.name === '_locks'))
    .flatMap((e) => (e.isDirectory() ? listTree(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

describe('ingest: crash-safe', () => {
  // Three files of 400 records, committed every 300 rows: several commits per run.
  const input = tempDir('crash-in');
  beforeAll(() => {
    for (let f = 0; f < 3; f++) {
      const records = Array.from({ length: 400 }, (_, i) => cloudTrailRecord(f * 1000 + i));
      mkdirSync(join(input, `d${f}`), { recursive: true });
      writeFileSync(join(input, `d${f}`, `part${f}.json.gz`), gzipSync(envelope(records)));
    }
  });

  // The lake of one clean run, made once for the three crash points (each compares with it).
  let cleanRows: Promise<unknown[]> | null = null;
  function cleanLakeRows(): Promise<unknown[]> {
    cleanRows ??= (async () => {
      const lake = tempDir('crash-clean');
      const result = scoutql(['ingest', input, '--lake', lake, '--json', '--batch-rows', '300']);
      expect(result.status).toBe(0);
      return lakeRows(lake);
    })();
    return cleanRows;
  }

  test.each(['before-commit-mark', 'after-commit-mark', 'mid-publish'])(
    'SIGKILL at %s, then a rerun, leaves exactly the lake of one clean run',
    async (point) => {
      const lake = tempDir(`crash-${point}`);
      const crashed = scoutql(['ingest', input, '--lake', lake, '--json', '--batch-rows', '300'], { SCOUTQL_TEST_CRASH: point });
      expect(crashed.signal).toBe('SIGKILL');
      // What a reader sees mid-crash is whole Parquet files only.
      const visible = existsSync(join(lake, 'api_activity'))
        ? await withDuckDb((run) => run(`SELECT count(*) AS n FROM read_parquet('${lake}/api_activity/**/*.parquet')`))
        : [{ n: 0 }];
      expect(Number(visible[0].n)).toBeLessThan(1200);
      const rerun = scoutql(['ingest', input, '--lake', lake, '--json', '--batch-rows', '300']);
      expect(rerun.status).toBe(0);
      expect(await lakeRows(lake)).toEqual(await cleanLakeRows());
      expect(existsSync(join(lake, '_staging')) ? readdirSync(join(lake, '_staging')) : []).toEqual([]);
    },
  );
});

describe('ingest CLI', () => {
  test('--json prints one summary object whose counts reconcile', () => {
    const input = tempDir('cli-in');
    const lake = tempDir('cli-lake');
    writeFileSync(join(input, 'a.json'), envelope([cloudTrailRecord(1), cloudTrailRecord(2)]));
    const result = scoutql(['ingest', input, '--lake', lake, '--json']);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining([
        'objects',
        'records',
        'written',
        'quarantined',
        'skipped_objects',
        'partitions',
        'bytes_in',
        'bytes_out',
        'seconds',
      ]),
    );
    expect(summary).toMatchObject({ objects: 1, records: 2, written: 2, quarantined: 0 });
    expect(summary.bytes_out).toBeGreaterThan(0);
  });

  test('a wrong flag or a missing input is a clear error with a non-zero exit, and no lake is created', () => {
    const lake = join(tempDir('cli-bad'), 'lake');
    const badSource = scoutql(['ingest', '.', '--lake', lake, '--source', 'bogus']);
    expect(badSource.status).not.toBe(0);
    expect(badSource.stderr).toMatch(/Allowed choices are auto, cloudtrail/);
    const missing = scoutql(['ingest', '/definitely/not/here', '--lake', lake]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/input not found: \/definitely\/not\/here/);
    expect(existsSync(lake)).toBe(false);
  });
});
