/**
 * `lake { gaps(window) }` (issue 10 point 5): where the evidence falls silent, per source, account
 * and region, answered by the same statement `scoutql verify lake` reports its gaps with, on DuckDB
 * and on Athena. The lake: a CloudTrail stream that logs every ten minutes and stops from 02:00:13
 * to 03:10:41 (the "logging was off from 02:00 to 03:10"), flow logs that never stop, and
 * a second account whose trail stops for two hours (hidden from a caller without that account).
 */
import { materializeGraph } from '../../etl/graph';
import { lakeCoverage } from '../../src/evidence/lake';
import type { TableName } from '../../src/core/tables';
import { ENGINES, apiForDescribe, lakeForFile } from './helpers';
import { days, writeTable, type FixtureRow } from './fixtures/lake';

const MAIN = '012345678901';
const OTHER = '210987654321';
const DAY = '2026-03-02';
const WINDOW = { from: `${DAY}T00:00:00Z`, to: `${DAY}T12:00:00Z` };

let seq = 0;
function row(source: string, account: string, at: string, extra: Partial<FixtureRow> = {}): FixtureRow {
  seq += 1;
  return {
    source,
    account,
    region: 'us-east-1',
    time: new Date(`${DAY}T${at}Z`),
    event_id: `gap-${String(seq).padStart(4, '0')}`,
    outcome: 'success',
    activity: 'DescribeInstances',
    service: 'ec2.amazonaws.com',
    class_uid: 6003,
    raw: '{}',
    ...extra,
  };
}

/** hh:mm:ss from `startMinute` every `step` minutes up to `endMinute` (exclusive), at `second`. */
function times(startMinute: number, endMinute: number, step: number, second = 13): string[] {
  const out: string[] = [];
  for (let m = startMinute; m < endMinute; m += step) {
    out.push(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:${String(second).padStart(2, '0')}`);
  }
  return out;
}

function lakeRows(): Partial<Record<TableName, FixtureRow[]>> {
  const trail = [...times(0, 121, 10), '03:10:41', ...times(190, 360, 10, 41)].map((at) => row('cloudtrail', MAIN, at));
  const other = [...times(0, 60, 15), ...times(180, 300, 15)].map((at) => row('cloudtrail', OTHER, at));
  const flows = times(0, 360, 20).map((at) =>
    row('vpcflow', MAIN, at, { class_uid: 4001, activity: 'Traffic', service: 'vpc-flow-logs', action: 'ACCEPT' }),
  );
  return { api_activity: [...trail, ...other], network_activity: flows };
}

const lake = lakeForFile(async (dir) => {
  const touched: string[] = [];
  for (const [table, rows] of Object.entries(lakeRows()) as Array<[TableName, FixtureRow[]]>) {
    await writeTable(dir, table, rows);
    touched.push(...days(rows));
  }
  await materializeGraph({ lake: dir, days: touched });
});

const GAPS = `query($w: TimeWindow!, $m: Int, $s: String, $a: String) {
  lake { gaps(window: $w, minMinutes: $m, source: $s, account: $a) { source account region from to minutes } }
}`;

const MAIN_GAP = {
  source: 'cloudtrail',
  account: MAIN,
  region: 'us-east-1',
  from: `${DAY}T02:00:13.000Z`,
  to: `${DAY}T03:10:41.000Z`,
  minutes: 70,
};
const OTHER_GAP = {
  source: 'cloudtrail',
  account: OTHER,
  region: 'us-east-1',
  from: `${DAY}T00:45:13.000Z`,
  to: `${DAY}T03:00:13.000Z`,
  minutes: 135,
};

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);

  test('each silence of an hour or more, longest first; a stream that never stops has none', async () => {
    const data = await api().data(GAPS, { w: WINDOW });
    expect(data.lake.gaps).toEqual([OTHER_GAP, MAIN_GAP]);
  });

  test('the same gaps `verify lake` reports, from the same statement', async () => {
    const verified = await lakeCoverage(lake(), 60);
    const data = await api().data(GAPS, { w: WINDOW });
    expect(data.lake.gaps).toEqual(
      verified.gaps.map((g) => ({ ...g, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString() })),
    );
  });

  test('minMinutes, source and account narrow it; a window that ends inside a silence does not report it', async () => {
    expect((await api().data(GAPS, { w: WINDOW, m: 90 })).lake.gaps).toEqual([OTHER_GAP]);
    expect((await api().data(GAPS, { w: WINDOW, a: MAIN })).lake.gaps).toEqual([MAIN_GAP]);
    expect((await api().data(GAPS, { w: WINDOW, s: 'vpcflow' })).lake.gaps).toEqual([]);
    // Flow logs every twenty minutes: each interval between them is a twenty-minute silence.
    expect((await api().data(GAPS, { w: WINDOW, m: 20, s: 'vpcflow' })).lake.gaps).toHaveLength(17);
    expect((await api().data(GAPS, { w: { from: WINDOW.from, to: `${DAY}T02:30:00Z` } })).lake.gaps).toEqual([]);
  });

  test("a caller sees only its accounts' gaps; a bad minMinutes is refused", async () => {
    const r = await api().api.execute(GAPS, { w: WINDOW }, { subject: 'prod', kind: 'oidc', role: 'analyst', accounts: [OTHER] });
    expect(r.errors).toBeUndefined();
    expect((r.data as any).lake.gaps).toEqual([OTHER_GAP]);
    const bad = await api().gql(GAPS, { w: WINDOW, m: 0 });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});
