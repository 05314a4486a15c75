/**
 * Google Cloud Audit Logs of the analytics project, as a Logging sink exports them to Cloud
 * Storage: one object per log, hour and shard, JSON lines of LogEntry.
 *
 *   cloudaudit.googleapis.com/activity/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
 *   cloudaudit.googleapis.com/data_access/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
 *
 * Baseline: the ETL and dashboard service accounts read and write Cloud Storage objects from
 * inside Google Cloud (data access logs are on for Cloud Storage); people change IAM and start
 * VMs now and then (admin activity).
 */
import {
  type ObjectOutput,
  emptyStats,
  isWorkHour,
  pad,
  slashDate,
  type SourceStats,
  DAY_MS,
  HOUR_MS,
} from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { World } from '../../../testkit/sample/world';
import { storyChannel } from '../../../testkit/sample/plan';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

export type GcpLog = 'activity' | 'data_access';

export interface GcpCall {
  time: number;
  log: GcpLog;
  principal: string;
  /** Full resource name of the service account key used, when a key was used. */
  keyName?: string;
  ip: string;
  userAgent: string;
  service: string;
  method: string;
  resourceName: string;
  permission: string;
  permissionType?: string;
  resource: { type: string; labels: Record<string, string> };
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
}

export interface GcpLine {
  time: number;
  log: GcpLog;
  text: string;
  insertId: string;
}

/** The stories' Cloud Audit Log entries. */
export const gcpLines = storyChannel<GcpLine>('gcpaudit', 'Cloud Audit Log entries', (l) => l.time);

function nanos(ms: number, rng: Rng): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${String(rng.int(0, 999_999)).padStart(6, '0')}Z`);
}

export function gcpLine(world: World, rng: Rng, c: GcpCall): GcpLine {
  const project = world.estate.gcp.projectId;
  const insertId = rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 12);
  const authenticationInfo: Record<string, unknown> = { principalEmail: c.principal };
  if (c.keyName) authenticationInfo.serviceAccountKeyName = c.keyName;
  const entry = {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo,
      requestMetadata: {
        callerIp: c.ip,
        callerSuppliedUserAgent: c.userAgent,
        requestAttributes: { time: nanos(c.time, rng), auth: {} },
        destinationAttributes: {},
      },
      serviceName: c.service,
      methodName: c.method,
      authorizationInfo: [
        {
          resource: c.resourceName,
          permission: c.permission,
          granted: true,
          resourceAttributes: {},
          ...(c.permissionType ? { permissionType: c.permissionType } : {}),
        },
      ],
      resourceName: c.resourceName,
      ...(c.request ? { request: c.request } : {}),
      ...(c.response ? { response: c.response } : {}),
    },
    insertId,
    resource: c.resource,
    timestamp: nanos(c.time, rng),
    severity: c.log === 'activity' ? 'NOTICE' : 'INFO',
    logName: `projects/${project}/logs/cloudaudit.googleapis.com%2F${c.log}`,
    receiveTimestamp: nanos(c.time + rng.int(100, 900), rng),
  };
  return { time: c.time, log: c.log, text: JSON.stringify(entry), insertId };
}

export function gcsObjectCall(
  world: World,
  time: number,
  principal: string,
  ip: string,
  userAgent: string,
  method: 'storage.objects.get' | 'storage.objects.create' | 'storage.objects.list',
  bucket: string,
  object?: string,
  keyName?: string,
): GcpCall {
  const gcp = world.estate.gcp;
  const resourceName = object ? `projects/_/buckets/${bucket}/objects/${object}` : `projects/_/buckets/${bucket}`;
  return {
    time,
    log: 'data_access',
    principal,
    ip,
    userAgent,
    service: 'storage.googleapis.com',
    method,
    resourceName,
    permission: method,
    permissionType: method === 'storage.objects.create' ? 'DATA_WRITE' : 'DATA_READ',
    resource: { type: 'gcs_bucket', labels: { project_id: gcp.projectId, bucket_name: bucket, location: gcp.region } },
    ...(keyName ? { keyName } : {}),
  };
}

const GCS_AGENT =
  'apitools Python/3.11.9 gsutil/5.30 (linux) analytics/disabled interactive/False command/cp google-cloud-sdk/489.0.0,gzip(gfe)';
const JAVA_AGENT = 'gcloud-java/2.43.0 Google-API-Java-Client/2.7.0 Google-HTTP-Java-Client/1.45.0 (gzip),gzip(gfe)';

export class GcpAuditWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const storyLines = day.items(gcpLines);
    const gcp = this.world.estate.gcp;
    const lines: GcpLine[] = [...storyLines];
    const [etl, dashboards] = gcp.serviceAccounts as [(typeof gcp.serviceAccounts)[number], (typeof gcp.serviceAccounts)[number]];
    for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
      const rng = new Rng(`${this.world.seed}:gcp:${hour}`);
      // The ETL writes raw files every hour; dashboards read reports in work hours. From inside Google Cloud.
      for (let n = rng.poisson(4 * this.scale); n > 0; n--) {
        const object = `raw/${slashDate(hour)}/events-${rng.hex(8)}.json.gz`;
        lines.push(
          gcpLine(
            this.world,
            rng,
            gcsObjectCall(
              this.world,
              hour + rng.int(0, 3599) * 1000,
              etl.email,
              '10.132.0.12',
              JAVA_AGENT,
              'storage.objects.create',
              gcp.buckets[0],
              object,
            ),
          ),
        );
      }
      if (isWorkHour(hour)) {
        for (let n = rng.poisson(3 * this.scale); n > 0; n--) {
          const object = `reports/${rng.pick(['daily-revenue', 'churn', 'funnel'])}.parquet`;
          lines.push(
            gcpLine(
              this.world,
              rng,
              gcsObjectCall(
                this.world,
                hour + rng.int(0, 3599) * 1000,
                dashboards.email,
                '10.132.0.31',
                JAVA_AGENT,
                'storage.objects.get',
                gcp.buckets[1],
                object,
              ),
            ),
          );
        }
        if (rng.chance(0.15 * this.scale)) {
          const person = rng.pick(this.world.people);
          lines.push(
            gcpLine(this.world, rng, {
              time: hour + rng.int(0, 3599) * 1000,
              log: 'activity',
              principal: person.email,
              ip: person.office.ip,
              userAgent: GCS_AGENT,
              service: 'compute.googleapis.com',
              method: 'v1.compute.instances.start',
              resourceName: `projects/${gcp.projectId}/zones/${gcp.region}-b/instances/etl-worker-1`,
              permission: 'compute.instances.start',
              resource: {
                type: 'gce_instance',
                labels: { project_id: gcp.projectId, zone: `${gcp.region}-b`, instance_id: '4471953019402911837' },
              },
            }),
          );
        }
      }
    }
    for (const log of ['activity', 'data_access'] as const) {
      for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
        const inHour = lines.filter((l) => l.log === log && l.time >= hour && l.time < hour + HOUR_MS).sort((a, b) => a.time - b.time);
        if (inHour.length === 0) continue;
        const h = pad(new Date(hour).getUTCHours());
        const key = `cloudaudit.googleapis.com/${log}/${slashDate(hour)}/${h}:00:00_${h}:59:59_S0.json`;
        this.output.put(key, inHour.map((l) => l.text).join('\n') + '\n', inHour.length, this.stats);
      }
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'gcpaudit',
  create: ({ world, scale, output }) => new GcpAuditWriter(world, scale, output),
});
