/**
 * Azure Network Watcher flow logs from storage (`{"records":[…]}`, one blob per hour):
 * NSG flow logs versions 1 and 2 (`properties.flows[].flows[].flowTuples`) and the newer
 * virtual network flow logs (`flowRecords.flows[].flowGroups[].flowTuples`).
 *
 * One JSON record (a minute of a NIC's flows) holds many flow tuples, and each tuple is a flow
 * record: it yields its own item (one network_activity row, or a quarantine naming the tuple and
 * why), so a run's `records` count flows as the lake holds them and one bad tuple costs only
 * itself. A JSON record that is not a flow record at all is one quarantine item.
 */
import { sha1Hex } from '../../../src/core/hash';
import { arr, azureSubscription, distinct, obj, requireObject, str, NormalizeError, type JsonObject } from '../../fields/json';
import { readJsonRecords } from '../../readers/json-records';
import { defineSource, quarantine, type Detection, type DetectSample, type ParsedItem, type RowIn } from '../types';
import { manifest } from './manifest';

type Row = RowIn<'network_activity'>;

const FLOW_CONTENT = /"(?:flowTuples|NetworkSecurityGroupFlowEvents?|FlowLogFlowEvent)"/;
const [FLOW_KEY] = manifest.objects.keyPatterns;

export function detectNsgFlow({ key, head }: DetectSample): Detection {
  if (!FLOW_CONTENT.test(head)) return { confidence: 0 };
  return { confidence: FLOW_KEY.test(key) ? 1 : 0.95 };
}

/** NSG logs write the protocol as a letter; VNet flow logs as the IANA number. */
const PROTOCOL_LETTERS: Record<string, number> = { T: 6, U: 17 };

/** Where a tuple came from, for its row and for a quarantine reason that points at it. */
interface TupleContext {
  rule: string;
  mac: string | null;
  /** Resource the flow was logged for: the NSG, or the VNet flow log's target. */
  resourceId: string | null;
  vpcId: string | null;
  /** VNet flow logs: millisecond timestamps, numeric protocols, flow state instead of decision. */
  vnet: boolean;
}

class TupleError extends Error {}

function port(field: string, name: string): number {
  if (!/^\d{1,5}$/.test(field) || Number(field) > 65535) throw new TupleError(`bad ${name} '${field}'`);
  return Number(field);
}

/** Counts are empty on a Begin tuple (no statistics yet); otherwise they must be numbers. */
function count(field: string | undefined, name: string): bigint | null {
  if (field === undefined || field === '') return null;
  if (!/^\d+$/.test(field)) throw new TupleError(`bad ${name} '${field}'`);
  return BigInt(field);
}

function sum(a: bigint | null, b: bigint | null): bigint | null {
  return a === null && b === null ? null : (a ?? 0n) + (b ?? 0n);
}

/**
 * One tuple as a row. NSG v1: `ts,src,dst,sport,dport,T|U,I|O,A|D`; v2 adds
 * `,B|C|E,packetsS2D,bytesS2D,packetsD2S,bytesD2S`. VNet: `ts_ms,src,dst,sport,dport,proto,I|O,B|C|E|D,encryption,pS2D,bS2D,pD2S,bD2S`.
 */
function tupleRow(tuple: string, ctx: TupleContext, account: string, region: string): Row {
  const f = tuple.split(',');
  const vnet = ctx.vnet;
  if (vnet ? f.length !== 13 : f.length !== 8 && f.length !== 13) {
    throw new TupleError(`expected ${vnet ? '13' : '8 (version 1) or 13 (version 2)'} fields, got ${f.length}`);
  }
  const [ts, src, dst, sport, dport, proto, dir, decisionOrState] = f as [string, string, string, string, string, string, string, string];
  if (!/^\d{9,13}$/.test(ts)) throw new TupleError(`bad timestamp '${ts}'`);
  // VNet flow logs write epoch milliseconds; NSG flow logs epoch seconds.
  const time = new Date(ts.length > 11 ? Number(ts) : Number(ts) * 1000);
  if (!src || !dst) throw new TupleError('missing source or destination address');
  const protocol = vnet ? (/^\d{1,3}$/.test(proto) ? Number(proto) : undefined) : PROTOCOL_LETTERS[proto];
  if (protocol === undefined) throw new TupleError(`bad protocol '${proto}'`);
  if (dir !== 'I' && dir !== 'O') throw new TupleError(`bad direction '${dir}'`);
  let denied: boolean;
  if (vnet) {
    if (!['B', 'C', 'E', 'D'].includes(decisionOrState)) throw new TupleError(`bad flow state '${decisionOrState}'`);
    denied = decisionOrState === 'D';
  } else {
    if (decisionOrState !== 'A' && decisionOrState !== 'D') throw new TupleError(`bad decision '${decisionOrState}'`);
    denied = decisionOrState === 'D';
    if (f.length === 13 && !['B', 'C', 'E'].includes(f[8])) throw new TupleError(`bad flow state '${f[8]}'`);
  }
  const [packetsOut, bytesOut, packetsIn, bytesIn] =
    f.length === 13
      ? [count(f[9], 'packets'), count(f[10], 'bytes'), count(f[11], 'packets'), count(f[12], 'bytes')]
      : [null, null, null, null];

  // The raw text of one tuple is the tuple plus where it sat; repeating the whole record per tuple would not scale.
  // Absent fields stay out of the text (event ids hash it).
  const raw = JSON.stringify({ resourceId: ctx.resourceId ?? undefined, rule: ctx.rule, mac: ctx.mac ?? undefined, flowTuple: tuple });
  return {
    table: 'network_activity',
    row: {
      time,
      event_id: sha1Hex(raw),
      class_uid: 4001,
      activity: 'flow',
      service: 'microsoft.network',
      outcome: denied ? 'failure' : 'success',
      error_code: null,
      error_message: null,
      actor_id: null,
      actor_type: null,
      actor_name: null,
      actor_arn: null,
      actor_account: null,
      session_id: null,
      src_ip: src,
      user_agent: null,
      resources: distinct([ctx.resourceId?.toLowerCase()]),
      raw,
      account,
      region,
      dst_ip: dst,
      src_port: port(sport, 'source port'),
      dst_port: port(dport, 'destination port'),
      protocol,
      packets: sum(packetsOut, packetsIn),
      bytes: sum(bytesOut, bytesIn),
      start_time: null,
      end_time: null,
      disposition: denied ? 'REJECT' : 'ACCEPT',
      log_status: 'OK',
      direction: dir === 'I' ? 'ingress' : 'egress',
      interface_id: ctx.mac,
      vpc_id: ctx.vpcId,
      subnet_id: null,
      instance_id: null,
      tcp_flags: null,
      traffic_type: src.includes(':') ? 'IPv6' : 'IPv4',
      pkt_src_ip: null,
      pkt_dst_ip: null,
      rule: ctx.rule,
      transit_gateway_id: null,
      attachment_id: null,
      pair_attachment_id: null,
      src_vpc_account: null,
      dst_vpc_account: null,
      dst_vpc_id: null,
      dst_subnet_id: null,
      dst_interface_id: null,
      packets_lost: null,
      tls_protocol: null,
      tls_cipher: null,
      server_name: null,
      client_cert_subject: null,
      client_cert_serial: null,
    },
  };
}

interface TupleGroup {
  ctx: TupleContext;
  tuples: unknown[];
}

/** NSG flow logs: properties.flows[] (per rule) → flows[] (per NIC) → flowTuples[]. */
function nsgGroups(record: JsonObject): TupleGroup[] {
  const properties = obj(record['properties']);
  if (!properties || !Array.isArray(properties['flows'])) {
    const category = str(record['category']);
    throw new NormalizeError(`not a flow log record${category ? ` (category '${category}')` : ''}: no properties.flows`);
  }
  const resourceId = str(record['resourceId']);
  return arr(properties['flows']).flatMap((ruleFlows) => {
    const rule = str(obj(ruleFlows)?.['rule']) ?? '';
    return arr(obj(ruleFlows)?.['flows']).map((nicFlows) => ({
      ctx: { rule, mac: str(obj(nicFlows)?.['mac']), resourceId, vpcId: null, vnet: false },
      tuples: arr(obj(nicFlows)?.['flowTuples']),
    }));
  });
}

/** VNet flow logs: flowRecords.flows[] (per ACL) → flowGroups[] (per rule) → flowTuples[]. */
function vnetGroups(record: JsonObject): TupleGroup[] {
  const flows = obj(record['flowRecords'])?.['flows'];
  if (!Array.isArray(flows)) throw new NormalizeError('missing flowRecords.flows');
  const target = str(record['targetResourceID']);
  const vpcId = target && /\/virtualNetworks\//i.test(target) ? target.toLowerCase() : null;
  const mac = str(record['macAddress']);
  return flows.flatMap((aclFlows) =>
    arr(obj(aclFlows)?.['flowGroups']).map((group) => ({
      ctx: { rule: str(obj(group)?.['rule']) ?? '', mac, resourceId: target, vpcId, vnet: true },
      tuples: arr(obj(group)?.['flowTuples']),
    })),
  );
}

/** The region in a default Network Watcher name (`NetworkWatcher_eastus`), the only place a VNet flow log names one. */
function watcherRegion(flowLogResourceId: string | null): string | null {
  const match = flowLogResourceId ? /\/networkWatchers\/NetworkWatcher_([a-z0-9]+)\//i.exec(flowLogResourceId) : null;
  return match?.[1]?.toLowerCase() ?? null;
}

/** One item per flow tuple of a JSON record (a row, or a quarantine naming the tuple); one quarantine when the record is not a flow record. */
export function* flowItems(value: unknown, text: string, position: string): Generator<ParsedItem<'network_activity'>> {
  let groups: TupleGroup[];
  let account: string;
  let region: string;
  try {
    const record = requireObject(value, 'flow log');
    const vnet = record['flowRecords'] !== undefined;
    groups = vnet ? vnetGroups(record) : nsgGroups(record);
    account =
      azureSubscription(str(record['resourceId']) ?? str(record['targetResourceID']) ?? str(record['flowLogResourceID'])) ?? 'unknown';
    // NSG flow records carry no region at all.
    region = (vnet ? watcherRegion(str(record['flowLogResourceID'])) : null) ?? 'unknown';
  } catch (err) {
    const reason = err instanceof NormalizeError ? err.message : `cannot normalize: ${(err as Error).message}`;
    yield quarantine(position, reason, text);
    return;
  }
  for (const { ctx, tuples } of groups) {
    for (let index = 0; index < tuples.length; index++) {
      const tuple = tuples[index];
      const where = `flow tuple ${index + 1} of rule '${ctx.rule}'${ctx.mac ? ` (mac ${ctx.mac})` : ''}`;
      const tuplePosition = `${position}, ${where}`;
      if (typeof tuple !== 'string') {
        yield quarantine(tuplePosition, `${where}: not a string`, JSON.stringify(tuple) ?? String(tuple));
        continue;
      }
      try {
        yield { kind: 'rows', rows: [tupleRow(tuple, ctx, account, region)] };
      } catch (err) {
        if (!(err instanceof TupleError)) throw err;
        yield quarantine(tuplePosition, `${where} "${tuple}": ${err.message}`, tuple);
      }
    }
  }
}

export const source = defineSource(manifest, {
  detect: detectNsgFlow,
  async *parse(input) {
    for await (const record of readJsonRecords(input, { envelopeKeys: ['records'] })) {
      if (record.ok) yield* flowItems(record.value, record.text, record.position);
      else yield quarantine(record.position, record.reason, record.text);
    }
  },
});
