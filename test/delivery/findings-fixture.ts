/**
 * Findings rows written into a lake's findings table as the lake contract lays them out
 * (findings/product=…/account=…/day=…/part-<txn>.parquet, FINDINGS_TABLE's columns in order), for
 * the delivery tests: delivery reads whatever wrote them (detect, or the GuardDuty / Security Hub
 * sources) through the same table.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDuckDb, type DuckParam } from '../../src/core/duckdb';
import { findingsPartitionPath, partFileName } from '../../src/core/lake-layout';
import { sqlString } from '../../src/core/sql';
import { FINDINGS_TABLE, FINDING_SEVERITY_ID, type FindingLevel, type FindingRow } from '../../src/core/tables';

let txn = 0;

export function finding(id: string, overrides: Partial<FindingRow> = {}): FindingRow {
  const level = (overrides.level ?? 'high') as FindingLevel;
  const at = overrides.created_at ?? new Date('2026-11-02T10:00:00Z');
  return {
    finding_id: id,
    time: at,
    rule_id: 'aws-cloudtrail-stopped',
    rule_kind: 'detection',
    title: 'CloudTrail logging stopped',
    description: 'A trail stopped logging: activity after this is not recorded.',
    level,
    severity: FINDING_SEVERITY_ID[level],
    product_severity: null,
    techniques: ['T1562.008'],
    tactics: ['defense-evasion'],
    first_seen: new Date(at.getTime() - 60_000),
    last_seen: at,
    actor_id: 'arn:aws:iam::418295730146:user/mallory',
    session_id: 'AKIAEXAMPLEKEY000001',
    src_ip: '192.0.2.150',
    resources: ['arn:aws:cloudtrail:us-east-1:418295730146:trail/main', 'i-0abc'],
    region: 'us-east-1',
    evidence_event_ids: ['ev-1', 'ev-2'],
    evidence_tables: ['api_activity'],
    evidence_count: 2,
    group_key: id,
    created_at: at,
    raw: null,
    product: 'scoutql',
    account: '418295730146',
    ...overrides,
  };
}

/** Writes the rows, one Parquet file per partition, as one transaction would publish them. */
export async function writeFindings(lake: string, rows: readonly FindingRow[]): Promise<void> {
  const db = await LocalDuckDb.open();
  try {
    const columns = FINDINGS_TABLE.columns;
    await db.run(`CREATE TABLE f (${columns.map((c) => `"${c.name}" ${c.type}`).join(', ')}, product VARCHAR, account VARCHAR)`);
    for (const row of rows) {
      const values: DuckParam[] = [];
      const cells = columns.map((c) => {
        const v = (row as unknown as Record<string, unknown>)[c.name];
        if (v === null || v === undefined) return 'NULL';
        if (v instanceof Date) {
          values.push(v.toISOString());
          return `CAST(? AS TIMESTAMP)`;
        }
        if (Array.isArray(v)) {
          values.push(JSON.stringify(v));
          return `CAST(CAST(? AS JSON) AS VARCHAR[])`;
        }
        values.push(typeof v === 'bigint' ? Number(v) : (v as DuckParam));
        return `CAST(? AS ${c.type})`;
      });
      values.push(row.product, row.account);
      await db.run(`INSERT INTO f VALUES (${cells.join(', ')}, ?, ?)`, values);
    }
    const tag = `fixture${String(++txn).padStart(4, '0')}${Date.now()}`;
    const partitions = await db.rows(`SELECT DISTINCT product, account, strftime(time, '%Y-%m-%d') AS day FROM f`);
    for (const p of partitions) {
      const dir = join(
        lake,
        ...findingsPartitionPath({ product: String(p.product), account: String(p.account), day: String(p.day) }).split('/'),
      );
      mkdirSync(dir, { recursive: true });
      await db.run(
        `COPY (SELECT ${columns.map((c) => `"${c.name}"`).join(', ')} FROM f WHERE product = ? AND account = ? AND strftime(time, '%Y-%m-%d') = ?)
         TO ${sqlString(join(dir, partFileName(tag)))} (FORMAT parquet)`,
        [String(p.product), String(p.account), String(p.day)],
      );
    }
  } finally {
    db.close();
  }
}
