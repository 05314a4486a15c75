/**
 * GuardDuty and Security Hub findings in the graph, as ScoutQL's own findings are: ingested from
 * AWS's documented examples (the sources' golden files) beside the one CloudTrail call the GuardDuty
 * finding is about, they give the identities, access keys, addresses, resources and accounts they
 * name an entity (no events of their own when no log shows them), link to them, and are listed by a
 * pivot from each; the same answers on DuckDB and on Athena (the local server, real SDK).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type IngestSummary } from '../../etl/ingest';
import { sourceFolder } from '../../etl/sources';
import { ENGINES, apiForDescribe, openApi } from '../api/helpers';

const ACCOUNT = '123456789012';
const LEGACY_ADMIN = `arn:aws:iam::${ACCOUNT}:user/legacy-admin`;
const INSTANCE_ROLE = `arn:aws:iam::${ACCOUNT}:role/app-instance-role`;
const INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0a1b2c3d4e5f60718`;
/** Who called StopLogging (the GuardDuty example's remote address) and who probed the instance. */
const CALLER_IP = '203.0.113.150';
const PROBER_IP = '192.0.2.201';
const WINDOW = { from: '2024-03-04T00:00:00Z', to: '2024-03-06T00:00:00Z' };

/** The StopLogging call the GuardDuty example reports (Stealth:IAMUser/CloudTrailLoggingDisabled), as CloudTrail logs it. */
const STOP_LOGGING = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'IAMUser',
    principalId: 'AIDACKCEVSQ6C2EXAMPLE',
    arn: LEGACY_ADMIN,
    accountId: ACCOUNT,
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    userName: 'legacy-admin',
  },
  eventTime: '2024-03-05T21:18:40Z',
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: 'StopLogging',
  awsRegion: 'us-east-1',
  sourceIPAddress: CALLER_IP,
  userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/5.15 exe/x86_64',
  requestParameters: { name: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main-trail` },
  responseElements: null,
  requestID: '3a7b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d',
  eventID: '8f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: ACCOUNT,
  eventCategory: 'Management',
};

let root: string;
let lake: string;
let summary: IngestSummary;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-findings-graph-'));
  const logs = join(root, 'logs');
  for (const id of ['guardduty', 'securityhub'] as const) {
    const golden = join(sourceFolder(id), 'golden');
    mkdirSync(join(logs, id), { recursive: true });
    for (const file of readdirSync(golden).filter((f) => !f.endsWith('.expected.json')))
      copyFileSync(join(golden, file), join(logs, id, file));
  }
  const trail = join(logs, 'AWSLogs', ACCOUNT, 'CloudTrail', 'us-east-1', '2024', '03', '05');
  mkdirSync(trail, { recursive: true });
  writeFileSync(
    join(trail, `${ACCOUNT}_CloudTrail_us-east-1_20240305T2120Z_stoplogging.json`),
    JSON.stringify({ Records: [STOP_LOGGING] }),
  );
  lake = join(root, 'lake');
  summary = await ingest({ inputs: [logs], lake, workers: 1, geoip: false });
}, 180_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test("the days of the products' findings get a graph", () => {
  expect(summary.days).toEqual(['2024-03-04', '2024-03-05']);
  expect(readdirSync(join(lake, 'graph', 'entities')).sort()).toEqual(['day=2024-03-04', 'day=2024-03-05']);
});

const PIVOTS = `query($w: TimeWindow!) {
  prober: ip(address: "${PROBER_IP}", window: $w) {
    address eventCount
    findings { totalCount edges { node { product ruleId resourceIds resources { resourceId } ip { address } } } }
  }
  caller: ip(address: "${CALLER_IP}", window: $w) { eventCount findings { totalCount edges { node { product } } } }
  admin: identity(id: "${LEGACY_ADMIN}", window: $w) {
    kind eventCount
    sessions { edges { node { sessionId } sources eventCount } }
    ips { edges { node { address } sources eventCount } }
    findings { totalCount edges { node { product identity { identityId } session { sessionId } ip { address } } } }
  }
  role: identity(id: "${INSTANCE_ROLE}", window: $w) { kind account eventCount findings { totalCount edges { node { ruleId } } } }
  key: session(id: "ASIAIOSFODNN7EXAMPLE", window: $w) { eventCount findings { totalCount edges { node { product ruleId } } } }
  instance: resource(id: "${INSTANCE}", window: $w) { eventCount findings { totalCount edges { node { product } } } }
  account(id: "${ACCOUNT}", window: $w) { eventCount findings { totalCount } }
  findings(window: $w) {
    totalCount
    edges { node { product ruleId identityId identity { identityId } sessionId session { sessionId }
                   sourceIpAddress ip { address } resourceIds resources { resourceId } } }
  }
}`;

describe.each(ENGINES)('on %s', (engine) => {
  const api = apiForDescribe(() => lake, engine);
  let answer: any;
  beforeAll(async () => {
    answer = await api().data(PIVOTS, { w: WINDOW });
  }, 120_000);

  test('an address only a product saw is an entity with no events, and lists the findings from it', () => {
    const prober = answer.prober;
    expect(prober.eventCount).toBe(0);
    // GuardDuty's port probe and Security Hub's import of it (two versions of one finding: the latest).
    expect(prober.findings.totalCount).toBe(2);
    expect(prober.findings.edges.map((e: any) => e.node.product).sort()).toEqual(['GUARDDUTY', 'SECURITYHUB']);
    for (const { node } of prober.findings.edges) {
      expect(node.ip).toEqual({ address: PROBER_IP });
      expect(node.resources).toEqual([{ resourceId: INSTANCE }]);
    }
    expect(answer.instance).toMatchObject({ eventCount: 0, findings: { totalCount: 2 } });
  });

  test('an identity with events keeps its event count, and lists both products’ findings with their entities resolved', () => {
    const admin = answer.admin;
    expect(admin.kind).toBe('IAMUser');
    expect(admin.eventCount).toBe(1); // the StopLogging call; findings are not events
    expect(admin.findings.totalCount).toBe(2);
    for (const { node } of admin.findings.edges)
      expect(node).toMatchObject({
        identity: { identityId: LEGACY_ADMIN },
        session: { sessionId: 'AKIAIOSFODNN7EXAMPLE' },
        ip: { address: CALLER_IP },
      });
    expect(admin.findings.edges.map((e: any) => e.node.product).sort()).toEqual(['GUARDDUTY', 'SECURITYHUB']);
    // CloudTrail and both products saw the key and the address: one link each, the events CloudTrail's.
    expect(admin.sessions.edges).toEqual([
      { node: { sessionId: 'AKIAIOSFODNN7EXAMPLE' }, sources: ['cloudtrail', 'guardduty', 'securityhub'], eventCount: 1 },
    ]);
    expect(admin.ips.edges).toEqual([{ node: { address: CALLER_IP }, sources: ['cloudtrail', 'guardduty', 'securityhub'], eventCount: 1 }]);
    expect(answer.caller).toMatchObject({ eventCount: 1, findings: { totalCount: 2 } });
  });

  test('a role and a key only GuardDuty names (credentials used outside AWS) are entities that list the finding', () => {
    expect(answer.role).toMatchObject({ kind: 'AssumedRole', account: ACCOUNT, eventCount: 0 });
    // Two exported versions of one finding: listed once.
    expect(answer.role.findings.edges).toEqual([
      { node: { ruleId: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS' } },
    ]);
    expect(answer.key).toMatchObject({ eventCount: 0, findings: { totalCount: 1 } });
  });

  test('the account lists every finding of both products, and every finding resolves every entity it names', () => {
    expect(answer.account.eventCount).toBe(1);
    expect(answer.account.findings.totalCount).toBe(answer.findings.totalCount);
    expect(answer.findings.totalCount).toBe(6);
    for (const { node } of answer.findings.edges) {
      expect(node.identity?.identityId ?? null).toBe(node.identityId);
      expect(node.session?.sessionId ?? null).toBe(node.sessionId);
      expect(node.ip?.address ?? null).toBe(node.sourceIpAddress);
      expect(node.resources.map((r: any) => r.resourceId)).toEqual(node.resourceIds);
    }
  });
});

test('the graph links each product finding to what it names (Finding → names → entity)', async () => {
  const t = await openApi(lake);
  try {
    const { rows } = await t.engine.query(
      `SELECT dst_type, count(DISTINCT src_id) AS findings FROM graph_edges WHERE src_type = 'Finding' AND rel = 'names' GROUP BY dst_type ORDER BY dst_type`,
    );
    expect(rows).toEqual([
      { dst_type: 'Account', findings: 6 },
      { dst_type: 'IPAddress', findings: 5 },
      { dst_type: 'Identity', findings: 3 },
      { dst_type: 'Resource', findings: 2 },
      { dst_type: 'Session', findings: 3 },
    ]);
  } finally {
    await t.close();
  }
});
