/**
 * Partition values found in a local copy of the lake, so enum projections list every account and
 * region that has data (a value missing from an enum is invisible to Athena).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findingsTablePath, tablePath } from '../core/lake-layout';
import { TABLE_NAMES } from '../core/tables';

export function discoverPartitionValues(lakeDir: string): { accounts: string[]; regions: string[] } {
  const accounts = new Set<string>();
  const regions = new Set<string>();
  const values = (dir: string, key: string) =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && e.name.startsWith(`${key}=`))
          .map((e) => ({ value: decodeURIComponent(e.name.slice(key.length + 1)), dir: join(dir, e.name) }))
      : [];
  for (const table of TABLE_NAMES) {
    for (const source of values(join(lakeDir, ...tablePath(table).split('/')), 'source')) {
      for (const account of values(source.dir, 'account')) {
        accounts.add(account.value);
        for (const region of values(account.dir, 'region')) regions.add(region.value);
      }
    }
  }
  // Findings of an account with no events yet (a GuardDuty finding) must be visible too.
  for (const product of values(join(lakeDir, ...findingsTablePath().split('/')), 'product')) {
    for (const account of values(product.dir, 'account')) accounts.add(account.value);
  }
  return { accounts: [...accounts].sort(), regions: [...regions].sort() };
}
