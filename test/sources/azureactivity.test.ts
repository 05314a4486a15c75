import { join } from 'node:path';
import { source as azureactivity } from '../../etl/sources/azureactivity/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(azureactivity);

function rowsOf(items: ParsedItem[]): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.map((r) => r.row) : []));
}

describe('azureactivity', () => {
  test('a user token is the user (by UPN), not the client app id it also carries', async () => {
    const [row] = rowsOf(await parseFile(azureactivity, join(dir, 'ms-docs-storage-envelope.json')));
    expect(row).toMatchObject({
      actor_id: 'azuread:admin@contoso.com',
      actor_type: 'AzureADUser',
      actor_account: 'ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0',
      activity: 'microsoft.support/supporttickets/write',
      service: 'microsoft.support',
      outcome: 'success',
      account: 's1',
      region: 'global',
      mfa: false,
      read_only: false,
      resources: ['/subscriptions/s1/resourcegroups/mssupportgroup/providers/microsoft.support/supporttickets/123456112305841'],
    });
  });

  test('an app-only token is the service principal; Start is not yet a result; Failure carries the ARM error', async () => {
    const rows = rowsOf(await parseFile(azureactivity, join(dir, 'sp-listkeys-start-then-failure.json')));
    expect(rows.map((r) => r['outcome'])).toEqual(['unknown', 'failure']);
    for (const row of rows) expect(row['actor_id']).toBe('azuread-sp:2a7e2503-d7e2-405a-a84c-c333b9f7cb73');
    expect(rows[1]).toMatchObject({
      error_code: 'ParentResourceNotFound',
      error_message: "Can not perform requested operation on nested resource. Parent resource 'azurelsevents' not found.",
      account: '2a7e2503-d7e2-405a-a84c-c333b9f7cb73',
      session_id: '2a7e2503',
    });
  });

  test('the REST / portal / CLI shape reads like the export: MFA from the token, event id as logged', async () => {
    const [row] = rowsOf(await parseFile(azureactivity, join(dir, 'ms-docs-rest-administrative.json')));
    expect(row).toMatchObject({
      event_id: 'aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e',
      activity: 'microsoft.network/networksecuritygroups/write',
      actor_id: 'azuread:rob@contoso.com',
      mfa: true,
      outcome: 'success',
      src_ip: '111.111.1.111',
      event_type: 'Administrative',
    });
  });

  test('records without a caller (resource health) keep no actor', async () => {
    const rows = rowsOf(await parseFile(azureactivity, join(dir, 'jsonlines-user-and-health.log')));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatchObject({ event_type: 'ResourceHealth', account: '00000000-0000-0000-0000-000000000000', region: 'global' });
    expect(rows[1]['actor_id']).toBeNull();
    // Tenant ids logged with a stray space are trimmed.
    expect(rows[0]['actor_account']).toBe('1e8d8218-c5e7-4578-9acc-9abbd5d23315');
  });

  test('bad records are quarantined with a reason; good ones survive', async () => {
    const items = await parseFile(azureactivity, join(dir, 'bad-records.json'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [i.reason] : []));
    expect(reasons).toEqual([
      'missing operationName',
      'unparseable time: 1621980247',
      "not an Activity log record (category 'AuditEvent')",
    ]);
  });

  test('detection: Activity exports yes; CloudTrail, Entra sign-ins, NSG flows and Key Vault logs no', () => {
    const activity = '{"records":[{"time":"2019-10-04T10:38:37Z","resourceId":"/SUBSCRIPTIONS/2a7e/RESOURCEGROUPS/X","operationName":"MICROSOFT.EVENTHUB/X/ACTION","category":"Administrative"';
    expect(azureactivity.detect({ key: '/x/insights-activity-logs/y/PT1H.json', head: activity })).toEqual({ confidence: 0.95 });
    expect(azureactivity.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventName":"RunInstances"}]}' })).toEqual({ confidence: 0 });
    expect(azureactivity.detect({ key: '/x.json', head: '{"records":[{"resourceId":"/tenants/4bbb/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs"}' })).toEqual({ confidence: 0 });
    expect(azureactivity.detect({ key: '/x.json', head: '{"records":[{"resourceId":"/SUBSCRIPTIONS/0/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N","operationName":"NetworkSecurityGroupFlowEvents","category":"NetworkSecurityGroupFlowEvent"}' })).toEqual({ confidence: 0 });
    expect(azureactivity.detect({ key: '/x.json', head: '{"time":"2024-04-02T07:17:43Z","category":"AuditEvent","operationName":"KeyList","resourceId":"/SUBSCRIPTIONS/F/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/K"}' })).toEqual({ confidence: 0 });
  });
});
