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
  identity: { columns: ['event_id'], doc: 'the sha1 of the query log record' },
  graph: {
    entities: ['Resource', 'IPAddress', 'Account'],
    relations: ['queried', 'resolves_to', 'has_address'],
    // An instance's DNS queries give its address, which ties it to the interface whose default-format flows use it.
    joins: [{ source: 'vpcflow', relations: ['has_interface'] }],
  },
  bench: { duckdb: ['json-lines'], golden: { file: 's3-delivery.log.gz', repeat: 'lines' } },
});
