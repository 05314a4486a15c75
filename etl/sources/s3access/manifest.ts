import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 's3access',
  provider: 'aws',
  product: 'Amazon S3 server access logs',
  order: 3,
  tables: ['http_activity'],
  objects: {
    content:
      'Space-separated lines: 64-hex bucket owner, bucket, [dd/Mon/yyyy:HH:MM:SS +zzzz], remote IP, requester, request id, operation…',
    // Objects are named `<prefix>YYYY-mm-DD-HH-MM-SS-<16 hex>`.
    keyPatterns: [/(^|\/)\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/],
  },
  identity: { columns: ['event_id', 'time'], doc: 'the request id (with the key or GET for batch and website operations), with the time' },
  graph: {
    entities: ['Identity', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    relations: ['from_ip', 'user_agent', 'in_region', 'in_account'],
  },
  bench: { duckdb: ['csv-space-quoted'], golden: { file: 'docs-example-records.log', repeat: 'lines' } },
});
