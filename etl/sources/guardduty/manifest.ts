import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'guardduty',
  provider: 'aws',
  product: 'Amazon GuardDuty findings',
  order: 11,
  tables: ['findings'],
  objects: {
    content:
      'GuardDuty findings (schemaVersion, arn:…:guardduty:…:finding/…) as the S3 export writes them (JSON lines, gzip), or EventBridge "GuardDuty Finding" events',
    keyPatterns: [/\/AWSLogs\/\d{12}\/GuardDuty\//, /guardduty/i],
  },
  // Findings are not events: they link to the graph's identities, sessions, addresses and resources by their keys.
  graph: { entities: [], relations: [] },
  bench: { duckdb: ['json-lines'], golden: { file: 'export-sample-findings.jsonl', repeat: 'lines' } },
});
