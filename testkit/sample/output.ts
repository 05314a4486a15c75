/**
 * Shared plumbing of the sample writers: one place that puts objects under the output folder
 * (creating each folder once) and keeps per-source counts, plus the date stamps providers put in
 * their object keys.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SourceStats {
  files: number;
  records: number;
  bytes: number;
}

export class ObjectOutput {
  private readonly madeDirs = new Set<string>();

  constructor(readonly outDir: string) {}

  /** Writes one object and counts it in `stats`. */
  put(key: string, body: Buffer | string, records: number, stats: SourceStats): void {
    stats.bytes += this.write(key, body);
    stats.files++;
    stats.records += records;
  }

  /** Writes one object; returns its size in bytes. */
  write(key: string, body: Buffer | string): number {
    const path = join(this.outDir, key);
    const dir = dirname(path);
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    writeFileSync(path, bytes);
    return bytes.length;
  }
}

export function emptyStats(): SourceStats {
  return { files: 0, records: 0, bytes: 0 };
}

export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY/MM/DD` */
export function slashDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/** `YYYYMMDDTHHmmZ` */
export function stampMinutes(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
}

/** Azure's blob path parts: `y=YYYY/m=MM/d=DD/h=HH/m=00`. */
export function azureHourPath(ms: number): string {
  const d = new Date(ms);
  return `y=${d.getUTCFullYear()}/m=${pad(d.getUTCMonth() + 1)}/d=${pad(d.getUTCDate())}/h=${pad(d.getUTCHours())}/m=00`;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Work hours (UTC, weekdays) shape the baseline of every source. */
export function isWorkHour(ms: number): boolean {
  const d = new Date(ms);
  return d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && d.getUTCHours() >= 7 && d.getUTCHours() < 22;
}

/** Items of one day, taken off the front of a time-sorted list. */
export function takeDay<T>(items: readonly T[], cursor: { at: number }, dayEnd: number, timeOf: (item: T) => number): T[] {
  const out: T[] = [];
  while (cursor.at < items.length && timeOf(items[cursor.at]) < dayEnd) out.push(items[cursor.at++]);
  return out;
}
