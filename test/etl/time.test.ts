/**
 * The one timestamp parser every source uses (src/core/time.ts): what it accepts, and the
 * impossible or ambiguous times it refuses instead of guessing.
 */
import { parseClfTime, parseIsoTime } from '../../src/core/time';

const iso = (text: string, missingZone?: 'utc' | 'refuse') => parseIsoTime(text, missingZone ? { missingZone } : {})?.toISOString() ?? null;

describe('parseIsoTime', () => {
  test.each([
    // CloudTrail, ALB (microseconds), CloudTrail Lake (space, nanoseconds, no zone: UTC), offsets with and without a colon.
    ['2014-03-06T21:22:54Z', '2014-03-06T21:22:54.000Z'],
    ['2018-07-02T22:23:00.186641Z', '2018-07-02T22:23:00.186Z'],
    ['2024-10-17 21:48:45.000000000', '2024-10-17T21:48:45.000Z'],
    ['2024-10-17T21:48:45.123456Z', '2024-10-17T21:48:45.123Z'],
    ['2024-10-17T23:48:45+02:00', '2024-10-17T21:48:45.000Z'],
    ['2024-10-17T23:48:45+0200', '2024-10-17T21:48:45.000Z'],
    ['2020-02-29T00:00:00+01:00', '2020-02-28T23:00:00.000Z'],
    ['2019-02-06T00:00:38.5-01:30', '2019-02-06T01:30:38.500Z'],
    // Azure writes 7 fractional digits, GCP 9.
    ['2021-05-25T20:15:04.5413591Z', '2021-05-25T20:15:04.541Z'],
    ['2022-01-19T23:13:07.846813123Z', '2022-01-19T23:13:07.846Z'],
  ])('%s is %s', (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  test.each([
    '',
    'yesterday',
    '2014-13-01T00:00:00Z',
    '2014-02-30T00:00:00Z',
    '2019-02-29T00:00:00Z',
    '2014-03-06T25:00:00Z',
    '2014-03-06T24:00:00Z',
    '2014-03-06T12:60:00Z',
    '2014-03-06T12:00:60Z',
    '2014-03-06T12:00:00.Z',
    '2014-03-06T12:00:00+25:00',
    '2014-03-06T12:00:00+01',
    '2014-03-06T12:00Z',
    '2014-03-06T12:00:00Zulu',
    '06/Feb/2019:00:00:38 +0000',
  ])('%p is not a time', (text) => {
    expect(iso(text)).toBeNull();
  });

  test('a timestamp without a zone is UTC unless the caller refuses it (Azure and GCP always write one)', () => {
    expect(iso('2024-10-17T21:48:45')).toBe('2024-10-17T21:48:45.000Z');
    expect(iso('2024-10-17T21:48:45', 'refuse')).toBeNull();
    expect(iso('2024-10-17T21:48:45Z', 'refuse')).toBe('2024-10-17T21:48:45.000Z');
  });

  test('years before 100 are not read as 19xx', () => {
    expect(parseIsoTime('0099-01-01T00:00:00Z')?.getUTCFullYear()).toBe(99);
  });
});

describe('parseClfTime', () => {
  test('S3 access log times with their offset; impossible days refused', () => {
    expect(parseClfTime('06/Feb/2019:00:00:38 +0000')).toEqual(new Date('2019-02-06T00:00:38Z'));
    expect(parseClfTime('06/Feb/2019:00:00:38 -0130')).toEqual(new Date('2019-02-06T01:30:38Z'));
    expect(parseClfTime('31/Apr/2019:00:00:38 +0000')).toBeNull();
    expect(parseClfTime('06/Foo/2019:00:00:38 +0000')).toBeNull();
    expect(parseClfTime('2019-02-06T00:00:38Z')).toBeNull();
  });
});
