/**
 * gcp-key-from-attacker (T1078.004): the ETL service account's key is used from the Entra attacker's address, then creates a second key.
 */
import { isoSeconds } from '../../../etl/sources/cloudtrail/sample-records';
import { gcpLine, gcsObjectCall, type GcpLine, gcpLines } from '../../../etl/sources/gcpaudit/sample';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';

export interface Expect {
  serviceAccount: string;
  actor: string;
  keyName: string;
  projectId: string;
  attackerIp: string;
  methods: string[];
  insertIds: string[];
  createdKeyName: string;
}

/** Plans the story from its own random stream (`<seed>:estate-story:gcp-key-from-attacker`). */
export const plan = storyPlanner('gcp-key-from-attacker', 'estate-story', tell);

function tell(t: Teller): Story<'gcp-key-from-attacker'> {
  const { world, rng } = t;
  const project = world.estate.gcp;
  const sa = project.serviceAccounts[0];
  const ip = '192.0.2.91';
  const keyName = `//iam.googleapis.com/projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${sa.keyId}`;
  const ua =
    'google-cloud-sdk gcloud/489.0.0 command/gcloud.storage.cp invocation-id/' +
    rng.hex(32) +
    ' environment/None environment-version/None client-os/LINUX client-os-ver/6.6.9 client-pltf-arch/x86_64 interactive/True from-script/False python/3.11.8 term/xterm-256color (Linux 6.6.9-amd64),gzip(gfe)';
  let time = anchor(world, rng, 0.36, 4, 0);
  const push = (line: GcpLine, method: string): void => {
    t.emit(gcpLines, line);
    t.note({
      source: 'gcpaudit',
      time: isoSeconds(line.time),
      account: project.projectId,
      region: project.region,
      action: method,
      outcome: 'success',
      eventId: line.insertId,
      actor: `gcp:${sa.email}`,
      ip,
    });
  };
  const methods: string[] = [];
  const call = (c: Parameters<typeof gcpLine>[2]): void => {
    push(gcpLine(world, rng, c), c.method);
    methods.push(c.method);
  };
  call({ ...gcsObjectCall(world, time, sa.email, ip, ua, 'storage.objects.list', project.buckets[1], undefined, keyName) });
  for (const object of [
    'reports/daily-revenue.parquet',
    'reports/churn.parquet',
    'reports/customers-ltv.parquet',
    'exports/all-customers.csv.gz',
  ]) {
    time += rng.int(5, 40) * 1000;
    call(gcsObjectCall(world, time, sa.email, ip, ua, 'storage.objects.get', project.buckets[1], object, keyName));
  }
  time += rng.int(1, 5) * MINUTE;
  const newKey = rng.hex(40);
  call({
    time,
    log: 'activity',
    principal: sa.email,
    keyName,
    ip,
    userAgent: ua.replace('gcloud.storage.cp', 'gcloud.iam.service-accounts.keys.create'),
    service: 'iam.googleapis.com',
    method: 'google.iam.admin.v1.CreateServiceAccountKey',
    resourceName: `projects/-/serviceAccounts/${sa.uniqueId}`,
    permission: 'iam.serviceAccountKeys.create',
    resource: { type: 'service_account', labels: { project_id: project.projectId, email_id: sa.email, unique_id: sa.uniqueId } },
    request: {
      '@type': 'type.googleapis.com/google.iam.admin.v1.CreateServiceAccountKeyRequest',
      name: `projects/-/serviceAccounts/${sa.email}`,
      private_key_type: 2,
    },
    response: {
      '@type': 'type.googleapis.com/google.iam.admin.v1.ServiceAccountKey',
      name: `projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${newKey}`,
      key_algorithm: 2,
      key_origin: 2,
      key_type: 1,
    },
  });
  const story = t.story(
    'gcp-key-from-attacker',
    {
      title: 'A GCP service account key is used from the Entra attacker’s address',
      technique: 'T1078.004',
      summary: `The key ${sa.keyId.slice(0, 8)}… of ${sa.email}, normally used only inside Google Cloud, lists and downloads report objects from ${ip} (the address behind the Entra ID brute force) and then creates a second key for the service account.`,
      account: project.projectId,
      region: project.region,
      actors: [`gcp:${sa.email}`],
      resources: [
        `//iam.googleapis.com/projects/-/serviceAccounts/${sa.uniqueId}`,
        `//storage.googleapis.com/projects/_/buckets/${project.buckets[1]}`,
      ],
    },
    { [ip]: 'NG' },
    {
      serviceAccount: sa.email,
      actor: `gcp:${sa.email}`,
      keyName,
      projectId: project.projectId,
      attackerIp: ip,
      methods,
      insertIds: t.steps.map((s) => s.eventId!),
      createdKeyName: `projects/${project.projectId}/serviceAccounts/${sa.email}/keys/${newKey}`,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['gcp/audit/service_account_key_created.yml'];
