import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'gcpaudit',
  provider: 'gcp',
  product: 'Google Cloud Audit Logs',
  order: 10,
  tables: ['api_activity'],
  objects: {
    content:
      'LogEntry objects (JSON lines from a Logging sink, or a `gcloud logging read` array) whose protoPayload is a google.cloud.audit.AuditLog',
    keyPatterns: [/cloudaudit\.googleapis\.com/],
  },
  identity: {
    columns: ['event_id', 'time'],
    doc: 'insertId with the timestamp, as Cloud Logging deduplicates (else the sha1 of the entry)',
  },
  graph: {
    entities: ['Identity', 'Session', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    relations: ['from_ip', 'uses', 'user_agent', 'in_region', 'in_account'],
  },
  bench: { duckdb: ['json-lines'], golden: { file: 'sink-export.json', repeat: 'lines' } },
});
