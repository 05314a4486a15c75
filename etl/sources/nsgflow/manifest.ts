import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'nsgflow',
  provider: 'azure',
  product: 'Azure Network Watcher flow logs (NSG and virtual network)',
  order: 9,
  tables: ['network_activity'],
  objects: {
    content: '{"records":[…]} whose records hold flowTuples (NSG flow logs v1/v2: properties.flows; VNet flow logs: flowRecords.flows)',
    keyPatterns: [/insights-logs-(?:networksecuritygroupflowevent|flowlogflowevent)\//i],
  },
  identity: { columns: ['event_id'], doc: 'the sha1 of the flow tuple with its resource, rule and MAC address' },
  graph: { entities: ['Resource', 'IPAddress', 'Account'], relations: ['flow'] },
  bench: { duckdb: ['json-records-envelope'], golden: { file: 'ms-docs-version2.json', repeat: 'envelope' } },
});
