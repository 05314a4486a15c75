import { join } from 'node:path';
import { source as azuread } from '../../etl/sources/azuread/parser';
import type { ParsedItem } from '../../etl/sources/types';
import type { TableRow } from '../../src/core/tables';
import { goldenDir, parseFile } from './golden';

const dir = goldenDir(azuread);

function rowsOf(items: ParsedItem[]): TableRow[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.filter((r): r is TableRow => r.table !== 'findings') : []));
}

describe('azuread', () => {
  test('storage envelope: interactive single-factor and non-interactive MFA sign-ins', async () => {
    const rows = rowsOf(await parseFile(azuread, join(dir, 'signins-storage-envelope.json')));
    expect(rows.map((r) => r.table)).toEqual(['authentication', 'authentication']);
    const [portal, office] = rows.map((r) => r.row);
    expect(portal).toMatchObject({
      actor_id: 'azuread:mpliftrelastic20210901@outlook.com',
      outcome: 'success',
      mfa: false,
      is_interactive: true,
      app: 'Azure Portal',
      country: 'IN',
      city: 'Nizampet',
      session_id: '7532b99a-06da-4c23-91e5-0f062bc0dcb3',
      account: '4bbb79f7-5724-4c9e-95f3-de075f6ec090',
      region: 'global',
      auth_protocol: 'Browser',
    });
    // UPNs are lower-cased as logged, spaces and all, so the id is stable.
    expect(office).toMatchObject({ actor_id: 'azuread:michell lan@zzzz.com', mfa: true, is_interactive: false, conditional_access: 'success' });
  });

  test('error codes other than 0 are failures carrying the code and the failure reason', async () => {
    const rows = rowsOf(await parseFile(azuread, join(dir, 'signins-failed-jsonlines.log'))).map((r) => r.row);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ outcome: 'failure', error_code: '50140' });
      expect(row['error_message']).toMatch(/Keep me signed in/);
    }
    // A managed identity signs in as an application, whatever user fields the record carries.
    expect(rows[1]).toMatchObject({ actor_type: 'ManagedIdentity', actor_id: 'azuread-sp:8a4de8b5-095c-47d0-a96f-a75130c61d53' });
  });

  test('service principal sign-ins are keyed by app id', async () => {
    const rows = rowsOf(await parseFile(azuread, join(dir, 'serviceprincipal-signins.log'))).map((r) => r.row);
    expect(rows.map((r) => r['actor_id'])).toEqual([
      'azuread-sp:6131d760-7fda-4db5-8bb1-b771898e9f15',
      'azuread-sp:6131d760-7fda-4db5-8bb1-b771898e9f15',
    ]);
    expect(rows[0]).toMatchObject({ actor_name: 'Terraform-Datadog-CLI', actor_type: 'ServicePrincipal', is_interactive: false });
  });

  test('audit logs become api_activity with actor, result and targets', async () => {
    const rows = rowsOf(await parseFile(azuread, join(dir, 'auditlogs-storage-envelope.json')));
    expect(rows.every((r) => r.table === 'api_activity')).toBe(true);
    const [update, failed, device] = rows.map((r) => r.row);
    expect(update).toMatchObject({
      activity: 'Update service principal',
      outcome: 'success',
      actor_id: 'azuread-sp:b9814691-9ca1-4e55-a1ac-8ef5dd010ec0',
      resources: ['a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42'],
      event_type: 'ApplicationManagement',
      user_agent: 'Microsoft Azure Graph Client Library 2.1.17-internal',
    });
    expect(failed).toMatchObject({ outcome: 'failure', error_message: 'The directory object quota limit for the tenant has been exceeded.' });
    expect(device).toMatchObject({ actor_id: 'azuread:username', actor_type: 'AzureADUser', src_ip: '0.0.0.0' });
  });

  test('bad records are quarantined with a reason; good ones survive', async () => {
    const items = await parseFile(azuread, join(dir, 'bad-records.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []));
    expect(reasons[0]).toBe("line 2: not an Entra ID sign-in or audit record (category 'RiskyUsers')");
    expect(reasons[1]).toBe('line 3: missing time');
    expect(reasons[2]).toMatch(/^line 4: invalid JSON/);
  });

  test('detection: Entra exports yes; CloudTrail, Azure Activity and NSG flow logs no', () => {
    const signIn = '{"records":[{"time":"2022-01-24T05:10:08Z","resourceId":"/tenants/4bbb/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs"';
    expect(azuread.detect({ key: 'x/insights-logs-signinlogs/y/PT1H.json', head: signIn })).toEqual({ confidence: 1 });
    expect(azuread.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventName":"ConsoleLogin"}]}' })).toEqual({ confidence: 0 });
    expect(azuread.detect({ key: '/x.json', head: '{"records":[{"category":"Administrative","resourceId":"/subscriptions/1"}]}' })).toEqual({ confidence: 0 });
    expect(azuread.detect({ key: '/x.json', head: '{"records":[{"category":"NetworkSecurityGroupFlowEvent"}]}' })).toEqual({ confidence: 0 });
  });
});
