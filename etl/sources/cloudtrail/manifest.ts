import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'cloudtrail',
  provider: 'aws',
  product: 'AWS CloudTrail',
  order: 1,
  tables: ['api_activity', 'authentication'],
  objects: {
    content:
      'Trail log files ({"Records":[…]} of records with eventVersion, eventSource, eventName), CloudTrail Lake JSON lines, EventBridge "… via CloudTrail" events, the event history (lookup-events output, the console\'s CSV download), records re-shipped by Logstash, Elasticsearch, Filebeat, Splunk or CloudWatch Logs (a subscription via Firehose, an export to S3); digest files are recognized and skipped',
    keyPatterns: [/AWSLogs\/(?:o-[a-z0-9]+\/)?\d{12}\/CloudTrail\//],
  },
  identity: { columns: ['event_id', 'time'], doc: 'eventID, with the account (partition) and eventTime' },
  graph: {
    entities: ['Identity', 'Session', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    // An AssumeRoleWithSAML whose assertion Entra ID issued federates its subject without Entra's own rows.
    relations: [
      'from_ip',
      'uses',
      'user_agent',
      'in_region',
      'in_account',
      'issued',
      'issued_by',
      'issued_from_ip',
      'federated_into',
      'federated_as',
    ],
  },
  bench: {
    duckdb: ['cloudtrail-records-same-shape', 'cloudtrail-records-auto'],
    golden: { file: 'log-file-examples.json', repeat: 'envelope' },
  },
});
