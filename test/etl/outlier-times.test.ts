/**
 * Event times a log cannot honestly hold: one dated 9999 would move every "latest data" window of
 * the API, one dated before its provider existed sits alone in a day of its own. Ingest quarantines
 * both with the reason (the default), or stores them exactly as dated when told to keep them, and a
 * year like 0050 is stored as 0050, never as 1950.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { graphDays } from '../../src/engine/lake';
import { cloudTrailRecord, lakeRows, scoutql, tempDirsRemovedAfterAll } from './helpers';

const tempDir = tempDirsRemovedAfterAll();

const NOW = new Date('2026-11-10T12:00:00Z');

function writeTrail(dir: string): string {
  const file = join(dir, 'trail.json');
  const records = [
    cloudTrailRecord(1, { eventTime: '2026-11-09T08:00:00Z', eventID: 'ok-yesterday' }),
    // Eleven hours ahead of the run's clock: a slow clock or a time zone slip, still within a day.
    cloudTrailRecord(2, { eventTime: '2026-11-10T23:00:00Z', eventID: 'ok-tomorrow' }),
    cloudTrailRecord(3, { eventTime: '9999-12-31T23:59:59Z', eventID: 'far-future' }),
    cloudTrailRecord(4, { eventTime: '2026-11-12T00:00:01Z', eventID: 'day-and-a-half-ahead' }),
    cloudTrailRecord(5, { eventTime: '0050-03-01T10:00:00Z', eventID: 'year-0050' }),
    cloudTrailRecord(6, { eventTime: '2005-12-31T23:59:59Z', eventID: 'before-aws' }),
  ];
  writeFileSync(file, JSON.stringify({ Records: records }));
  return file;
}

function quarantined(lake: string): { reason: string; text: string }[] {
  const dir = join(lake, '_quarantine');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { reason: string; text: string }),
  );
}

describe('event times outside what a log can hold', () => {
  test('are quarantined by default, each with its reason, and counts reconcile', async () => {
    const input = tempDir('outlier-in');
    const lake = tempDir('outlier-lake');
    writeTrail(input);
    const summary = await ingest({ inputs: [input], lake, now: NOW });
    expect(summary).toMatchObject({ records: 6, written: 2, quarantined: 4 });
    expect((await lakeRows(lake)).map((r) => r['event_id']).sort()).toEqual(['ok-tomorrow', 'ok-yesterday']);
    const reasons = Object.fromEntries(quarantined(lake).map((q) => [(JSON.parse(q.text) as { eventID: string }).eventID, q.reason]));
    expect(reasons['far-future']).toMatch(/^event time 9999-12-31T23:59:59\.000Z is more than a day after the ingest began/);
    expect(reasons['day-and-a-half-ahead']).toMatch(/more than a day after the ingest began \(2026-11-10T12:00:00\.000Z\)/);
    expect(reasons['year-0050']).toMatch(/^event time 0050-03-01T10:00:00\.000Z is before aws could have logged it \(2006-03-14\)/);
    expect(reasons['before-aws']).toMatch(/before aws could have logged it/);
    // No day of its own: the graph (and the API's default window) sees only the real days.
    expect(graphDays(lake)).toEqual(['2026-11-09', '2026-11-10']);
  });

  test('are stored exactly as dated when the switch says keep them (year 0050 stays 0050)', async () => {
    const input = tempDir('outlier-keep-in');
    const lake = tempDir('outlier-keep-lake');
    writeTrail(input);
    const summary = await ingest({ inputs: [input], lake, now: NOW, outlierTimes: 'keep', graph: false });
    expect(summary).toMatchObject({ records: 6, written: 6, quarantined: 0 });
    const rows = await lakeRows(lake);
    const byId = new Map(rows.map((r) => [r['event_id'], r]));
    expect(String(byId.get('year-0050')?.['time'])).toMatch(/^0050-03-01[ T]10:00:00/);
    expect(String(byId.get('year-0050')?.['day'])).toBe('0050-03-01');
    expect(String(byId.get('far-future')?.['day'])).toBe('9999-12-31');
  });

  test('the CLI flag --keep-outlier-times is the switch', () => {
    const input = tempDir('outlier-cli-in');
    const lake = tempDir('outlier-cli-lake');
    writeTrail(input);
    const quarantine = scoutql(['ingest', '--json', '--lake', lake, input]);
    expect(quarantine.status).toBe(0);
    // The CLI's clock is the real one: only the records dated 9999 and before AWS are outliers for sure.
    expect(JSON.parse(quarantine.stdout)).toMatchObject({ records: 6 });
    expect(
      quarantined(lake)
        .map((q) => q.reason)
        .filter((r) => /9999|0050|2005/.test(r)),
    ).toHaveLength(3);
    const keepLake = tempDir('outlier-cli-keep');
    const keep = scoutql(['ingest', '--json', '--keep-outlier-times', '--lake', keepLake, input]);
    expect(keep.status).toBe(0);
    expect(JSON.parse(keep.stdout)).toMatchObject({ records: 6, written: 6, quarantined: 0 });
  });
});
