import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'alb',
  provider: 'aws',
  product:
    'Elastic Load Balancing logs (Application, Classic and Network Load Balancer access logs; Application Load Balancer connection logs)',
  order: 4,
  tables: ['http_activity', 'network_activity'],
  objects: {
    content:
      'Space-separated lines: `<type> <ISO time> app/<name>/<id> <client:port> …` (ALB), `<ISO time> <name> <client:port> …` (Classic), `tls 2.0 <time> net/<name>/<id> <listener> <client:port> …` (NLB) or `<ISO time> <client ip> <client port> <listener port> <TLS protocol> …` (ALB connection log); a file may mix them',
    keyPatterns: [/(^|[/\\])elasticloadbalancing([/\\]|$)/],
  },
  identity: { columns: ['event_id'], doc: 'the sha1 of the log line (load balancer logs carry no request id)' },
  graph: { entities: ['Resource', 'IPAddress', 'Account', 'UserAgent'], relations: ['flow'] },
  bench: {
    duckdb: ['csv-space-quoted'],
    golden: { file: 'docs-current-fields.log', repeat: 'lines' },
    // ALB access logs only (read_csv reads one layout): not the `conn_log_` and NLB (`_net.`) objects beside them.
    sampleFiles: /(^|\/)\d{12}_elasticloadbalancing_[a-z0-9-]+_app\.[^/]+$/,
  },
});
