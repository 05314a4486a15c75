/**
 * Each rule's must-fire and must-not-fire samples (`<rule>.tests.yml` beside the rule), turned into
 * the raw provider files the real parsers read. A sample record is a provider record; fields it
 * leaves out come from a documented base record of its source (BASE_RECORDS), so a sample names
 * only what matters to its rule. The parser itself says which event ids a sample produced.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sourceById } from '../../etl/sources';
import type { SourceId } from '../../src/generated/sources';
import { ruleFiles } from '../../src/rules/load';

type Json = Record<string, unknown>;

export interface SampleCase {
  /** `<rule file> › <case name>` */
  label: string;
  ruleFile: string;
  /** Rule ids of the file the case belongs to (its rules; the case checks the one it names or all). */
  rule: string | null;
  match: boolean;
  /** The sources whose parsers read the case's files. */
  sources: SourceId[];
  window: { from: Date; to: Date };
  /** The case names its window (a baseline's history lies before it); otherwise the window spans its records. */
  ownWindow: boolean;
  eventIds: string[];
}

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** Documented shapes (AWS CloudTrail record, Entra sign-in and audit exports, Azure Activity, GCP AuditLog LogEntry). */
const BASE_RECORDS: Partial<Record<SourceId, Json>> = {
  cloudtrail: {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAJ45Q7YFFAREXAMPLE',
      arn: 'arn:aws:iam::123456789012:user/Alice',
      accountId: '123456789012',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: 'Alice',
    },
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-2',
    sourceIPAddress: '203.0.113.12',
    userAgent: 'aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22',
    requestParameters: null,
    responseElements: null,
    requestID: 'f3d2c1b0-0000-4000-8000-000000000000',
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '123456789012',
    eventCategory: 'Management',
  },
  azuread: {
    resourceId: `/tenants/${TENANT}/providers/Microsoft.aadiam`,
    operationName: 'Sign-in activity',
    operationVersion: '1.0',
    category: 'SignInLogs',
    tenantId: TENANT,
    resultType: '0',
    resultSignature: 'None',
    resultDescription: '',
    durationMs: 0,
    callerIpAddress: '203.0.113.40',
    identity: 'Alice Smith',
    Level: 4,
    location: 'US',
    properties: {
      userDisplayName: 'Alice Smith',
      userPrincipalName: 'alice@contoso.com',
      userId: 'a1b2c3d4-0000-4000-8000-00000000a11c',
      appId: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
      appDisplayName: 'Azure Portal',
      ipAddress: '203.0.113.40',
      status: { errorCode: 0 },
      clientAppUsed: 'Browser',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      isInteractive: true,
      authenticationRequirement: 'singleFactorAuthentication',
      conditionalAccessStatus: 'notApplied',
      location: { city: 'Redmond', state: 'Washington', countryOrRegion: 'US' },
    },
  },
  azureactivity: {
    resourceId:
      '/SUBSCRIPTIONS/D6E5B0E4-0000-4000-8000-000000000001/RESOURCEGROUPS/PROD/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG',
    operationName: 'MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ',
    category: 'Administrative',
    resultType: 'Success',
    resultSignature: 'Succeeded.OK',
    durationMs: '0',
    callerIpAddress: '203.0.113.60',
    correlationId: 'c0ffee00-0000-4000-8000-000000000001',
    identity: {
      claims: {
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': 'alice@contoso.com',
        'http://schemas.microsoft.com/identity/claims/objectidentifier': 'a1b2c3d4-0000-4000-8000-00000000a11c',
        'http://schemas.microsoft.com/identity/claims/tenantid': TENANT,
      },
    },
    level: 'Information',
    location: 'global',
    properties: {},
  },
  gcpaudit: {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: 'alice@example.com' },
      requestMetadata: {
        callerIp: '203.0.113.50',
        callerSuppliedUserAgent: 'google-cloud-sdk gcloud/460.0.0 command/gcloud.projects.get-iam-policy',
      },
      serviceName: 'cloudresourcemanager.googleapis.com',
      methodName: 'GetIamPolicy',
      resourceName: 'projects/acme-prod',
      request: {},
    },
    resource: { type: 'project', labels: { project_id: 'acme-prod' } },
    severity: 'NOTICE',
    logName: 'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity',
  },
};

/** Keys whose objects merge one level deeper (a sample names only the properties it needs). */
const NESTED_MERGE = new Set(['properties', 'protoPayload']);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = NESTED_MERGE.has(k) && isObject(v) && isObject(base[k]) ? { ...base[k], ...v } : v;
  return out;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** A UUID-shaped id, stable for a sample (its file, case and position). */
function stableId(seed: string): string {
  const h = hash(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Completes a record: base fields, a stable id and (unless given) a time. */
function complete(source: SourceId, record: Json, seed: string, time: Date): Json {
  const base = BASE_RECORDS[source];
  const full = base ? merge(base, record) : { ...record };
  const iso = time.toISOString();
  if (source === 'cloudtrail') {
    full.eventID ??= stableId(seed);
    full.eventTime ??= iso.replace(/\.\d{3}Z$/, 'Z');
  } else if (source === 'azuread') {
    const props = (full.properties ?? {}) as Json;
    props.id ??= stableId(seed);
    props.correlationId ??= stableId(`${seed}/correlation`);
    props.createdDateTime ??= full.time ?? iso;
    full.properties = props;
    full.time ??= props.createdDateTime;
    full.correlationId ??= props.correlationId;
  } else if (source === 'azureactivity') {
    full.eventDataId ??= stableId(seed);
    full.time ??= iso;
  } else if (source === 'gcpaudit') {
    full.insertId ??= stableId(seed).slice(0, 12);
    full.timestamp ??= iso;
    full.receiveTimestamp ??= full.timestamp;
  }
  return full;
}

interface CaseSpec {
  name: string;
  rule?: string;
  match: boolean;
  records?: Json[];
  lines?: string[];
  /** Records of other sources in the same case (a correlation across CloudTrail and flow logs). */
  extra?: { source: SourceId; records?: Json[]; lines?: string[] }[];
  window?: { from: string; to: string };
}

interface TestsFile {
  source: SourceId;
  tests: CaseSpec[];
}

/** Samples start here and move on by 10 minutes per record, unless a record gives its own time. */
const SAMPLE_EPOCH = Date.parse('2024-06-01T00:00:00Z');

function fileText(source: SourceId, records: Json[]): string {
  if (source === 'cloudtrail') return JSON.stringify({ Records: records });
  if (source === 'azuread' || source === 'azureactivity' || source === 'nsgflow') return JSON.stringify({ records });
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

async function eventIdsOf(source: SourceId, path: string): Promise<{ ids: string[]; times: Date[] }> {
  async function* bytes() {
    yield readFileSync(path);
  }
  const ids: string[] = [];
  const times: Date[] = [];
  for await (const item of sourceById(source).parse(bytes(), { key: path })) {
    if (item.kind !== 'rows') throw new Error(`${path}: a sample did not parse: ${item.kind === 'quarantine' ? item.reason : item.reason}`);
    for (const { row } of item.rows) {
      if (!('event_id' in row)) throw new Error(`${path}: rule samples are events; ${source} writes findings`);
      ids.push(String(row.event_id));
      times.push(row.time);
    }
  }
  return { ids: [...new Set(ids)], times };
}

/** Writes every sample of the rule folder as provider files under `inputDir/<source>/`, and describes each case. */
export async function writeSamples(rulesDir: string, inputDir: string): Promise<SampleCase[]> {
  const cases: SampleCase[] = [];
  let serial = 0;
  for (const ruleFile of ruleFiles(rulesDir)) {
    const testsPath = ruleFile.replace(/\.ya?ml$/i, '.tests.yml');
    let text: string;
    try {
      text = readFileSync(testsPath, 'utf8');
    } catch {
      throw new Error(`${ruleFile} has no samples: every rule needs ${testsPath}`);
    }
    const spec = parse(text) as TestsFile;
    const name = ruleFile.slice(rulesDir.length + 1);
    for (const [ci, c] of spec.tests.entries()) {
      const parts = [{ source: spec.source, records: c.records, lines: c.lines }, ...(c.extra ?? [])];
      const ids: string[] = [];
      const times: Date[] = [];
      for (const [pi, part] of parts.entries()) {
        const folder = join(inputDir, part.source);
        mkdirSync(folder, { recursive: true });
        const file = join(
          folder,
          `${String(serial).padStart(4, '0')}-${hash(name).slice(0, 8)}-${ci}-${pi}.${part.source === 'vpcflow' ? 'log' : 'json'}`,
        );
        if (part.lines) writeFileSync(file, part.lines.join('\n') + '\n');
        else {
          const records = (part.records ?? []).map((r, ri) => {
            const time = new Date(SAMPLE_EPOCH + serial * 3_600_000 + ri * 600_000);
            return complete(part.source, r, `${name}/${ci}/${pi}/${ri}`, time);
          });
          if (records.length === 0) throw new Error(`${name} › ${c.name}: a case needs records or lines`);
          writeFileSync(file, fileText(part.source, records));
        }
        const parsed = await eventIdsOf(part.source, file);
        ids.push(...parsed.ids);
        times.push(...parsed.times);
      }
      serial += 1;
      if (ids.length === 0) throw new Error(`${name} › ${c.name}: the parser produced no event`);
      const first = Math.min(...times.map((t) => t.getTime()));
      const last = Math.max(...times.map((t) => t.getTime()));
      cases.push({
        label: `${name} › ${c.name}`,
        ruleFile,
        rule: c.rule ?? null,
        match: c.match,
        sources: [...new Set(parts.map((p) => p.source))],
        window: c.window
          ? { from: new Date(c.window.from), to: new Date(c.window.to) }
          : { from: new Date(first), to: new Date(last + 1000) },
        ownWindow: c.window !== undefined,
        eventIds: ids,
      });
    }
  }
  return cases;
}
