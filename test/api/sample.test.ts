/**
 * End to end: `scoutql sample` logs → ingest → graph → GraphQL, answers checked against the
 * stories.json the sample writes beside its logs, on DuckDB and on Athena (local server) alike.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ingest } from '../../etl/ingest';
import { TABLE_NAMES } from '../../src/core/tables';
import { sqlString } from '../../src/core/sql';
import { generateSample } from '../../testkit/sample';
import { readStories, storyById, type Story } from '../../testkit/sample/story';
import { buildWorld, parseStartDate } from '../../testkit/sample/world';
import { graphDays } from '../../src/engine/lake';
import { HUNTS_DIR, exampleQueries } from '../../src/explorer/examples';
import { logInputs } from './fixtures/cross';
import { ENGINES, apiForDescribe, type TestApi } from './helpers';
import { HUNT_FOUND_SOMETHING } from './fixtures/hunts';

const DAYS = 7;
const SEED = 'scoutql-api-test';
const START = '2026-11-02';
const WINDOW = { from: '2026-11-02T00:00:00Z', to: '2026-11-09T00:00:00Z' };

let dir: string;
let lake: string;
let stories: Story[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-sample-api-'));
  const logs = join(dir, 'logs');
  lake = join(dir, 'lake');
  // The stories are planned whole whatever the sources; flow logs (thousands of small files) are left out for speed.
  generateSample({
    out: logs,
    days: DAYS,
    seed: SEED,
    scale: 0.02,
    start: START,
    sources: ['cloudtrail', 's3access', 'route53resolver', 'azuread'],
  });
  stories = readStories(logs);
  const summary = await ingest({ inputs: logInputs(logs), lake });
  expect(summary.quarantined).toBe(0);
  // The ingest runs the graph step (etl/graph.ts) for every day it touched.
  expect(graphDays(lake)).toEqual([...summary.days].sort());
}, 300_000); // sample + ingest: about a minute alone, several on a loaded machine
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The hunts' expected answers, counted independently of the API: plain DuckDB SQL over the lake's
 * Parquet files (each event table read from its folder), written here from what each hunt asks.
 */
let oracle: { db: DuckDBInstance; conn: DuckDBConnection } | undefined;
async function lakeSql(text: string, params: (string | number | boolean)[] = []): Promise<Record<string, unknown>[]> {
  if (!oracle) {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    for (const table of TABLE_NAMES) {
      const files = join(lake, table, '**', '*.parquet');
      // A table the sample has no files of is an empty view with the columns the hunts read.
      const sql = existsSync(join(lake, table))
        ? `SELECT * FROM read_parquet(${sqlString(files)}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`
        : `SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS event_id, NULL::TIMESTAMP AS time, NULL::VARCHAR AS activity, NULL::VARCHAR AS service,
             NULL::VARCHAR AS actor_id, NULL::VARCHAR AS src_ip, NULL::VARCHAR AS outcome, NULL::VARCHAR[] AS resources WHERE false`;
      await conn.run(`CREATE VIEW ${table} AS ${sql}`);
    }
    oracle = { db, conn };
  }
  return (await oracle.conn.runAndReadAll(text, params)).getRowObjectsJS();
}
afterAll(() => {
  oracle?.conn.closeSync();
  oracle?.db.closeSync();
});

/** Every event table's records, each once (a console sign-in is kept in two classes), with the columns the hunts count by. */
const ALL_EVENTS = `(SELECT DISTINCT ON (source, event_id) * FROM (${TABLE_NAMES.map(
  (table) => `SELECT source, event_id, time, activity, service, actor_id, src_ip, resources FROM ${table}`,
).join(' UNION ALL ')}))`;
const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
/**
 * A hunt of examples/hunts as shipped, over this lake's days: its window is the demo sample's days,
 * and this sample spans a week from the same start (as the explorer does, the window is swapped).
 */
const hunt = (name: string): { query: string; variables: Record<string, unknown> & { window: typeof WINDOW } } => {
  const variables = JSON.parse(readFileSync(join(HUNTS_DIR, `${name}.variables.json`), 'utf8')) as Record<string, unknown>;
  return { query: readFileSync(join(HUNTS_DIR, `${name}.graphql`), 'utf8'), variables: { ...variables, window: WINDOW } };
};
/** The window as TIMESTAMP text (the lake's times are UTC without a zone). */
const between = (w: { from: string; to: string }) => [w.from.replace(/Z$/, ''), w.to.replace(/Z$/, '')];

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(() => lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });

  test('console brute force: the attacker IP touched only the target user, with the failed logins', async () => {
    const story = storyById(stories, 'console-brute-force');
    const e = story.expect;
    const data = await t.data(
      `query($ip: String!, $user: String!, $key: String!, $w: TimeWindow!) {
        ip(address: $ip, window: $w) { identities { edges { node { identityId } } } }
        failed: events(window: $w, filter: { ip: $ip, identity: $user, outcome: FAILURE, classes: [AUTHENTICATION] }) { totalCount }
        session(id: $key, window: $w) { identity { identityId } ips { edges { node { address } } } events(first: 50, filter: { classes: [API_ACTIVITY] }) { edges { node { activity } } } }
      }`,
      { ip: e.attackerIp, user: e.targetUser, key: e.consoleSessionKey, w: WINDOW },
    );
    expect(data.ip.identities.edges.map((x: any) => x.node.identityId)).toEqual([e.targetUser]);
    expect(data.failed.totalCount).toBe(e.failedLogins);
    expect(data.session.identity.identityId).toBe(e.targetUser);
    expect(data.session.ips.edges.map((x: any) => x.node.address)).toContain(e.successIp);
    const actions = data.session.events.edges.map((x: any) => x.node.activity);
    for (const name of e.followUpEventNames) expect(actions).toContain(name);
  });

  test('role chain: the session behind the sensitive actions walks back to the user, hop by hop', async () => {
    const e = storyById(stories, 'role-chain-privilege-escalation').expect;
    const data = await t.data(
      `query($key: String!, $w: TimeWindow!) { session(id: $key, window: $w) {
        chain { accessKeyId identity { identityId } issuedBy { eventId action identity { identityId } } }
        resources { edges { relation node { resourceId } } }
      } }`,
      { key: e.sessions[2], w: WINDOW },
    );
    const chain = data.session.chain;
    expect(chain.map((s: any) => s.accessKeyId)).toEqual(e.sessions);
    expect(chain.map((s: any) => s.identity.identityId)).toEqual(e.chain);
    expect(chain.slice(1).map((s: any) => s.issuedBy.eventId)).toEqual(e.assumeRoleEventIds);
    expect(chain.slice(1).map((s: any) => s.issuedBy.identity.identityId)).toEqual(e.chain.slice(0, 2));
    const touched = data.session.resources.edges.map((x: any) => `${x.relation} ${x.node.resourceId}`);
    for (const action of e.sensitiveActions.filter((a) => a.accessKeyId === e.sessions[2])) {
      expect(touched).toContain(`${action.eventName} ${action.target}`);
    }
  });

  test('public bucket: who changed it, and who read it from outside the known ranges', async () => {
    const e = storyById(stories, 'public-bucket-exposure').expect;
    const world = buildWorld(SEED, parseStartDate(START), DAYS);
    const known = ['10.0.0.0/8', ...world.offices.map((o) => `${o.ip}/32`), ...Object.values(world.egress).map((ip) => `${ip}/32`)];
    const data = await t.data(
      `query($bucket: String!, $known: [String!], $w: TimeWindow!) { resource(id: $bucket, window: $w) {
        changes: actors(action: "PutBucketPolicy") { edges { node { identityId } } }
        outside: sourceIps(action: "GetObject", outside: $known, first: 100) { edges { eventCount node { address identities { edges { node { identityId } } } } } }
      } }`,
      { bucket: e.bucket, known, w: WINDOW },
    );
    expect(data.resource.changes.edges.map((x: any) => x.node.identityId)).toEqual([e.changedBy]);
    const outside = data.resource.outside.edges;
    const anonymous = outside.filter((x: any) => x.node.identities.edges.some((i: any) => i.node.identityId === 'anonymous'));
    expect(anonymous.map((x: any) => x.node.address).sort()).toEqual([...e.anonymousIps].sort());
    expect(anonymous.reduce((n: number, x: any) => n + x.eventCount, 0)).toBe(e.anonymousGetObjects);
    for (const x of anonymous) expect(x.node.identities.edges.map((i: any) => i.node.identityId)).toEqual(['anonymous']);
    // Any other reader from outside is another story's attacker, never baseline traffic.
    const attackerIps = new Set(stories.flatMap((s) => s.ips));
    for (const x of outside) expect(attackerIps).toContain(x.node.address);
  });

  test('contextFor an access key used by scanners names its identity and its tools', async () => {
    const e = storyById(stories, 'scanner-user-agents').expect;
    const data = await t.data(
      `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
        kind found
        session { identity { identityId userAgents(first: 100) { edges { node { userAgent } } } } }
      } }`,
      { i: e.accessKeyId, w: WINDOW },
    );
    expect(data.contextFor.kind).toBe('ACCESS_KEY');
    expect(data.contextFor.found).toBe(true);
    const identity = data.contextFor.session.identity;
    expect(identity.identityId).toBe(e.actor);
    const agents = identity.userAgents.edges.map((x: any) => x.node.userAgent);
    for (const ua of e.userAgents) expect(agents).toContain(ua);
  });

  test('access-denied probing: error-code filter finds every denial of the key', async () => {
    const e = storyById(stories, 'access-denied-probing').expect;
    let denied = 0;
    for (const code of e.deniedErrorCodes) {
      const d = await t.data(
        `query($k: String!, $c: String!, $w: TimeWindow!) { events(window: $w, filter: { session: $k, errorCode: $c }) { totalCount } }`,
        { k: e.accessKeyId, c: code, w: WINDOW },
      );
      denied += d.events.totalCount;
    }
    expect(denied).toBe(e.deniedCount);
  });

  test("the explorer's preloaded examples answer on the sample lake, in the server's default window", async () => {
    const w = t.api.defaultWindow();
    const examples = exampleQueries({ from: w.from.toISOString(), to: w.to.toISOString() });
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const example of examples) {
      const r = await t.gql(example.query, example.variables);
      expect({ title: example.title, errors: r.errors }).toEqual({ title: example.title, errors: undefined });
      // Each finds something: no example opens on an empty answer (a graph walk's node, an event, a counted group).
      expect(JSON.stringify(r.data)).toMatch(HUNT_FOUND_SOMETHING);
    }
  });

  test("hunt 06, an identity's actions: each action with its count and times, its busiest minutes, its hours, as SQL over the lake counts them", async () => {
    const { query, variables } = hunt('06-identity-actions');
    const actor = storyById(stories, 'access-denied-probing').expect.actor;
    const own = `(SELECT * FROM ${ALL_EVENTS} WHERE actor_id = ? AND time >= ?::TIMESTAMP AND time < ?::TIMESTAMP)`;
    const params = [actor, ...between(variables.window)];
    const actions = await lakeSql(
      `SELECT activity, count(*) AS n, epoch_ms(min(time)) AS first, epoch_ms(max(time)) AS last,
         count(DISTINCT service) AS services, count(DISTINCT src_ip) AS ips
       FROM ${own} GROUP BY activity ORDER BY n DESC, activity`,
      params,
    );
    const minutes = await lakeSql(
      `SELECT epoch_ms(date_trunc('minute', time)) AS minute, count(*) AS n, count(DISTINCT activity) AS actions
       FROM ${own} GROUP BY 1 ORDER BY n DESC, minute`,
      params,
    );
    const hours = await lakeSql(
      `SELECT epoch_ms(date_trunc('hour', time)) AS hour, count(*) AS n FROM ${own} GROUP BY 1 ORDER BY hour`,
      params,
    );
    const total = actions.reduce((n, a) => n + Number(a.n), 0);
    expect(total).toBeGreaterThan(20); // the probing story: dozens of denied calls, then reads
    // A burst: its busiest minute holds several calls.
    expect(Number(minutes[0].n)).toBeGreaterThan(3);

    const { identity } = await t.data(query, variables);
    expect(identity.identityId).toBe(actor);
    expect(identity.events.actions).toEqual({
      totalEvents: total,
      totalGroups: actions.length,
      groups: actions.slice(0, 50).map((a) => ({
        action: a.activity,
        count: Number(a.n),
        firstSeen: iso(a.first),
        lastSeen: iso(a.last),
        distinct: [
          { dimension: 'SERVICE', count: Number(a.services) },
          { dimension: 'SOURCE_IP', count: Number(a.ips) },
        ],
      })),
    });
    expect(identity.events.bursts).toEqual({
      totalGroups: minutes.length,
      groups: minutes
        .slice(0, 5)
        .map((m) => ({ bucket: iso(m.minute), count: Number(m.n), distinct: [{ dimension: 'ACTION', count: Number(m.actions) }] })),
    });
    expect(identity.activity).toEqual(hours.map((h) => ({ start: iso(h.hour), count: Number(h.n) })));
  });

  test('hunt 07, a credential-access burst: secret reads per identity, action and minute, busiest first, as SQL over the lake counts them', async () => {
    const { query, variables } = hunt('07-credential-access-burst');
    const actions = (variables.actions as string[]).map((a) => a.toLowerCase());
    const reads = `(SELECT * FROM ${ALL_EVENTS} WHERE lower(activity) IN (${actions.map(() => '?').join(', ')})
      AND time >= ?::TIMESTAMP AND time < ?::TIMESTAMP)`;
    const params = [...actions, ...between(variables.window)];
    const groups = await lakeSql(
      `WITH r AS ${reads},
       counted AS (SELECT date_trunc('minute', time) AS minute, actor_id, activity, count(*) AS n, min(time) AS first, max(time) AS last,
         count(DISTINCT src_ip) AS ips FROM r GROUP BY ALL),
       touched AS (SELECT date_trunc('minute', time) AS minute, actor_id, activity, count(DISTINCT resource) AS resources
         FROM (SELECT time, actor_id, activity, unnest(resources) AS resource FROM r) GROUP BY ALL)
       SELECT epoch_ms(c.minute) AS minute, c.actor_id, c.activity, c.n, epoch_ms(c.first) AS first, epoch_ms(c.last) AS last, c.ips,
         coalesce(t.resources, 0) AS resources
       FROM counted c LEFT JOIN touched t USING (minute, actor_id, activity)
       ORDER BY c.n DESC, c.minute, c.actor_id, c.activity`,
      params,
    );
    const ids = (await lakeSql(`SELECT event_id FROM ${reads}`, params)).map((r) => r.event_id);
    expect(ids.length).toBeGreaterThan(5);

    const { events } = await t.data(query, variables);
    expect(events.aggregate).toEqual({
      totalEvents: ids.length,
      totalGroups: groups.length,
      groups: groups.slice(0, 10).map((g) => ({
        bucket: iso(g.minute),
        actor: g.actor_id,
        action: g.activity,
        count: Number(g.n),
        firstSeen: iso(g.first),
        lastSeen: iso(g.last),
        distinct: [
          { dimension: 'RESOURCE', count: Number(g.resources) },
          { dimension: 'SOURCE_IP', count: Number(g.ips) },
        ],
      })),
    });
    // The reads themselves: a page of them, each one of the reads counted.
    expect(events.edges).toHaveLength(Math.min(20, ids.length));
    for (const { node } of events.edges) expect(ids).toContain(node.eventId);
  });

  test('hunt 08, a sign-in spray: failed sign-ins per address and minute with the users tried, as SQL over the lake counts them', async () => {
    const { query, variables } = hunt('08-sign-in-spray');
    const brute = storyById(stories, 'console-brute-force').expect;
    const groups = await lakeSql(
      `SELECT epoch_ms(date_trunc('minute', time)) AS minute, src_ip, count(*) AS n, epoch_ms(min(time)) AS first, epoch_ms(max(time)) AS last,
         count(DISTINCT actor_id) AS users
       FROM authentication WHERE outcome = 'failure' AND time >= ?::TIMESTAMP AND time < ?::TIMESTAMP
       GROUP BY ALL ORDER BY n DESC, minute, src_ip`,
      between(variables.window),
    );
    // The console brute force is the busiest address.
    expect(groups[0].src_ip).toBe(brute.attackerIp);

    const { events } = await t.data(query, variables);
    expect(events.aggregate).toEqual({
      totalEvents: groups.reduce((n, g) => n + Number(g.n), 0),
      totalGroups: groups.length,
      groups: groups.slice(0, 10).map((g) => ({
        bucket: iso(g.minute),
        sourceIp: g.src_ip,
        count: Number(g.n),
        firstSeen: iso(g.first),
        lastSeen: iso(g.last),
        distinct: [{ dimension: 'ACTOR', count: Number(g.users) }],
      })),
    });
  });

  test('hunt 09, rare actions: CloudTrail write calls, rarest first, with who made them, as SQL over the lake counts them', async () => {
    const { query, variables } = hunt('09-rare-actions');
    const groups = await lakeSql(
      `SELECT activity, count(*) AS n, epoch_ms(min(time)) AS first, epoch_ms(max(time)) AS last, count(DISTINCT actor_id) AS actors
       FROM api_activity WHERE source = 'cloudtrail' AND read_only = false AND time >= ?::TIMESTAMP AND time < ?::TIMESTAMP
       GROUP BY activity ORDER BY n, activity`,
      between(variables.window),
    );
    // Rarest first: the tampering story's DeleteTrail was called once.
    expect(Number(groups[0].n)).toBe(1);
    expect(Number(groups.find((g) => g.activity === 'DeleteTrail')?.n)).toBe(1);

    const { events } = await t.data(query, variables);
    expect(events.aggregate).toEqual({
      totalEvents: groups.reduce((n, g) => n + Number(g.n), 0),
      totalGroups: groups.length,
      groups: groups.slice(0, 15).map((g) => ({
        action: g.activity,
        count: Number(g.n),
        firstSeen: iso(g.first),
        lastSeen: iso(g.last),
        distinct: [{ dimension: 'ACTOR', count: Number(g.actors) }],
      })),
    });
  });

  test('Entra brute force into AWS federation: one address ties the Entra user, the SAML subject and the role', async () => {
    const e = storyById(stories, 'entra-brute-force-aws-federation').expect;
    const data = await t.data(
      `query($ip: String!, $key: String!, $w: TimeWindow!) {
        ip(address: $ip, window: $w) { identities { edges { node { identityId } } } }
        failed: events(window: $w, filter: { ip: $ip, outcome: FAILURE, classes: [AUTHENTICATION] }) { totalCount edges { node { errorCode } } }
        session(id: $key, window: $w) { identity { identityId } issuedBy { action eventId sourceIpAddress identity { identityId } }
          events(first: 100) { edges { node { eventId activity } } } }
      }`,
      { ip: e.attackerIp, key: e.sessionKey, w: WINDOW },
    );
    expect(data.ip.identities.edges.map((x: any) => x.node.identityId).sort()).toEqual(
      [e.actors.azuread, e.actors.saml, e.actors.role].sort(),
    );
    expect(data.failed.totalCount).toBe(e.failedSignIns);
    expect(new Set(data.failed.edges.map((x: any) => x.node.errorCode))).toEqual(new Set([e.failedErrorCode]));
    expect(data.session.identity.identityId).toBe(e.roleArn);
    expect(data.session.issuedBy).toEqual({
      action: 'AssumeRoleWithSAML',
      eventId: e.assumeRoleWithSamlEventId,
      sourceIpAddress: e.attackerIp,
      identity: { identityId: e.actors.saml },
    });
    const ids = data.session.events.edges.map((x: any) => x.node.eventId);
    for (const id of e.followUpEventIds) expect(ids).toContain(id);
  });

  test('S3 exfiltration: the instance role session behind the bulk reads of the bucket', async () => {
    const e = storyById(stories, 's3-exfiltration').expect;
    const data = await t.data(
      `query($key: String!, $bucket: String!, $w: TimeWindow!) {
        session(id: $key, window: $w) { identity { identityId } issuedBy { identity { identityId } } }
        reads: events(window: $w, filter: { session: $key, action: "GetObject" }, first: 500) { totalCount edges { node { eventId } } }
        resource(id: $bucket, window: $w) { sessions(action: "GetObject", first: 100) { edges { eventCount node { accessKeyId } } } }
      }`,
      { key: e.sessionKey, bucket: e.bucket, w: WINDOW },
    );
    expect(data.session.identity.identityId).toBe(e.roleArn);
    expect(data.session.issuedBy.identity.identityId).toBe('service:ec2.amazonaws.com');
    expect(data.reads.totalCount).toBe(e.getObjects);
    expect(data.reads.edges.map((x: any) => x.node.eventId).sort()).toEqual([...e.cloudTrailEventIds].sort());
    const link = data.resource.sessions.edges.find((x: any) => x.node.accessKeyId === e.sessionKey);
    expect(link.eventCount).toBe(e.getObjects);
  });

  test('malicious domain: contextFor the domain names the instance that looked it up and every query', async () => {
    const e = storyById(stories, 'malicious-domain-lookup').expect;
    const data = await t.data(
      `query($d: String!, $w: TimeWindow!) { contextFor(indicator: $d, window: $w) {
        kind found queriedBy { edges { eventCount node { address } } }
        recentEvents(first: 50) { eventId time ... on DnsActivity { instanceId vpcId answers } }
      } }`,
      { d: e.domain, w: WINDOW },
    );
    const c = data.contextFor;
    expect(c.kind).toBe('DOMAIN');
    expect(c.found).toBe(true);
    expect(c.queriedBy.edges.reduce((n: number, x: any) => n + x.eventCount, 0)).toBe(e.queries);
    expect(c.recentEvents.map((x: any) => x.eventId).sort()).toEqual([...e.queryEventIds].sort());
    for (const event of c.recentEvents) expect(event).toMatchObject({ instanceId: e.instanceId, vpcId: e.vpcId, answers: [e.resolvedIp] });
    expect(c.recentEvents.at(-1).time).toBe(new Date(e.firstQuery).toISOString()); // newest first
  });
});
