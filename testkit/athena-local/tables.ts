/**
 * External tables of the local Athena server: where their files are, which of them partition
 * projection makes visible, and the DuckDB view that reads them with the declared schema.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ListObjectsV2Command, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { hiveToDuckType, type HiveColumn } from './ddl';

export interface ExternalTable {
  database: string;
  table: string;
  columns: HiveColumn[];
  partitions: HiveColumn[];
  location: string;
  properties: Record<string, string>;
}

export interface LocationResolver {
  /** Local folder holding the files of an s3:// (or file://) location, fetching them first if they live on an S3 server. */
  localDir(location: string): Promise<string>;
}

export function makeLocationResolver(options: {
  localBuckets?: Record<string, string>;
  s3Client?: S3Client;
  cacheDir: string;
}): LocationResolver {
  return {
    async localDir(location) {
      if (location.startsWith('file://')) return decodeURIComponent(location.slice('file://'.length));
      if (location.startsWith('/')) return location;
      const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location);
      if (!m) throw new Error(`location '${location}' is not an s3:// URI`);
      const [, bucket, key] = m as unknown as [string, string, string];
      const mapped = options.localBuckets?.[bucket];
      if (mapped) return join(mapped, key);
      if (!options.s3Client) throw new Error(`no S3 endpoint configured for bucket '${bucket}'`);
      await mirror(options.s3Client, bucket, key, join(options.cacheDir, bucket));
      return join(options.cacheDir, bucket, key);
    },
  };
}

/** Copies the objects under s3://bucket/prefix to a local folder, skipping ones already there with the same size. */
async function mirror(client: S3Client, bucket: string, prefix: string, target: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (!object.Key || object.Key.endsWith('/')) continue;
      const file = join(target, ...object.Key.split('/'));
      if (existsSync(file) && statSync(file).size === object.Size) continue;
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const bytes = await body.Body!.transformToByteArray();
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export interface VisibleFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * The data files Athena would read for a table: files under the location (not starting with
 * `_` or `.`, which Athena skips), in the partition layout, whose partition values partition
 * projection can produce (enum values, date range).
 */
export function visibleFiles(table: ExternalTable, dir: string, now = new Date()): VisibleFile[] {
  const files: VisibleFile[] = [];
  if (!existsSync(dir)) return files;
  const projection = table.properties['projection.enabled']?.toLowerCase() === 'true';
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      if (name.startsWith('_') || name.startsWith('.')) continue;
      const path = join(current, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(dir);
  return files.filter((file) => {
    const segments = relative(dir, file.path).split(sep).slice(0, -1);
    if (segments.length !== table.partitions.length) return false;
    return table.partitions.every((p, i) => {
      const [key, value] = segments[i].split('=');
      if (key !== p.name || value === undefined) return false;
      return !projection || projectionAllows(table.properties, p.name, decodeURIComponent(value), now);
    });
  });
}

function projectionAllows(properties: Record<string, string>, column: string, value: string, now: Date): boolean {
  const type = properties[`projection.${column}.type`]?.trim().toLowerCase();
  if (type === 'enum') return (properties[`projection.${column}.values`] ?? '').split(',').includes(value);
  if (type === 'date') {
    const [from, to] = (properties[`projection.${column}.range`] ?? '').split(',').map((s) => s.trim());
    const day = value.slice(0, 10);
    const bound = (text: string | undefined) =>
      !text ? undefined : text.toUpperCase().startsWith('NOW') ? now.toISOString().slice(0, 10) : text.slice(0, 10);
    const lo = bound(from);
    const hi = bound(to);
    return /^\d{4}-\d{2}-\d{2}$/.test(day) && (!lo || day >= lo) && (!hi || day <= hi);
  }
  if (type === 'integer') return /^-?\d+$/.test(value);
  return true; // injected: any value the query names
}

/** Injected projection columns: Athena demands `col = literal` (or IN) in the WHERE clause. */
export function injectedColumns(table: ExternalTable): string[] {
  if (table.properties['projection.enabled']?.toLowerCase() !== 'true') return [];
  return table.partitions
    .filter((p) => table.properties[`projection.${p.name}.type`]?.trim().toLowerCase() === 'injected')
    .map((p) => p.name);
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * SELECT for the table's view: declared columns in order (NULL for a column no file has), cast
 * to the declared type, then partition columns read from the path with their declared types.
 */
export function viewSelect(table: ExternalTable, files: readonly VisibleFile[], fileColumns: ReadonlySet<string> | null): string {
  const partitionTypes = table.partitions.map((p) => `${quoteString(p.name)}: ${quoteString(hiveToDuckType(p.hiveType))}`).join(', ');
  const projections = [
    ...table.columns.map((c) => {
      const type = hiveToDuckType(c.hiveType);
      return fileColumns?.has(c.name)
        ? `CAST(${quoteIdent(c.name)} AS ${type}) AS ${quoteIdent(c.name)}`
        : `CAST(NULL AS ${type}) AS ${quoteIdent(c.name)}`;
    }),
    ...table.partitions.map((p) =>
      files.length > 0 ? quoteIdent(p.name) : `CAST(NULL AS ${hiveToDuckType(p.hiveType)}) AS ${quoteIdent(p.name)}`,
    ),
  ];
  if (files.length === 0) return `SELECT ${projections.join(', ')} WHERE false`;
  const list = `[${files.map((f) => quoteString(f.path)).join(', ')}]`;
  const hive = table.partitions.length > 0 ? `, hive_partitioning = true, hive_types = {${partitionTypes}}` : ', hive_partitioning = false';
  return `SELECT ${projections.join(', ')} FROM read_parquet(${list}${hive}, union_by_name = true)`;
}

export function rawScan(files: readonly VisibleFile[]): string {
  return `SELECT * FROM read_parquet([${files.map((f) => quoteString(f.path)).join(', ')}], hive_partitioning = false, union_by_name = true) LIMIT 0`;
}
