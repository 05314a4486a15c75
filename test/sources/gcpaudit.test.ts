import { join } from 'node:path';
import { source as gcpaudit } from '../../etl/sources/gcpaudit/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { goldenDir, parseFile } from './golden';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dir = goldenDir(gcpaudit);

function rowsOf(items: ParsedItem[]): Row[] {
  return items.flatMap((item) => (item.kind === 'rows' ? item.rows.map((r) => r.row) : []));
}

describe('gcpaudit', () => {
  test('sink export: status code and granted=false are failures; absent status is success', async () => {
    const rows = rowsOf(await parseFile(gcpaudit, join(dir, 'sink-export.json')));
    expect(rows.map((r) => [r['outcome'], r['error_code'] ?? null])).toEqual([
      ['success', null],
      ['failure', 'PERMISSION_DENIED'],
      ['failure', 'PERMISSION_DENIED'],
      ['success', null],
    ]);
    expect(rows[1]['error_message']).toBe('permission compute.machineTypes.list not granted');
    expect(rows[0]).toMatchObject({
      actor_id: 'gcp:xxx@xxx.xxx',
      event_id: '-uihnmjctwo',
      event_type: 'DATA_ACCESS',
      account: 'elastic-beats',
      region: 'global',
      resources: ['//cloudbilling.googleapis.com/projects/elastic-beats'],
    });
    // A GKE zonal cluster's zone names its region; Kubernetes identities keep their names.
    expect(rows[3]).toMatchObject({ region: 'us-central1', actor_id: 'gcp:system:anonymous', actor_type: 'KubernetesIdentity' });
  });

  test('service account delegation: the acting account is the actor, the first delegator the session', async () => {
    const [row] = rowsOf(await parseFile(gcpaudit, join(dir, 'compute-insert-delegated.json')));
    expect(row).toMatchObject({
      actor_id: 'gcp:project-id@cloudservices.gserviceaccount.com',
      actor_type: 'ServiceAccount',
      actor_arn: 'serviceAccount:project-id@cloudservices.gserviceaccount.com',
      session_id: 'gcp:principalA@prod.google.com',
      event_type: 'ADMIN_ACTIVITY',
      read_only: false,
      region: 'us-central1',
      resources: ['//compute.googleapis.com/projects/project-id/zones/us-central1-a/instances/x-logs'],
    });
  });

  test('a federated principal without email is keyed by its subject; the token issued names the account', async () => {
    const [row] = rowsOf(await parseFile(gcpaudit, join(dir, 'iamcredentials-workload-identity.json')));
    expect(row).toMatchObject({
      actor_id: 'gcp:principal://iam.googleapis.com/projects/project-id/locations/global/workloadIdentityPools/...',
      actor_type: 'FederatedPrincipal',
      issued_role_arn: 'gcp:made-up-ci-account@project-id.iam.gserviceaccount.com',
      outcome: 'success',
    });
    expect(row['session_id']).toBeNull();
    expect((row['time'] as Date).toISOString()).toBe('2024-11-19T00:49:55.293Z');
  });

  test('gcloud array output reads like the sink export', async () => {
    const rows = rowsOf(await parseFile(gcpaudit, join(dir, 'gcloud-read-array.json')));
    expect(rows.map((r) => r['activity'])).toEqual(['beta.compute.instances.stop', 'v1.compute.images.insert']);
    expect(rows[1]['region']).toBe('eu');
  });

  test('bad records are quarantined with a reason; good ones survive', async () => {
    const items = await parseFile(gcpaudit, join(dir, 'bad-records.log'));
    expect(items.map((i) => i.kind)).toEqual(['rows', 'quarantine', 'quarantine', 'quarantine', 'rows']);
    const reasons = items.flatMap((i) => (i.kind === 'quarantine' ? [`${i.position}: ${i.reason}`] : []));
    expect(reasons[0]).toBe('line 2: missing timestamp');
    expect(reasons[1]).toBe("line 3: not an audit log entry: protoPayload @type 'type.googleapis.com/google.appengine.logging.v1.RequestLog'");
    expect(reasons[2]).toMatch(/^line 4: invalid JSON/);
  });

  test('detection: audit entries yes; CloudTrail and Azure no', () => {
    const head = '{"insertId":"x","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog"';
    expect(gcpaudit.detect({ key: 'gs://b/cloudaudit.googleapis.com/activity/2024/01/01/00:00:00_00:59:59_S0.json', head })).toEqual({ confidence: 1 });
    expect(gcpaudit.detect({ key: '/x.json', head })).toEqual({ confidence: 0.95 });
    expect(gcpaudit.detect({ key: '/x.json', head: '{"Records":[{"eventVersion":"1.08","eventSource":"iam.amazonaws.com"}]}' })).toEqual({ confidence: 0 });
    expect(gcpaudit.detect({ key: '/x.json', head: '{"records":[{"category":"Administrative","resourceId":"/subscriptions/1"}]}' })).toEqual({ confidence: 0 });
  });
});
