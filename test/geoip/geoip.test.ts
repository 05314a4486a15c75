/**
 * Offline GeoIP / ASN lookups (src/core/geoip.ts) on the real data shipped through npm, on MMDB
 * files shaped like MaxMind's (written by testkit/mmdb and read by mmdb-lib), and with an overrides
 * file; bad files are refused with their name and the entry at fault.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLOUD_ASNS, GeoIp, NO_GEO, enrichmentOf, parseCidr, parseIp } from '../../src/core/geoip';
import { writeMmdb } from '../../testkit/mmdb/write';
import type * as GeoIpModule from '../../src/core/geoip';

let dir: string;
let bundled: GeoIp;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-geoip-'));
  bundled = GeoIp.load();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('the bundled offline data', () => {
  test.each([
    // Google's public resolver, an Amazon S3 address, Microsoft's login endpoint, Cloudflare's resolver
    ['8.8.8.8', 'US', 15169, 'Google LLC', 'gcp'],
    ['52.95.110.1', 'US', 16509, 'Amazon.com, Inc.', 'aws'],
    ['20.190.128.1', 'US', 8075, 'Microsoft Corporation', 'azure'],
    ['2001:4860:4860::8888', 'US', 15169, 'Google LLC', 'gcp'],
    ['2600:1f18::1', 'US', 14618, 'Amazon.com, Inc.', 'aws'],
  ])('%s is in %s, AS%i (%s), a %s address', (ip, country, asn, org, cloud) => {
    expect(bundled.lookup(ip)).toEqual({ country, asn, org, cloud });
  });

  test('an ISP address has a country and an AS but is no cloud provider’s', () => {
    const info = bundled.lookup('81.2.69.160');
    expect(info.country).toBe('GB');
    expect(info.asn).toBe(20712);
    expect(info.cloud).toBeNull();
    expect(enrichmentOf(info)).toEqual({ src_country: 'GB', src_asn: 20712, src_as_org: info.org, src_is_cloud: false });
  });

  test('an IPv4-mapped IPv6 address is its IPv4 address', () => {
    expect(bundled.lookup('::ffff:8.8.8.8')).toEqual(bundled.lookup('8.8.8.8'));
  });

  test('private, documentation and other special-purpose addresses are nowhere, whatever a database says', () => {
    // The bundled country data puts 203.0.113.0/24 (TEST-NET-3) in Australia; it is a documentation range.
    for (const ip of [
      '10.1.2.3',
      '192.168.0.1',
      '172.20.0.1',
      '100.64.1.1',
      '127.0.0.1',
      '169.254.169.254',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.5',
      'fd00::1',
      'fe80::1',
      '2001:db8::1',
      '::1',
    ])
      expect(bundled.lookup(ip)).toBe(NO_GEO);
    expect(enrichmentOf(NO_GEO)).toEqual({ src_country: null, src_asn: null, src_as_org: null, src_is_cloud: null });
  });

  test('what is not an address (a service name, garbage) has no geography', () => {
    for (const text of ['cloudtrail.amazonaws.com', 'AWS Internal', '1.2.3', '1.2.3.256', '::1::2', '', null])
      expect(bundled.lookup(text)).toBe(NO_GEO);
  });

  test('every cloud AS number the flag relies on is in the data under its provider’s name', () => {
    // The list is checked against the data's organization names, so a renumbering shows up here.
    const names: Record<string, RegExp> = {
      aws: /amazon/i,
      azure: /microsoft/i,
      gcp: /google/i,
      oracle: /oracle/i,
      alibaba: /alibaba/i,
      tencent: /tencent/i,
      digitalocean: /digitalocean/i,
      akamai: /akamai|linode/i,
      ovh: /ovh/i,
      hetzner: /hetzner/i,
      vultr: /constant company|vultr/i,
      ibm: /ibm|softlayer/i,
      scaleway: /scaleway|online/i,
      cloudflare: /cloudflare/i,
    };
    const orgsByAsn = bundled.organizationsOf(Object.keys(CLOUD_ASNS).map(Number));
    for (const [asn, provider] of Object.entries(CLOUD_ASNS)) {
      expect([asn, orgsByAsn.get(Number(asn))]).toEqual([asn, expect.stringMatching(names[provider])]);
    }
  });
});

describe('overrides', () => {
  test('the longest matching network wins, before the databases, and answers every field', () => {
    const overrides = file(
      'overrides.json',
      JSON.stringify({
        networks: [
          { network: '198.51.100.0/24', country: 'DE', asn: 64496, org: 'Office network' },
          { network: '198.51.100.7', country: 'FR', asn: 16509, org: 'Amazon.com, Inc.' },
          { network: '8.8.8.0/24', country: 'NL' },
          { network: '2001:db8:1::/48', country: 'JP', asn: 64500, org: 'V6 hosting', cloud: 'example-cloud' },
        ],
      }),
    );
    const geo = GeoIp.load({ overrides });
    expect(geo.lookup('198.51.100.9')).toEqual({ country: 'DE', asn: 64496, org: 'Office network', cloud: null });
    // A host entry inside the /24 wins; its ASN makes it a cloud address unless it says otherwise.
    expect(geo.lookup('198.51.100.7')).toEqual({ country: 'FR', asn: 16509, org: 'Amazon.com, Inc.', cloud: 'aws' });
    // An override answers for its network whole: what it leaves out is null, not the database's.
    expect(geo.lookup('8.8.8.8')).toEqual({ country: 'NL', asn: null, org: null, cloud: null });
    expect(geo.lookup('8.8.4.4').asn).toBe(15169);
    expect(geo.lookup('2001:db8:1:2::5')).toEqual({ country: 'JP', asn: 64500, org: 'V6 hosting', cloud: 'example-cloud' });
    expect(geo.lookup('2001:db8:2::5')).toBe(NO_GEO);
    expect(geo.describe().overrides).toBe(4);
  });

  test.each([
    ['not JSON', '{', /overrides .*bad\.json: /],
    ['no list', '{"nets": []}', /expected \{ "networks": \[ … \] \}/],
    ['a bad network', '{"networks": [{"network": "300.1.1.1/24"}]}', /networks\[0\]\.network must be an address or CIDR/],
    ['a bad prefix', '{"networks": [{"network": "10.0.0.0/33"}]}', /networks\[0\]\.network must be an address or CIDR/],
    [
      'a bad country',
      '{"networks": [{"network": "10.0.0.0/8", "country": "Germany"}]}',
      /networks\[0\]\.country must be a two-letter code/,
    ],
    [
      'a bad ASN',
      '{"networks": [{"network": "10.0.0.0/8"}, {"network": "10.0.0.1", "asn": -4}]}',
      /networks\[1\]\.asn must be a whole number/,
    ],
    ['an unknown key', '{"networks": [{"network": "10.0.0.0/8", "city": "Berlin"}]}', /networks\[0\]: unknown key 'city'/],
  ])('a file with %s is refused, naming the file and entry', (_what, content, message) => {
    const path = file('bad.json', content);
    expect(() => GeoIp.load({ overrides: path, bundled: false })).toThrow(message);
  });
});

describe('MMDB files the user names', () => {
  test('MaxMind-shaped Country and ASN databases answer before the bundled data', () => {
    const country = file(
      'GeoLite2-Country-test.mmdb',
      writeMmdb({
        databaseType: 'GeoLite2-Country',
        networks: [
          { network: '8.8.8.0/24', data: { country: { iso_code: 'CH', names: { en: 'Switzerland' } }, continent: { code: 'EU' } } },
          { network: '2a02:1000::/24', data: { registered_country: { iso_code: 'se' } } },
        ],
      }),
    );
    const asn = file(
      'GeoLite2-ASN-test.mmdb',
      writeMmdb({
        databaseType: 'GeoLite2-ASN',
        networks: [
          { network: '8.8.8.0/24', data: { autonomous_system_number: 396982, autonomous_system_organization: 'GOOGLE-CLOUD-PLATFORM' } },
        ],
      }),
    );
    const geo = GeoIp.load({ mmdb: [country, asn] });
    expect(geo.lookup('8.8.8.8')).toEqual({ country: 'CH', asn: 396982, org: 'GOOGLE-CLOUD-PLATFORM', cloud: 'gcp' });
    expect(geo.lookup('2a02:1000::1').country).toBe('SE');
    // Addresses the user's files do not know fall through to the bundled data.
    expect(geo.lookup('52.95.110.1')).toEqual(bundled.lookup('52.95.110.1'));
    // Without the bundled data, only the user's files answer.
    const only = GeoIp.load({ mmdb: [country, asn], bundled: false });
    expect(only.lookup('8.8.8.8').country).toBe('CH');
    expect(only.lookup('52.95.110.1')).toBe(NO_GEO);
  });

  test('a missing or damaged MMDB file is refused with its name', () => {
    expect(() => GeoIp.load({ mmdb: [join(dir, 'nope.mmdb')] })).toThrow(/cannot read MMDB file .*nope\.mmdb/);
    const damaged = file('damaged.mmdb', Buffer.from('not a database at all'));
    expect(() => GeoIp.load({ mmdb: [damaged] })).toThrow(/damaged\.mmdb is not a MaxMind DB file/);
  });
});

describe('worker threads share the loaded data', () => {
  test('a GeoIp over the shared memory answers as the original does, without copying the buffers', () => {
    const shared = bundled.share();
    const view = GeoIp.fromShared(structuredClone(shared));
    for (const ip of ['8.8.8.8', '2600:1f18::1', '81.2.69.160']) expect(view.lookup(ip)).toEqual(bundled.lookup(ip));
    // Every buffer is shared memory, which structured clone (postMessage, workerData) shares instead of copying.
    const buffers = [...shared.mmdb.map((m) => m.bytes), ...Object.values(shared.asn!)];
    for (const b of buffers) expect(b).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('the parsed bundled ranges are kept for later processes', () => {
  const cacheDir = join(dirname(require.resolve('@ip-location-db/asn/package.json')), '..', '..', '.cache', 'scoutql');
  /** GeoIp as a new process has it: its own copy of the module, nothing loaded yet. */
  const freshGeoIp = (): typeof GeoIp => {
    let fresh: typeof GeoIp | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second copy of the module, which import cannot give
      fresh = (require('../../src/core/geoip') as typeof GeoIpModule).GeoIp;
    });
    return fresh!;
  };
  const ADDRESSES = ['8.8.8.8', '52.95.110.1', '81.2.69.160', '2600:1f18::1', '2001:4860:4860::8888', '1.1.1.1'];
  const answers = (geo: GeoIp) => [ADDRESSES.map((ip) => geo.lookup(ip)), [...geo.organizationsOf(Object.keys(CLOUD_ASNS).map(Number))]];

  test('a later process reads them back and answers exactly as a parse does; a damaged copy is parsed again, not believed', () => {
    const expected = answers(bundled);
    expect(answers(freshGeoIp().load())).toEqual(expected);
    const caches = readdirSync(cacheDir).filter((name) => /^asn-[0-9a-f]{16}\.bin$/.test(name));
    expect(caches.length).toBeGreaterThan(0);
    // Damage every copy (renamed over it whole, as the writer does: readers elsewhere see one or the other).
    const damaged = new Map<string, Buffer>();
    for (const name of caches) {
      const path = join(cacheDir, name);
      const bytes = readFileSync(path);
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(`${path}.damaged`, bytes);
      renameSync(`${path}.damaged`, path);
      damaged.set(path, bytes);
    }
    expect(answers(freshGeoIp().load())).toEqual(expected);
    // It was parsed again: the damaged copy of this data is replaced by a whole one, which the next process reads.
    expect(caches.filter((name) => readFileSync(join(cacheDir, name)).equals(damaged.get(join(cacheDir, name))!))).toHaveLength(
      caches.length - 1,
    );
    expect(answers(freshGeoIp().load())).toEqual(expected);
  });
});

test('addresses and networks parse as the RFCs write them', () => {
  expect(parseIp('192.0.2.1')).toEqual({ v: 4, n: 0xc0000201 });
  expect(parseIp('2001:db8::1')).toEqual({ v: 6, w: [0x20010db8, 0, 0, 1] });
  expect(parseIp('::ffff:192.0.2.1')).toEqual({ v: 4, n: 0xc0000201 });
  expect(parseIp('fe80::1%eth0')).toEqual({ v: 6, w: [0xfe800000, 0, 0, 1] });
  expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeNull();
  expect(parseCidr('203.0.113.77/24')).toEqual({ v: 4, words: [0xcb007100], prefix: 24 });
  expect(parseCidr('2001:db8::/33')).toEqual({ v: 6, words: [0x20010db8, 0, 0, 0], prefix: 33 });
});
