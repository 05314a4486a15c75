/** The configuration reference (docs/config.md), rendered from the schema so it cannot drift. */
import { configKeys, FLAG_ALIASES } from './keys';

export function renderConfigReference(): string {
  const aliasOf = new Map<string, string>(Object.entries(FLAG_ALIASES).map(([flag, key]) => [key, flag]));
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npx tsx src/config/reference.ts > docs/config.md`; test/service/config.test.ts checks it. -->',
    '',
    'One file, `scoutql.config.yaml` (path by `--config` or `SCOUTQL_CONFIG`; else `./scoutql.config.yaml`',
    'when it exists). Every key is also an environment variable and a flag. Precedence:',
    '**flag > environment > file > default**. With no file, no variables and no flags, ScoutQL runs as it',
    'always has: DuckDB over `.scoutql/lake`, `auth: none`, bound to 127.0.0.1.',
    '',
    "- Environment: `SCOUTQL_` + the key's levels in upper snake case joined by `__`",
    '  (`engine.athena.outputLocation` → `SCOUTQL_ENGINE__ATHENA__OUTPUT_LOCATION`). An unknown',
    '  `SCOUTQL_…__…` variable fails at start-up, as an unknown key in the file does.',
    '- Flags: `--` + the levels in kebab case joined by `-` (`--engine-athena-output-location`); the short',
    '  forms `--lake`, `--engine`, `--host`, `--port`, `--insecure-bind`, `--max-window-days`,',
    '  `--max-page-size` set the keys they name.',
    '- Lists: comma-separated (`a,b`) or JSON (`["a","b"]`); maps: JSON (`{"sec-admins":"admin"}`);',
    '  booleans: true/false (a boolean flag alone means true); sizes: bytes or with a unit (`500MB`, `10GiB`).',
    '- Relative paths in the file are relative to the file; from a variable or a flag, to the working folder.',
    '- `auth` is either `none` or an object with `oidc` and/or `apiKeys`.',
    '',
    '| key | type | default | environment | flag | what it does |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const key of configKeys()) {
    const flag = aliasOf.has(key.key) ? `\`${key.flag}\`, \`${aliasOf.get(key.key)}\`` : `\`${key.flag}\``;
    const def = key.default === undefined ? '—' : `\`${typeof key.default === 'string' ? key.default : JSON.stringify(key.default)}\``;
    out.push(`| \`${key.key}\` | ${escape(key.type)} | ${escape(def)} | \`${key.env}\` | ${flag} | ${escape(key.description)} |`);
  }
  out.push(
    '',
    'Derived defaults: `engine.lake` `s3://` needs `engine.type: athena`; `audit.location` defaults to',
    '`<lake>/_audit`, `auth.apiKeys.store` to `<lake>/_keys`; with `engine.type: athena`,',
    '`engine.athena.database` and `limits.maxBytesScannedPerQuery` are required and `engine.athena.region`',
    'falls back to `AWS_REGION`.',
    '',
    '## Example: a team server on Athena',
    '',
    '```yaml',
    'engine:',
    '  type: athena',
    '  lake: s3://acme-security-lake/scoutql',
    '  athena:',
    '    database: scoutql',
    '    workgroup: scoutql',
    '    outputLocation: s3://acme-athena-results/scoutql/',
    '    region: eu-west-1',
    'server:',
    '  host: 0.0.0.0',
    '  allowedHosts: [scoutql.acme.example]',
    '  trustProxy: true',
    'auth:',
    '  oidc:',
    '    issuer: https://login.acme.example/',
    '    audience: scoutql',
    '    claims: { roles: groups }',
    '    roles: { sec-analysts: analyst, sec-admins: admin }',
    "    accounts: { sec-analysts: ['111111111111', '222222222222'], sec-admins: '*' }",
    '  apiKeys: {}',
    '  soarOperations: [04-context-for-indicator]',
    'limits:',
    '  maxBytesScannedPerQuery: 10GB',
    '  ratePerMinute: 600',
    '```',
    '',
  );
  return out.join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

if (require.main === module) process.stdout.write(renderConfigReference());
