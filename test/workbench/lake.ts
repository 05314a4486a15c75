/**
 * The workbench's lake: the story lake (test/api/fixtures/story.ts), three findings about it, and a
 * CI robot's 620 reads (more than one export page of 500, with a quiet day in the middle). Built
 * once by the workbench suite, and by the README screenshot script.
 */
import { materializeGraph } from '../../etl/graph';
import type { TableName } from '../../src/core/tables';
import { finding, writeFindings } from '../delivery/findings-fixture';
import { days, writeTable, type FixtureRow } from '../api/fixtures/lake';
import {
  ACCOUNT,
  ADMIN_ROLE,
  BOB,
  BOB_CONSOLE_KEY,
  BRUTE_IP,
  DEVOPS_KEY,
  DEVOPS_ROLE,
  OUTSIDE_READER_IP,
  PUBLIC_BUCKET,
  storyRows,
} from '../api/fixtures/story';

export const CI_BOT = `arn:aws:iam::${ACCOUNT}:user/ci-bot`;
export const CI_BOT_READS = 620;
/** Not the lake's default window (2026-02-26 → 03-05): a page that forgot it would show other numbers. */
export const W = { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' };
export const hashWindow = `from=${encodeURIComponent(W.from)}&to=${encodeURIComponent(W.to)}`;

function ciBotReads(): FixtureRow[] {
  const start = Date.parse('2026-03-01T00:07:00Z');
  return Array.from({ length: CI_BOT_READS }, (_, i) => {
    const eventId = `ci-${String(i).padStart(4, '0')}`;
    return {
      source: 'cloudtrail',
      account: ACCOUNT,
      region: 'us-east-1',
      // Every 12 minutes, with a quiet day after the 200th read (the histogram must show it), all inside W.
      time: new Date(start + i * 720_000 + (i >= 200 ? 86_400_000 : 0)),
      event_id: eventId,
      outcome: 'success',
      class_uid: 6003,
      activity: 'GetObject',
      service: 's3.amazonaws.com',
      actor_id: CI_BOT,
      actor_type: 'IAMUser',
      actor_name: 'ci-bot',
      actor_arn: CI_BOT,
      actor_account: ACCOUNT,
      session_id: 'AKIACIBOT00000000001',
      src_ip: '10.0.9.9',
      user_agent: 'aws-cli/2.15.0 Python/3.11 Linux/6.1',
      read_only: true,
      resources: ['arn:aws:s3:::ci-artifacts'],
      raw: JSON.stringify({ eventID: eventId, eventName: 'GetObject' }),
    };
  });
}

/** A deploy robot: routine calls two to four weeks before the window, then new addresses, a new network, country, region and client in it. */
export const DEPLOY_BOT = `arn:aws:iam::${ACCOUNT}:user/deploy-bot`;
export const DEPLOY_BOT_NEW = {
  SOURCE_IP: ['203.0.113.66', '203.0.113.77'],
  ASN: ['64496'],
  COUNTRY: ['NL'],
  REGION: ['eu-west-1'],
  USER_AGENT: ['python-requests/2.31.0'],
} as const;

function deployBotCalls(): FixtureRow[] {
  const routine = { ip: '198.51.100.20', country: 'US', asn: 16509, region: 'us-east-1', agent: 'terraform/1.7.0' };
  const away = { ip: '203.0.113.66', country: 'NL', asn: 64496, region: 'eu-west-1', agent: 'python-requests/2.31.0' };
  const calls: [string, typeof routine][] = [
    ['2026-02-01T10:00:00Z', routine],
    ['2026-02-08T10:00:00Z', routine],
    ['2026-02-15T10:00:00Z', routine],
    ['2026-03-03T02:00:00Z', routine],
    ['2026-03-03T02:30:00Z', away],
    ['2026-03-04T05:00:00Z', away],
    ['2026-03-05T06:00:00Z', { ...away, ip: '203.0.113.77', agent: routine.agent }],
  ];
  return calls.map(([at, where], i) => ({
    source: 'cloudtrail',
    account: ACCOUNT,
    region: where.region,
    time: new Date(at),
    event_id: `deploy-${i}`,
    outcome: 'success',
    class_uid: 6003,
    activity: 'UpdateFunctionCode',
    service: 'lambda.amazonaws.com',
    actor_id: DEPLOY_BOT,
    actor_type: 'IAMUser',
    actor_name: 'deploy-bot',
    actor_arn: DEPLOY_BOT,
    actor_account: ACCOUNT,
    session_id: 'AKIADEPLOYBOT0000001',
    src_ip: where.ip,
    src_country: where.country,
    src_asn: where.asn,
    user_agent: where.agent,
    read_only: false,
    resources: [`arn:aws:lambda:${where.region}:${ACCOUNT}:function:deploy`],
    raw: JSON.stringify({ eventID: `deploy-${i}`, eventName: 'UpdateFunctionCode' }),
  }));
}

export async function writeWorkbenchLake(dir: string): Promise<void> {
  const tables = storyRows();
  tables.api_activity.push(...ciBotReads(), ...deployBotCalls());
  const touched: string[] = [];
  for (const [table, rows] of Object.entries(tables) as [TableName, FixtureRow[]][]) {
    await writeTable(dir, table, rows);
    touched.push(...days(rows));
  }
  await materializeGraph({ lake: dir, days: [...new Set(touched)] });
  const at = (iso: string) => new Date(iso);
  await writeFindings(dir, [
    finding('f-brute', {
      rule_id: 'aws-console-brute-force',
      title: 'Console sign-in after repeated failures',
      level: 'high',
      techniques: ['T1110'],
      tactics: ['credential-access'],
      actor_id: BOB,
      session_id: BOB_CONSOLE_KEY,
      src_ip: BRUTE_IP,
      resources: [],
      account: ACCOUNT,
      created_at: at('2026-03-02T03:00:14Z'),
      time: at('2026-03-02T03:00:14Z'),
      last_seen: at('2026-03-02T03:00:14Z'),
    }),
    finding('f-chain', {
      rule_id: 'aws-role-chain-cross-account',
      title: 'Role chain into another account',
      level: 'medium',
      techniques: ['T1078.004'],
      tactics: ['privilege-escalation'],
      actor_id: DEVOPS_ROLE,
      session_id: DEVOPS_KEY,
      src_ip: BRUTE_IP,
      resources: [ADMIN_ROLE],
      account: ACCOUNT,
      created_at: at('2026-03-02T03:10:00Z'),
      time: at('2026-03-02T03:10:00Z'),
      last_seen: at('2026-03-02T03:10:00Z'),
    }),
    finding('f-public-read', {
      rule_id: 'aws-s3-read-from-outside',
      title: 'Bucket read from outside the known ranges',
      level: 'low',
      techniques: ['T1530'],
      tactics: ['collection'],
      actor_id: null,
      session_id: null,
      src_ip: OUTSIDE_READER_IP,
      resources: [PUBLIC_BUCKET],
      account: ACCOUNT,
      created_at: at('2026-03-04T12:00:00Z'),
      time: at('2026-03-04T12:00:00Z'),
      last_seen: at('2026-03-04T12:00:00Z'),
    }),
  ]);
}
