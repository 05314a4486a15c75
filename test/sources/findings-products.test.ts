/**
 * GuardDuty and Security Hub findings read into the findings table: what the golden files (built
 * from the finding examples in the GuardDuty and Security Hub user guides) must give an analyst.
 */
import { join } from 'node:path';
import { source as guardduty } from '../../etl/sources/guardduty/parser';
import { source as securityhub } from '../../etl/sources/securityhub/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

type Row = Readonly<Record<string, unknown>>;

function rowsOf(items: ParsedItem[]): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.map((r) => ({ table: r.table, ...r.row })) : []));
}

function reasonsOf(items: ParsedItem[]): string[] {
  return items.flatMap((item) => (item.kind === 'quarantine' ? [item.reason] : []));
}

describe('GuardDuty findings', () => {
  const dir = goldenDir(guardduty);

  test('the S3 export: a row per finding line, keyed to the identity, the access key and the caller address', async () => {
    const rows = rowsOf(await parseFile(guardduty, join(dir, 'export-sample-findings.jsonl')));
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r['table'] === 'findings' && r['product'] === 'guardduty')).toBe(true);
    expect(rows[0]).toMatchObject({
      rule_id: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      level: 'high',
      product_severity: 8,
      techniques: ['T1552.005'],
      actor_id: 'arn:aws:iam::123456789012:role/app-instance-role',
      session_id: 'ASIAIOSFODNN7EXAMPLE',
      src_ip: '198.51.100.42',
      account: '123456789012',
      region: 'us-east-1',
    });
    // A port probe is about an instance: its resource is the instance's ARN, the prober is the address.
    expect(rows[1]).toMatchObject({
      rule_id: 'Recon:EC2/PortProbeUnprotectedPort',
      level: 'low',
      src_ip: '192.0.2.201',
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718'],
      evidence_count: 14,
    });
  });

  test('an updated finding exported again is a newer row of the same finding id', async () => {
    const rows = rowsOf(await parseFile(guardduty, join(dir, 'export-sample-findings.jsonl')));
    const same = rows.filter((r) => r['finding_id'] === rows[0]['finding_id']);
    expect(same).toHaveLength(2);
    expect((same[1]['time'] as Date).getTime()).toBeGreaterThan((same[0]['time'] as Date).getTime());
    expect(same[1]['evidence_count']).toBe(3);
  });

  test('an EventBridge "GuardDuty Finding" event: the detail is the finding and the raw record', async () => {
    const [row] = rowsOf(await parseFile(guardduty, join(dir, 'eventbridge-finding.json')));
    expect(row).toMatchObject({
      rule_id: 'Stealth:IAMUser/CloudTrailLoggingDisabled',
      tactics: ['defense-evasion'],
      actor_id: 'arn:aws:iam::123456789012:user/legacy-admin',
      src_ip: '203.0.113.150',
    });
    expect(JSON.parse(row['raw'] as string)).toHaveProperty('type', 'Stealth:IAMUser/CloudTrailLoggingDisabled');
  });

  test('bad records are quarantined with their reason; other EventBridge GuardDuty events are refused by name', async () => {
    const items = await parseFile(guardduty, join(dir, 'bad-records.jsonl'));
    expect(items.every((i) => i.kind === 'quarantine')).toBe(true);
    expect(reasonsOf(items)).toEqual([
      expect.stringMatching(/^invalid JSON/),
      'missing id',
      'not a GuardDuty finding event: detail-type "GuardDuty Malware Protection Object Scan Result"',
      'unparseable updatedAt: "not a time"',
    ]);
  });
});

describe('Security Hub findings (ASFF)', () => {
  const dir = goldenDir(securityhub);

  test('"Security Hub Findings - Imported" events: a row per finding of detail.findings, product securityhub', async () => {
    const rows = rowsOf(await parseFile(securityhub, join(dir, 'eventbridge-imported.json')));
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r['product'] === 'securityhub')).toBe(true);
    // The GuardDuty finding as Security Hub imports it: same identity and key as GuardDuty's own row.
    expect(rows[0]).toMatchObject({
      finding_id: expect.stringMatching(/^arn:aws:guardduty:us-east-1:123456789012:detector\/.+\/finding\//),
      techniques: ['T1562.008'],
      tactics: ['defense-evasion'],
      actor_id: 'arn:aws:iam::123456789012:user/legacy-admin',
      session_id: 'AKIAIOSFODNN7EXAMPLE',
    });
    // A security control failing: its level from Severity.Label, its generator the control.
    expect(rows[1]).toMatchObject({ rule_id: 'security-control/CloudTrail.1', level: 'high', product_severity: 70 });
  });

  test('a GetFindings export ({"Findings":[…]}) and a Firehose delivery of events read alike', async () => {
    const exported = rowsOf(await parseFile(securityhub, join(dir, 'get-findings-export.json')));
    expect(exported.map((r) => r['rule_id'])).toEqual(['security-control/CloudTrail.1']);
    const delivered = rowsOf(await parseFile(securityhub, join(dir, 'firehose-delivery.json')));
    expect(delivered).toHaveLength(2);
    expect(delivered[0]).toMatchObject({
      src_ip: '192.0.2.201',
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718'],
    });
  });

  test('a bad finding sets its event aside with the finding index and the reason', async () => {
    const reasons = reasonsOf(await parseFile(securityhub, join(dir, 'bad-records.jsonl')));
    expect(reasons).toEqual([
      'detail.findings[0]: missing Id',
      'not a findings event: detail-type "Security Hub Insight Results"',
      expect.stringMatching(/^invalid JSON/),
      'detail.findings[0]: Severity has neither a known Label nor Normalized: {"Label":"SEVERE"}',
    ]);
  });
});
