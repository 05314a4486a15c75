/**
 * Time parsing for every log source, in one place: ISO 8601 timestamps (one strict scanner, run
 * once per record over millions of records) and the common-log-format time of S3 server access
 * logs. `Date.parse` is avoided on purpose: it accepts too much (it rolls 30 February over into
 * March) and reads a timestamp without a zone in the machine's local zone.
 */

export interface IsoTimeOptions {
  /**
   * What a timestamp without a zone means. 'utc' (the default): UTC, as AWS documents its logs
   * (CloudTrail, ALB, CloudFront, VPC flow exports; CloudTrail Lake writes `2024-10-17 21:48:45`).
   * 'refuse': not a time at all (Azure and GCP always write a zone: one without is not theirs, and
   * guessing a zone would shift every event).
   */
  missingZone?: 'utc' | 'refuse';
}

const DASH = 45;
const COLON = 58;
const DOT = 46;
const PLUS = 43;
const SPACE = 32;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

/** The decimal value of `count` digits at `from`, or NaN when one is not a digit. */
function digits(text: string, from: number, count: number): number {
  let result = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return NaN;
    result = result * 10 + d;
  }
  return result;
}

/**
 * `YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z | ±hh:mm | ±hhmm]` → the instant it names (the fraction
 * is truncated to milliseconds, as a JavaScript Date holds no more), or null when the text is not
 * such a timestamp or names no real instant (month 13, 30 February, hour 24, offset +25:00).
 */
export function parseIsoTime(text: string | null | undefined, options: IsoTimeOptions = {}): Date | null {
  if (!text || text.length < 19) return null;
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON)
    return null;
  const separator = text.charCodeAt(10);
  if (separator !== UPPER_T && separator !== LOWER_T && separator !== SPACE) return null;
  let pos = 19;
  let millis = 0;
  if (text.charCodeAt(pos) === DOT) {
    const start = ++pos;
    while (pos < text.length && text.charCodeAt(pos) >= 48 && text.charCodeAt(pos) <= 57) pos++;
    if (pos === start) return null;
    const kept = Math.min(3, pos - start);
    millis = digits(text, start, kept) * 10 ** (3 - kept);
  }
  let offsetMinutes = 0;
  if (pos === text.length) {
    if (options.missingZone === 'refuse') return null;
  } else {
    const zone = text.charCodeAt(pos);
    if (zone === UPPER_Z || zone === LOWER_Z) {
      if (pos !== text.length - 1) return null;
    } else if (zone === PLUS || zone === DASH) {
      const rest = text.length - pos - 1;
      const colon = rest === 5 && text.charCodeAt(pos + 3) === COLON;
      if (!colon && rest !== 4) return null;
      const hours = digits(text, pos + 1, 2);
      const minutes = digits(text, pos + (colon ? 4 : 3), 2);
      if (!(hours <= 23 && minutes <= 59)) return null;
      offsetMinutes = (zone === DASH ? -1 : 1) * (hours * 60 + minutes);
    } else return null;
  }
  return utcDate(
    digits(text, 0, 4),
    digits(text, 5, 2),
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    millis,
    offsetMinutes,
  );
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1];
}

/** The instant of a wall-clock time at a UTC offset; null for a field out of range (or not a number). */
function utcDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): Date | null {
  if (![year, month, day, hour, minute, second, millis].every(Number.isFinite)) return null;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  // Date.UTC would roll 31 February over into March; such a day is not a valid timestamp.
  if (day > daysInMonth(year, month)) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC reads years 0–99 as 1900–1999.
  if (year < 100) date.setUTCFullYear(year);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};

/** Common-log-format time without its brackets (S3 server access logs): `06/Feb/2019:00:00:38 +0000`, else null. */
export function parseClfTime(text: string | null | undefined): Date | null {
  if (!text || text.length !== 26) return null;
  if (text.charCodeAt(2) !== 47 || text.charCodeAt(6) !== 47 || text.charCodeAt(11) !== COLON || text.charCodeAt(20) !== SPACE) return null;
  const month = MONTHS[text.slice(3, 6)];
  if (month === undefined) return null;
  const sign = text.charCodeAt(21);
  if (sign !== PLUS && sign !== DASH) return null;
  const offset = (sign === DASH ? -1 : 1) * (digits(text, 22, 2) * 60 + digits(text, 24, 2));
  return utcDate(digits(text, 7, 4), month, digits(text, 0, 2), digits(text, 12, 2), digits(text, 15, 2), digits(text, 18, 2), 0, offset);
}
