/**
 * GeoIP / ASN enrichment end to end: the sample with its geoip-overrides.json → real ingest (worker
 * threads) → every row's src_country / src_asn / src_as_org / src_is_cloud as the sample's fictional
 * geography says → the graph's IP entities → IPAddress.country / asn / org / isCloudProvider in
 * GraphQL on DuckDB and on Athena (local server) alike. Without GeoIP the columns stay empty, and a
 * bad overrides file fails the run before the lake is touched.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ingest } from '../../etl/ingest';
import type { OverridesFile } from '../../src/core/geoip';
import { GEOIP_OVERRIDES_FILE, generateSample } from '../../testkit/sample';
import { readStories, storyById, type Story } from '../../testkit/sample/story';
import { logInputs } from '../api/fixtures/cross';
import { ENGINES, apiForDescribe, type TestApi } from '../api/helpers';

const WINDOW = { from: '2026-11-02T00:00:00Z', to: '2026-11-04T00:00:00Z' };
let dir: string;
let logs: string;
let lake: string;
let stories: Story[];
let overrides: OverridesFile;

async function rows(lakeDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const events = `read_parquet('${join(lakeDir, '*', 'source=*', '**', '*.parquet')}', hive_partitioning = true, union_by_name = true)`;
    const reader = await connection.runAndReadAll(sql.replace('EVENTS', events));
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-geoip-ingest-'));
  logs = join(dir, 'logs');
  lake = join(dir, 'lake');
  generateSample({ out: logs, days: 2, seed: 'geoip', scale: 0.02, sources: ['cloudtrail', 's3access', 'azuread', 'vpcflow'] });
  stories = readStories(logs);
  overrides = JSON.parse(readFileSync(join(logs, GEOIP_OVERRIDES_FILE), 'utf8')) as OverridesFile;
  const summary = await ingest({ inputs: logInputs(logs), lake, geoip: { overrides: join(logs, GEOIP_OVERRIDES_FILE) } });
  expect(summary.quarantined).toBe(0);
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the sample names the fictional geography of every story address it gives a country', () => {
  const byIp = new Map(overrides.networks.map((n) => [n.network.replace(/\/32$/, ''), n]));
  for (const story of stories)
    for (const [ip, country] of Object.entries(story.ipCountries)) {
      if (country === 'unknown') continue;
      expect([story.id, ip, byIp.get(ip)?.country]).toEqual([story.id, ip, country]);
    }
});

test('every row from an address the overrides name carries its country, AS and cloud flag; other rows none', async () => {
  const got = await rows(
    lake,
    `SELECT src_ip, any_value(src_country) AS country, any_value(src_asn) AS asn, any_value(src_as_org) AS org,
            any_value(src_is_cloud) AS cloud, count(DISTINCT COALESCE(src_country, '-') || COALESCE(CAST(src_asn AS VARCHAR), '-')) AS variants
     FROM EVENTS WHERE src_ip IS NOT NULL GROUP BY src_ip`,
  );
  const byIp = new Map(overrides.networks.map((n) => [n.network.replace(/\/32$/, ''), n]));
  let named = 0;
  for (const r of got) {
    expect([r.src_ip, Number(r.variants)]).toEqual([r.src_ip, 1]);
    const o = byIp.get(r.src_ip as string);
    if (!o) {
      // Private addresses, service names and documentation addresses no one named: nowhere.
      expect([r.src_ip, r.country, r.asn, r.cloud]).toEqual([r.src_ip, null, null, null]);
      continue;
    }
    named += 1;
    expect([r.src_ip, r.country, Number(r.asn), r.org, r.cloud]).toEqual([r.src_ip, o.country, o.asn, o.org, o.asn === 16509]);
  }
  expect(named).toBeGreaterThan(10);
});

test('the NAT gateways are AWS addresses, the brute-force attacker is not', async () => {
  const attacker = storyById(stories, 'console-brute-force').expect.attackerIp;
  const got = await rows(
    lake,
    `SELECT DISTINCT src_ip, src_is_cloud, src_as_org FROM EVENTS WHERE src_ip IN ('198.51.100.200', '${attacker}')`,
  );
  expect(Object.fromEntries(got.map((r) => [r.src_ip, r.src_is_cloud]))).toEqual({ '198.51.100.200': true, [attacker]: false });
});

describe.each(ENGINES)('IPAddress in GraphQL on %s', (engine) => {
  const api = apiForDescribe(() => lake, engine);
  let t: TestApi;
  beforeAll(() => {
    t = api();
  });

  test('country, ASN, organization and the cloud flag of an attacker, a NAT gateway and an office', async () => {
    const attacker = storyById(stories, 'console-brute-force');
    const data = await t.data(
      `query($a: String!, $nat: String!, $office: String!, $w: TimeWindow!) {
        attacker: ip(address: $a, window: $w) { address country asn org isCloudProvider }
        nat: ip(address: $nat, window: $w) { address country asn org isCloudProvider }
        office: ip(address: $office, window: $w) { address country asn org isCloudProvider }
      }`,
      { a: attacker.expect.attackerIp, nat: '198.51.100.200', office: '203.0.113.74', w: WINDOW },
    );
    expect(data.attacker).toEqual({
      address: attacker.expect.attackerIp,
      country: attacker.ipCountries[attacker.expect.attackerIp],
      asn: expect.any(Number),
      org: `Example Hosting ${attacker.ipCountries[attacker.expect.attackerIp]} (sample)`,
      isCloudProvider: false,
    });
    expect(data.nat).toEqual({ address: '198.51.100.200', country: 'US', asn: 16509, org: 'Amazon.com, Inc.', isCloudProvider: true });
    expect(data.office).toEqual({ address: '203.0.113.74', country: 'DE', asn: 64496, org: 'Acme Corp (sample)', isCloudProvider: false });
  });

  test('events carry the enrichment fields too', async () => {
    const data = await t.data(
      `query($w: TimeWindow!) { events(window: $w, first: 5, filter: { ip: "203.0.113.74" }) { edges { node { sourceIpAddress srcCountry srcAsn srcAsOrg srcIsCloud } } } }`,
      { w: WINDOW },
    );
    expect(data.events.edges.length).toBeGreaterThan(0);
    for (const { node } of data.events.edges)
      expect(node).toEqual({
        sourceIpAddress: '203.0.113.74',
        srcCountry: 'DE',
        srcAsn: 64496,
        srcAsOrg: 'Acme Corp (sample)',
        srcIsCloud: false,
      });
  });
});

test('without GeoIP the enrichment columns stay empty; a bad overrides file fails before the lake is touched', async () => {
  const plain = join(dir, 'plain-lake');
  await ingest({ inputs: [join(logs, 'AWSLogs')], lake: plain, geoip: false, graph: false });
  const got = await rows(plain, `SELECT count(*) AS n, count(src_country) AS c, count(src_asn) AS a, count(src_is_cloud) AS k FROM EVENTS`);
  expect(Number(got[0].n)).toBeGreaterThan(0);
  expect([got[0].c, got[0].a, got[0].k].map(Number)).toEqual([0, 0, 0]);

  const bad = join(dir, 'bad-overrides.json');
  writeFileSync(bad, JSON.stringify({ networks: [{ network: '192.0.2.0/24', country: 'Narnia' }] }));
  const untouched = join(dir, 'untouched-lake');
  await expect(ingest({ inputs: [join(logs, 'AWSLogs')], lake: untouched, geoip: { overrides: bad } })).rejects.toThrow(
    /bad-overrides\.json: networks\[0\]\.country must be a two-letter code/,
  );
  expect(existsSync(untouched)).toBe(false);
});
