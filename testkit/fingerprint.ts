/**
 * Fingerprints of a sample folder and of a lake, to show a refactor changed nothing:
 *
 *   npx tsx testkit/fingerprint.ts sample DIR   → sha256 of every file (path and bytes)
 *   npx tsx testkit/fingerprint.ts lake DIR     → per partition: row count and sha256 of its rows
 *                                                 (ordered by every column), plus the manifest and
 *                                                 quarantine records without run-specific fields
 *
 * Lake file names carry a transaction id (time and randomness), so a lake is compared by content,
 * not by file name. Prints JSON; diff two outputs to see what moved.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export function sampleFingerprint(dir: string): { files: number; bytes: number; sha256: string } {
  const files = walk(dir).sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of files) {
    const data = readFileSync(file);
    bytes += data.length;
    hash.update(`${relative(dir, file).split(sep).join('/')}\0${sha256(data)}\n`);
  }
  return { files: files.length, bytes, sha256: hash.digest('hex') };
}

/** Lines of the JSONL files under a bookkeeping folder, without the fields that differ per run. */
function jsonlRecords(dir: string, drop: readonly string[]): string[] {
  let files: string[];
  try {
    files = walk(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      for (const key of drop) delete record[key];
      lines.push(JSON.stringify(record, Object.keys(record).sort()));
    }
  }
  return lines.sort();
}

export async function lakeFingerprint(lake: string): Promise<Record<string, unknown>> {
  const partitions = new Map<string, string[]>();
  for (const file of walk(lake)) {
    const rel = relative(lake, file).split(sep).join('/');
    if (rel.startsWith('_') || !rel.endsWith('.parquet') || statSync(file).size === 0) continue;
    const dir = rel.slice(0, rel.lastIndexOf('/'));
    partitions.set(dir, [...(partitions.get(dir) ?? []), file]);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const out: Record<string, { files: number; rows: number; sha256: string }> = {};
  try {
    for (const dir of [...partitions.keys()].sort()) {
      const files = partitions.get(dir)!;
      const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
      // Every column as text, rows sorted: the same rows give the same hash whatever the file split.
      const reader = await connection.runAndReadAll(
        `SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet([${list}], hive_partitioning = false) ORDER BY ALL`,
      );
      const hash = createHash('sha256');
      for (const row of reader.getRowsJson()) hash.update(JSON.stringify(row) + '\n');
      out[dir] = { files: files.length, rows: reader.currentRowCount, sha256: hash.digest('hex') };
    }
  } finally {
    connection.closeSync();
  }
  const manifest = jsonlRecords(join(lake, '_manifest'), ['txn', 'ingestedAt', 'key']);
  const quarantine = jsonlRecords(join(lake, '_quarantine'), ['txn', 'key', 'object']);
  return {
    partitions: out,
    manifest: { entries: manifest.length, sha256: sha256(manifest.join('\n')) },
    quarantine: { records: quarantine.length, sha256: sha256(quarantine.join('\n')) },
  };
}

if (require.main === module) {
  const [kind, dir] = process.argv.slice(2);
  if ((kind !== 'sample' && kind !== 'lake') || !dir) {
    process.stderr.write('usage: tsx testkit/fingerprint.ts sample|lake DIR\n');
    process.exit(2);
  }
  const run = kind === 'sample' ? Promise.resolve(sampleFingerprint(dir)) : lakeFingerprint(dir);
  run.then(
    (result) => process.stdout.write(JSON.stringify(result, null, 2) + '\n'),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
