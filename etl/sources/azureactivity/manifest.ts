import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'azureactivity',
  provider: 'azure',
  product: 'Azure Activity log',
  order: 8,
  tables: ['api_activity'],
  objects: {
    content:
      'Resource-log records with resourceId, operationName and an Activity log category (diagnostic-settings exports), or the REST API / portal / Azure CLI shape',
    keyPatterns: [/insights-activity-logs\//i],
  },
  identity: { columns: ['event_id', 'time'], doc: 'eventDataId (else the sha1 of the record), with the time' },
  graph: {
    entities: ['Identity', 'Session', 'Resource', 'IPAddress', 'Account'],
    relations: ['from_ip', 'uses', 'in_region', 'in_account'],
  },
  bench: { duckdb: ['json-lines'], golden: { file: 'ms-docs-storage-envelope.json', repeat: 'envelope' } },
});
