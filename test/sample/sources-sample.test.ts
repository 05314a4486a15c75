/**
 * The sources beyond CloudTrail and VPC flow logs: native layout and naming, every file read by
 * the project's own source modules with nothing quarantined, and the cross-source stories present
 * in each source with the ids stories.json claims.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_SOURCES, type SampleSummary } from '../../testkit/sample';
import { readStories, storyById, type Story } from '../../testkit/sample/story';
import { SOURCES } from '../../etl/sources';
import {
  DIGEST_SIGNATURE_FILE,
  fileHashes,
  generate,
  layoutOf,
  LAYOUTS,
  listFiles,
  loadCloudTrail,
  objectBytes,
  SAMPLE_EXTRA_FILES,
  type LoadedLogs,
} from './helpers';

/** A row's cells, read by column name. */
type Row = Readonly<Record<string, unknown>>;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sample(label: string, options: Parameters<typeof generate>[1]) {
  const result = generate(label, options);
  dirs.push(result.dir);
  return result;
}

interface Parsed {
  source: string;
  rows: (Row & { table: string })[];
  quarantined: string[];
}

/** Detects the object's source the way ingest does (highest confidence) and parses it. */
async function parseObject(dir: string, file: string): Promise<Parsed> {
  const bytes = objectBytes(dir, file);
  const key = join(dir, file);
  const head = bytes.subarray(0, 65536).toString('utf8');
  let best: { id: string; confidence: number; source: (typeof SOURCES)[number] } | undefined;
  for (const source of SOURCES) {
    const d = source.detect({ key, head });
    if ('skip' in d) return { source: `skip:${source.id}`, rows: [], quarantined: [] };
    if (d.confidence >= 0.5 && (!best || d.confidence > best.confidence)) best = { id: source.id, confidence: d.confidence, source };
  }
  if (!best) return { source: 'unknown', rows: [], quarantined: [] };
  const out: Parsed = { source: best.id, rows: [], quarantined: [] };
  async function* input(): AsyncIterable<Buffer> {
    // Two chunks, so a record split across reads is exercised too.
    const cut = Math.floor(bytes.length / 2);
    yield bytes.subarray(0, cut);
    yield bytes.subarray(cut);
  }
  for await (const item of best.source.parse(input(), { key })) {
    if (item.kind === 'rows') for (const r of item.rows) out.rows.push({ ...r.row, table: r.table });
    else if (item.kind === 'quarantine') out.quarantined.push(`${file} ${item.position}: ${item.reason}`);
    else out.quarantined.push(`${file} ${item.position}: filtered: ${item.reason}`);
  }
  return out;
}

const NEW_SOURCES = SAMPLE_SOURCES.filter((s) => s !== 'cloudtrail' && s !== 'vpcflow');
const FINDINGS_SOURCES = new Set(['guardduty', 'securityhub']);

describe('a two-day sample of every source', () => {
  let dir: string;
  let files: string[];
  let stories: Story[];
  let ct: LoadedLogs;
  let summary: SampleSummary;
  const rowsBySource = new Map<string, (Row & { table: string })[]>();
  const filesBySource = new Map<string, number>();
  const quarantined: string[] = [];
  const detectedAs: string[] = [];

  beforeAll(async () => {
    ({ dir, summary } = sample('every', { seed: 'estate', days: 2, start: '2026-06-01' }));
    files = listFiles(dir);
    stories = readStories(dir);
    ct = loadCloudTrail(dir);
    for (const file of files) {
      const layout = layoutOf(file);
      if (!layout || layout === 'cloudtrail' || layout === 'vpcflow') continue;
      const parsed = await parseObject(dir, file);
      if (parsed.source !== layout) detectedAs.push(`${file}: detected as ${parsed.source}`);
      quarantined.push(...parsed.quarantined);
      rowsBySource.set(layout, [...(rowsBySource.get(layout) ?? []), ...parsed.rows]);
      filesBySource.set(layout, (filesBySource.get(layout) ?? 0) + 1);
    }
  }, 60_000);

  const rows = (source: string) => rowsBySource.get(source) ?? [];

  test('every file follows one source’s native layout; only digest signatures, stories.json, sample.json, geoip-overrides.json and the CloudTrail public key are extra', () => {
    expect(files.filter((f) => !layoutOf(f) && !DIGEST_SIGNATURE_FILE.test(f))).toEqual(SAMPLE_EXTRA_FILES);
    for (const source of SAMPLE_SOURCES) expect(files.some((f) => layoutOf(f) === source)).toBe(true);
  });

  test('the project’s own sources detect each object as the source its layout says, read it all, and quarantine nothing', () => {
    expect(detectedAs).toEqual([]);
    expect(quarantined.slice(0, 10)).toEqual([]);
    for (const source of NEW_SOURCES) {
      expect(filesBySource.get(source)).toBeGreaterThan(0);
      // Findings are few (a GuardDuty finding a day, and its Security Hub import); logs are many.
      expect(rows(source).length).toBeGreaterThan(FINDINGS_SOURCES.has(source) ? 1 : 20);
    }
  });

  test('names and folders agree with what the objects hold', () => {
    const hourOf = (t: unknown) => (t as Date).toISOString().slice(0, 13);
    const byFile = async (source: string, check: (file: string, m: RegExpExecArray, parsed: Parsed) => void) => {
      for (const file of files.filter((f) => layoutOf(f) === source).slice(0, 40))
        check(file, LAYOUTS[source].exec(file)!, await parseObject(dir, file));
    };
    return Promise.all([
      byFile('s3access', (file, m, p) => {
        const [, account, region, bucket, y, mo, d] = m;
        for (const r of p.rows) {
          expect([r.account, r.region, r.bucket]).toEqual([account, region, bucket]);
          expect((r.time as Date).toISOString().slice(0, 10)).toBe(`${y}-${mo}-${d}`);
        }
      }),
      byFile('alb', (file, m, p) => {
        const [, account, region, , , , connectionLog, account2, region2, kind, name, id, ymd, hhmm, nodeIp] = m;
        expect([account2, region2]).toEqual([account, region]);
        // Load balancer nodes name themselves in their files; an NLB's file names no node.
        expect(nodeIp === undefined).toBe(kind === 'net');
        const delivered = Date.parse(`${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6)}T${hhmm.slice(0, 2)}:${hhmm.slice(2)}:00Z`);
        const expected =
          kind === 'net'
            ? { table: 'network_activity', activity: 'tls-connection' }
            : connectionLog
              ? { table: 'network_activity', activity: 'tls-handshake' }
              : { table: 'http_activity' };
        for (const r of p.rows) {
          expect(r).toMatchObject(expected);
          expect([r.account, r.region]).toEqual([account, region]);
          expect((r.resources as string[])[0]).toBe(`arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/${kind}/${name}/${id}`);
          expect(delivered - (r.time as Date).getTime()).toBeGreaterThan(0);
          expect(delivered - (r.time as Date).getTime()).toBeLessThanOrEqual(5 * 60_000);
        }
      }),
      byFile('cloudfront', (file, m, p) => {
        const [, account, distribution, y, mo, d, h] = m;
        for (const r of p.rows) {
          expect(r.account).toBe(account);
          expect(r.resources).toEqual([`arn:aws:cloudfront::${account}:distribution/${distribution}`]);
          expect(hourOf(r.time)).toBe(`${y}-${mo}-${d}T${h}`);
        }
      }),
      byFile('guardduty', (file, m, p) => {
        const [, account, region, y, mo, d] = m;
        for (const r of p.rows) {
          expect([r.product, r.account, r.region]).toEqual(['guardduty', account, region]);
          expect((r.time as Date).toISOString().slice(0, 10)).toBe(`${y}-${mo}-${d}`);
        }
      }),
      byFile('securityhub', (file, m, p) => {
        const [, y, mo, d, h, y2, mo2, d2, h2] = m;
        expect([y2, mo2, d2, h2]).toEqual([y, mo, d, h]);
        // Firehose names the object when it flushes its buffer: after every event it holds.
        const flushed = Date.parse(`${y}-${mo}-${d}T${h}:59:59.999Z`);
        for (const r of p.rows) {
          expect(r.product).toBe('securityhub');
          expect((r.time as Date).getTime()).toBeLessThanOrEqual(flushed);
        }
      }),
      byFile('route53resolver', (file, m, p) => {
        const [, account, vpc, , , , account2, vpc2] = m;
        expect([account2, vpc2]).toEqual([account, vpc]);
        for (const r of p.rows) expect([r.account, r.vpc_id]).toEqual([account, vpc]);
      }),
      byFile('azuread', (file, m, p) => {
        const [, kind, tenant, y, mo, d, h] = m;
        for (const r of p.rows) {
          expect(r.account).toBe(tenant);
          expect(r.table).toBe(kind === 'signinlogs' ? 'authentication' : 'api_activity');
          expect(hourOf(r.time)).toBe(`${y}-${mo}-${d}T${h}`);
        }
      }),
      byFile('azureactivity', (file, m, p) => {
        const [, sub, y, mo, d, h] = m;
        for (const r of p.rows) {
          expect(r.account).toBe(sub.toLowerCase());
          expect(hourOf(r.time)).toBe(`${y}-${mo}-${d}T${h}`);
        }
      }),
      byFile('nsgflow', (file, m, p) => {
        const [, sub, rg, nsg, y, mo, d, h, mac] = m;
        for (const r of p.rows) {
          expect(r.account).toBe(sub.toLowerCase());
          expect(r.interface_id).toBe(mac);
          expect(r.resources).toEqual([
            `/subscriptions/${sub}/resourcegroups/${rg}/providers/microsoft.network/networksecuritygroups/${nsg}`.toLowerCase(),
          ]);
          expect(hourOf(r.time)).toBe(`${y}-${mo}-${d}T${h}`);
        }
      }),
      byFile('gcpaudit', (file, m, p) => {
        const [, log, y, mo, d, h, h2] = m;
        expect(h2).toBe(h);
        for (const r of p.rows) {
          expect(r.event_type).toBe(log === 'activity' ? 'ADMIN_ACTIVITY' : 'DATA_ACCESS');
          expect(hourOf(r.time)).toBe(`${y}-${mo}-${d}T${h}`);
        }
      }),
    ]);
  });

  test('every id stories.json claims for a source is an event_id that source’s rows hold', () => {
    const ids = new Map<string, Set<string>>();
    for (const [source, list] of rowsBySource) ids.set(source, new Set(list.map((r) => r.event_id as string)));
    ids.set('cloudtrail', new Set(ct.byEventId.keys()));
    const missing: string[] = [];
    for (const story of stories) {
      for (const [source, claimed] of Object.entries(story.sources)) {
        for (const id of claimed ?? []) if (!ids.get(source)?.has(id)) missing.push(`${story.id} ${source} ${id}`);
      }
    }
    expect(missing).toEqual([]);
    const crossing = stories
      .filter((s) => Object.keys(s.sources).length > 1)
      .map((s) => s.id)
      .sort();
    expect(crossing).toEqual(['entra-brute-force-aws-federation', 's3-exfiltration', 'ssh-open-to-world']);
  });

  test('Entra ID brute force from one foreign address, a success from a new country, then that person’s federated AWS session', () => {
    const s = storyById(stories, 'entra-brute-force-aws-federation');
    const e = s.expect;
    const signIns = rows('azuread').filter((r) => r.table === 'authentication' && r.actor_id === e.actors.azuread);
    const failed = signIns.filter((r) => r.src_ip === e.attackerIp && r.outcome === 'failure');
    expect(failed).toHaveLength(e.failedSignIns);
    expect(new Set(failed.map((r) => r.error_code))).toEqual(new Set([e.failedErrorCode]));
    const success = signIns.find((r) => r.event_id === e.successSignInId)!;
    expect([success.outcome, success.src_ip, success.country, success.mfa]).toEqual(['success', e.attackerIp, e.attackerCountry, false]);
    expect(Math.max(...failed.map((r) => (r.time as Date).getTime()))).toBeLessThan((success.time as Date).getTime());
    // Everywhere else in the sample the person signs in from their usual country only.
    const usual = new Set(signIns.filter((r) => r.outcome === 'success' && r.src_ip !== e.attackerIp).map((r) => r.country));
    expect([...usual]).toEqual(e.usualCountries);
    expect(e.usualCountries).not.toContain(e.attackerCountry);
    const awsApp = signIns.find((r) => r.event_id === e.awsAppSignInId)!;
    expect([awsApp.auth_protocol, awsApp.src_ip]).toEqual(['saml20', e.attackerIp]);

    const assume = ct.byEventId.get(e.assumeRoleWithSamlEventId)!;
    expect(assume.eventName).toBe('AssumeRoleWithSAML');
    expect(assume.userIdentity).toMatchObject({ type: 'SAMLUser', userName: e.upn });
    expect(assume.requestParameters).toMatchObject({ roleSessionName: e.upn, roleArn: e.roleArn });
    expect(assume.sourceIPAddress).toBe(e.attackerIp);
    expect(assume.responseElements.credentials.accessKeyId).toBe(e.sessionKey);
    expect(assume.responseElements.issuer).toContain(e.tenantId);
    expect(Date.parse(assume.eventTime)).toBeGreaterThanOrEqual(Math.floor((awsApp.time as Date).getTime() / 1000) * 1000);
    const session = ct.records.filter((r) => r.userIdentity.accessKeyId === e.sessionKey);
    expect(session.map((r) => r.eventID)).toEqual(e.followUpEventIds);
    expect(session.map((r) => r.eventName)).toEqual(e.followUpEventNames);
    expect(session.every((r) => r.userIdentity.arn.endsWith(`/${e.upn}`) && r.sourceIPAddress === e.attackerIp)).toBe(true);
    // The same person federates every weekday from the office, so the SAML identity is not new.
    const usualSaml = ct.records.filter(
      (r) => r.eventName === 'AssumeRoleWithSAML' && r.userIdentity.userName === e.upn && r.eventID !== e.assumeRoleWithSamlEventId,
    );
    expect(usualSaml.length).toBeGreaterThan(0);
    expect(usualSaml.every((r) => r.sourceIPAddress !== e.attackerIp)).toBe(true);
  });

  test('exfiltration: the same S3 requests in CloudTrail and the server access logs, then as many bytes out to the attacker in VPC flows', () => {
    const e = storyById(stories, 's3-exfiltration').expect;
    const events = e.cloudTrailEventIds.map((id) => ct.byEventId.get(id)!);
    expect(events.map((r) => r.requestID)).toEqual(e.requestIds);
    expect(
      events.every(
        (r) =>
          r.eventName === 'GetObject' &&
          r.userIdentity.userName === undefined &&
          r.userIdentity.sessionContext.sessionIssuer.arn === e.roleArn,
      ),
    ).toBe(true);
    expect(events.every((r) => r.userIdentity.arn.endsWith(`/${e.instanceId}`) && r.userIdentity.accessKeyId === e.sessionKey)).toBe(true);
    const byRequest = new Map(rows('s3access').map((r) => [r.event_id as string, r]));
    const lines = e.requestIds.map((id) => byRequest.get(id)!);
    expect(
      lines.every(
        (r) => r && r.activity === 'REST.GET.OBJECT' && r.bucket === e.bucket && r.actor_id === e.roleArn && r.actor_name === e.instanceId,
      ),
    ).toBe(true);
    lines.forEach((r, i) => {
      expect(r.src_ip).toBe(events[i].sourceIPAddress);
      expect(r.object_key).toBe(events[i].requestParameters.key);
      expect(r.bytes_out).toBe(events[i].additionalEventData.bytesTransferredOut);
    });
    expect(lines.reduce((sum, r) => sum + (r.bytes_out as number), 0)).toBe(e.bytesRead);
    expect(e.getObjects).toBe(e.requestIds.length);

    // VPC flow logs, read straight from the files: the instance's interface sends to the attacker.
    const flows: string[][] = [];
    for (const file of files.filter((f) => layoutOf(f) === 'vpcflow')) {
      for (const l of objectBytes(dir, file).toString('utf8').split('\n')) {
        const f = l.split(' ');
        if (f[2] === e.interfaceId && f[4] === e.attackerIp) flows.push(f);
      }
    }
    expect(flows).toHaveLength(e.flowsOut);
    const bytes = flows.reduce((sum, f) => sum + Number(f[9]), 0);
    expect(bytes).toBe(e.flowBytesOut);
    expect(bytes).toBeGreaterThanOrEqual(e.bytesRead);
    expect(flows.every((f) => f[3] === e.privateIp && f[6] === '443' && f[12] === 'ACCEPT')).toBe(true);
    const lastGet = Math.max(...events.map((r) => Date.parse(r.eventTime)));
    expect(Date.parse(e.firstFlow)).toBeGreaterThan(lastGet - 60_000);
  });

  test('the instance resolves the known-bad domain just before the exfiltration, and only then', () => {
    const dns = storyById(stories, 'malicious-domain-lookup').expect;
    const exfil = storyById(stories, 's3-exfiltration').expect;
    const queries = rows('route53resolver').filter((r) => r.query_name === dns.domain);
    expect(queries).toHaveLength(dns.queries);
    expect(queries.map((r) => r.event_id).sort()).toEqual([...dns.queryEventIds].sort());
    expect(
      queries.every((r) => r.instance_id === dns.instanceId && r.vpc_id === dns.vpcId && (r.answers as string[]).includes(dns.resolvedIp)),
    ).toBe(true);
    expect(dns.instanceId).toBe(exfil.instanceId);
    expect(dns.resolvedIp).toBe(exfil.attackerIp);
    const first = Math.min(...queries.map((r) => (r.time as Date).getTime()));
    expect(first).toBe(Date.parse(dns.firstQuery));
    expect(Date.parse(exfil.firstFlow) - first).toBeGreaterThan(0);
    expect(Date.parse(exfil.firstFlow) - first).toBeLessThan(60 * 60_000);
    // The instance's everyday lookups are of other names.
    expect(rows('route53resolver').filter((r) => r.instance_id === dns.instanceId).length).toBeGreaterThan(dns.queries);
  });

  test('GCP: a service account key used from the attacker’s address, then a new key', () => {
    const e = storyById(stories, 'gcp-key-from-attacker').expect;
    const entra = storyById(stories, 'entra-brute-force-aws-federation').expect;
    const mine = rows('gcpaudit').filter((r) => e.insertIds.includes(r.event_id as string));
    expect(mine).toHaveLength(e.insertIds.length);
    expect(mine.every((r) => r.actor_id === e.actor && r.src_ip === e.attackerIp && r.account === e.projectId)).toBe(true);
    const inTime = [...mine].sort((a, b) => (a.time as Date).getTime() - (b.time as Date).getTime());
    expect(inTime.map((r) => r.activity)).toEqual(e.methods);
    expect(e.methods[e.methods.length - 1]).toBe('google.iam.admin.v1.CreateServiceAccountKey');
    expect(e.attackerIp).toBe(entra.attackerIp);
    // Otherwise the service account only works from inside Google Cloud.
    const elsewhere = rows('gcpaudit').filter((r) => r.actor_id === e.actor && !e.insertIds.includes(r.event_id as string));
    expect(elsewhere.length).toBeGreaterThan(0);
    expect(elsewhere.every((r) => (r.src_ip as string).startsWith('10.'))).toBe(true);
  });

  test('ALB: a scanner sweeps sensitive paths with its own user agents', () => {
    const e = storyById(stories, 'alb-scanner').expect;
    const mine = rows('alb').filter((r) => r.src_ip === e.ip && r.table === 'http_activity');
    expect(mine).toHaveLength(e.requests);
    expect(mine.filter((r) => r.status === 404)).toHaveLength(e.notFound);
    expect(new Set(mine.map((r) => r.user_agent))).toEqual(new Set(e.userAgents));
    expect(mine.every((r) => (r.resources as string[])[0] === e.loadBalancerArn)).toBe(true);
    expect(rows('alb').filter((r) => e.userAgents.includes(r.user_agent as string) && r.src_ip !== e.ip)).toHaveLength(0);
    // Each request came on its own TLS connection: its connection log line has the same client port and conn_trace_id.
    const handshakes = rows('alb').filter((r) => r.src_ip === e.ip && r.table === 'network_activity');
    expect(handshakes).toHaveLength(e.requests);
    const traceIds = (row: Row) => (row.raw as string).split(' ').at(-1);
    expect(new Set(handshakes.map(traceIds))).toEqual(new Set(mine.map(traceIds)));
    expect(new Set(handshakes.map((r) => String(r.src_port)))).toEqual(
      new Set(mine.map((r) => (r.raw as string).split(' ')[3].split(':')[1])),
    );
  });

  test('ELB: the load balancer folder holds ALB access logs, ALB connection logs and NLB TLS listener logs, in the counts sample.json gives', () => {
    const counts = summary.sections.alb!;
    const access = rows('alb').filter((r) => r.table === 'http_activity');
    const handshakes = rows('alb').filter((r) => r.activity === 'tls-handshake');
    const nlb = rows('alb').filter((r) => r.activity === 'tls-connection');
    expect([access.length, handshakes.length, nlb.length]).toEqual([counts.accessLines, counts.connectionLines, counts.nlbTlsLines]);
    expect(access.length + handshakes.length + nlb.length).toBe(summary.bySource.alb!.records);
    // One handshake per request; the partner API's NLB carries a share of its own, some of it failed handshakes.
    expect(handshakes.length).toBe(access.length);
    expect(nlb.length).toBeGreaterThan(access.length / 20);
    const failed = nlb.filter((r) => r.outcome === 'failure');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(nlb.length / 4);
    expect(nlb.filter((r) => r.outcome === 'success').every((r) => r.tls_protocol === 'TLSv1.2' || r.tls_protocol === 'TLSv1.3')).toBe(
      true,
    );
  });
});

describe('--sources', () => {
  test('writes only the sources asked for; S3 access logs come out the same with or without CloudTrail files', () => {
    const some = sample('some', { seed: 'pick', days: 1, sources: ['s3access', 'gcpaudit'] });
    const all = sample('all', { seed: 'pick', days: 1 });
    const someFiles = listFiles(some.dir);
    expect(new Set(someFiles.map((f) => layoutOf(f) ?? f))).toEqual(
      new Set(['s3access', 'gcpaudit', 'geoip-overrides.json', 'sample.json', 'stories.json']),
    );
    expect(Object.keys(some.summary.bySource).sort()).toEqual(['gcpaudit', 's3access']);
    const h1 = fileHashes(some.dir);
    const h2 = fileHashes(all.dir);
    for (const [file, hash] of h1) if (file !== 'sample.json') expect(h2.get(file)).toBe(hash);
    // The same stories are planned whichever sources are written.
    expect(h1.get('stories.json')).toBe(h2.get('stories.json'));
    expect(h1.get('geoip-overrides.json')).toBe(h2.get('geoip-overrides.json'));
  });

  test('rejects an unknown source', () => {
    expect(() => sample('bad', { days: 1, sources: ['cloudtrail', 'syslog' as never] })).toThrow(/unknown source 'syslog'/);
  });
});

describe('the default sample', () => {
  test('stays under 9k objects and 150k records, every source included, and the summary counts what is on disk', () => {
    const { dir, summary } = sample('default', {});
    expect(summary.days).toBe(3);
    expect(Object.keys(summary.bySource).sort()).toEqual([...SAMPLE_SOURCES].sort());
    // 8k until the load balancer folder held ALB connection logs and NLB logs beside the access logs
    // (a file per node and 5 minutes each, as ELB delivers them: about 1.1k more objects).
    expect(summary.totals.files).toBeLessThan(9000);
    expect(summary.totals.records).toBeLessThan(150_000);
    // Beside the logs: a signature per CloudTrail digest, sample.json, stories.json, geoip-overrides.json and the public key.
    expect(listFiles(dir)).toHaveLength(summary.totals.files + summary.sections.cloudtrail!['digestFiles'] + SAMPLE_EXTRA_FILES.length);
    for (const s of Object.values(summary.bySource)) expect(s.records).toBeGreaterThan(0);
  });

  test('--scale grows the other sources too', () => {
    const one = sample('s1', { seed: 'grow', days: 1, sources: ['alb', 'cloudfront', 'route53resolver', 'gcpaudit', 'nsgflow'] });
    const four = sample('s4', {
      seed: 'grow',
      days: 1,
      scale: 4,
      sources: ['alb', 'cloudfront', 'route53resolver', 'gcpaudit', 'nsgflow'],
    });
    for (const id of ['alb', 'cloudfront', 'route53resolver', 'gcpaudit', 'nsgflow'] as const) {
      const ratio = four.summary.bySource[id]!.records / one.summary.bySource[id]!.records;
      expect(ratio).toBeGreaterThan(2.5);
    }
  });
});
