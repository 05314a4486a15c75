import { defineManifest } from '../types';
import { fieldsOfFormat } from './fields';

export const manifest = defineManifest({
  id: 'vpcflow',
  provider: 'aws',
  product: 'Amazon VPC Flow Logs',
  order: 2,
  tables: ['network_activity'],
  objects: {
    content:
      'Space-separated flow records of VPCs and Transit Gateways (their default formats, documented all-fields layouts, or a custom one named by its header line or --vpcflow-format), also as CloudWatch Logs exports (timestamped lines, JSON lines, subscription envelopes) and Firehose deliveries',
    keyPatterns: [/(^|[/\\])vpcflowlogs([/\\]|$)|aws-service=vpcflowlogs/],
  },
  identity: { columns: ['event_id'], doc: 'the CloudWatch Logs event id, else the sha1 of the flow log line' },
  options: {
    format: {
      value: '<format>',
      description:
        "the flow log's format, as AWS writes it ('${version} ${account-id} ${interface-id} …'), for objects delivered without a header line (CloudWatch Logs, Firehose)",
      check: (value) => {
        const fields = fieldsOfFormat(value);
        return typeof fields === 'string' ? fields : null;
      },
    },
  },
  graph: {
    entities: ['Resource', 'IPAddress', 'Account'],
    // Custom formats name the instance of an interface, which ties the two and the interface's address.
    relations: ['flow', 'has_interface', 'has_address'],
  },
  bench: { duckdb: ['csv-space-header'], golden: { file: 'default-format.log', repeat: 'lines' } },
});
