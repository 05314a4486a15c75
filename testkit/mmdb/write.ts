/**
 * A small MaxMind DB (MMDB) writer, following the published format (MaxMind DB File Format
 * Specification 2.0): an IPv6 search tree with 24-bit records (IPv4 networks under ::/96), the data
 * section, and the metadata. Tests use it to hand ScoutQL an MMDB shaped like MaxMind's GeoLite2
 * Country / ASN files, which are not redistributable, and read it with the real reader (mmdb-lib).
 */
import { parseCidr } from '../../src/core/geoip';

export type MmdbValue = string | number | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** CIDR: 198.51.100.0/24, 2001:db8::/32… */
  network: string;
  data: { [key: string]: MmdbValue };
}

interface TrieNode {
  children: [TrieNode | number | null, TrieNode | number | null];
}

const RECORD_BITS = 24;

export function writeMmdb(options: { databaseType: string; networks: readonly MmdbNetwork[]; description?: string }): Buffer {
  const data = new DataSection();
  const root: TrieNode = { children: [null, null] };
  for (const { network, data: record } of options.networks) {
    const cidr = parseCidr(network);
    if (!cidr) throw new Error(`not a network: ${network}`);
    const words = cidr.v === 4 ? [0, 0, 0, cidr.words[0]] : cidr.words;
    const bits = cidr.v === 4 ? 96 + cidr.prefix : cidr.prefix;
    const offset = data.add(record);
    let node = root;
    for (let i = 0; i < bits; i++) {
      const bit = (words[i >> 5] >>> (31 - (i & 31))) & 1;
      if (i === bits - 1) {
        node.children[bit] = offset;
        break;
      }
      const child = node.children[bit];
      if (typeof child === 'number') throw new Error(`network ${network} is inside another one`);
      node = child ?? (node.children[bit] = { children: [null, null] });
    }
  }
  // Number the nodes breadth first; the root is node 0.
  const nodes: TrieNode[] = [root];
  for (let i = 0; i < nodes.length; i++) for (const c of nodes[i].children) if (c && typeof c !== 'number') nodes.push(c);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * ((RECORD_BITS * 2) / 8));
  nodes.forEach((node, i) => {
    node.children.forEach((c, side) => {
      // A pointer to a node, "no data" (node_count), or into the data section (offset + node_count + 16).
      const value = c === null ? nodeCount : typeof c === 'number' ? c + nodeCount + 16 : index.get(c)!;
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    node_count: { uint32: nodeCount },
    record_size: { uint16: RECORD_BITS },
    ip_version: { uint16: 6 },
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: Math.floor(Date.UTC(2026, 0, 1) / 1000) },
    description: { en: options.description ?? 'ScoutQL test database' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), data.bytes(), Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}

class DataSection {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  add(record: { [key: string]: MmdbValue }): number {
    const offset = this.size;
    const bytes = encode(record);
    this.chunks.push(bytes);
    this.size += bytes.length;
    return offset;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Numbers are uint32 unless wrapped: { uint16: n } / { uint64: n } (metadata needs those types). */
type Encodable = MmdbValue | { uint16: number } | { uint32: number } | { uint64: number } | { [key: string]: Encodable };

function control(type: number, size: number): Buffer {
  const extended = type > 7;
  const head = [(extended ? 0 : type) << 5];
  const tail: number[] = [];
  if (size < 29) head[0] |= size;
  else if (size < 285) {
    head[0] |= 29;
    tail.push(size - 29);
  } else if (size < 65821) {
    head[0] |= 30;
    tail.push(((size - 285) >> 8) & 255, (size - 285) & 255);
  } else throw new Error('value too large for this writer');
  return Buffer.from([...head, ...(extended ? [type - 7] : []), ...tail]);
}

function unsigned(type: number, value: number): Buffer {
  const bytes: number[] = [];
  for (let v = BigInt(value); v > 0n; v >>= 8n) bytes.unshift(Number(v & 255n));
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function encode(value: Encodable): Buffer {
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, text.length), text]);
  }
  if (typeof value === 'number') return unsigned(6, value);
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'uint16') return unsigned(5, (value as { uint16: number }).uint16);
  if (keys.length === 1 && keys[0] === 'uint32') return unsigned(6, (value as { uint32: number }).uint32);
  if (keys.length === 1 && keys[0] === 'uint64') return unsigned(9, (value as { uint64: number }).uint64);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}
