/**
 * Bounded identity attrs (issue #14): a role assumed by many instances carries one session name
 * per caller, so its merged `names` grow without limit and every request that loads the identity
 * pays for them. The API keeps at most MAX_ATTR_VALUES of them; what a hunter pivots on (the
 * identity, its kind, how many events, its sessions, its events) is unaffected by the bound.
 */
import { materializeGraph } from '../../etl/graph';
import { MAX_ATTR_VALUES } from '../../src/api/loaders';
import { ENGINES, apiForDescribe, lakeForFile, type TestApi } from './helpers';
import { days, writeTable, type FixtureRow } from './fixtures/lake';

const ACCOUNT = '012345678901';
const WORKER = `arn:aws:iam::${ACCOUNT}:role/Worker`;
/** More distinct session names than the bound, over two days. */
const CALLERS = MAX_ATTR_VALUES + 60;
const WINDOW = { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' };

function rows(): FixtureRow[] {
  return Array.from({ length: CALLERS }, (_, i) => {
    const instance = `i-${String(i).padStart(17, '0')}`;
    return {
      source: 'cloudtrail',
      account: ACCOUNT,
      region: 'us-east-1',
      time: new Date(Date.UTC(2026, 2, 2 + (i % 2), 1, 0, i % 60)),
      event_id: `evt-${i}`,
      class_uid: 6003,
      activity: 'DescribeInstances',
      service: 'ec2.amazonaws.com',
      outcome: 'success',
      actor_id: WORKER,
      actor_type: 'AssumedRole',
      actor_name: instance,
      actor_arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Worker/${instance}`,
      actor_account: ACCOUNT,
      session_id: `ASIAWORKER${String(i).padStart(10, '0')}`,
      src_ip: '10.0.3.4',
      raw: JSON.stringify({ eventID: `evt-${i}`, eventName: 'DescribeInstances' }),
    };
  });
}

const lake = lakeForFile(async (dir) => {
  const all = rows();
  await writeTable(dir, 'api_activity', all);
  await materializeGraph({ lake: dir, days: days(all) });
});

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });

  it(`keeps at most ${MAX_ATTR_VALUES} names, and the pivot still shows the identity's facts`, async () => {
    const data = await t.data(
      `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
        identityId kind eventCount names
        sessions(first: 5) { totalCount }
        events(first: 3) { totalCount edges { node { activity actorId } } } } }`,
      { id: WORKER, w: WINDOW },
    );
    const identity = data.identity;
    expect(identity.identityId).toBe(WORKER);
    expect(identity.kind).toBe('AssumedRole');
    expect(identity.eventCount).toBe(CALLERS);
    // The bound: the graph holds CALLERS distinct names; the answer carries the first MAX_ATTR_VALUES.
    expect(identity.names).toHaveLength(MAX_ATTR_VALUES);
    expect(new Set(identity.names).size).toBe(MAX_ATTR_VALUES);
    expect(identity.names.every((n: string) => n.startsWith('i-'))).toBe(true);
    expect(identity.sessions.totalCount).toBe(CALLERS);
    expect(identity.events.totalCount).toBe(CALLERS);
    expect(identity.events.edges.map((e: { node: { actorId: string } }) => e.node.actorId)).toEqual([WORKER, WORKER, WORKER]);
  }, 120_000);
});
