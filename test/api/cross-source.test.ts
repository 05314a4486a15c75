/**
 * The cross-source stories, walked through the API: `scoutql sample --days 2` (every source) →
 * ingest (events and graph) → GraphQL, every answer checked against the stories.json the sample
 * writes beside its logs.
 */
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import { ScoutApi, type ExecuteResult } from '../../src/api/server';
import { storyById, type Story } from '../../testkit/sample/story';
import { iamIdentityKey } from '../../src/core/arn';
import { TABLE_NAMES } from '../../src/core/tables';
import { countPlaceholders } from '../../src/engine/athena-sql';
import { eventsCount, eventsPage, type EventConditions } from '../../src/queries/events';
import { AccountScope } from '../../src/queries/scope';
import { findDialectViolation, startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local';
import { CROSS_WINDOW as W, crossSample } from './fixtures/cross';

let engine: DuckDbEngine;
let api: ScoutApi;
/** The same lake through the real Athena SDK and the local Athena server (dialect guard on). */
let athena: AthenaOverLake;
let athenaApi: ScoutApi;
let stories: Story[];

beforeAll(async () => {
  const sample = await crossSample();
  stories = sample.stories;
  const latestDay = () => graphDays(sample.lake).at(-1) ?? null;
  engine = await DuckDbEngine.open({ lake: sample.lake });
  api = new ScoutApi({ engine, latestDay });
  athena = await startAthenaOverLake(sample.lake);
  athenaApi = new ScoutApi({ engine: athena.engine, latestDay });
}, 240_000);
afterAll(async () => {
  await api?.stop();
  await athenaApi?.stop();
  await engine?.close();
  await athena?.close();
});

/** Runs a document on DuckDB and on Athena: both must answer alike, in as many round trips. */
async function run(document: string, variables: Record<string, unknown>): Promise<{ data: any; queries: number }> {
  const answer = async (target: ScoutApi) => {
    const result: ExecuteResult = await target.execute(document, { w: W, ...variables });
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    const stats = (result.extensions as { stats?: { queries?: number } } | undefined)?.stats;
    return { data: result.data, queries: Number(stats?.queries) };
  };
  const duck = await answer(api);
  const onAthena = await answer(athenaApi);
  expect(onAthena).toEqual(duck);
  return duck;
}

const instanceArn = (s: { region: string; account: string }, id: string) => `arn:aws:ec2:${s.region}:${s.account}:instance/${id}`;
const eniArn = (s: { region: string; account: string }, id: string) => `arn:aws:ec2:${s.region}:${s.account}:network-interface/${id}`;
const nodes = (connection: { edges: { node: any }[] }) => connection.edges.map((e) => e.node);

test('(a) SSH opened in CloudTrail, then accepted SSH flows from the internet: IP → flows → instance, instance → flows', async () => {
  const story = storyById(stories, 'ssh-open-to-world');
  const e = story.expect;
  const instance = instanceArn(story, e.instanceId);
  const opened = await run(
    `query($group: String!, $instance: String!, $w: TimeWindow!) {
      group: resource(id: $group, window: $w) { actors(action: "AuthorizeSecurityGroupIngress") { edges { firstSeen node { identityId } } } }
      instance: resource(id: $instance, window: $w) { interfaces { edges { relation node { resourceId } } } addresses { edges { node { address } } } }
    }`,
    { group: e.groupArn, instance },
  );
  // The SSO role is one identity, keyed without its IAM path (/aws-reserved/sso.amazonaws.com/).
  expect(opened.data.group.actors.edges.map((x: any) => x.node.identityId)).toEqual([iamIdentityKey(e.actor)]);
  const openedAt = new Date(opened.data.group.actors.edges[0].firstSeen).getTime();
  expect(opened.data.instance.interfaces.edges).toEqual([
    { relation: 'has_interface', node: { resourceId: eniArn(story, e.interfaceId) } },
  ]);
  const [privateIp] = nodes(opened.data.instance.addresses).map((n: any) => n.address);

  // Every internet source, one document: each alias is batched with the others at every level.
  const sources = e.sshFlowSources;
  const vars = Object.fromEntries(sources.map((ip, i) => [`ip${i}`, ip]));
  const walk = await run(
    `query($w: TimeWindow!, ${sources.map((_, i) => `$ip${i}: String!`).join(', ')}) {
      ${sources
        .map(
          (_, i) => `s${i}: ip(address: $ip${i}, window: $w) {
        sources
        peers(direction: OUTBOUND) { edges { relation node { address instances { edges { node { resourceId } } } } } }
        flows(first: 500) { edges { node { time ... on NetworkActivity { dstIp dstPort disposition interfaceId } } } }
      }`,
        )
        .join('\n')}
    }`,
    vars,
  );
  // Four levels (addresses, peers, their instances, flows) whatever the number of addresses.
  expect(walk.queries).toBe(4);
  let accepted = 0;
  for (let i = 0; i < sources.length; i++) {
    const ip = walk.data[`s${i}`];
    expect(ip.sources).toEqual(['vpcflow']);
    const peer = ip.peers.edges.find((x: any) => x.node.address === privateIp);
    expect(peer.relation).toBe('flow_out');
    expect(nodes(peer.node.instances).map((n: any) => n.resourceId)).toEqual([instance]);
    const inbound = nodes(ip.flows).filter((f: any) => f.dstIp === privateIp);
    for (const f of inbound) {
      expect(f).toMatchObject({ dstPort: e.port, disposition: 'ACCEPT', interfaceId: e.interfaceId });
      expect(new Date(f.time).getTime()).toBeGreaterThan(openedAt);
    }
    accepted += inbound.length;
  }
  expect(accepted).toBe(e.sshFlowsAccepted);

  // From the instance's side: its flows with each source are the ones the source's address shows.
  const fromInstance = await run(
    `query($w: TimeWindow!, $instance: String!, ${sources.map((_, i) => `$ip${i}: String!`).join(', ')}) {
      resource(id: $instance, window: $w) { ${sources.map((_, i) => `s${i}: flows(filter: { ip: $ip${i} }) { totalCount }`).join(' ')} }
      ${sources.map((_, i) => `a${i}: ip(address: $ip${i}, window: $w) { flows { totalCount } }`).join('\n')}
    }`,
    { ...vars, instance },
  );
  for (let i = 0; i < sources.length; i++) {
    expect(fromInstance.data.resource[`s${i}`].totalCount).toBeGreaterThan(0);
    expect(fromInstance.data.resource[`s${i}`].totalCount).toBe(fromInstance.data[`a${i}`].flows.totalCount);
  }
}, 60_000);

test('(b) Entra brute force, success from a new country, then the federated AWS session and its calls, and back', async () => {
  const e = storyById(stories, 'entra-brute-force-aws-federation').expect;
  const { data } = await run(
    `query($user: String!, $key: String!, $role: String!, $other: String!, $ip: String!, $w: TimeWindow!) {
      user: identity(id: $user, window: $w) {
        failed: signIns(filter: { outcome: FAILURE }, first: 100) { totalCount edges { node { sourceIpAddress errorCode } } }
        ok: signIns(filter: { outcome: SUCCESS }, first: 100) { edges { node { eventId sourceIpAddress ... on Authentication { country } } } }
        federatedSessions(first: 50) { edges { relation node { accessKeyId identity { identityId } issuedBy { action eventId sourceIpAddress } } } }
        federatedRoles { edges { node { identityId } } }
        federatedAs { edges { node { identityId } } }
      }
      session(id: $key, window: $w) { federatedFrom { edges { relation node { identityId } } } events(first: 100) { edges { node { eventId } } } }
      role: identity(id: $role, window: $w) { federatedFrom(first: 50) { edges { relation node { identityId } } } }
      across: identity(id: $user, window: $w) {
        signIns(acrossProviders: true, filter: { ip: $ip }, first: 100) { totalCount edges { node { eventId source activity outcome } } }
      }
      other: identity(id: $other, window: $w) { federatedSessions(first: 50) { edges { node { accessKeyId } } } }
    }`,
    { user: e.actors.azuread, key: e.sessionKey, role: e.roleArn, other: 'azuread:sam.okafor@acme-corp.example', ip: e.attackerIp },
  );
  const user = data.user;
  expect(user.failed.totalCount).toBe(e.failedSignIns);
  for (const f of nodes(user.failed)) expect(f).toEqual({ sourceIpAddress: e.attackerIp, errorCode: e.failedErrorCode });
  const fromAttacker = nodes(user.ok).filter((s: any) => s.sourceIpAddress === e.attackerIp);
  expect(fromAttacker.map((s: any) => s.eventId).sort()).toEqual([e.successSignInId, e.awsAppSignInId].sort());
  for (const s of fromAttacker) expect(s.country).toBe(e.attackerCountry);
  expect(e.usualCountries).not.toContain(e.attackerCountry);
  for (const s of nodes(user.ok).filter((x: any) => x.sourceIpAddress !== e.attackerIp)) expect(e.usualCountries).toContain(s.country);

  // Entra user → the AWS session AssumeRoleWithSAML issued from the attacker's address → its calls.
  const federated = user.federatedSessions.edges;
  const attackerSession = federated.find((x: any) => x.node.accessKeyId === e.sessionKey);
  expect(attackerSession).toEqual({
    relation: 'federated_into',
    node: {
      accessKeyId: e.sessionKey,
      identity: { identityId: e.roleArn },
      issuedBy: { action: 'AssumeRoleWithSAML', eventId: e.assumeRoleWithSamlEventId, sourceIpAddress: e.attackerIp },
    },
  });
  for (const x of federated) expect(x.node.identity.identityId).toBe(e.roleArn);
  expect(nodes(user.federatedRoles).map((n: any) => n.identityId)).toEqual([e.roleArn]);
  expect(nodes(user.federatedAs).map((n: any) => n.identityId)).toEqual([e.actors.saml]);
  const calls = nodes(data.session.events).map((n: any) => n.eventId);
  for (const id of e.followUpEventIds) expect(calls).toContain(id);

  // And back: the session and the role name the Entra user; another federated user's sessions are theirs alone.
  expect(data.session.federatedFrom.edges).toEqual([{ relation: 'federated_into', node: { identityId: e.actors.azuread } }]);
  expect(nodes(data.role.federatedFrom).map((n: any) => n.identityId)).toContain(e.actors.azuread);
  const others = nodes(data.other.federatedSessions).map((n: any) => n.accessKeyId);
  expect(others.length).toBeGreaterThan(0);
  expect(others).not.toContain(e.sessionKey);
  for (const key of federated.map((x: any) => x.node.accessKeyId)) expect(others).not.toContain(key);

  // One person's sign-ins from the attacker's address across providers: Entra ID, then the AWS federation.
  const across = nodes(data.across.signIns);
  expect(data.across.signIns.totalCount).toBe(e.failedSignIns + 3);
  expect(across.filter((x: any) => x.source === 'azuread' && x.outcome === 'failure')).toHaveLength(e.failedSignIns);
  expect(across.filter((x: any) => x.source === 'cloudtrail')).toEqual([
    { eventId: e.assumeRoleWithSamlEventId, source: 'cloudtrail', activity: 'AssumeRoleWithSAML', outcome: 'success' },
  ]);
}, 60_000);

test('(c) exfiltration: GetObject volume in CloudTrail and S3 access logs, bytes out in flows from the instance ENI to the attacker', async () => {
  const story = storyById(stories, 's3-exfiltration');
  const e = story.expect;
  const instance = instanceArn(story, e.instanceId);
  const { data } = await run(
    `query($key: String!, $bucket: String!, $role: String!, $instance: String!, $attacker: String!, $w: TimeWindow!) {
      session(id: $key, window: $w) { events(filter: { action: "GetObject", source: "cloudtrail" }, first: 100) { totalCount edges { node { eventId } } } }
      resource(id: $bucket, window: $w) {
        httpActivity(filter: { identity: $role, action: "REST.GET.OBJECT" }, first: 500) { edges { node { eventId source ... on HttpActivity { bucket bytesOut } } } }
      }
      instance: resource(id: $instance, window: $w) {
        interfaces { edges { node { resourceId } } }
        flows(filter: { ip: $attacker }, first: 200) { totalCount edges { node { sourceIpAddress ... on NetworkActivity { dstIp bytes interfaceId } } } }
      }
      ip(address: $attacker, window: $w) { peers(direction: INBOUND) { edges { relation eventCount bytes packets node { address instances { edges { node { resourceId } } } } } } }
    }`,
    { key: e.sessionKey, bucket: e.bucket, role: e.roleArn, instance, attacker: e.attackerIp },
  );
  // The instance's hourly credentials also serve its usual work: the story's reads are among the session's.
  const reads = nodes(data.session.events).map((n: any) => n.eventId);
  expect(data.session.events.totalCount).toBe(reads.length);
  for (const id of e.cloudTrailEventIds) expect(reads).toContain(id);
  expect(e.cloudTrailEventIds).toHaveLength(e.getObjects);
  // The same requests in the bucket's server access log, and the bytes they sent.
  const byRequest = nodes(data.resource.httpActivity).filter((n: any) => e.requestIds.includes(n.eventId));
  expect(byRequest.map((n: any) => n.eventId).sort()).toEqual([...e.requestIds].sort());
  for (const n of byRequest) expect(n).toMatchObject({ source: 's3access', bucket: e.bucket });
  const bytesRead = byRequest.reduce((sum: number, n: any) => sum + n.bytesOut, 0);
  expect(bytesRead).toBe(e.bytesRead);

  // Then out of the instance's ENI to the attacker, about as many bytes as it read.
  expect(nodes(data.instance.interfaces).map((n: any) => n.resourceId)).toEqual([eniArn(story, e.interfaceId)]);
  const out = nodes(data.instance.flows).filter((f: any) => f.sourceIpAddress === e.privateIp && f.dstIp === e.attackerIp);
  expect(out).toHaveLength(e.flowsOut);
  for (const f of out) expect(f.interfaceId).toBe(e.interfaceId);
  const flowBytes = out.reduce((sum: number, f: any) => sum + f.bytes, 0);
  expect(flowBytes).toBe(e.flowBytesOut);
  expect(flowBytes).toBeGreaterThanOrEqual(bytesRead);
  // The graph's peer link says the same without reading the flows.
  const link = data.ip.peers.edges.find((x: any) => x.node.address === e.privateIp);
  expect(link).toMatchObject({ relation: 'flow_in', eventCount: e.flowsOut, bytes: e.flowBytesOut });
  expect(link.packets).toBeGreaterThan(0);
  expect(nodes(link.node.instances).map((n: any) => n.resourceId)).toEqual([instance]);
}, 60_000);

test('(d) the instance resolves the known-bad domain: instance → DNS, contextFor(domain) → the instance, the answer → the attacker', async () => {
  const story = storyById(stories, 'malicious-domain-lookup');
  const e = story.expect;
  const instance = instanceArn(story, e.instanceId);
  const { data } = await run(
    `query($instance: String!, $domain: String!, $answer: String!, $w: TimeWindow!) {
      resource(id: $instance, window: $w) {
        domains(first: 100) { edges { relation eventCount domain } }
        dnsActivity(first: 500) { edges { node { eventId ... on DnsActivity { queryName instanceId answers } } } }
      }
      contextFor(indicator: $domain, window: $w) { kind found queriedBy { edges { eventCount node { address instances { edges { node { resourceId } } } } } } }
      ip(address: $answer, window: $w) { resolvedFrom { edges { relation eventCount domain } } }
    }`,
    { instance, domain: e.domain, answer: e.resolvedIp },
  );
  expect(data.resource.domains.edges.find((x: any) => x.domain === e.domain)).toEqual({
    relation: 'queried',
    eventCount: e.queries,
    domain: e.domain,
  });
  const queries = nodes(data.resource.dnsActivity).filter((n: any) => n.queryName === e.domain);
  expect(queries.map((n: any) => n.eventId).sort()).toEqual([...e.queryEventIds].sort());
  for (const q of queries) expect(q).toMatchObject({ instanceId: e.instanceId, answers: [e.resolvedIp] });

  const c = data.contextFor;
  expect(c).toMatchObject({ kind: 'DOMAIN', found: true });
  expect(c.queriedBy.edges.reduce((n: number, x: any) => n + x.eventCount, 0)).toBe(e.queries);
  for (const x of c.queriedBy.edges) expect(nodes(x.node.instances).map((n: any) => n.resourceId)).toEqual([instance]);
  expect(data.ip.resolvedFrom.edges).toEqual([{ relation: 'resolves_to', eventCount: e.queries, domain: e.domain }]);
}, 60_000);

test('contextFor the attacker addresses returns their neighbourhood across sources', async () => {
  const entra = storyById(stories, 'entra-brute-force-aws-federation').expect;
  const gcp = storyById(stories, 'gcp-key-from-attacker').expect;
  const exfil = storyById(stories, 's3-exfiltration').expect;
  const dns = storyById(stories, 'malicious-domain-lookup').expect;
  const { data } = await run(
    `query($entra: String!, $exfil: String!, $w: TimeWindow!) {
      entra: contextFor(indicator: $entra, window: $w) {
        kind found ip { sources } identities(first: 50) { edges { node { identityId } } }
        recentEvents(first: 200) { source }
      }
      exfil: contextFor(indicator: $exfil, window: $w) {
        kind found ip { sources resolvedFrom { edges { domain } } }
        ips(first: 50) { edges { relation bytes node { address instances { edges { node { resourceId } } } } } }
      }
    }`,
    { entra: entra.attackerIp, exfil: exfil.attackerIp },
  );
  expect(data.entra).toMatchObject({ kind: 'IP_ADDRESS', found: true, ip: { sources: ['azuread', 'cloudtrail', 'gcpaudit'] } });
  expect(
    nodes(data.entra.identities)
      .map((n: any) => n.identityId)
      .sort(),
  ).toEqual([entra.actors.azuread, entra.actors.saml, entra.actors.role, gcp.actor].sort());
  expect(new Set(data.entra.recentEvents.map((x: any) => x.source))).toEqual(new Set(['azuread', 'cloudtrail', 'gcpaudit']));

  expect(data.exfil).toMatchObject({
    kind: 'IP_ADDRESS',
    found: true,
    ip: { sources: ['vpcflow'], resolvedFrom: { edges: [{ domain: dns.domain }] } },
  });
  const inbound = data.exfil.ips.edges.find((x: any) => x.relation === 'flow_in' && x.node.address === exfil.privateIp);
  expect(inbound.bytes).toBe(exfil.flowBytesOut);
  expect(nodes(inbound.node.instances).map((n: any) => n.resourceId)).toEqual([
    `arn:aws:ec2:us-east-1:${storyById(stories, 's3-exfiltration').account}:instance/${exfil.instanceId}`,
  ]);
}, 60_000);

test('the cross-source event conditions are Athena SQL with one parameter per placeholder', () => {
  const window = { from: new Date(W.from), to: new Date(W.to) };
  for (const conditions of [
    { interfaceIds: ['eni-1', 'eni-2'] },
    { interfaceIds: [] },
    { signInsOf: ['azuread:a@b.example', 'saml:a@b.example'], ip: { exact: ['192.0.2.91'], ranges: [] } },
    { ip: { exact: ['192.0.2.95'], ranges: [{ low: 3221225984, high: 3221226239 }] }, actions: { exact: ['query'], like: [] } },
  ] satisfies EventConditions[]) {
    for (const pivot of ['none', 'identity', 'instance'] as const) {
      const after = { timeKey: '2026-11-02 03:05:00', eventId: 'e1', table: 'network_activity' };
      const q = {
        pivot,
        keys: ['k1', 'k2'],
        tables: [...TABLE_NAMES],
        conditions,
        window,
        after,
        limit: 10,
        descending: true,
      };
      const scope = AccountScope.of(['1']);
      for (const statement of [eventsPage(scope, q), eventsPage(scope, { ...q, keys: ['k1'], after: null }), eventsCount(scope, q)]) {
        expect(findDialectViolation(statement.sql)).toBeNull();
        expect(countPlaceholders(statement.sql)).toBe(statement.params.length);
      }
    }
  }
});

test("instances' flows and DNS queries batch: one query per level however many instances", async () => {
  const ssh = storyById(stories, 'ssh-open-to-world');
  const exfil = storyById(stories, 's3-exfiltration');
  const instances = [instanceArn(ssh, ssh.expect.instanceId), instanceArn(exfil, exfil.expect.instanceId)];
  const interfaces = [eniArn(ssh, ssh.expect.interfaceId), eniArn(exfil, exfil.expect.interfaceId)];
  const fields = '{ flows { totalCount } dnsActivity { totalCount } }';
  const byInstance = await run(
    `query($w: TimeWindow!, $i0: String!, $i1: String!) { i0: resource(id: $i0, window: $w) ${fields} i1: resource(id: $i1, window: $w) ${fields} }`,
    { i0: instances[0], i1: instances[1] },
  );
  // The two resources, then the two flow counts, then the two DNS counts.
  expect(byInstance.queries).toBe(3);
  const byInterface = await run(
    `query($w: TimeWindow!, $e0: String!, $e1: String!) { e0: resource(id: $e0, window: $w) { flows { totalCount } } e1: resource(id: $e1, window: $w) { flows { totalCount } } }`,
    { e0: interfaces[0], e1: interfaces[1] },
  );
  for (const k of ['0', '1']) {
    const flows = byInstance.data[`i${k}`].flows.totalCount;
    expect(flows).toBeGreaterThan(0);
    // An instance's flows are its interface's flows.
    expect(flows).toBe(byInterface.data[`e${k}`].flows.totalCount);
    expect(byInstance.data[`i${k}`].dnsActivity.totalCount).toBeGreaterThan(0);
  }
  expect(byInstance.data.i0.flows.totalCount).not.toBe(byInstance.data.i1.flows.totalCount);
});

test('an address seen in API calls and in flows is one IPAddress: it pivots to identities and to flow peers', async () => {
  // Addresses both kinds of log saw, found in the lake itself rather than named here.
  const { rows } = await engine.query(`SELECT a.src_ip AS ip FROM (SELECT DISTINCT src_ip FROM api_activity) a
    JOIN (SELECT DISTINCT src_ip AS ip FROM network_activity UNION SELECT DISTINCT dst_ip FROM network_activity) n ON n.ip = a.src_ip ORDER BY a.src_ip`);
  expect(rows.length).toBeGreaterThan(0);
  for (const { ip } of rows) {
    const { data } = await run(
      `query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) {
        sources eventCount identities { totalCount } peers { totalCount edges { bytes } } flows { totalCount }
        calls: events(filter: { classes: [API_ACTIVITY] }) { totalCount }
      } }`,
      { ip },
    );
    const a = data.ip;
    expect(a.sources).toEqual(expect.arrayContaining(['cloudtrail', 'vpcflow']));
    expect(a.identities.totalCount).toBeGreaterThan(0);
    expect(a.peers.totalCount).toBeGreaterThan(0);
    for (const peer of a.peers.edges) expect(peer.bytes).toBeGreaterThan(0);
    expect(a.flows.totalCount).toBeGreaterThan(0);
    expect(a.calls.totalCount).toBeGreaterThan(0);
    expect(a.eventCount).toBeGreaterThanOrEqual(a.flows.totalCount + a.calls.totalCount);
  }
}, 60_000);

test("flow records are not resource access: an address's flows to an interface stay out of its resources and the interface's sources", async () => {
  const story = storyById(stories, 'ssh-open-to-world');
  const eni = eniArn(story, story.expect.interfaceId);
  const sources = story.expect.sshFlowSources;
  // The graph does hold an edge from each source to the interface: its action is the flows' activity, spelt like the relation `flow`.
  const { rows } = await engine.query<{ src_id: string }>(
    `SELECT DISTINCT src_id FROM graph_edges WHERE src_type = 'IPAddress' AND rel = 'flow' AND dst_type = 'Resource' AND dst_id = ?`,
    [eni],
  );
  expect(rows.map((r) => r.src_id).sort()).toEqual(expect.arrayContaining([...sources].sort()));
  const { data } = await run(
    `query($w: TimeWindow!, $eni: String!, $ip: String!) {
      ip(address: $ip, window: $w) { resources(first: 500) { edges { relation node { resourceId } } } }
      resource(id: $eni, window: $w) { sourceIps(first: 500) { edges { relation node { address } } } }
    }`,
    { eni, ip: sources[0] },
  );
  expect(data.ip.resources.edges.filter((x: any) => x.node.resourceId === eni)).toEqual([]);
  expect(data.resource?.sourceIps.edges.filter((x: any) => x.relation === 'flow') ?? []).toEqual([]);
});
