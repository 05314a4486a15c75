import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 'azuread',
  provider: 'azure',
  product: 'Microsoft Entra ID sign-in and audit logs',
  order: 7,
  tables: ['authentication', 'api_activity'],
  objects: {
    content:
      'Diagnostic-settings exports ({"records":[…]} or JSON lines) with a sign-in or AuditLogs category, from the tenant-level Microsoft.aadiam provider',
    keyPatterns: [
      /insights-logs-(?:signinlogs|noninteractiveusersigninlogs|serviceprincipalsigninlogs|managedidentitysigninlogs|auditlogs)\//i,
    ],
  },
  identity: { columns: ['event_id', 'time'], doc: 'the sign-in or audit id (else the sha1 of the record), with the time' },
  graph: {
    entities: ['Identity', 'Session', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    relations: ['from_ip', 'uses', 'user_agent', 'in_region', 'in_account'],
    joins: [{ source: 'cloudtrail', relations: ['federated_into', 'federated_as'] }],
  },
  bench: { duckdb: ['json-lines'], golden: { file: 'signins-storage-envelope.json', repeat: 'envelope' } },
});
