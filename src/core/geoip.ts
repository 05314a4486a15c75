/**
 * Offline GeoIP / ASN: where an address is (country), whose network it is (autonomous system
 * number and organization) and whether that network is a cloud provider's. No network call, ever.
 *
 * Data, consulted in this order for each address:
 *  1. overrides: a JSON file of networks with their own geography (longest prefix wins). The
 *     sample's documentation addresses get their fictional geography this way; a team can name its
 *     offices and VPNs the same way. An override answers every field (what it leaves out is null).
 *  2. special-purpose blocks (RFC 6890: private, loopback, link-local, CGNAT, documentation,
 *     multicast…) are nowhere: null, whatever a database says about them.
 *  3. MMDB files the user names (MaxMind GeoLite2 / GeoIP2 Country, City or ASN, or any MMDB with
 *     `country_code` / `autonomous_system_number` fields), read with mmdb-lib, first answer wins.
 *  4. the data shipped through npm (`bundled`, on by default): @ip-location-db/geo-whois-asn-country-mmdb
 *     (country; NRO whois and GeoFeed, CC BY 4.0 / CC0) and @ip-location-db/asn (ranges → ASN and
 *     organization; RouteViews, NRO and DB-IP, CC BY 4.0: attribution to routeviews.org, nro.net and
 *     db-ip.com is required wherever the data is shown).
 *
 * "Cloud" is decided by ASN (CLOUD_ASNS below), or by an override.
 *
 * Memory: the data is loaded once per process into SharedArrayBuffers (about 25 MB with the bundled
 * data); ingest's worker threads get views of the same memory (`share()` / `GeoIp.fromShared`), so
 * each worker adds only its lookup cache.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { Reader, type Response } from 'mmdb-lib';
import type { EnrichmentRow } from './tables';

export interface GeoInfo {
  /** ISO 3166-1 alpha-2 country code. */
  country: string | null;
  /** Autonomous system number. */
  asn: number | null;
  /** The autonomous system's organization. */
  org: string | null;
  /** The cloud provider whose network it is (CLOUD_ASNS), or null. */
  cloud: string | null;
}

export const NO_GEO: GeoInfo = Object.freeze({ country: null, asn: null, org: null, cloud: null });

export interface GeoIpOptions {
  /** MMDB files to consult before the bundled data (MaxMind Country / City / ASN, or compatible). */
  mmdb?: readonly string[];
  /** Use the data shipped through npm (default true). */
  bundled?: boolean;
  /** JSON file of networks with their own geography, consulted first (see OverridesFile). */
  overrides?: string;
}

/**
 * Networks of cloud providers, by ASN: where a provider's customers' workloads (and attackers'
 * rented machines) come from. Checked against the bundled ASN data's organization names.
 */
export const CLOUD_ASNS: Readonly<Record<number, string>> = {
  16509: 'aws', // Amazon.com, Inc. (AMAZON-02)
  14618: 'aws', // Amazon.com, Inc. (AMAZON-AES)
  8987: 'aws', // Amazon Data Services Ireland Ltd
  7224: 'aws', // Amazon.com, Inc.
  38895: 'aws', // Amazon.com Tech Telecom
  8075: 'azure', // Microsoft Corporation
  8068: 'azure',
  8069: 'azure',
  12076: 'azure', // Microsoft (ExpressRoute)
  15169: 'gcp', // Google LLC
  396982: 'gcp', // Google LLC (Google Cloud)
  19527: 'gcp', // Google LLC
  139070: 'gcp', // Google Asia Pacific
  31898: 'oracle', // Oracle Corporation (OCI)
  45102: 'alibaba', // Alibaba (US) Technology
  37963: 'alibaba', // Hangzhou Alibaba Advertising (Aliyun)
  132203: 'tencent', // Shenzhen Tencent Computer Systems
  45090: 'tencent',
  14061: 'digitalocean',
  63949: 'akamai', // Akamai Technologies (Linode)
  16276: 'ovh',
  24940: 'hetzner',
  20473: 'vultr', // The Constant Company
  36351: 'ibm', // IBM Cloud (SoftLayer)
  12876: 'scaleway',
  13335: 'cloudflare',
};

/**
 * The overrides file: `{ "networks": [ { "network": "203.0.113.0/24", "country": "DE", "asn": 64496,
 * "org": "Example ISP", "cloud": null } ] }`. `network` is a CIDR or a single address; `cloud` a
 * provider name (or null: not a cloud network; absent: decided by the ASN).
 */
export interface OverridesFile {
  description?: string;
  networks: OverrideNetwork[];
}

export interface OverrideNetwork {
  network: string;
  country?: string | null;
  asn?: number | null;
  org?: string | null;
  cloud?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** An address as numbers: IPv4 as one 32-bit value, IPv6 as four 32-bit words (most significant first). */
export type IpValue = { v: 4; n: number } | { v: 6; w: [number, number, number, number] };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIp(text: string): IpValue | null {
  const m = IPV4.exec(text);
  if (m) {
    const parts = [m[1], m[2], m[3], m[4]].map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { v: 4, n: ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0 };
  }
  if (!text.includes(':') || text.length > 45) return null;
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  let groupsText = bare;
  const lastColon = bare.lastIndexOf(':');
  const tail = IPV4.exec(bare.slice(lastColon + 1));
  if (tail) {
    const v4 = parseIp(bare.slice(lastColon + 1));
    if (!v4 || v4.v !== 4) return null;
    groupsText = `${bare.slice(0, lastColon + 1)}${(v4.n >>> 16).toString(16)}:${(v4.n & 0xffff).toString(16)}`;
  }
  const halves = groupsText.split('::');
  if (halves.length > 2) return null;
  const split = (s: string) => (s === '' ? [] : s.split(':'));
  const head = split(halves[0]);
  const rest = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const values = groups.map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  if (values.some(Number.isNaN)) return null;
  const w: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) w[i] = ((values[2 * i] << 16) | values[2 * i + 1]) >>> 0;
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return { v: 4, n: w[3] };
  return { v: 6, w };
}

interface Cidr {
  v: 4 | 6;
  /** The network's words (one for IPv4), masked. */
  words: number[];
  prefix: number;
}

export function parseCidr(text: string): Cidr | null {
  const [addr, len, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const bits = ip.v === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return null;
  const words = ip.v === 4 ? [ip.n] : [...ip.w];
  return { v: ip.v, words: words.map((word, i) => (word & maskWord(prefix - 32 * i)) >>> 0), prefix };
}

function maskWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

function inCidr(ip: IpValue, cidr: Cidr): boolean {
  if (ip.v !== cidr.v) return false;
  const words = ip.v === 4 ? [ip.n] : ip.w;
  for (let i = 0; i < words.length; i++) {
    if ((words[i] & maskWord(cidr.prefix - 32 * i)) >>> 0 !== cidr.words[i]) return false;
  }
  return true;
}

/** RFC 6890 special-purpose blocks: no country, no ASN. */
export const SPECIAL_PURPOSE_NETWORKS = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
] as const;
const SPECIAL = SPECIAL_PURPOSE_NETWORKS.map((text) => parseCidr(text)!);

// ---------------------------------------------------------------------------------------------
// The ASN ranges (@ip-location-db/asn's CSV: start,end,asn,org with numeric addresses), in shared memory

/** Plain data (SharedArrayBuffers and numbers) that crosses to worker threads without copying. */
interface AsnShared {
  /** IPv4: per range start, end, asn, org index (four u32 each). */
  v4: SharedArrayBuffer;
  /** IPv6: per range start (4 words), end (4 words), asn, org index (ten u32 each). */
  v6: SharedArrayBuffer;
  /** Organization names, UTF-8, one after the other; `orgOffsets[i]..orgOffsets[i+1]` is name i. */
  orgBytes: SharedArrayBuffer;
  orgOffsets: SharedArrayBuffer;
}

export interface GeoIpShared {
  mmdb: { file: string; bytes: SharedArrayBuffer }[];
  asn: AsnShared | null;
  overrides: OverrideNetwork[];
}

const V4_STRIDE = 4;
const V6_STRIDE = 10;

function toShared(bytes: Uint8Array): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(shared).set(bytes);
  return shared;
}

/** Reads one `start,end,asn,"org"` CSV file (numeric addresses) into a u32 list, scanning bytes (half a million lines). */
function readAsnCsv(file: string, v: 4 | 6, orgs: Map<string, number>): Uint32Array {
  const bytes = readFileSync(file);
  const stride = v === 4 ? V4_STRIDE : V6_STRIDE;
  let out = new Uint32Array(stride * 1024);
  let n = 0;
  let lineNo = 0;
  const COMMA = 44;
  const fail = (why: string): never => {
    throw new Error(`${file}:${lineNo}: ${why}`);
  };
  for (let pos = 0; pos < bytes.length;) {
    let end = bytes.indexOf(10, pos);
    if (end < 0) end = bytes.length;
    lineNo += 1;
    const lineEnd = bytes[end - 1] === 13 ? end - 1 : end;
    const lineStart = pos;
    pos = end + 1;
    if (lineEnd === lineStart) continue;
    const c1 = bytes.indexOf(COMMA, lineStart);
    const c2 = c1 < 0 ? -1 : bytes.indexOf(COMMA, c1 + 1);
    const c3 = c2 < 0 ? -1 : bytes.indexOf(COMMA, c2 + 1);
    if (c1 < 0 || c3 < 0 || c3 >= lineEnd) fail('expected start,end,asn,organization');
    const asn = digits(bytes, c2 + 1, c3);
    let org = bytes.toString('utf8', c3 + 1, lineEnd);
    if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
    let orgIndex = orgs.get(org);
    if (orgIndex === undefined) orgs.set(org, (orgIndex = orgs.size));
    if ((n + 1) * stride > out.length) {
      const grown = new Uint32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    const at = n * stride;
    if (v === 4) {
      out[at] = digits(bytes, lineStart, c1);
      out[at + 1] = digits(bytes, c1 + 1, c2);
      out[at + 2] = asn;
      out[at + 3] = orgIndex;
      if (Number.isNaN(out[at]) || !(out[at] <= out[at + 1])) fail('not a numeric IPv4 range');
    } else {
      writeWords(out, at, BigInt(bytes.toString('latin1', lineStart, c1)));
      writeWords(out, at + 4, BigInt(bytes.toString('latin1', c1 + 1, c2)));
      out[at + 8] = asn;
      out[at + 9] = orgIndex;
    }
    if (Number.isNaN(asn)) fail('the AS number is not a number');
    n += 1;
  }
  return out.subarray(0, n * stride);
}

/** A decimal number of up to 10 digits from bytes [from, to), or NaN. */
function digits(bytes: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 10) return NaN;
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return value;
}

function writeWords(out: Uint32Array, at: number, value: bigint): void {
  for (let i = 3; i >= 0; i--) {
    out[at + i] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
}

/**
 * The bundled ranges, parsed once per installation: the parse (half a million CSV lines, about a
 * second and a half of CPU) is kept in node_modules/.cache/scoutql/ and read back in milliseconds
 * by every later process, ingest's and the tests' alike. Keyed by the package's version and the CSV
 * files' sizes and times, checked by a SHA-256 trailer; where the folder cannot be written (a
 * read-only install) each process parses, as before.
 */
function loadBundledAsn(): AsnShared {
  const dir = dirname(require.resolve('@ip-location-db/asn/package.json'));
  const key = createHash('sha256')
    .update(`${ASN_CACHE_FORMAT}\n`)
    .update(readFileSync(join(dir, 'package.json')));
  for (const name of ASN_FILES) {
    const { size, mtimeMs } = statSync(join(dir, name));
    key.update(`\n${name} ${size} ${mtimeMs}`);
  }
  const cacheFile = join(dir, '..', '..', '.cache', 'scoutql', `asn-${key.digest('hex').slice(0, 16)}.bin`);
  const cached = readAsnCache(cacheFile);
  if (cached) return cached;
  const parsed = parseBundledAsn(dir);
  writeAsnCache(cacheFile, parsed);
  return parsed;
}

const ASN_CACHE_FORMAT = 'scoutql-asn-cache-1';
const ASN_FILES = ['asn-ipv4-num.csv', 'asn-ipv6-num.csv'] as const;
const ASN_PARTS = ['v4', 'v6', 'orgBytes', 'orgOffsets'] as const;

/** Layout: the four parts' byte lengths (u32 LE), the parts, then the SHA-256 of all that. */
function writeAsnCache(file: string, asn: AsnShared): void {
  const header = Buffer.alloc(4 * ASN_PARTS.length);
  ASN_PARTS.forEach((part, i) => header.writeUInt32LE(asn[part].byteLength, 4 * i));
  const body = Buffer.concat([header, ...ASN_PARTS.map((part) => new Uint8Array(asn[part]))]);
  const temp = `${file}.${process.pid}.${threadId}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    renameSync(temp, file); // whole or not at all, whoever else writes it at the same time
  } catch {
    // Not writable: the next process parses again.
    rmSync(temp, { force: true });
  }
}

function readAsnCache(file: string): AsnShared | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return null;
  }
  const headerBytes = 4 * ASN_PARTS.length;
  if (bytes.length < headerBytes + 32) return null;
  const body = bytes.subarray(0, bytes.length - 32);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(bytes.subarray(bytes.length - 32))
  )
    return null;
  const lengths = ASN_PARTS.map((_, i) => body.readUInt32LE(4 * i));
  if (headerBytes + lengths.reduce((a, b) => a + b, 0) !== body.length) return null;
  let at = headerBytes;
  const [v4, v6, orgBytes, orgOffsets] = lengths.map((length) => {
    const part = toShared(body.subarray(at, at + length));
    at += length;
    return part;
  });
  return { v4, v6, orgBytes, orgOffsets };
}

function parseBundledAsn(dir: string): AsnShared {
  const orgs = new Map<string, number>();
  const v4 = readAsnCsv(join(dir, 'asn-ipv4-num.csv'), 4, orgs);
  const v6 = readAsnCsv(join(dir, 'asn-ipv6-num.csv'), 6, orgs);
  const encoder = new TextEncoder();
  const encoded = [...orgs.keys()].map((o) => encoder.encode(o));
  const offsets = new Uint32Array(encoded.length + 1);
  let total = 0;
  encoded.forEach((bytes, i) => {
    offsets[i] = total;
    total += bytes.byteLength;
  });
  offsets[encoded.length] = total;
  const orgBytes = new Uint8Array(total);
  encoded.forEach((bytes, i) => orgBytes.set(bytes, offsets[i]));
  const asU8 = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { v4: toShared(asU8(v4)), v6: toShared(asU8(v6)), orgBytes: toShared(orgBytes), orgOffsets: toShared(asU8(offsets)) };
}

class AsnRanges {
  private readonly v4: Uint32Array;
  private readonly v6: Uint32Array;
  private readonly orgBytes: Buffer;
  private readonly orgOffsets: Uint32Array;
  private readonly orgNames = new Map<number, string>();

  constructor(shared: AsnShared) {
    this.v4 = new Uint32Array(shared.v4);
    this.v6 = new Uint32Array(shared.v6);
    this.orgBytes = Buffer.from(shared.orgBytes);
    this.orgOffsets = new Uint32Array(shared.orgOffsets);
  }

  get ranges(): number {
    return this.v4.length / V4_STRIDE + this.v6.length / V6_STRIDE;
  }

  lookup(ip: IpValue): { asn: number; org: string | null } | null {
    const at = ip.v === 4 ? this.find4(ip.n) : this.find6(ip.w);
    if (at < 0) return null;
    const table = ip.v === 4 ? this.v4 : this.v6;
    const asnAt = ip.v === 4 ? at + 2 : at + 8;
    return { asn: table[asnAt], org: this.org(table[asnAt + 1]) };
  }

  /** The organization the data names for each of these AS numbers (its first range's). */
  organizationsOf(asns: readonly number[]): Map<number, string | null> {
    const wanted = new Set(asns);
    const found = new Map<number, string | null>();
    for (const [table, stride, asnAt] of [
      [this.v4, V4_STRIDE, 2],
      [this.v6, V6_STRIDE, 8],
    ] as const) {
      for (let at = asnAt; at < table.length; at += stride) {
        const asn = table[at];
        if (wanted.has(asn) && !found.has(asn)) found.set(asn, this.org(table[at + 1]));
      }
    }
    return found;
  }

  private org(index: number): string | null {
    let name = this.orgNames.get(index);
    if (name === undefined) {
      name = this.orgBytes.toString('utf8', this.orgOffsets[index], this.orgOffsets[index + 1]);
      this.orgNames.set(index, name);
    }
    return name === '' ? null : name;
  }

  /** Offset of the range holding n, or -1. Ranges are sorted and do not overlap. */
  private find4(n: number): number {
    const t = this.v4;
    let lo = 0;
    let hi = t.length / V4_STRIDE - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid * V4_STRIDE] <= n) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const at = found * V4_STRIDE;
    return n <= t[at + 1] ? at : -1;
  }

  private find6(w: readonly number[]): number {
    const t = this.v6;
    const cmp = (at: number) => {
      for (let i = 0; i < 4; i++) if (t[at + i] !== w[i]) return t[at + i] < w[i] ? -1 : 1;
      return 0;
    };
    let lo = 0;
    let hi = t.length / V6_STRIDE - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(mid * V6_STRIDE) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return -1;
    const at = found * V6_STRIDE;
    return cmp(at + 4) >= 0 ? at : -1;
  }
}

// ---------------------------------------------------------------------------------------------
// MMDB records: MaxMind's shapes and ip-location-db's

/** A field of an MMDB record, whatever its shape (MaxMind's or ip-location-db's). */
function field(record: object | null | undefined, name: string): unknown {
  return record ? (record as Record<string, unknown>)[name] : undefined;
}

function nested(record: object, outer: string, inner: string): unknown {
  const value = field(record, outer);
  return typeof value === 'object' ? field(value, inner) : undefined;
}

function countryOf(record: object): string | null {
  const code = field(record, 'country_code') ?? nested(record, 'country', 'iso_code') ?? nested(record, 'registered_country', 'iso_code');
  return typeof code === 'string' && /^[A-Za-z]{2}$/.test(code) ? code.toUpperCase() : null;
}

function asnOf(record: object): { asn: number; org: string | null } | null {
  const raw = field(record, 'autonomous_system_number') ?? field(record, 'asn');
  const asn = typeof raw === 'number' ? raw : typeof raw === 'string' && /^(AS)?\d+$/i.test(raw) ? Number(raw.replace(/^AS/i, '')) : NaN;
  if (!Number.isInteger(asn)) return null;
  const org = field(record, 'autonomous_system_organization') ?? field(record, 'as_organization');
  return { asn, org: typeof org === 'string' && org !== '' ? org : null };
}

// ---------------------------------------------------------------------------------------------

/** The bundled country MMDB (IPv4 and IPv6 in one file). */
function bundledCountryMmdb(): string {
  return join(dirname(require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json')), 'geo-whois-asn-country.mmdb');
}

let bundledData: { country: { file: string; bytes: SharedArrayBuffer }; asn: AsnShared } | null = null;

function loadBundled(): { country: { file: string; bytes: SharedArrayBuffer }; asn: AsnShared } {
  const file = bundledCountryMmdb();
  return { country: { file, bytes: readShared(file, 'bundled MMDB file') }, asn: loadBundledAsn() };
}

function readShared(file: string, what: string): SharedArrayBuffer {
  try {
    return toShared(readFileSync(file));
  } catch (err) {
    throw new Error(`GeoIP: cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Lookups per worker are cached; addresses repeat a lot in logs. */
const CACHE_LIMIT = 50_000;

export class GeoIp {
  private readonly readers: { file: string; reader: Reader<Response> }[];
  private readonly asnRanges: AsnRanges | null;
  private readonly overrides: { cidr: Cidr; info: GeoInfo }[];
  private readonly cache = new Map<string, GeoInfo>();
  private readonly enrichments = new Map<string, EnrichmentRow>();

  private constructor(private readonly shared: GeoIpShared) {
    this.readers = shared.mmdb.map(({ file, bytes }) => {
      try {
        return { file, reader: new Reader<Response>(Buffer.from(bytes)) };
      } catch (err) {
        throw new Error(`GeoIP: ${file} is not a MaxMind DB file (${(err as Error).message})`);
      }
    });
    this.asnRanges = shared.asn ? new AsnRanges(shared.asn) : null;
    this.overrides = shared.overrides
      .map((o, i) => {
        const cidr = parseCidr(o.network);
        if (!cidr) throw new Error(`GeoIP overrides: networks[${i}].network '${o.network}' is not an address or CIDR`);
        const asn = o.asn ?? null;
        const cloud = o.cloud !== undefined ? o.cloud : asn !== null ? (CLOUD_ASNS[asn] ?? null) : null;
        return { cidr, info: { country: o.country?.toUpperCase() ?? null, asn, org: o.org ?? null, cloud } };
      })
      .sort((a, b) => b.cidr.prefix - a.cidr.prefix);
  }

  /**
   * Loads the data the options name. Files are read whole; the bundled data (about a second to
   * read) is read once per process and shared by every GeoIp after that.
   */
  static load(options: GeoIpOptions = {}): GeoIp {
    const mmdb = (options.mmdb ?? []).map((file) => ({ file, bytes: readShared(file, 'MMDB file') }));
    const bundled = options.bundled === false ? null : (bundledData ??= loadBundled());
    const overrides = options.overrides ? readOverrides(options.overrides) : [];
    return new GeoIp({ mmdb: [...mmdb, ...(bundled ? [bundled.country] : [])], asn: bundled?.asn ?? null, overrides });
  }

  /** A GeoIp over data another thread loaded (see share()). */
  static fromShared(shared: GeoIpShared): GeoIp {
    return new GeoIp(shared);
  }

  /** The loaded data as plain shared memory, for worker threads (structured clone shares, not copies, the buffers). */
  share(): GeoIpShared {
    return this.shared;
  }

  /** What the data is: files and range counts, for summaries and errors. */
  describe(): { mmdb: string[]; asnRanges: number; overrides: number } {
    return { mmdb: this.readers.map((r) => r.file), asnRanges: this.asnRanges?.ranges ?? 0, overrides: this.overrides.length };
  }

  /** The bundled ASN data's organization for each AS number it has (to check CLOUD_ASNS against). */
  organizationsOf(asns: readonly number[]): Map<number, string | null> {
    return this.asnRanges?.organizationsOf(asns) ?? new Map<number, string | null>();
  }

  lookup(address: string | null | undefined): GeoInfo {
    if (!address) return NO_GEO;
    const cached = this.cache.get(address);
    if (cached) return cached;
    const info = this.resolve(address);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(address, info);
    return info;
  }

  /**
   * The enrichment columns for an address: resolved once per distinct address and then shared by
   * every row that carries it (the ingest hands the same frozen object to each of them), so the
   * cost per row is one Map lookup, not a resolve and a new object.
   */
  enrichment(address: string | null | undefined): EnrichmentRow {
    if (!address) return NO_ENRICHMENT;
    const cached = this.enrichments.get(address);
    if (cached) return cached;
    const row = Object.freeze(enrichmentOf(this.lookup(address)));
    if (this.enrichments.size >= CACHE_LIMIT) this.enrichments.clear();
    this.enrichments.set(address, row);
    return row;
  }

  private resolve(address: string): GeoInfo {
    const ip = parseIp(address);
    if (!ip) return NO_GEO;
    for (const o of this.overrides) if (inCidr(ip, o.cidr)) return o.info;
    if (SPECIAL.some((cidr) => inCidr(ip, cidr))) return NO_GEO;
    const text = ip.v === 4 ? formatIpv4(ip.n) : address;
    let country: string | null = null;
    let as: { asn: number; org: string | null } | null = null;
    for (const { reader } of this.readers) {
      const record = reader.get(text);
      if (!record) continue;
      country ??= countryOf(record);
      as ??= asnOf(record);
      if (country && as) break;
    }
    as ??= this.asnRanges?.lookup(ip) ?? null;
    if (!country && !as) return NO_GEO;
    return { country, asn: as?.asn ?? null, org: as?.org ?? null, cloud: as ? (CLOUD_ASNS[as.asn] ?? null) : null };
  }
}

function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Reads and checks an overrides file; errors name the file and the entry. */
export function readOverrides(file: string): OverrideNetwork[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`GeoIP overrides ${file}: ${(err as Error).message}`);
  }
  const networks = (parsed as { networks?: unknown } | null)?.networks;
  if (!Array.isArray(networks)) throw new Error(`GeoIP overrides ${file}: expected { "networks": [ … ] }`);
  return networks.map((entry: unknown, i): OverrideNetwork => {
    const where = `GeoIP overrides ${file}: networks[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} is not an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.network !== 'string' || !parseCidr(e.network)) throw new Error(`${where}.network must be an address or CIDR`);
    const optionalText = (key: string) => {
      const v = e[key];
      if (v !== undefined && v !== null && typeof v !== 'string') throw new Error(`${where}.${key} must be text or null`);
      return v;
    };
    const country = optionalText('country');
    if (typeof country === 'string' && !/^[A-Za-z]{2}$/.test(country)) throw new Error(`${where}.country must be a two-letter code`);
    const asn = e.asn;
    if (asn !== undefined && asn !== null && !(typeof asn === 'number' && Number.isInteger(asn) && asn >= 0 && asn <= 4294967295))
      throw new Error(`${where}.asn must be a whole number from 0 to 4294967295`);
    const known = new Set(['network', 'country', 'asn', 'org', 'cloud']);
    for (const key of Object.keys(e)) if (!known.has(key)) throw new Error(`${where}: unknown key '${key}'`);
    return {
      network: e.network,
      ...(country !== undefined ? { country: country } : {}),
      ...(asn !== undefined ? { asn: asn } : {}),
      ...(optionalText('org') !== undefined ? { org: e.org as string | null } : {}),
      ...(optionalText('cloud') !== undefined ? { cloud: e.cloud as string | null } : {}),
    };
  });
}

/** The enrichment columns of a row without an address (all empty). */
const NO_ENRICHMENT: EnrichmentRow = Object.freeze({ src_country: null, src_asn: null, src_as_org: null, src_is_cloud: null });

/** The enrichment columns (src/core/tables.ts) for a lookup's answer. */
export function enrichmentOf(info: GeoInfo): EnrichmentRow {
  return { src_country: info.country, src_asn: info.asn, src_as_org: info.org, src_is_cloud: info === NO_GEO ? null : info.cloud !== null };
}
