import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ingest } from '../../etl/ingest';
import { source as apigateway } from '../../etl/sources/apigateway/parser';
import type { ParsedItem } from '../../etl/sources/types';
import { tempDir, withDuckDb } from '../etl/helpers';
import { goldenDir } from './golden';

type Row = Readonly<Record<string, unknown>>;

async function parse(text: string, key = '/logs/access.log'): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of apigateway.parse(Readable.from([Buffer.from(text)]), { key })) items.push(item);
  return items;
}

function rows(items: ParsedItem[]): Row[] {
  return items.flatMap((i) => (i.kind === 'rows' ? i.rows.map((r) => r.row) : []));
}

function reasons(items: ParsedItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'quarantine' ? [i.reason] : []));
}

// The REST console's JSON format, with the stage, API, authorizer principal and user agent added.
const RECORD = JSON.stringify({
  requestId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
  extendedRequestId: 'Fq0zHE2CoAMFS_w=',
  apiId: 'a1b2c3d4e5',
  stage: 'prod',
  domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
  ip: '203.0.113.99',
  principalId: 'user|a1b2c3d4',
  requestTime: '04/Mar/2024:18:03:12 +0000',
  httpMethod: 'GET',
  resourcePath: '/pets/{petId}',
  status: '200',
  protocol: 'HTTP/1.1',
  responseLength: '96',
  userAgent: 'Mozilla/5.0',
});

function subscription(messages: unknown[]): string {
  return JSON.stringify({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: 'API-Gateway-Access-Logs_a1b2c3d4e5/prod',
    logStream: 'abc',
    subscriptionFilters: ['to-firehose'],
    logEvents: messages.map((message, i) => ({ id: String(i), timestamp: 1709575392500 + i, message })),
  });
}

describe('apigateway deliveries', () => {
  test('the same request as a JSON line, a CloudWatch Logs export line and a subscription message is the same row', async () => {
    const line = rows(await parse(`${RECORD}\n`));
    const exported = rows(await parse(`2024-03-04T18:03:12.512Z ${RECORD}\n`));
    const subscribed = rows(await parse(subscription([RECORD])));
    expect(line).toHaveLength(1);
    const { account: _lineAccount, ...fromLine } = line[0];
    const { account: _subscriptionAccount, ...fromSubscription } = subscribed[0];
    expect(exported).toEqual(line);
    expect(fromSubscription).toEqual(fromLine);
    // Only the subscription names the log group's owner.
    expect([line[0].account, subscribed[0].account]).toEqual(['unknown', '123456789012']);
    expect(line[0]).toMatchObject({
      event_id: 'Fq0zHE2CoAMFS_w=',
      src_ip: '203.0.113.99',
      actor_id: 'user|a1b2c3d4',
      actor_type: 'AuthorizerPrincipal',
      region: 'us-east-1',
      resources: ['arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod'],
      raw: RECORD,
    });
  });

  test('an HTTP API record (routeKey) names its stage under /apis/, and the key gives account and region the record lacks', async () => {
    const record = { requestId: 'Bl8GAh8xoAMEV0g=', ip: '198.51.100.5', requestTimeEpoch: '1718183750000', httpMethod: 'POST', routeKey: 'POST /orders', status: 201, apiId: 'x7y8z9w0v1', stage: 'live' };
    const [row] = rows(await parse(`${JSON.stringify(record)}\n`, '/data/AWSLogs/111122223333/apigateway/eu-west-1/2024/06/12/part-1.log'));
    expect(row).toMatchObject({
      time: new Date(1718183750000),
      account: '111122223333',
      region: 'eu-west-1',
      resources: ['arn:aws:apigateway:eu-west-1::/apis/x7y8z9w0v1/stages/live'],
      url: 'POST /orders',
      path: '/orders',
      status: 201,
    });
  });
});

describe('apigateway quarantine', () => {
  test('formats the source does not know are quarantined with the reason, their neighbours read', async () => {
    const xml = '<request id="4d3b2a51-6f3e-4c55-8a3b-8a3e5b7c1d22"> <ip>192.0.2.10</ip> <status>200</status> </request>';
    const apache = '192.0.2.10 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://example.com/" "Mozilla/4.08"';
    const custom = JSON.stringify({ id: 'x', method: 'GET', time: '2024-03-04T18:03:12Z' });
    const items = await parse([RECORD, xml, apache, custom, RECORD.replace('"200"', '"2xx"')].join('\n'));
    expect(items).toHaveLength(5);
    expect(rows(items)).toHaveLength(1);
    expect(reasons(items)).toEqual([
      'not an API Gateway access log record: neither JSON nor the documented CLF layout',
      'not an API Gateway access log record: neither JSON nor the documented CLF layout',
      'not an API Gateway access log record: no requestId or extendedRequestId (every access log format must log one)',
      "status '2xx' is not a non-negative integer",
    ]);
  });

  test('a subscription message with one unreadable event is quarantined whole, naming the event', async () => {
    const items = await parse(subscription([RECORD, 'not an access log', RECORD]) + subscription([RECORD]));
    expect(items.map((i) => i.kind)).toEqual(['quarantine', 'rows']);
    expect(reasons(items)).toEqual(['log event 2: not an API Gateway access log record: neither JSON nor the documented CLF layout']);
  });

  test('detection leaves Apache logs and unrelated JSON to other sources', () => {
    const apache = '192.0.2.10 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n';
    expect(apigateway.detect({ key: '/logs/access.log', head: apache })).toEqual({ confidence: 0 });
    expect(apigateway.detect({ key: '/logs/x.json', head: '{"requestId":"1","method":"GET"}\n' })).toEqual({ confidence: 0 });
    expect(apigateway.detect({ key: '/logs/x.json', head: `${RECORD}\n` })).toEqual({ confidence: 0.9 });
  });
});

describe('apigateway in the lake and the graph', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('apigateway');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('rows reconcile, repeats are not doubled, and the graph links principal, address and stage', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    for (const file of ['docs-rest-json.log', 'firehose-subscription.json', 'cloudwatch-export.log', 'bad-records.log'])
      copyFileSync(join(goldenDir(apigateway), file), join(logs, file));
    const lake = join(dir, 'lake');
    const summary = await ingest({ inputs: [logs], lake, graph: true });
    expect(summary.records).toBe(summary.written + summary.quarantined + summary.filtered + summary.duplicates);
    expect(summary.quarantined).toBe(9);
    // firehose-subscription.json and cloudwatch-export.log repeat requests of docs-rest-json.log (same extendedRequestId).
    expect(summary.duplicates).toBe(3);
    await withDuckDb(async (run) => {
      const stage = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
      const edges = await run(
        `SELECT src_type, src_id, rel, dst_type, dst_id FROM read_parquet('${lake}/graph/edges/*/*.parquet')
         WHERE src_id = 'user|a1b2c3d4' OR dst_id = '${stage}' ORDER BY ALL`,
      );
      expect(edges).toEqual(
        expect.arrayContaining([
          { src_type: 'Identity', src_id: 'user|a1b2c3d4', rel: 'from_ip', dst_type: 'IPAddress', dst_id: '203.0.113.99' },
          { src_type: 'Identity', src_id: 'user|a1b2c3d4', rel: 'GET', dst_type: 'Resource', dst_id: stage },
          { src_type: 'IPAddress', src_id: '203.0.113.99', rel: 'GET', dst_type: 'Resource', dst_id: stage },
          { src_type: 'Identity', src_id: 'arn:aws:iam::123456789012:user/Alice', rel: 'DELETE', dst_type: 'Resource', dst_id: stage },
        ]),
      );
    });
  });
});
