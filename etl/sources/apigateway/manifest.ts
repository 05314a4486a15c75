import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'apigateway',
  provider: 'aws',
  product: 'Amazon API Gateway access logs (REST and HTTP APIs)',
  order: 11,
  tables: ['http_activity'],
  objects: {
    content:
      'Access log records in the JSON or CLF format the API Gateway console offers (`{"requestId":…,"ip":…,"httpMethod":…}` or `<ip> <caller> <user> [<time>] "<method> <path> <protocol>" <status> <length> <requestId>`), as JSON lines, CloudWatch Logs export lines or subscription messages (Firehose)',
    keyPatterns: [/(^|[/\\])API-Gateway-Access-Logs/i, /(^|[/\\])apigateway[^/\\]*[/\\]/i],
  },
  identity: {
    columns: ['event_id'],
    doc: 'extendedRequestId (API Gateway makes it; clients can override requestId), else the sha1 of the access log record',
  },
  graph: {
    entities: ['Identity', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    relations: ['from_ip', 'user_agent', 'in_region', 'in_account'],
  },
  // The sample's CloudWatch Logs export lines (`<ISO time> {…}`) are no format DuckDB's own readers take.
  bench: { duckdb: [], golden: { file: 'docs-rest-json.log', repeat: 'lines' } },
});
