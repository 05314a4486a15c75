import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'vpcflow',
  provider: 'aws',
  product: 'Amazon VPC Flow Logs',
  order: 2,
  tables: ['network_activity'],
  objects: {
    content:
      'Space-separated flow records (default format, or a custom one named by its header line), also as CloudWatch Logs exports (timestamped lines, JSON lines, subscription envelopes)',
    keyPatterns: [/(^|[/\\])vpcflowlogs([/\\]|$)|aws-service=vpcflowlogs/],
  },
  graph: {
    entities: ['Resource', 'IPAddress', 'Account'],
    // Custom formats name the instance of an interface, which ties the two and the interface's address.
    relations: ['flow', 'has_interface', 'has_address'],
  },
  bench: { duckdb: ['csv-space-header'], golden: { file: 'default-format.log', repeat: 'lines' } },
});
