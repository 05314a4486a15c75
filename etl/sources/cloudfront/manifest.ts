import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'cloudfront',
  provider: 'aws',
  product: 'Amazon CloudFront standard logs',
  order: 5,
  tables: ['http_activity'],
  objects: {
    content:
      'W3C files: `#Version: 1.0`, `#Fields: date time x-edge-location …`, tab-separated lines (or the documented 33 fields without a header)',
    // Files are named `<distribution id>.YYYY-MM-DD-HH.<unique>.gz`.
    keyPatterns: [/(^|[/\\])E[A-Z0-9]{5,}\.\d{4}-\d\d-\d\d-\d\d\.[^/\\]+$/],
  },
  identity: { columns: ['event_id'], doc: 'x-edge-request-id (else the sha1 of the line)' },
  graph: { entities: ['Resource', 'IPAddress', 'Account', 'UserAgent'], relations: [] },
  bench: { duckdb: ['csv-tab-comments'], golden: { file: 'EMLARXS9EXAMPLE.2019-12-04-21.a1b2c3d4.gz', repeat: 'lines' } },
});
