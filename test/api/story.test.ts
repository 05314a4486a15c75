/**
 * The seeds' hunting questions through GraphQL over a real lake (Parquet written in the ETL's
 * layout, graph materialized by etl/graph.ts), answered by DuckDB and by Athena (local server) alike.
 */
import { ENGINES, apiForDescribe, columnChunkBytes, lakeForFile, type TestApi } from './helpers';
import { TABLE_NAMES } from '../../src/core/tables';
import {
  ACCOUNT,
  ADMIN_IP,
  ADMIN_KEY,
  ADMIN_ROLE,
  ALICE,
  BOB,
  BOB_CONSOLE_KEY,
  BRUTE_IP,
  CAROL,
  DELETED_BUCKET,
  DEVOPS_KEY,
  DEVOPS_ROLE,
  INSTANCE_IP,
  OUTSIDE_READER_IP,
  PUBLIC_BUCKET,
  PUBLIC_BUCKET_NAME,
  WINDOW,
  storyRows,
  writeStoryLake,
} from './fixtures/story';

const lake = lakeForFile(writeStoryLake);
const EVENT_TABLES = [...TABLE_NAMES];

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });

  test('who assumed the role that deleted the bucket, and from which IP', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) {
        resource(id: "prod-backups", window: $w) {
          resourceId kind
          actors(action: "DeleteBucket") { totalCount edges { relation node { identityId } } }
          sessions(action: "DeleteBucket") { edges { node {
            accessKeyId
            identity { identityId }
            issuedBy { action roleArn sourceIpAddress sourceIp { address isPrivate } mfa identity { identityId } session { accessKeyId }
                       event { eventId ... on ApiActivity { issuedSessionId } } }
          } } }
        }
      }`,
      { w: WINDOW },
    );
    const r = data.resource;
    expect(r.resourceId).toBe(DELETED_BUCKET);
    expect(r.kind).toBe('s3:bucket');
    expect(r.actors.edges).toEqual([{ relation: 'DeleteBucket', node: { identityId: ADMIN_ROLE } }]);
    const session = r.sessions.edges[0].node;
    expect(session.accessKeyId).toBe(ADMIN_KEY);
    expect(session.identity.identityId).toBe(ADMIN_ROLE);
    // Issued the day before the deletion: the issuance survives the day boundary.
    expect(session.issuedBy).toMatchObject({
      action: 'AssumeRole',
      roleArn: ADMIN_ROLE,
      sourceIpAddress: ADMIN_IP,
      sourceIp: { address: ADMIN_IP, isPrivate: false },
      mfa: false,
      identity: { identityId: DEVOPS_ROLE },
      session: { accessKeyId: DEVOPS_KEY },
    });
    const issuing = storyRows().api_activity.find((row) => row.issued_session_id === ADMIN_KEY)!;
    expect(session.issuedBy.event).toEqual({ eventId: issuing.event_id, issuedSessionId: ADMIN_KEY });
  });

  test('every identity that used the brute-forcing IP, with counts', async () => {
    const data = await t.data(
      `query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) {
        address isPrivate eventCount
        identities { totalCount edges { eventCount node { identityId } } }
        issuedSessions { edges { node { accessKeyId } } }
        peers { edges { relation node { address isPrivate } } }
      } }`,
      { ip: BRUTE_IP, w: WINDOW },
    );
    const ip = data.ip;
    expect(ip.isPrivate).toBe(false);
    const counts = Object.fromEntries(ip.identities.edges.map((e: any) => [e.node.identityId, e.eventCount]));
    const rows = [...storyRows().authentication, ...storyRows().api_activity].filter((r) => r.src_ip === BRUTE_IP);
    const expected: Record<string, number> = {};
    for (const row of rows) expected[row.actor_id as string] = (expected[row.actor_id as string] ?? 0) + 1;
    expect(counts).toEqual(expected);
    expect(Object.keys(counts).sort()).toEqual([ALICE, BOB, CAROL].sort());
    expect(ip.identities.totalCount).toBe(3);
    expect(ip.issuedSessions.edges.map((e: any) => e.node.accessKeyId)).toEqual([DEVOPS_KEY]);
    expect(ip.peers.edges).toEqual([{ relation: 'flow_in', node: { address: INSTANCE_IP, isPrivate: true } }]);
  });

  test("an address's eventCount is the count of its events: the call that issued credentials from it counts once", async () => {
    const data = await t.data(
      `query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) { eventCount events { totalCount } } }`,
      { ip: BRUTE_IP, w: WINDOW },
    );
    // Four console sign-ins, the AssumeRole it issued DevOps credentials with, one flow to it.
    const rows = Object.values(storyRows())
      .flat()
      .filter((r) => r.src_ip === BRUTE_IP || r.dst_ip === BRUTE_IP);
    expect(rows).toHaveLength(6);
    expect(data.ip).toEqual({ eventCount: rows.length, events: { totalCount: rows.length } });
  });

  test('the full role chain behind a session, both directions', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) {
        session(id: "${ADMIN_KEY}", window: $w) { chain { accessKeyId name identity { identityId } } parent { accessKeyId } }
        root: session(id: "${BOB_CONSOLE_KEY}", window: $w) { children { edges { node { accessKeyId children { edges { node { accessKeyId } } } } } } }
      }`,
      { w: WINDOW },
    );
    expect(data.session.chain).toEqual([
      { accessKeyId: BOB_CONSOLE_KEY, name: null, identity: { identityId: BOB } },
      { accessKeyId: DEVOPS_KEY, name: 'bob-maint', identity: { identityId: DEVOPS_ROLE } },
      { accessKeyId: ADMIN_KEY, name: 'prod-admin', identity: { identityId: ADMIN_ROLE } },
    ]);
    expect(data.session.parent.accessKeyId).toBe(DEVOPS_KEY);
    expect(data.root.children.edges).toEqual([
      { node: { accessKeyId: DEVOPS_KEY, children: { edges: [{ node: { accessKeyId: ADMIN_KEY } }] } } },
    ]);
  });

  test('who read the public bucket from outside the known ranges', async () => {
    const data = await t.data(
      `query($w: TimeWindow!, $known: [String!]) { resource(id: "${PUBLIC_BUCKET}", window: $w) {
        all: sourceIps { totalCount }
        outside: sourceIps(action: "GetObject", outside: $known) { totalCount edges { relation eventCount node { address identities { edges { node { identityId } } } } } }
      } }`,
      { w: WINDOW, known: ['10.0.0.0/8', '192.0.2.0/28'] },
    );
    expect(data.resource.all.totalCount).toBe(3);
    expect(data.resource.outside.edges).toEqual([
      {
        // The server access log's REST.GET.OBJECT is filed under the API action it stands for.
        relation: 'GetObject',
        eventCount: 2,
        node: { address: OUTSIDE_READER_IP, identities: { edges: [{ node: { identityId: 'anonymous' } }] } },
      },
    ]);
  });

  test("a bucket's HTTP and DNS activity", async () => {
    const data = await t.data(
      `query($w: TimeWindow!) { resource(id: "${PUBLIC_BUCKET_NAME}", window: $w) {
      httpActivity(first: 10) { totalCount edges { node { ... on HttpActivity { httpMethod objectKey status } } } }
      dnsActivity { edges { node { sourceIpAddress ... on DnsActivity { queryName instanceId } } } }
    } }`,
      { w: WINDOW },
    );
    const reads = storyRows().http_activity;
    expect(data.resource.httpActivity.totalCount).toBe(reads.length);
    expect(data.resource.httpActivity.edges.map((e: any) => e.node.objectKey)).toEqual(reads.map((r) => r.object_key));
    expect(data.resource.dnsActivity.edges).toEqual([
      { node: { sourceIpAddress: '10.0.2.9', queryName: `${PUBLIC_BUCKET_NAME}.s3.us-east-1.amazonaws.com`, instanceId: 'i-0abc' } },
    ]);
  });

  test('identity lookup by ARN, assumed-role ARN, access key id and user name finds the same identity', async () => {
    const lookups = [BOB, 'bob', BOB_CONSOLE_KEY];
    for (const id of lookups) {
      const data = await t.data(
        `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) { identityId account names accessKeys } }`,
        { id, w: WINDOW },
      );
      expect(data.identity).toEqual({ identityId: BOB, account: ACCOUNT, names: ['bob'], accessKeys: [BOB_CONSOLE_KEY] });
    }
    const assumed = await t.data(
      `query($w: TimeWindow!) { identity(id: "arn:aws:sts::210987654321:assumed-role/Admin/prod-admin", window: $w) { identityId } }`,
      { w: WINDOW },
    );
    expect(assumed.identity.identityId).toBe(ADMIN_ROLE);
    const principal = await t.data(
      `query($w: TimeWindow!) { identity(id: "AROAEXAMPLEID1234567:prod-admin", window: $w) { identityId } }`,
      { w: WINDOW },
    );
    expect(principal.identity.identityId).toBe(ADMIN_ROLE);
    const missing = await t.data(`query($w: TimeWindow!) { identity(id: "nobody", window: $w) { identityId } }`, { w: WINDOW });
    expect(missing.identity).toBeNull();
  });

  test('events: filters, stable (time, eventId) order, cursor pages without gaps or repeats', async () => {
    const all = await t.data(`query($w: TimeWindow!) { events(window: $w, first: 500) { totalCount edges { node { eventId time } } } }`, {
      w: WINDOW,
    });
    const rows = Object.values(storyRows()).flat();
    expect(all.events.totalCount).toBe(rows.length);
    const expectedOrder = [...rows]
      .sort((a, b) => a.time.getTime() - b.time.getTime() || String(a.event_id).localeCompare(String(b.event_id)))
      .map((r) => r.event_id);
    expect(all.events.edges.map((e: any) => e.node.eventId)).toEqual(expectedOrder);

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const d: any = await t.data(
        `query($w: TimeWindow!, $after: String) { events(window: $w, first: 3, after: $after) { edges { node { eventId } } pageInfo { hasNextPage endCursor } } }`,
        { w: WINDOW, after },
      );
      seen.push(...d.events.edges.map((e: any) => e.node.eventId));
      if (!d.events.pageInfo.hasNextPage) break;
      after = d.events.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedOrder);

    const denied = await t.data(
      `query($w: TimeWindow!) { events(window: $w, filter: { errorCode: "AccessDenied", classes: [API_ACTIVITY] }) { edges { node { activity actorId ... on ApiActivity { readOnly } } } } }`,
      { w: WINDOW },
    );
    expect(denied.events.edges).toEqual([{ node: { activity: 'DeleteTrail', actorId: ADMIN_ROLE, readOnly: null } }]);
    const failedLogins = await t.data(
      `query($w: TimeWindow!) { identity(id: "${BOB}", window: $w) { signIns(filter: { outcome: FAILURE }) { totalCount edges { node { ... on Authentication { authProtocol mfa } sourceIpAddress } } } } }`,
      { w: WINDOW },
    );
    expect(failedLogins.identity.signIns).toEqual({
      totalCount: 1,
      edges: [{ node: { authProtocol: 'Password', mfa: false, sourceIpAddress: BRUTE_IP } }],
    });
    const byIp = await t.data(
      `query($w: TimeWindow!) { events(window: $w, filter: { ip: "${BRUTE_IP}", classes: [NETWORK_ACTIVITY] }) { edges { node { ... on NetworkActivity { dstPort destinationIp { address } } sourceIp { address isPrivate } } } } }`,
      { w: WINDOW },
    );
    expect(byIp.events.edges).toEqual([
      { node: { dstPort: 443, destinationIp: { address: BRUTE_IP }, sourceIp: { address: INSTANCE_IP, isPrivate: true } } },
    ]);
  });

  test('the window bounds what is seen: the day before the attack has none of it', async () => {
    const data = await t.data(
      `{ ip(address: "${BRUTE_IP}", window: { from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z" }) { address } events(window: { from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z" }) { totalCount } }`,
    );
    expect(data.ip).toBeNull();
    expect(data.events.totalCount).toBe(storyRows().api_activity.filter((r) => r.time < new Date('2026-03-02T00:00:00Z')).length);
  });

  test('node(id) round-trips entities and events through their global ids', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) { identity(id: "${BOB}", window: $w) { id } events(window: $w, first: 1) { edges { node { id eventId } } } }`,
      { w: WINDOW },
    );
    expect(Buffer.from(data.identity.id, 'base64').toString()).toBe(`Identity:${BOB}`);
    const again = await t.data(
      `query($id: ID!, $e: ID!, $w: TimeWindow!) { a: node(id: $id, window: $w) { ... on Identity { identityId } } b: node(id: $e) { ... on Event { eventId } } }`,
      { id: data.identity.id, e: data.events.edges[0].node.id, w: WINDOW },
    );
    expect(again.a.identityId).toBe(BOB);
    expect(again.b.eventId).toBe(data.events.edges[0].node.eventId);
  });

  test('contextFor recognizes each kind of indicator and summarizes its neighbourhood', async () => {
    const q = `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
      kind found eventCount
      identities(first: 5) { edges { node { identityId } } }
      ips(first: 5) { edges { node { address } } }
      sessions(first: 5) { edges { node { accessKeyId } } }
      resources(first: 5) { edges { relation node { resourceId } } }
      recentEvents(first: 2) { eventId activity }
    } }`;
    const ctx = async (i: string) => (await t.data(q, { i, w: WINDOW })).contextFor;
    const ip = await ctx(BRUTE_IP);
    expect(ip.kind).toBe('IP_ADDRESS');
    expect(ip.identities.edges.map((e: any) => e.node.identityId).sort()).toEqual([ALICE, BOB, CAROL].sort());
    expect(ip.recentEvents[0].activity).toBe('flow'); // newest first
    const key = await ctx(ADMIN_KEY);
    expect(key.kind).toBe('ACCESS_KEY');
    expect(key.identities.edges[0].node.identityId).toBe(ADMIN_ROLE);
    expect(key.resources.edges.map((e: any) => e.relation)).toEqual(expect.arrayContaining(['DeleteBucket', 'DeleteObject']));
    const arn = await ctx(DEVOPS_ROLE);
    expect(arn.kind).toBe('ARN');
    expect(arn.sessions.edges.map((e: any) => e.node.accessKeyId)).toEqual([DEVOPS_KEY]);
    const bucket = await ctx(PUBLIC_BUCKET_NAME);
    expect(bucket.kind).toBe('BUCKET');
    expect(bucket.ips.edges.length).toBe(3);
    const user = await ctx('carol');
    expect(user).toMatchObject({ kind: 'USER_NAME', found: true, eventCount: 1 });
    const domain = await t.data(
      `query($w: TimeWindow!) { contextFor(indicator: "c2.evil.example", window: $w) { kind found queriedBy { edges { node { address } } } recentEvents { ... on DnsActivity { queryName answers } } } }`,
      { w: WINDOW },
    );
    expect(domain.contextFor).toEqual({
      kind: 'DOMAIN',
      found: true,
      queriedBy: { edges: [{ node: { address: INSTANCE_IP } }] },
      recentEvents: [{ queryName: 'c2.evil.example', answers: [BRUTE_IP] }],
    });
    // A plausible user name that nothing answers to: not found, and it says what it was tried as.
    const unknown = await ctx('no-such-thing_');
    expect(unknown).toMatchObject({ kind: 'USER_NAME', found: false, eventCount: 0, recentEvents: [] });
  });

  test('account ids keep their leading zero (partition columns stay VARCHAR)', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) { account(id: "${ACCOUNT}", window: $w) { accountId identities(first: 10) { totalCount } } events(window: $w, first: 1) { edges { node { account } } } }`,
      { w: WINDOW },
    );
    expect(data.account.accountId).toBe(ACCOUNT);
    expect(data.account.identities.totalCount).toBeGreaterThan(0);
    expect(data.events.edges[0].node.account).toBe(ACCOUNT);
  });

  test('responses carry query stats in extensions', async () => {
    const result = await t.gql(`query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { address } }`, { w: WINDOW });
    expect(result.extensions?.stats).toMatchObject({ engine, queries: 1 });
    expect((result.extensions?.stats as any).millis).toBeGreaterThanOrEqual(0);
    // A count alone costs one query: the page is fetched only when selected.
    const count = await t.gql(`query($w: TimeWindow!) { events(window: $w) { totalCount } }`, { w: WINDOW });
    expect((count.extensions?.stats as any).queries).toBe(1);
    const scanned = (count.extensions?.stats as any).bytesScanned;
    if (engine === 'duckdb')
      expect(scanned).toBe(0); // DuckDB reports no scan size
    else {
      // Athena bills by bytes scanned and the request reports what it reported: counting across every
      // event class over the whole story reads the time column (the window filter) of every event
      // file, and, to count each record once (a console sign-in kept as an API call and as a sign-in),
      // the event ids of the API calls and as much of the sign-ins' ids and times as the engine cannot
      // prune (the local engine skips row groups whose ids cannot match).
      const times = await columnChunkBytes(lake(), EVENT_TABLES, ['time']);
      const apiIds = await columnChunkBytes(lake(), ['api_activity'], ['event_id']);
      const signIns = await columnChunkBytes(lake(), ['authentication'], ['event_id', 'time']);
      expect(scanned).toBeGreaterThanOrEqual(times + apiIds);
      expect(scanned).toBeLessThanOrEqual(times + apiIds + signIns);
      expect((result.extensions?.stats as any).bytesScanned).toBeGreaterThan(0);
    }
  });

  test('a caller limited to some accounts sees only their events and entities', async () => {
    const prod = { subject: 'prod-analyst', kind: 'oidc', role: 'analyst', accounts: ['210987654321'] } as const;
    const q = `query($w: TimeWindow!) {
      bob: identity(id: "${BOB}", window: $w) { identityId }
      admin: identity(id: "${ADMIN_ROLE}", window: $w) { identityId }
      events(window: $w) { totalCount edges { node { account } } }
    }`;
    const r = await t.api.execute(q, { w: WINDOW }, prod);
    expect(r.errors).toBeUndefined();
    const data = r.data as any;
    expect(data.bob).toBeNull();
    expect(data.admin.identityId).toBe(ADMIN_ROLE);
    const inProd = Object.values(storyRows())
      .flat()
      .filter((row) => row.account === '210987654321');
    expect(data.events.totalCount).toBe(inProd.length);
    expect(new Set(data.events.edges.map((e: any) => e.node.account))).toEqual(new Set(['210987654321']));
    const nobody = await t.api.execute(q, { w: WINDOW }, { subject: 'nobody', kind: 'oidc', role: 'analyst', accounts: [] });
    expect((nobody.data as any).events.totalCount).toBe(0);
  });
});
