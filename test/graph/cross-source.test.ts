/**
 * Graph edges that join sources: an Entra ID user federated into AWS SAML sessions, an instance
 * tied to its network interfaces (and so to its flows), an instance's DNS queries and the
 * addresses a domain resolved to, flow edges with bytes and packets. Rows are written the way
 * the sources normalize them; Athena must compute the same edges.
 */
import { rmSync } from 'node:fs';
import { graphSqlForAthena, materializeGraph } from '../../etl/graph';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { startAthenaOverLake } from '../../testkit/athena-local';
import { tempLake, writeTable, type FixtureRow } from '../api/fixtures/lake';

const DAY = '2026-05-04';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00Z`);
const ACCT = '111122223333';
const TENANT = 'af6103a8-5694-44fe-92f5-8455e1163966';
const ROLE = `arn:aws:iam::${ACCT}:role/AzureAD-Engineers`;
const instanceArn = (id: string) => `arn:aws:ec2:us-east-1:${ACCT}:instance/${id}`;
const eniArn = (id: string) => `arn:aws:ec2:us-east-1:${ACCT}:network-interface/${id}`;

const aws = { source: 'cloudtrail', account: ACCT, region: 'us-east-1' };
const entra = {
  source: 'azuread',
  account: TENANT,
  region: 'global',
  class_uid: 3002,
  activity: 'Sign-in activity',
  outcome: 'success',
  actor_type: 'AzureADUser',
};

function signIn(upn: string, time: string): FixtureRow {
  return {
    ...entra,
    time: at(time),
    event_id: `signin-${upn}-${time}`,
    actor_id: `azuread:${upn.toLowerCase()}`,
    actor_name: upn,
    src_ip: '192.0.2.91',
  };
}

/** AssumeRoleWithSAML as the CloudTrail source normalizes it; `issuer` is responseElements.issuer. */
function assumeRoleWithSaml(subject: string, sessionName: string, key: string, issuer: string, time: string): FixtureRow {
  const raw = JSON.stringify({
    eventName: 'AssumeRoleWithSAML',
    userIdentity: { type: 'SAMLUser', userName: subject },
    responseElements: { issuer, subject, credentials: { accessKeyId: key } },
  });
  return {
    ...aws,
    time: at(time),
    event_id: `saml-${key}`,
    class_uid: 6003,
    activity: 'AssumeRoleWithSAML',
    service: 'sts.amazonaws.com',
    outcome: 'success',
    actor_id: `saml:${subject}`,
    actor_type: 'SAMLUser',
    actor_name: subject,
    src_ip: '192.0.2.91',
    issued_session_id: key,
    issued_role_arn: ROLE,
    request_parameters: JSON.stringify({ roleSessionName: sessionName, roleArn: ROLE }),
    raw,
    resources: [ROLE],
  };
}

let seq = 0;
function flow(eni: string, src: string, dst: string, bytes: number, packets: number, extra: Partial<FixtureRow> = {}): FixtureRow {
  seq++;
  return {
    source: 'vpcflow',
    account: ACCT,
    region: 'us-east-1',
    time: at(`10:${String(seq).padStart(2, '0')}`),
    event_id: `flow-${seq}`,
    class_uid: 4001,
    activity: 'flow',
    outcome: 'success',
    src_ip: src,
    dst_ip: dst,
    src_port: 40000 + seq,
    dst_port: 443,
    protocol: 6,
    bytes,
    packets,
    interface_id: eni,
    disposition: 'ACCEPT',
    log_status: 'OK',
    resources: [eniArn(eni)],
    ...extra,
  };
}

function query(instance: string, src: string, name: string, answers: string[], time: string): FixtureRow {
  return {
    source: 'route53resolver',
    account: ACCT,
    region: 'us-east-1',
    time: at(time),
    event_id: `dns-${instance}-${name}-${time}`,
    class_uid: 4003,
    activity: 'Query',
    outcome: 'success',
    src_ip: src,
    query_name: name,
    query_type: 'A',
    rcode: 'NOERROR',
    answers,
    vpc_id: 'vpc-0aa',
    instance_id: instance,
    resources: [instanceArn(instance)],
  };
}

const ENTRA_ISSUER = `https://sts.windows.net/${TENANT}/`;
const OKTA_ISSUER = 'http://www.okta.com/exk1fxlrk9';

let lake: string;
let engine: DuckDbEngine;

beforeAll(async () => {
  lake = tempLake();
  await writeTable(lake, 'authentication', [
    signIn('kenji@corp.example', '09:00'),
    signIn('ana@corp.example', '09:05'),
    signIn('bo@corp.example', '09:10'),
  ]);
  await writeTable(lake, 'api_activity', [
    // Entra ID vouched; the subject's case differs from the UPN's.
    assumeRoleWithSaml('Kenji@Corp.example', 'Kenji@Corp.example', 'ASIAFEDKENJI', ENTRA_ISSUER, '09:01'),
    // Another IdP, but the same UPN signed in to Entra ID that day.
    assumeRoleWithSaml('ana@corp.example', 'ana-session', 'ASIAFEDANA', OKTA_ISSUER, '09:06'),
    // An opaque subject; the role session name is the UPN.
    assumeRoleWithSaml('x7fq2', 'Bo@corp.example', 'ASIAFEDBO', OKTA_ISSUER, '09:11'),
    // Another IdP and nobody by that name in Entra ID: no federation edge.
    assumeRoleWithSaml('carol@partner.example', 'carol@partner.example', 'ASIAFEDCAROL', OKTA_ISSUER, '09:20'),
  ]);
  await writeTable(lake, 'dns_activity', [
    query('i-0aaa', '10.0.0.5', 'bad.example', ['cname.bad.example', '192.0.2.95'], '10:00'),
    query('i-0aaa', '10.0.0.5', 'bad.example', ['192.0.2.95'], '10:30'),
    query('i-0bbb', '10.0.0.6', 'updates.example', ['203.0.113.50'], '10:02'),
  ]);
  await writeTable(lake, 'network_activity', [
    // eni-0aaa: 10.0.0.5 is in every record, so it is the interface's own address → i-0aaa.
    flow('eni-0aaa', '10.0.0.5', '192.0.2.95', 5000, 10),
    flow('eni-0aaa', '10.0.0.5', '192.0.2.95', 7000, 12),
    flow('eni-0aaa', '192.0.2.95', '10.0.0.5', 300, 6),
    flow('eni-0aaa', '10.0.0.5', '10.0.0.6', 100, 1),
    // eni-0ccc only ever talks to 10.0.0.5: either address could be its own, so no tie is made.
    flow('eni-0ccc', '10.0.0.4', '10.0.0.5', 100, 1),
    flow('eni-0ccc', '10.0.0.5', '10.0.0.4', 100, 1),
    // A flow log format with the instance-id field names the instance itself.
    flow('eni-0ddd', '10.0.0.9', '198.51.100.7', 64, 1, { instance_id: 'i-0ddd' }),
    // NSG flow logs: a NIC's MAC, not an ENI.
    flow('000D3A7537A9', '10.40.1.4', '203.0.113.200', 900, 3, { source: 'nsgflow', account: TENANT, region: 'unknown', resources: [] }),
  ]);
  await materializeGraph({ lake, days: [DAY] });
  engine = await DuckDbEngine.open({ lake });
}, 60_000);
afterAll(async () => {
  await engine?.close();
  if (lake) rmSync(lake, { recursive: true, force: true });
});

const edges = async (rel: string) =>
  (
    await engine.query(
      `SELECT src_type, src_id, dst_type, dst_id, event_count FROM graph_edges WHERE rel = ? ORDER BY src_id, dst_type, dst_id`,
      [rel],
    )
  ).rows;

test('an Entra ID user federated into the AWS session and role of the AssumeRoleWithSAML made for them', async () => {
  expect(await edges('federated_into')).toEqual([
    { src_type: 'Identity', src_id: 'azuread:ana@corp.example', dst_type: 'Identity', dst_id: ROLE, event_count: 1 },
    { src_type: 'Identity', src_id: 'azuread:ana@corp.example', dst_type: 'Session', dst_id: 'ASIAFEDANA', event_count: 1 },
    { src_type: 'Identity', src_id: 'azuread:bo@corp.example', dst_type: 'Identity', dst_id: ROLE, event_count: 1 },
    { src_type: 'Identity', src_id: 'azuread:bo@corp.example', dst_type: 'Session', dst_id: 'ASIAFEDBO', event_count: 1 },
    { src_type: 'Identity', src_id: 'azuread:kenji@corp.example', dst_type: 'Identity', dst_id: ROLE, event_count: 1 },
    { src_type: 'Identity', src_id: 'azuread:kenji@corp.example', dst_type: 'Session', dst_id: 'ASIAFEDKENJI', event_count: 1 },
  ]);
  // The same person under the name CloudTrail gives the SAML subject.
  expect((await edges('federated_as')).map((r) => `${r.src_id as string} → ${r.dst_id as string}`)).toEqual([
    'azuread:ana@corp.example → saml:ana@corp.example',
    'azuread:bo@corp.example → saml:x7fq2',
    'azuread:kenji@corp.example → saml:Kenji@Corp.example',
  ]);
});

test('an Entra-issued assertion links the UPN even on a day the Entra user has no events', async () => {
  const lake2 = tempLake();
  try {
    await writeTable(lake2, 'api_activity', [
      assumeRoleWithSaml('Dee@Corp.example', 'Dee@Corp.example', 'ASIAFEDDEE', ENTRA_ISSUER, '23:59'),
    ]);
    await materializeGraph({ lake: lake2, days: [DAY] });
    const e2 = await DuckDbEngine.open({ lake: lake2 });
    const { rows } = await e2.query(`SELECT src_id, dst_id FROM graph_edges WHERE rel = 'federated_into' AND dst_type = 'Session'`);
    await e2.close();
    expect(rows).toEqual([{ src_id: 'azuread:dee@corp.example', dst_id: 'ASIAFEDDEE' }]);
  } finally {
    rmSync(lake2, { recursive: true, force: true });
  }
});

test('an instance is tied to the ENI whose one own address its DNS queries come from; ambiguous ENIs are not guessed', async () => {
  expect(await edges('has_interface')).toEqual([
    { src_type: 'Resource', src_id: instanceArn('i-0aaa'), dst_type: 'Resource', dst_id: eniArn('eni-0aaa'), event_count: 4 },
    { src_type: 'Resource', src_id: instanceArn('i-0ddd'), dst_type: 'Resource', dst_id: eniArn('eni-0ddd'), event_count: 1 },
  ]);
  const addresses = (await edges('has_address')).map((r) => `${r.src_id as string} ${r.dst_id as string} ${r.event_count as number}`);
  // i-0aaa: 2 DNS queries and 4 flows on its ENI (one edge per log that shows it); i-0bbb: its one query;
  // i-0ddd: the one private address of its ENI's record. eni-0ccc's records tie nobody.
  expect(addresses).toEqual([
    `${instanceArn('i-0aaa')} 10.0.0.5 2`,
    `${instanceArn('i-0aaa')} 10.0.0.5 4`,
    `${instanceArn('i-0bbb')} 10.0.0.6 1`,
    `${instanceArn('i-0ddd')} 10.0.0.9 1`,
  ]);
});

test('instances and interfaces the graph names itself are in the partition of their region (China: aws-cn)', async () => {
  const lake2 = tempLake();
  try {
    const china = { region: 'cn-north-1' };
    await writeTable(lake2, 'dns_activity', [{ ...query('i-0cn', '10.1.0.5', 'updates.example', [], '10:00'), ...china, resources: [] }]);
    await writeTable(lake2, 'network_activity', [
      { ...flow('eni-0cn', '10.1.0.5', '198.51.100.7', 64, 1), ...china, resources: [] },
      { ...flow('eni-0cn', '198.51.100.7', '10.1.0.5', 64, 1), ...china, resources: [] },
    ]);
    await materializeGraph({ lake: lake2, days: [DAY] });
    const e2 = await DuckDbEngine.open({ lake: lake2 });
    const { rows } = await e2.query(
      `SELECT DISTINCT rel, src_id, dst_id FROM graph_edges WHERE rel IN ('has_interface', 'queried') AND src_type = 'Resource' ORDER BY rel`,
    );
    await e2.close();
    expect(rows).toEqual([
      {
        rel: 'has_interface',
        src_id: `arn:aws-cn:ec2:cn-north-1:${ACCT}:instance/i-0cn`,
        dst_id: `arn:aws-cn:ec2:cn-north-1:${ACCT}:network-interface/eni-0cn`,
      },
      { rel: 'queried', src_id: `arn:aws-cn:ec2:cn-north-1:${ACCT}:instance/i-0cn`, dst_id: 'updates.example' },
    ]);
  } finally {
    rmSync(lake2, { recursive: true, force: true });
  }
});

test('an instance queried its domains; a domain resolves to the addresses in its answers (names are not addresses)', async () => {
  expect((await edges('queried')).filter((r) => r.src_type === 'Resource')).toEqual([
    { src_type: 'Resource', src_id: instanceArn('i-0aaa'), dst_type: 'Domain', dst_id: 'bad.example', event_count: 2 },
    { src_type: 'Resource', src_id: instanceArn('i-0bbb'), dst_type: 'Domain', dst_id: 'updates.example', event_count: 1 },
  ]);
  expect(await edges('resolves_to')).toEqual([
    { src_type: 'Domain', src_id: 'bad.example', dst_type: 'IPAddress', dst_id: '192.0.2.95', event_count: 2 },
    { src_type: 'Domain', src_id: 'updates.example', dst_type: 'IPAddress', dst_id: '203.0.113.50', event_count: 1 },
  ]);
});

test('flow edges carry the bytes and packets of their records; other edges carry none', async () => {
  const { rows } = await engine.query(
    `SELECT src_id, dst_id, event_count, bytes, packets FROM graph_edges WHERE rel = 'flow' AND dst_type = 'IPAddress' AND (src_id = '192.0.2.95' OR dst_id = '192.0.2.95') ORDER BY src_id`,
  );
  expect(rows).toEqual([
    { src_id: '10.0.0.5', dst_id: '192.0.2.95', event_count: 2, bytes: 12000, packets: 22 },
    { src_id: '192.0.2.95', dst_id: '10.0.0.5', event_count: 1, bytes: 300, packets: 6 },
  ]);
  const { rows: others } = await engine.query(
    `SELECT count(*) AS n FROM graph_edges WHERE rel <> 'flow' AND (bytes IS NOT NULL OR packets IS NOT NULL)`,
  );
  expect(others[0].n).toBe(0);
});

test('an address knows which sources saw it', async () => {
  const { rows } = await engine.query(
    `SELECT id, attrs FROM graph_entities WHERE type = 'IPAddress' AND id IN ('192.0.2.91', '10.0.0.5') ORDER BY id`,
  );
  expect(rows.map((r) => [r.id, JSON.parse(r.attrs as string).sources])).toEqual([
    ['10.0.0.5', ['route53resolver', 'vpcflow']],
    ['192.0.2.91', ['azuread', 'cloudtrail']],
  ]);
});

test('Athena computes the same cross-source edges from the same day', async () => {
  const athena = await startAthenaOverLake(lake);
  try {
    const { edges: sql, paramsPerDay } = graphSqlForAthena();
    const cross = `SELECT src_type, src_id, rel, dst_type, dst_id, event_count, bytes, packets FROM (${sql}) e
      WHERE rel IN ('federated_into', 'federated_as', 'has_interface', 'has_address', 'queried', 'resolves_to', 'flow') ORDER BY src_type, src_id, rel, dst_type, dst_id`;
    const fromAthena = (
      await athena.engine.query(
        cross,
        Array.from({ length: paramsPerDay }, () => DAY),
      )
    ).rows;
    const published = (
      await engine.query(`SELECT src_type, src_id, rel, dst_type, dst_id, event_count, bytes, packets FROM graph_edges
      WHERE rel IN ('federated_into', 'federated_as', 'has_interface', 'has_address', 'queried', 'resolves_to', 'flow') ORDER BY src_type, src_id, rel, dst_type, dst_id`)
    ).rows;
    expect(fromAthena.length).toBeGreaterThan(10);
    expect(fromAthena).toEqual(published);
  } finally {
    await athena.close();
  }
});
