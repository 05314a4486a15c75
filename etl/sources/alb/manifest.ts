import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'alb',
  provider: 'aws',
  product: 'Elastic Load Balancing access logs (Application and Classic Load Balancers)',
  order: 4,
  tables: ['http_activity'],
  objects: {
    content:
      'Space-separated lines: `<type> <ISO time> app/<name>/<id> <client:port> …` (ALB) or `<ISO time> <name> <client:port> …` (Classic)',
    keyPatterns: [/(^|[/\\])elasticloadbalancing([/\\]|$)/],
  },
  identity: { columns: ['event_id'], doc: 'the sha1 of the log line (load balancer logs carry no request id)' },
  graph: { entities: ['Resource', 'IPAddress', 'Account', 'UserAgent'], relations: [] },
  bench: { duckdb: ['csv-space-quoted'], golden: { file: 'docs-current-fields.log', repeat: 'lines' } },
});
