import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { source as nsgflow } from '../../etl/sources/nsgflow/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(nsgflow);

/** The rows of a parse, in order: flow logs yield one item per flow tuple. */
function rowsOf(items: ParsedItem[]): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.map((r) => r.row) : []));
}

/** The flow tuples of a golden file, counted straight from its JSON (independently of the parser). */
function tuplesIn(file: string): number {
  const { records } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { records: Record<string, unknown>[] };
  let count = 0;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'flowTuples' && Array.isArray(inner)) count += inner.length;
        else walk(inner);
      }
  };
  walk(records);
  return count;
}

describe('nsgflow', () => {
  test('version 1: one item per flow tuple, decisions and protocols decoded', async () => {
    const items = await parseFile(nsgflow, join(dir, 'ms-docs-version1.json'));
    expect(items.every((i) => i.kind === 'rows' && i.rows.length === 1)).toBe(true);
    const rows = rowsOf(items);
    // Microsoft's example: three records of 5, 4 and 3 tuples.
    expect(rows).toHaveLength(12);
    expect(rows).toHaveLength(tuplesIn('ms-docs-version1.json'));
    const [denied, rdp] = rows;
    expect(denied).toMatchObject({
      src_ip: '42.119.146.95',
      dst_ip: '10.1.0.4',
      src_port: 51529,
      dst_port: 5358,
      protocol: 6,
      direction: 'ingress',
      disposition: 'REJECT',
      outcome: 'failure',
      rule: 'DefaultRule_DenyAllInBound',
      interface_id: '000D3AF8801A',
      account: '00000000-0000-0000-0000-000000000000',
      region: 'unknown',
    });
    expect((denied['time'] as Date).toISOString()).toBe('2017-02-16T22:00:21.000Z');
    expect(rdp).toMatchObject({ disposition: 'ACCEPT', dst_port: 3389, rule: 'UserRule_default-allow-rdp' });
    // The second record's first tuple.
    expect(rows[5]).toMatchObject({ protocol: 17, src_port: 53 });
    // Version 1 has no counters.
    expect(denied['packets']).toBeNull();
  });

  test('version 2: begin tuples have no counts; continue and end tuples sum both directions', async () => {
    const rows = rowsOf(await parseFile(nsgflow, join(dir, 'ms-docs-version2.json')));
    expect(rows).toHaveLength(11);
    expect(rows).toHaveLength(tuplesIn('ms-docs-version2.json'));
    const outbound = rows.slice(0, 7).filter((r) => r['direction'] === 'egress');
    expect(outbound.map((r) => [r['packets'], r['bytes']])).toEqual([
      [null, null],
      [2n, 132n],
      [54n, 30986n],
      [27n, 15543n],
    ]);
  });

  test('VNet flow logs: millisecond timestamps, numeric protocol, D state is a deny', async () => {
    const rows = rowsOf(await parseFile(nsgflow, join(dir, 'vnet-flow-log.json')));
    expect(rows).toHaveLength(6);
    expect(rows).toHaveLength(tuplesIn('vnet-flow-log.json'));
    expect((rows[0]['time'] as Date).toISOString()).toBe('2022-09-14T09:00:03.599Z');
    expect(rows[0]).toMatchObject({ protocol: 6, disposition: 'ACCEPT', region: 'eastus2euap', vpc_id: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/myresourcegroup/providers/microsoft.network/virtualnetworks/myvnet' });
    expect(rows[3]).toMatchObject({ disposition: 'REJECT', dst_port: 22, rule: 'BlockHighRiskTCPPortsFromInternet' });
  });

  test('an unreadable tuple costs only itself; a record that is not a flow record is one quarantine', async () => {
    const items = await parseFile(nsgflow, join(dir, 'bad-records.json'));
    // Record 1: 7 tuples; record 2: 4 tuples, the third cut short; record 3: a rule counter; record 4: 4 tuples.
    expect(items.map((i) => i.kind)).toEqual([...Array<string>(9).fill('rows'), 'quarantine', 'rows', 'quarantine', ...Array<string>(4).fill('rows')]);
    const quarantined = items.flatMap((i) => (i.kind === 'quarantine' ? [i] : []));
    expect(quarantined.map((q) => [q.position, q.reason])).toEqual([
      [
        "record 2 (line 3), flow tuple 3 of rule 'DefaultRule_DenyAllInBound' (mac 000D3AF87856)",
        "flow tuple 3 of rule 'DefaultRule_DenyAllInBound' (mac 000D3AF87856) \"1542110487,46.101.199.124,10.5.16.4,60577\": expected 8 (version 1) or 13 (version 2) fields, got 4",
      ],
      ['record 3 (line 4)', "not a flow log record (category 'NetworkSecurityGroupRuleCounter'): no properties.flows"],
    ]);
    // The bad tuple is kept as its own text.
    expect(quarantined[0].text).toBe('1542110487,46.101.199.124,10.5.16.4,60577');
    // Every tuple is accounted for: a row or a quarantine of its own.
    expect(rowsOf(items).length + 1).toBe(tuplesIn('bad-records.json'));
  });

  test('detection: flow logs yes; CloudTrail and Azure Activity no', () => {
    const nsg = '{"records":[{"time":"2017-02-16T22:00:32Z","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"0","flowTuples":[';
    expect(nsgflow.detect({ key: 'x/insights-logs-networksecuritygroupflowevent/resourceId=/y/PT1H.json', head: nsg })).toEqual({ confidence: 1 });
    expect(nsgflow.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventName":"AuthorizeSecurityGroupIngress"}]}' })).toEqual({ confidence: 0 });
    expect(nsgflow.detect({ key: '/x.json', head: '{"records":[{"resourceId":"/subscriptions/1","operationName":"Microsoft.Network/networkSecurityGroups/write","category":"Administrative"}' })).toEqual({ confidence: 0 });
  });
});
