/**
 * `scoutql ingest --detect` and `scoutql detect` as a user runs them (real processes, real DuckDB):
 * the days an ingest touched are searched by the project's rules after publishing, their findings
 * land in the lake's findings table, and running again changes nothing.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findingsTableSelect } from '../../src/core/duckdb';
import { cloudTrailRecord, scoutql, tempDir, withDuckDb } from '../etl/helpers';
import { REAL_CLI } from '../cli';

const STOP_LOGGING_ID = '00000000-0000-4000-8000-00000000a001';
const DESCRIBE_TRAILS_ID = '00000000-0000-4000-8000-00000000a002';

/** The CloudTrail user guide's StopLogging example beside an ordinary read of the trails, on 2024-03-01. */
const RECORDS = [
  cloudTrailRecord(1, {
    eventTime: '2024-03-01T20:01:07Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    requestParameters: { name: 'arn:aws:cloudtrail:us-east-2:123456789012:trail/My-First-Trail' },
    eventID: STOP_LOGGING_ID,
  }),
  cloudTrailRecord(2, {
    eventTime: '2024-03-01T20:02:07Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'DescribeTrails',
    readOnly: true,
    requestParameters: null,
    eventID: DESCRIBE_TRAILS_ID,
  }),
];

let root: string;
let input: string;

beforeAll(() => {
  root = tempDir('ingest-detect');
  input = join(root, 'input');
  mkdirSync(input);
  writeFileSync(join(input, 'trail.json'), JSON.stringify({ Records: RECORDS }));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface StoredFinding {
  finding_id: string;
  title: string;
  actor_id: string | null;
  evidence_event_ids: string[];
  created_at: string;
  day: string;
}

async function findingsOf(lake: string): Promise<StoredFinding[]> {
  return withDuckDb(async (run) => {
    const rows = await run(
      `SELECT finding_id, title, actor_id, evidence_event_ids, CAST(created_at AS VARCHAR) AS created_at, CAST(day AS VARCHAR) AS day
       FROM (${findingsTableSelect(lake)}) WHERE product = 'scoutql' ORDER BY finding_id`,
    );
    return rows as unknown as StoredFinding[];
  });
}

test('ingest --detect writes the findings of the days it touched; ingesting the same file again searches nothing and changes nothing', async () => {
  const lake = join(root, 'lake-detect');
  const first = scoutql(['ingest', input, '--lake', lake, '--detect', '--json']);
  expect(first.stderr).not.toContain('scoutql:');
  expect(first.status).toBe(0);
  const summary = JSON.parse(first.stdout) as {
    events: number;
    detect: { rules: number; windows: { from: string; to: string; findings: number; written: { added: number } }[] };
  };
  expect(summary.detect.rules).toBeGreaterThan(50);
  expect(summary.detect.windows).toEqual([
    expect.objectContaining({ from: '2024-03-01T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', refused: [], failed: [] }),
  ]);
  const window = summary.detect.windows[0];
  expect(window.findings).toBeGreaterThan(0);
  expect(window.written.added).toBe(window.findings);

  const stored = await findingsOf(lake);
  expect(stored).toHaveLength(window.findings);
  const stopped = stored.filter((f) => f.evidence_event_ids.includes(STOP_LOGGING_ID));
  expect(stopped.map((f) => f.title)).toContain('CloudTrail logging stopped, trail deleted or its event selectors narrowed');
  expect(stopped[0]).toMatchObject({ actor_id: 'arn:aws:iam::123456789012:user/Alice1', day: '2024-03-01' });
  // Reading the trails is not an attack: no finding of any rule holds it as evidence.
  expect(stored.filter((f) => f.evidence_event_ids.includes(DESCRIBE_TRAILS_ID))).toEqual([]);

  const again = scoutql(['ingest', input, '--lake', lake, '--detect']);
  expect(again.status).toBe(0);
  expect(again.stdout).toMatch(/^detect +skipped: no new events$/m);
  expect(await findingsOf(lake)).toEqual(stored);
}, 180_000);

test('ingest without --detect writes no findings; detect over the day then writes them, and a second run keeps them as they are', async () => {
  const lake = join(root, 'lake-plain');
  const plain = scoutql(['ingest', input, '--lake', lake, '--json']);
  expect(plain.status).toBe(0);
  expect(JSON.parse(plain.stdout)).not.toHaveProperty('detect');
  expect(await findingsOf(lake)).toEqual([]);

  const detect = scoutql(['detect', '--lake', lake, '--window', '2024-03-01', '--json'], {}, REAL_CLI);
  expect(detect.stderr).not.toContain('scoutql:');
  expect(detect.status).toBe(0);
  const stored = await findingsOf(lake);
  expect(stored.some((f) => f.evidence_event_ids.includes(STOP_LOGGING_ID))).toBe(true);

  const rerun = scoutql(['detect', '--lake', lake, '--window', '2024-03-01']);
  expect(rerun.status).toBe(0);
  expect(rerun.stdout).toMatch(/^written +0 new, 0 replaced or gone, in 0 partitions \([1-9]\d* unchanged\)$/m);
  // Same ids and the same first-reported times: a second run is not a second report.
  expect(await findingsOf(lake)).toEqual(stored);
}, 180_000);

test('ingest --detect with a suppressions file that cannot be read is refused before anything is ingested', () => {
  const lake = join(root, 'lake-bad-suppressions');
  const run = scoutql(['ingest', input, '--lake', lake, '--detect', '--suppressions', join(root, 'missing.yml')]);
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/missing\.yml.*cannot be read/);
  expect(existsSync(lake)).toBe(false);
}, 60_000);
