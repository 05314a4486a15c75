/** The Athena DDL generated from etl/tables.ts: every table, every column typed, projection set, names checked. */
import { catalogStatements, hiveType } from '../../src/catalog';
import { parseDdl } from '../../testkit/athena-local/ddl';
import { FINDINGS_TABLE, FINDING_PRODUCTS, PARTITION_COLUMNS, TABLES, TABLE_NAMES } from '../../src/core/tables';
import { SOURCE_IDS } from '../../src/generated/sources';
import { GRAPH_TABLES } from '../../src/core/tables';

const base = { lake: 's3://acme-security-lake/scoutql', database: 'scoutql' };

describe('catalog DDL', () => {
  const statements = catalogStatements({ ...base, accounts: ['111122223333', '444455556666'], extraRegions: ['eastus'] });

  test('creates the database, then one table per lake table, the two graph tables and the findings table', () => {
    expect(statements.map((s) => s.name)).toEqual(['scoutql', ...TABLE_NAMES, ...Object.keys(GRAPH_TABLES), 'findings']);
    expect(statements[0].sql).toMatch(/^CREATE DATABASE IF NOT EXISTS `scoutql`/);
  });

  test.each(TABLE_NAMES)('%s: every column of etl/tables.ts, Athena-typed, hive partitions, projection', (name) => {
    const sql = statements.find((s) => s.name === name)!.sql;
    const parsed = parseDdl(sql);
    if (parsed.kind !== 'create_table') throw new Error('not a CREATE TABLE');
    expect(parsed.database).toBe('scoutql');
    expect(parsed.columns).toEqual(TABLES[name].columns.map((c) => ({ name: c.name, hiveType: hiveType(c.type) })));
    expect(parsed.partitions).toEqual(PARTITION_COLUMNS.map((c) => ({ name: c, hiveType: c === 'day' ? 'date' : 'string' })));
    expect(parsed.storedAs).toBe('parquet');
    expect(parsed.location).toBe(`s3://acme-security-lake/scoutql/${name}/`);
    expect(parsed.properties).toMatchObject({
      'projection.enabled': 'true',
      'projection.source.type': 'enum',
      'projection.source.values': SOURCE_IDS.join(','),
      'projection.account.type': 'enum',
      'projection.account.values': '111122223333,444455556666',
      'projection.region.type': 'enum',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy-MM-dd',
      'projection.day.range': '2015-01-01,NOW',
      'storage.location.template': `s3://acme-security-lake/scoutql/${name}/source=\${source}/account=\${account}/region=\${region}/day=\${day}/`,
    });
    const regions = parsed.properties['projection.region.values'].split(',');
    expect(regions).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'global', 'unknown', 'eastus']));
  });

  test('column types map to Athena types', () => {
    const sql = statements.find((s) => s.name === 'dns_activity')!.sql;
    expect(sql).toContain('`time` timestamp');
    expect(sql).toContain('`answers` array<string>');
    expect(sql).toContain('`src_port` int');
    const network = statements.find((s) => s.name === 'network_activity')!.sql;
    expect(network).toContain('`bytes` bigint');
    expect(statements.find((s) => s.name === 'http_activity')!.sql).toContain('`duration_ms` double');
  });

  test('graph tables: their columns, a day partition, under <lake>/graph/', () => {
    const entities = parseDdl(statements.find((s) => s.name === 'graph_entities')!.sql);
    const edges = parseDdl(statements.find((s) => s.name === 'graph_edges')!.sql);
    if (entities.kind !== 'create_table' || edges.kind !== 'create_table') throw new Error('not CREATE TABLE');
    expect(entities.columns.map((c) => c.name)).toEqual([
      'type',
      'id',
      'kind',
      'provider',
      'account',
      'name',
      'arn',
      'first_seen',
      'last_seen',
      'event_count',
      'attrs',
    ]);
    expect(edges.columns.map((c) => `${c.name} ${c.hiveType}`)).toEqual([
      'src_type string',
      'src_id string',
      'rel string',
      'dst_type string',
      'dst_id string',
      'first_seen timestamp',
      'last_seen timestamp',
      'event_count bigint',
      'bytes bigint',
      'packets bigint',
    ]);
    expect(entities.partitions).toEqual([{ name: 'day', hiveType: 'date' }]);
    expect(entities.location).toBe('s3://acme-security-lake/scoutql/graph/entities/');
    expect(edges.properties['storage.location.template']).toBe('s3://acme-security-lake/scoutql/graph/edges/day=${day}/');
  });

  test('findings: every column of the contract, partitioned by product, account and day, under <lake>/findings/', () => {
    const parsed = parseDdl(statements.find((s) => s.name === 'findings')!.sql);
    if (parsed.kind !== 'create_table') throw new Error('not a CREATE TABLE');
    expect(parsed.columns).toEqual(FINDINGS_TABLE.columns.map((c) => ({ name: c.name, hiveType: hiveType(c.type) })));
    expect(parsed.columns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['finding_id', 'rule_id', 'level', 'techniques', 'first_seen', 'last_seen', 'evidence_event_ids', 'raw']),
    );
    expect(parsed.partitions).toEqual([
      { name: 'product', hiveType: 'string' },
      { name: 'account', hiveType: 'string' },
      { name: 'day', hiveType: 'date' },
    ]);
    expect(parsed.location).toBe('s3://acme-security-lake/scoutql/findings/');
    expect(parsed.properties).toMatchObject({
      'projection.enabled': 'true',
      'projection.product.type': 'enum',
      'projection.product.values': FINDING_PRODUCTS.join(','),
      'projection.account.type': 'enum',
      'projection.account.values': '111122223333,444455556666',
      'projection.day.type': 'date',
      'storage.location.template': 's3://acme-security-lake/scoutql/findings/product=${product}/account=${account}/day=${day}/',
    });
  });

  test('without accounts, account uses injected projection (events and findings)', () => {
    for (const name of ['api_activity', 'findings']) {
      const sql = catalogStatements(base).find((s) => s.name === name)!.sql;
      expect(sql).toContain("'projection.account.type' = 'injected'");
      expect(sql).not.toContain('projection.account.values');
    }
  });

  test.each([
    [{ database: 'Scout-QL' }, /database 'Scout-QL'/],
    [{ database: 'x`; DROP DATABASE y; --' }, /not a valid Athena name/],
    [{ lake: "s3://bucket/pre'fix" }, /must be an s3:\/\/ URI/],
    [{ lake: '/local/folder' }, /must be an s3:\/\/ URI/],
    [{ accounts: ["1111', 'x"] }, /not valid partition values/],
    [{ extraRegions: ['east us'] }, /not valid partition values/],
    [{ since: '2024-13-45x' }, /not a date/],
  ])('refuses bad input %p', (override, message) => {
    expect(() => catalogStatements({ ...base, ...override })).toThrow(message);
  });
});
