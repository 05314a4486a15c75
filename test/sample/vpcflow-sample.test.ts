import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { readStories, storyById } from '../../testkit/sample/story';
import { VPC_FLOW_HEADER } from '../../etl/sources/vpcflow/sample';
import { buildWorld, parseStartDate } from '../../testkit/sample/world';
import { source as cloudtrail } from '../../etl/sources/cloudtrail/parser';
import { source as vpcflow } from '../../etl/sources/vpcflow/parser';
import type { LogSource } from '../../etl/sources/types';
import { DIGEST_FILE, FLOW_FILE, generate, gunzipText, listFiles } from './helpers';

interface Flow {
  account: string;
  eni: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  start: number;
  end: number;
  action: string;
  status: string;
}

let dir: string;
let flowFiles: string[];
let flows: Flow[];

beforeAll(() => {
  ({ dir } = generate('flow', { seed: 'flows', days: 2, start: '2026-06-01' }));
  flowFiles = listFiles(dir).filter((f) => f.includes('/vpcflowlogs/'));
  flows = [];
  for (const file of flowFiles) {
    const [header, ...lines] = gunzipText(dir, file).trimEnd().split('\n');
    if (header !== VPC_FLOW_HEADER) throw new Error(`${file}: header ${header}`);
    for (const l of lines) {
      const f = l.split(' ');
      flows.push({
        account: f[1],
        eni: f[2],
        src: f[3],
        dst: f[4],
        srcPort: Number(f[5]),
        dstPort: Number(f[6]),
        protocol: Number(f[7]),
        start: Number(f[10]),
        end: Number(f[11]),
        action: f[12],
        status: f[13],
      });
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('flow log files use the S3 layout and name, and start with the version 2 header', () => {
  expect(flowFiles.length).toBeGreaterThan(50);
  for (const file of flowFiles) {
    const m = FLOW_FILE.exec(file);
    expect(m).not.toBeNull();
    const [, acct, region, yyyy, mm, dd, acct2, region2, , ymd] = m!;
    expect([acct2, region2, ymd]).toEqual([acct, region, `${yyyy}${mm}${dd}`]);
  }
});

test('records have the 14 default fields; NODATA records dash out the traffic fields', () => {
  expect(flows.length).toBeGreaterThan(1000);
  for (const f of flows) {
    expect(f.end - f.start).toBe(60);
    if (f.status === 'NODATA') {
      expect([f.src, f.dst, f.action]).toEqual(['-', '-', '-']);
    } else {
      expect(f.status).toBe('OK');
      expect(['ACCEPT', 'REJECT']).toContain(f.action);
      expect([6, 17]).toContain(f.protocol);
    }
  }
  expect(flows.some((f) => f.status === 'NODATA')).toBe(true);
});

test('interfaces and accounts are the world’s instances', () => {
  const world = buildWorld('flows', parseStartDate('2026-06-01'), 2);
  const enis = new Map(world.instances.map((i) => [i.eniId, i]));
  for (const f of flows) {
    const instance = enis.get(f.eni);
    expect(instance?.account).toBe(f.account);
    if (f.status === 'OK') expect([f.src, f.dst]).toContain(instance!.privateIp);
  }
});

test('after SSH is opened to the world, SSH from the internet is accepted on the jump host, and not before', () => {
  const s = storyById(readStories(dir), 'ssh-open-to-world');
  const openedAt = Date.parse(s.steps.find((x) => x.eventId === s.expect.eventId)!.time) / 1000;
  const world = buildWorld('flows', parseStartDate('2026-06-01'), 2);
  const office = new Set(world.offices.map((o) => o.ip));
  const inboundSsh = flows.filter((f) => f.eni === s.expect.interfaceId && f.dstPort === 22 && f.action === 'ACCEPT' && !office.has(f.src));
  expect(inboundSsh.length).toBe(s.expect.sshFlowsAccepted);
  expect(inboundSsh.every((f) => f.start > openedAt)).toBe(true);
  expect([...new Set(inboundSsh.map((f) => f.src))].sort()).toEqual(s.expect.sshFlowSources);
  // Before the change, the internet only ever saw REJECT on port 22.
  const rejectedBefore = flows.filter(
    (f) => f.eni === s.expect.interfaceId && f.dstPort === 22 && f.action === 'REJECT' && f.start < openedAt,
  );
  expect(rejectedBefore.length).toBeGreaterThan(0);
});

async function parseAll(source: LogSource, file: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const item of source.parse(createReadStream(join(dir, file)).pipe(createGunzip()), { key: join(dir, file) })) {
    counts[item.kind] = (counts[item.kind] ?? 0) + 1;
    if (item.kind === 'quarantine') throw new Error(`${file}: quarantined: ${item.reason}`);
  }
  return counts;
}

test('the project’s own CloudTrail and VPC flow sources read the sample files (every fifth) without quarantine; digests are skipped', async () => {
  const files = listFiles(dir);
  const sample = (f: string) => ({ key: join(dir, f), head: gunzipText(dir, f).slice(0, 65536) });
  let ctRows = 0;
  let flowRows = 0;
  for (const f of files.filter((x) => DIGEST_FILE.test(x)).slice(0, 20)) {
    expect(cloudtrail.detect(sample(f))).toEqual({ skip: 'CloudTrail digest file' });
    // Its signature beside it (plain hex).
    expect(cloudtrail.detect({ key: join(dir, `${f}.sig`), head: readFileSync(join(dir, `${f}.sig`), 'utf8') })).toEqual({
      skip: 'CloudTrail digest signature',
    });
  }
  for (const f of files.filter((x) => x.includes('/CloudTrail/')).filter((_, i) => i % 5 === 0)) {
    expect(cloudtrail.detect(sample(f))).toEqual({ confidence: expect.any(Number) });
    ctRows += (await parseAll(cloudtrail, f)).rows ?? 0;
  }
  for (const f of flowFiles.filter((_, i) => i % 5 === 0)) {
    const det = vpcflow.detect(sample(f));
    expect('confidence' in det && det.confidence > 0.5).toBe(true);
    flowRows += (await parseAll(vpcflow, f)).rows ?? 0;
  }
  expect(ctRows).toBeGreaterThan(1000);
  expect(flowRows).toBeGreaterThan(200);
});
