/**
 * GuardDuty and Security Hub findings through the whole ETL: the golden files (AWS documentation
 * examples, bad records among them) and the sample's findings exports / Firehose deliveries are
 * ingested into the findings table (findings/product=…/account=…/day=…), and the table answers the
 * same on DuckDB and on Athena (the local server, real SDK).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { sourceFolder } from '../../etl/sources';
import { PROBE_SOURCES } from '../../etl/sources/guardduty/sample';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { QueryEngine } from '../../src/engine/types';
import { generateSample } from '../../testkit/sample';
import { startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local/lake';
import { FAST_ATHENA } from '../api/helpers';

let root: string;
let lake: string;
let summary: IngestSummary;
let duck: DuckDbEngine;
let athena: AthenaOverLake;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-findings-sources-'));
  const logs = join(root, 'logs');
  for (const id of ['guardduty', 'securityhub'] as const) {
    const golden = join(sourceFolder(id), 'golden');
    mkdirSync(join(logs, 'golden', id), { recursive: true });
    for (const file of readdirSync(golden).filter((f) => !f.endsWith('.expected.json')))
      copyFileSync(join(golden, file), join(logs, 'golden', id, file));
  }
  generateSample({ out: join(logs, 'sample'), days: 2, sources: ['guardduty', 'securityhub'] });
  lake = join(root, 'lake');
  summary = await ingest({ inputs: [logs], lake, workers: 1, geoip: false });
  duck = await DuckDbEngine.open({ lake });
  athena = await startAthenaOverLake(lake, { server: { queuedPolls: 0, runningPolls: 0 }, engine: FAST_ATHENA });
}, 180_000);

afterAll(async () => {
  await duck?.close();
  await athena?.close();
  rmSync(root, { recursive: true, force: true });
});

const engines = (): [string, QueryEngine][] => [
  ['duckdb', duck],
  ['athena', athena.engine],
];

test('every record is written, quarantined with its reason or counted as a duplicate; the findings days get their graph', () => {
  // Records: golden GuardDuty 3 export lines + 1 event, Security Hub 1 event (2 findings) + 2 Firehose
  // lines + 1 export, and 4 + 4 bad records; sample: a GuardDuty finding a day and its Security Hub event, 2 days.
  expect(summary.quarantined).toBe(8);
  // The GetFindings export holds the same version (Id and UpdatedAt) of a finding the EventBridge event
  // already brought: a finding's identity is finding_id + time, so that record is a duplicate, not a second row.
  expect(summary.duplicates).toBe(1);
  expect(summary.written).toBe(4 + 4 + 2 * 2 - 1);
  expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered + summary.duplicates);
  // The findings name entities, which the graph of their days links them to (graph-findings.test.ts).
  expect(summary.days).toEqual(['2024-03-04', '2024-03-05', ...summary.days.filter((d) => !d.startsWith('2024-'))]);
  expect(summary.days.length).toBe(4); // the golden files' two days and the sample's two
});

test('partitions: findings/product=<guardduty|securityhub>/account=<id>/day=<day>', () => {
  const products = readdirSync(join(lake, 'findings')).sort();
  expect(products).toEqual(['product=guardduty', 'product=securityhub']);
  expect(readdirSync(join(lake, 'findings', 'product=guardduty')).sort()).toEqual(['account=123456789012', 'account=418295730146']);
});

test('one list holds both products, with the same answers on DuckDB and Athena', async () => {
  const sql = `SELECT product, level, count(*) AS n, count(DISTINCT finding_id) AS ids
               FROM findings GROUP BY product, level ORDER BY product, level`;
  const results = await Promise.all(engines().map(async ([, e]) => (await e.query(sql, [])).rows));
  expect(results[0]).toEqual([
    { product: 'guardduty', level: 'high', n: 2, ids: 1 },
    { product: 'guardduty', level: 'low', n: 4, ids: 4 },
    { product: 'securityhub', level: 'high', n: 1, ids: 1 },
    { product: 'securityhub', level: 'low', n: 5, ids: 4 },
  ]);
  expect(results[1]).toEqual(results[0]);
  // Rows: a Security Hub event's findings are a row each (12 rows from 11 written records); a finding seen
  // again with a newer updatedAt is a second row (GuardDuty's high finding, Security Hub's Firehose lines).
  expect(results[0].reduce((sum, r) => sum + Number(r['n']), 0)).toBe(12);
});

test('findings are found by the keys the graph uses: identity, access key, address and resource', async () => {
  for (const [name, engine] of engines()) {
    const byIdentity = await engine.query('SELECT DISTINCT product, rule_id FROM findings WHERE actor_id = ? ORDER BY product, rule_id', [
      'arn:aws:iam::123456789012:user/legacy-admin',
    ]);
    expect([name, byIdentity.rows]).toEqual([
      name,
      [
        { product: 'guardduty', rule_id: 'Stealth:IAMUser/CloudTrailLoggingDisabled' },
        { product: 'securityhub', rule_id: expect.stringMatching(/^arn:aws:guardduty:us-east-1:123456789012:detector\//) },
      ],
    ]);
    const bySession = await engine.query('SELECT count(*) AS n FROM findings WHERE session_id = ?', ['ASIAIOSFODNN7EXAMPLE']);
    expect([name, bySession.rows]).toEqual([name, [{ n: 2 }]]);
    const byResource = await engine.query(
      'SELECT product, src_ip, day FROM findings WHERE account = ? AND contains(resources, ?) ORDER BY product, day',
      ['418295730146', 'arn:aws:ec2:us-east-1:418295730146:instance/i-03ac51c81701ef5e9'],
    );
    expect([name, byResource.rows.map((r) => r['product'])]).toEqual([name, ['guardduty', 'guardduty', 'securityhub', 'securityhub']]);
    // The prober of each day is one of the sample's scanners (etl/sources/guardduty/sample.ts).
    for (const r of byResource.rows) expect(PROBE_SOURCES).toContain(r['src_ip']);
  }
});

test('the same finding versions read again another way (a recompressed export) add no rows', async () => {
  const again = join(root, 'again');
  mkdirSync(again);
  const lines = readFileSync(join(sourceFolder('guardduty'), 'golden', 'export-sample-findings.jsonl'));
  writeFileSync(join(again, 'export-sample-findings.jsonl.gz'), gzipSync(lines));
  const before = await duck.query('SELECT count(*) AS n FROM findings', []);
  const rerun = await ingest({ inputs: [again], lake, workers: 1, geoip: false });
  expect({ written: rerun.written, duplicates: rerun.duplicates, quarantined: rerun.quarantined }).toEqual({
    written: 0,
    duplicates: 3,
    quarantined: 0,
  });
  const reopened = await DuckDbEngine.open({ lake });
  try {
    expect((await reopened.query('SELECT count(*) AS n FROM findings', [])).rows).toEqual(before.rows);
  } finally {
    await reopened.close();
  }
});
