/**
 * Configuration as an operator meets it: a YAML file, SCOUTQL_… variables and flags, with
 * flag > env > file > default, and every mistake named by key and by where it was written.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addConfigOptions, configFromCommand } from '../../src/config/cli';
import { configKeys } from '../../src/config/keys';
import { ConfigError, describeSource, loadConfig, type LoadOptions } from '../../src/config/load';
import { renderConfigReference } from '../../src/config/reference';
import { poolLightReserved } from '../../src/config/schema';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(text: string, name = 'scoutql.config.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The problems of a configuration that must fail, one line each. */
function problems(options: LoadOptions): string[] {
  try {
    loadConfig({ cwd: dir, env: {}, ...options });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.where}: ${p.key ? `${p.key}: ` : ''}${p.message}`);
  }
  throw new Error('configuration loaded, but it should have failed');
}

function commandWith(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const command = addConfigOptions(new Command('serve'), ['--lake', '--port', '--host', '--insecure-bind']).exitOverride();
  command.parse(argv, { from: 'user' });
  return configFromCommand(command, env);
}

test("with no file, variables or flags the defaults are today's behaviour: DuckDB over .scoutql/lake, loopback, auth none", () => {
  const config = loadConfig({ cwd: dir, env: {} });
  expect(config.file).toBeNull();
  expect(config.engine).toMatchObject({ type: 'duckdb', lake: join(dir, '.scoutql', 'lake') });
  expect(config.server).toMatchObject({
    host: '127.0.0.1',
    port: 4000,
    insecureBind: false,
    allowedHosts: [],
    corsOrigins: [],
    requestTimeoutSeconds: 60,
  });
  // Eight connections, all but two kept for light statements: heavy scans at most two at once.
  expect(config.server.pool.connections).toBe(8);
  expect(poolLightReserved(config.server.pool)).toBe(6);
  expect(poolLightReserved({ connections: 2 })).toBe(0);
  expect(config.auth).toEqual({ mode: 'none' });
  expect(config.audit.location).toBe(join(dir, '.scoutql', 'lake', '_audit'));
  expect(config.audit.maxChunkBytes).toBe(64 * 1024 * 1024);
  // No limits a single local user would trip over, as today; the API's window and page caps as today.
  expect(config.limits).toMatchObject({
    ratePerMinute: 0,
    concurrentQueriesPerCaller: 0,
    maxWindowDays: 31,
    maxPageSize: 500,
    maxBytesScannedPerQuery: null,
  });
  expect(describeSource(config.sourceOf('server.port'))).toBe('default');
});

test('precedence: flag > environment > file > default, and each value knows where it came from', () => {
  const file = writeConfig('server:\n  port: 4100\n  host: 127.0.0.2\nlimits:\n  maxPageSize: 100\n');
  const env = { SCOUTQL_SERVER__PORT: '4200', SCOUTQL_LIMITS__MAX_PAGE_SIZE: '200' };

  const all = commandWith(['--config', file, '--port', '4300'], env);
  expect(all.server.port).toBe(4300);
  expect(describeSource(all.sourceOf('server.port'))).toBe('flag --port');
  expect(all.limits.maxPageSize).toBe(200);
  expect(describeSource(all.sourceOf('limits.maxPageSize'))).toBe('environment SCOUTQL_LIMITS__MAX_PAGE_SIZE');
  expect(all.server.host).toBe('127.0.0.2');
  expect(describeSource(all.sourceOf('server.host'))).toBe(`${file}:3:3`);
  expect(all.limits.maxWindowDays).toBe(31);
  expect(describeSource(all.sourceOf('limits.maxWindowDays'))).toBe('default');

  // The long per-key flag works as the alias does.
  expect(commandWith(['--config', file, '--server-port', '4301'], env).server.port).toBe(4301);
  expect(commandWith(['--config', file], env).server.port).toBe(4200);
  expect(commandWith(['--config', file], {}).server.port).toBe(4100);
  expect(commandWith([], {}).server.port).toBe(4000);
});

test('a section whose keys are all commented out is simply not set', () => {
  const file = writeConfig('server:\n  # port: 4100\nauth:\nlimits:\n  maxPageSize: 100\n');
  const config = loadConfig({ cwd: dir, env: {}, configPath: file });
  expect(config.server.port).toBe(4000);
  expect(config.auth).toEqual({ mode: 'none' });
  expect(config.limits.maxPageSize).toBe(100);
});

test('SCOUTQL_CONFIG names the file; ./scoutql.config.yaml is read when present; a named file that is missing fails', () => {
  const other = writeConfig('server:\n  port: 4555\n', 'team.yaml');
  expect(loadConfig({ cwd: dir, env: { SCOUTQL_CONFIG: other } }).server.port).toBe(4555);
  expect(loadConfig({ cwd: dir, env: {} }).file).toBeNull();
  writeConfig('server:\n  port: 4666\n');
  expect(loadConfig({ cwd: dir, env: {} }).server.port).toBe(4666);
  expect(problems({ configPath: 'nope.yaml' })).toEqual(["--config: config file 'nope.yaml' does not exist"]);
  expect(problems({ env: { SCOUTQL_CONFIG: 'gone.yaml' } })).toEqual(["SCOUTQL_CONFIG: config file 'gone.yaml' does not exist"]);
});

test('an unknown key in the file fails with its file, line and column, and a suggestion', () => {
  const file = writeConfig('engine:\n  type: duckdb\nserver:\n  prot: 4000\n  host: 127.0.0.1\nauditt:\n  enabled: true\n');
  expect(problems({ configPath: file })).toEqual([
    `${file}:4:3: server.prot: unknown key (did you mean 'port'?); known: host, port, insecureBind, allowedHosts, corsOrigins, requestTimeoutSeconds, shutdownGraceSeconds, trustProxy, persistedQueries, metrics, publicUrl, pool`,
    `${file}:6:1: auditt: unknown key (did you mean 'audit'?)`,
  ]);
});

test('a wrong type or value names the key, the file and the line, and says what was expected', () => {
  const file = writeConfig(
    [
      'engine:',
      '  type: sqlite',
      'server:',
      '  port: "four thousand"',
      '  insecureBind: maybe',
      '  allowedHosts: scoutql.example.com',
      'limits:',
      '  maxPageSize: 0',
      '  maxBytesScannedPerQuery: 10 gigs',
      '',
    ].join('\n'),
  );
  expect(problems({ configPath: file })).toEqual([
    `${file}:2:3: engine.type: expected "duckdb" | "athena", got "sqlite"`,
    `${file}:4:3: server.port: expected a number, got "four thousand"`,
    `${file}:5:3: server.insecureBind: expected boolean, got "maybe"`,
    `${file}:6:3: server.allowedHosts: expected array, got "scoutql.example.com"`,
    `${file}:8:3: limits.maxPageSize: Too small: expected number to be >=1, got 0`,
    `${file}:9:3: limits.maxBytesScannedPerQuery: expected a byte size such as 1048576, 500MB or 10GiB, got "10 gigs"`,
  ]);
});

test('not valid YAML fails with the line of the mistake', () => {
  const file = writeConfig('server:\n  port: 4000\n  port: 4001\n');
  const [problem] = problems({ configPath: file });
  expect(problem).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:3: not valid YAML: Map keys must be unique`));
});

test('environment: typed values, lists, JSON maps; a bad value or an unknown SCOUTQL_…__… variable names the variable', () => {
  const config = loadConfig({
    cwd: dir,
    env: {
      SCOUTQL_SERVER__INSECURE_BIND: 'true',
      SCOUTQL_SERVER__ALLOWED_HOSTS: 'scoutql.example.com, *.corp.example',
      SCOUTQL_AUTH__OIDC__ISSUER: 'https://login.example.com/',
      SCOUTQL_AUTH__OIDC__AUDIENCE: 'scoutql',
      SCOUTQL_AUTH__OIDC__ROLES: '{"sec-admins":"admin","sec-analysts":"analyst"}',
      SCOUTQL_AUTH__OIDC__ACCOUNTS: '{"sec-analysts":["111111111111"],"sec-admins":"*"}',
      SCOUTQL_LIMITS__MAX_BYTES_SCANNED_PER_QUERY: '10GB',
      // Not configuration keys (no `__`): left alone.
      SCOUTQL_TEST_ENGINES: 'duckdb',
      SCOUTQL_ATHENA_DATABASE: 'legacy',
    },
  });
  expect(config.server.insecureBind).toBe(true);
  expect(config.server.allowedHosts).toEqual(['scoutql.example.com', '*.corp.example']);
  expect(config.auth.mode).toBe('on');
  if (config.auth.mode !== 'on') return;
  expect(config.auth.oidc).toMatchObject({
    issuer: 'https://login.example.com/',
    audience: 'scoutql',
    roles: { 'sec-admins': 'admin', 'sec-analysts': 'analyst' },
    accounts: { 'sec-analysts': ['111111111111'], 'sec-admins': '*' },
    clockSkewSeconds: 30,
    algorithms: ['RS256', 'ES256'],
  });
  expect(config.auth.apiKeys).toBeNull();
  expect(config.limits.maxBytesScannedPerQuery).toBe(10_000_000_000);
  // Auth on: per-caller limits default on.
  expect(config.limits).toMatchObject({ ratePerMinute: 600, burst: 100, concurrentQueriesPerCaller: 4 });

  expect(problems({ env: { SCOUTQL_SERVER__PORT: '80a' } })).toEqual([
    'environment SCOUTQL_SERVER__PORT: server.port: expected a number, got "80a"',
  ]);
  expect(problems({ env: { SCOUTQL_SERVR__PORT: '4000' } })).toEqual([
    'environment SCOUTQL_SERVR__PORT: unknown setting (did you mean SCOUTQL_SERVER__PORT?)',
  ]);
  expect(
    problems({
      env: {
        SCOUTQL_AUTH__OIDC__ROLES: '{"x":"root"}',
        SCOUTQL_AUTH__OIDC__ISSUER: 'https://i.example/',
        SCOUTQL_AUTH__OIDC__AUDIENCE: 'a',
      },
    }),
  ).toEqual(['environment SCOUTQL_AUTH__OIDC__ROLES: auth.oidc.roles.x: expected "analyst" | "soar" | "admin", got "root"']);
});

test('a flag with a bad value names the flag', () => {
  expect(() => commandWith(['--port', 'http'])).toThrow(/flag --port: server\.port: expected a number, got "http"/);
  expect(() => commandWith(['--server-request-timeout-seconds', '0'])).toThrow(
    /flag --server-request-timeout-seconds: server\.requestTimeoutSeconds: Too small/,
  );
});

test('athena: database, region and a cost guard are required, the lake is s3://; a DuckDB lake cannot be s3://', () => {
  const file = writeConfig('engine:\n  type: athena\n  lake: ./lake\n', 'athena-incomplete.yaml');
  expect(problems({ configPath: file })).toEqual([
    `${file}:3:3: engine.lake: must be an s3:// URL with engine.type athena`,
    `${file}:2:3: engine.athena.database: is required with engine.type athena`,
    `${file}:2:3: limits.maxBytesScannedPerQuery: is required with engine.type athena (Athena bills by bytes scanned; there is no unlimited default)`,
  ]);
  expect(problems({ flags: [{ key: 'engine.lake', value: 's3://bucket/lake', flag: '--lake' }] })).toEqual([
    'flag --lake: engine.lake: an s3:// lake needs engine.type athena (DuckDB reads a local folder)',
  ]);

  const good = writeConfig(
    [
      'engine:',
      '  type: athena',
      '  lake: s3://acme-lake/scoutql',
      '  athena:',
      '    database: scoutql',
      '    workgroup: hunting',
      '    outputLocation: s3://acme-results/scoutql/',
      'limits:',
      '  maxBytesScannedPerQuery: 10GiB',
      '',
    ].join('\n'),
    'athena.yaml',
  );
  expect(problems({ configPath: good })).toEqual(['config: engine.athena.region: is required with engine.type athena (or set AWS_REGION)']);
  const config = loadConfig({ cwd: dir, configPath: good, env: { AWS_REGION: 'eu-west-1', SCOUTQL_ENGINE__ATHENA__WORKGROUP: 'primary' } });
  expect(config.engine.athena).toEqual({
    database: 'scoutql',
    workgroup: 'primary',
    outputLocation: 's3://acme-results/scoutql/',
    region: 'eu-west-1',
    catalog: 'AwsDataCatalog',
  });
  expect(config.limits.maxBytesScannedPerQuery).toBe(10 * 1024 ** 3);
  expect(config.audit.location).toBe('s3://acme-lake/scoutql/_audit');
});

test('auth: none or oidc/apiKeys; an http issuer off loopback and an empty auth block are refused; the key store defaults to the lake', () => {
  const file = writeConfig(
    'auth:\n  oidc:\n    issuer: http://login.example.com/\n    audience: scoutql\n    algorithms: [RS256, HS256]\n',
  );
  expect(problems({ configPath: file })).toEqual([
    `${file}:5:5: auth.oidc.algorithms.1: expected "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA", got "HS256"`,
  ]);
  writeConfig('auth:\n  oidc:\n    issuer: http://login.example.com/\n    audience: scoutql\n');
  expect(problems({})).toEqual([
    `${join(dir, 'scoutql.config.yaml')}:3:5: auth.oidc.issuer: must be https (http only on loopback, for tests and demos)`,
  ]);
  writeConfig('auth:\n  soarOperations: "*"\n');
  expect(problems({})).toEqual([`${join(dir, 'scoutql.config.yaml')}:1:1: auth: needs oidc and/or apiKeys (enabled), or the value 'none'`]);

  writeConfig('engine:\n  lake: data/lake\nauth:\n  apiKeys: {}\n');
  const keys = loadConfig({ cwd: dir, env: {} });
  expect(keys.auth).toEqual({
    mode: 'on',
    oidc: null,
    apiKeys: { enabled: true, cacheSeconds: 30, store: join(dir, 'data', 'lake', '_keys') },
    soarOperations: '*',
  });
  // A higher layer replaces `auth` whole: the environment turns it off again.
  expect(loadConfig({ cwd: dir, env: { SCOUTQL_AUTH: 'none' } }).auth).toEqual({ mode: 'none' });
});

test('relative paths: from the file, relative to the file; from a flag, relative to the working folder', () => {
  mkdirSync(join(dir, 'etc'));
  const file = writeConfig('engine:\n  lake: ../lake\naudit:\n  location: audit-trail\n', join('etc', 'scoutql.yaml'));
  const config = loadConfig({ cwd: dir, env: {}, configPath: file });
  expect(config.engine.lake).toBe(join(dir, 'lake'));
  expect(config.audit.location).toBe(join(dir, 'etc', 'audit-trail'));
  const work = join(dir, 'work');
  const flagged = loadConfig({ cwd: work, env: {}, configPath: file, flags: [{ key: 'engine.lake', value: 'mylake', flag: '--lake' }] });
  expect(flagged.engine.lake).toBe(join(work, 'mylake'));
});

test('every key has its own environment variable and flag, and docs/config.md is the rendered reference', () => {
  const keys = configKeys();
  expect(new Set(keys.map((k) => k.env)).size).toBe(keys.length);
  expect(new Set(keys.map((k) => k.flag)).size).toBe(keys.length);
  expect(keys.map((k) => k.key)).toEqual(
    expect.arrayContaining(['engine.athena.workgroup', 'auth.oidc.jwksUri', 'audit.location', 'limits.concurrentQueriesPerCaller']),
  );
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'config.md'), 'utf8');
  expect(doc).toBe(renderConfigReference());
});
