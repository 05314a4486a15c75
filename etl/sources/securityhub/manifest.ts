import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'securityhub',
  provider: 'aws',
  product: 'AWS Security Hub findings (ASFF)',
  order: 12,
  tables: ['findings'],
  objects: {
    content:
      'AWS Security Finding Format findings: EventBridge "Security Hub Findings - Imported" events (detail.findings[]) as Firehose writes them to S3, or a GetFindings export ({"Findings":[…]})',
    keyPatterns: [/securityhub/i],
  },
  // Findings are not events: they link to the graph's identities, sessions, addresses and resources by their keys.
  graph: { entities: [], relations: [] },
  bench: { duckdb: ['json-lines'], golden: { file: 'firehose-delivery.json', repeat: 'lines' } },
});
