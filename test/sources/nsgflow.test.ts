import { join } from 'node:path';
import { source as nsgflow } from '../../etl/sources/nsgflow/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(nsgflow);

/** Rows per input record: flow logs yield one item per record holding all its tuples. */
function rowsPerRecord(items: ParsedItem[]): Row[][] {
  return items.map((item) => (item.kind === 'rows' ? item.rows.map((r) => r.row) : []));
}

describe('nsgflow', () => {
  test('version 1: one item per record, one row per tuple, decisions and protocols decoded', async () => {
    const items = await parseFile(nsgflow, join(dir, 'ms-docs-version1.json'));
    expect(items.every((i) => i.kind === 'rows')).toBe(true);
    const perRecord = rowsPerRecord(items);
    expect(perRecord.map((rows) => rows.length)).toEqual([5, 4, 3]);
    const [denied, rdp] = perRecord[0];
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
    expect(perRecord[1][0]).toMatchObject({ protocol: 17, src_port: 53 });
    // Version 1 has no counters.
    expect(denied['packets']).toBeNull();
  });

  test('version 2: begin tuples have no counts; continue and end tuples sum both directions', async () => {
    const perRecord = rowsPerRecord(await parseFile(nsgflow, join(dir, 'ms-docs-version2.json')));
    expect(perRecord.map((rows) => rows.length)).toEqual([7, 4]);
    const outbound = perRecord[0].filter((r) => r['direction'] === 'egress');
    expect(outbound.map((r) => [r['packets'], r['bytes']])).toEqual([
      [null, null],
      [2n, 132n],
      [54n, 30986n],
      [27n, 15543n],
    ]);
  });

  test('VNet flow logs: millisecond timestamps, numeric protocol, D state is a deny', async () => {
    const [rows] = rowsPerRecord(await parseFile(nsgflow, join(dir, 'vnet-flow-log.json')));
    expect(rows).toHaveLength(6);
    expect((rows[0]['time'] as Date).toISOString()).toBe('2022-09-14T09:00:03.599Z');
    expect(rows[0]).toMatchObject({ protocol: 6, disposition: 'ACCEPT', region: 'eastus2euap', vpc_id: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/myresourcegroup/providers/microsoft.network/virtualnetworks/myvnet' });
    expect(rows[3]).toMatchObject({ disposition: 'REJECT', dst_port: 22, rule: 'BlockHighRiskTCPPortsFromInternet' });
  });

  test('a record with an unreadable tuple is quarantined whole; its neighbours survive', async () => {
    const items = await parseFile(nsgflow, join(dir, 'bad-records.json'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [i.reason] : []));
    expect(reasons[0]).toBe(
      "flow tuple 3 of rule 'DefaultRule_DenyAllInBound' (mac 000D3AF87856) \"1542110487,46.101.199.124,10.5.16.4,60577\": expected 8 (version 1) or 13 (version 2) fields, got 4",
    );
    expect(reasons[1]).toBe("not a flow log record (category 'NetworkSecurityGroupRuleCounter'): no properties.flows");
    expect(rowsPerRecord(items).map((rows) => rows.length)).toEqual([7, 0, 0, 4]);
  });

  test('detection: flow logs yes; CloudTrail and Azure Activity no', () => {
    const nsg = '{"records":[{"time":"2017-02-16T22:00:32Z","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"0","flowTuples":[';
    expect(nsgflow.detect({ key: 'x/insights-logs-networksecuritygroupflowevent/resourceId=/y/PT1H.json', head: nsg })).toEqual({ confidence: 1 });
    expect(nsgflow.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventName":"AuthorizeSecurityGroupIngress"}]}' })).toEqual({ confidence: 0 });
    expect(nsgflow.detect({ key: '/x.json', head: '{"records":[{"resourceId":"/subscriptions/1","operationName":"Microsoft.Network/networkSecurityGroups/write","category":"Administrative"}' })).toEqual({ confidence: 0 });
  });
});
