import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'route53resolver',
  provider: 'aws',
  product: 'Amazon Route 53 Resolver query logs',
  order: 6,
  tables: ['dns_activity'],
  objects: {
    content: 'JSON lines with query_name, query_timestamp and srcids (also inside CloudWatch Logs events and subscription envelopes)',
    keyPatterns: [/\/vpcdnsquerylogs\//i],
  },
  graph: {
    entities: ['Resource', 'IPAddress', 'Account'],
    relations: ['queried', 'resolves_to', 'has_address'],
    joins: [{ source: 'vpcflow', relations: ['has_interface', 'has_address'] }],
  },
  bench: { duckdb: ['json-lines'], golden: { file: 's3-delivery.log.gz', repeat: 'lines' } },
});
