/**
 * Lists started beside the look-up of their entity (src/api/prefetch.ts, issue #14 item 3):
 * `identity(id) { events }` and `resource(id: bucket) { actors sessions sourceIps }` send their look-up
 * and their lists at once (one wave) when the text is the key the look-up finds, and otherwise
 * answer with the rows of the key it found, never of the text: on both engines, the answers of a name,
 * an access key, a bare bucket name equal those of the key itself.
 */
import type { QueryEngine, QueryOptions, QueryResult, SqlParam, SqlRow } from '../../src/engine/types';
import { apiForDescribe, ENGINES, lakeForFile, openApi } from './helpers';
import { BOB, BOB_CONSOLE_KEY, DELETED_BUCKET, PUBLIC_BUCKET, PUBLIC_BUCKET_NAME, WINDOW, writeStoryLake } from './fixtures/story';

const lake = lakeForFile(writeStoryLake);

const IDENTITY = `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
  identityId
  events(first: 50) { edges { node { eventId time activity actorId } } pageInfo { hasNextPage } }
  sessions(first: 10) { edges { node { accessKeyId } } } } }`;

const RESOURCE = `query($id: String!, $w: TimeWindow!) { resource(id: $id, window: $w) {
  resourceId
  changes: actors(action: "PutBucketPolicy") { edges { node { identityId } } }
  sessions { edges { relation node { accessKeyId } } }
  outside: sourceIps(action: "GetObject", outside: ["10.0.0.0/8"], first: 100) { edges { eventCount node { address } } } } }`;

/** The bench's "who touched a bucket": second hops under two of its lists (a session's identity, an address's identities). */
const RESOURCE_DEEP = `query($id: String!, $w: TimeWindow!) { resource(id: $id, window: $w) {
  changes: actors(action: "PutBucketPolicy") { edges { node { identityId } } }
  sessions { edges { relation node { accessKeyId identity { identityId name } } } }
  outside: sourceIps(action: "GetObject", outside: ["10.0.0.0/8"], first: 100) {
    edges { eventCount node { address identities { totalCount edges { eventCount node { identityId } } } } } } } }`;

/** The statements the API sends, with when each started and ended. */
class Timeline implements QueryEngine {
  statements: { label: string; start: number; end: number; params: string }[] = [];
  constructor(private readonly inner: QueryEngine) {}
  get name() {
    return this.inner.name;
  }
  async query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<QueryResult<R>> {
    const start = performance.now();
    const result = await this.inner.query<R>(sql, params, options);
    this.statements.push({ label: options?.label ?? '?', start, end: performance.now(), params: JSON.stringify(params ?? []) });
    return result;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  /** Labels of the statements that started after another one had ended: the later waves. */
  laterWaves(): string[] {
    const firstEnd = Math.min(...this.statements.map((s) => s.end));
    return this.statements.filter((s) => s.start >= firstEnd).map((s) => s.label);
  }
}

describe.each(ENGINES)('lists started beside their look-up (%s)', (engineName) => {
  const t = apiForDescribe(lake, engineName);

  it('answer an identity by name or access key with the events of the identity found, as by its id', async () => {
    const byId = await t().data(IDENTITY, { id: BOB, w: WINDOW });
    expect(byId.identity.identityId).toBe(BOB);
    expect(byId.identity.events.edges.length).toBeGreaterThan(0);
    expect(byId.identity.sessions.edges.length).toBeGreaterThan(0);
    for (const edge of byId.identity.events.edges) expect(edge.node.actorId).toBe(BOB);
    // The same rows as the events the filter finds by the id.
    const filtered = await t().data(
      `query($id: String!, $w: TimeWindow!) { events(window: $w, first: 50, filter: { identity: $id }) { edges { node { eventId time activity actorId } } } }`,
      { id: BOB, w: WINDOW },
    );
    expect(byId.identity.events.edges).toEqual(filtered.events.edges);
    // A name (its events keyed on `bob` are started and find none) and an access key (nothing started).
    expect(await t().data(IDENTITY, { id: 'bob', w: WINDOW })).toEqual(byId);
    expect(await t().data(IDENTITY, { id: BOB_CONSOLE_KEY, w: WINDOW })).toEqual(byId);
    const none = await t().gql(IDENTITY, { id: 'nobody-at-all', w: WINDOW });
    expect(none.errors).toBeUndefined();
    expect(none.data?.identity).toBeNull();
    expect(JSON.stringify(none.extensions)).toContain('nobody-at-all');
  });

  it('answer a bare bucket name with the lists of its ARN', async () => {
    const byArn = await t().data(RESOURCE, { id: PUBLIC_BUCKET, w: WINDOW });
    expect(byArn.resource.resourceId).toBe(PUBLIC_BUCKET);
    expect(byArn.resource.outside.edges.length).toBeGreaterThan(0);
    expect(await t().data(RESOURCE, { id: PUBLIC_BUCKET_NAME, w: WINDOW })).toEqual(byArn);
  });

  it("answer a bucket's second hops as the sessions' and addresses' own look-ups do", async () => {
    let sessionsNamed = 0;
    let addressesWithIdentities = 0;
    // The public bucket's outside reader has an identity; the deleted bucket's sessions name theirs.
    for (const [arn, name] of [
      [PUBLIC_BUCKET, PUBLIC_BUCKET_NAME],
      [DELETED_BUCKET, 'prod-backups'],
    ]) {
      const deep = await t().data(RESOURCE_DEEP, { id: name, w: WINDOW });
      expect(await t().data(RESOURCE_DEEP, { id: arn, w: WINDOW })).toEqual(deep);
      for (const { node } of deep.resource.sessions.edges) {
        const own = await t().data(`query($k: String!, $w: TimeWindow!) { session(id: $k, window: $w) { identity { identityId name } } }`, {
          k: node.accessKeyId,
          w: WINDOW,
        });
        expect(own.session.identity).toEqual(node.identity);
        if (node.identity) sessionsNamed++;
      }
      for (const { node } of deep.resource.outside.edges) {
        const own = await t().data(
          `query($a: String!, $w: TimeWindow!) { ip(address: $a, window: $w) { identities { totalCount edges { eventCount node { identityId } } } } }`,
          { a: node.address, w: WINDOW },
        );
        expect(own.ip.identities).toEqual(node.identities);
        if (node.identities.totalCount > 0) addressesWithIdentities++;
      }
    }
    expect(sessionsNamed).toBeGreaterThan(0);
    expect(addressesWithIdentities).toBeGreaterThan(0);
  });
});

describe('one wave', () => {
  it('an identity by its id: the look-up and its lists at once, no statement more', async () => {
    let timeline: Timeline | undefined;
    const api = await openApi(lake(), { wrap: (e) => (timeline = new Timeline(e)) });
    try {
      await api.data(IDENTITY, { id: BOB, w: WINDOW });
      expect(timeline!.statements.map((s) => s.label).sort()).toEqual(
        ['events:identity', 'identityCandidateEntities', 'neighbours:identitySessions'].sort(),
      );
      expect(timeline!.laterWaves()).toEqual([]);
      // A name: the lists keyed on the name are started at once, and asked again for the identity found: in a
      // later statement, or in the same one when the look-up answers before the guess's batch is sent.
      timeline!.statements = [];
      await api.data(IDENTITY, { id: 'bob', w: WINDOW });
      for (const label of ['events:identity', 'neighbours:identitySessions']) {
        const asked = timeline!.statements.filter((s) => s.label === label).map((s) => s.params);
        expect(asked.some((params) => params.includes(JSON.stringify('bob')))).toBe(true);
        expect(asked.some((params) => params.includes(JSON.stringify(BOB)))).toBe(true);
      }
    } finally {
      await api.close();
    }
  });

  it('a bucket by its name: the look-up and its three lists at once', async () => {
    let timeline: Timeline | undefined;
    const api = await openApi(lake(), { wrap: (e) => (timeline = new Timeline(e)) });
    try {
      await api.data(RESOURCE, { id: PUBLIC_BUCKET_NAME, w: WINDOW });
      expect(timeline!.statements.map((s) => s.label).sort()).toEqual([
        'neighbours:resourceActors+resourceSessions+resourceIps',
        'resourcesByName',
      ]);
      expect(timeline!.laterWaves()).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it("a bucket by its name with its lists' second hops: still the look-up and one neighbour statement", async () => {
    let timeline: Timeline | undefined;
    const api = await openApi(lake(), { wrap: (e) => (timeline = new Timeline(e)) });
    try {
      await api.data(RESOURCE_DEEP, { id: PUBLIC_BUCKET_NAME, w: WINDOW });
      expect(timeline!.statements.map((s) => s.label).sort()).toEqual([
        'neighbours:resourceActors+resourceSessions+identityEntities+resourceIps+ipIdentities',
        'resourcesByName',
      ]);
      expect(timeline!.laterWaves()).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
