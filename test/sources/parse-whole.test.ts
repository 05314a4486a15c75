/**
 * A source's synchronous reader of content held whole (LogSource.parseWhole, what a worker uses
 * for small objects) must yield exactly what its streaming `parse` yields: the same items, and
 * the same invalid-UTF-8 note for each, on every golden file and on damaged content.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ReadState, attachReadState } from '../../etl/readers/read-state';
import { SOURCES } from '../../etl/sources';
import type { LogSource } from '../../etl/sources/types';
import { goldenDir, goldenOptions, goldenSamples, toPlain } from './golden';

interface Read {
  items: unknown;
  invalidUtf8: boolean[];
  error?: string;
}

async function* chunksOf(content: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < content.length; i += size) yield content.subarray(i, i + size);
}

/** What `parse` yields for the content, streamed in chunks of `size` bytes. */
async function streamed(source: LogSource, content: Buffer, size: number, key: string, state: ReadState): Promise<Read> {
  const items = [];
  const invalidUtf8: boolean[] = [];
  const options = goldenOptions(key);
  try {
    const input = attachReadState(chunksOf(content, size), state);
    for await (const item of source.parse(input, { key, ...(options ? { options } : {}) })) {
      items.push(item);
      invalidUtf8.push(state.invalidUtf8);
    }
  } catch (err) {
    return { items: toPlain(items), invalidUtf8, error: (err as Error).message };
  }
  return { items: toPlain(items), invalidUtf8 };
}

/** What `parseWhole` yields (null: the source leaves this content to `parse`). */
function held(source: LogSource, content: Buffer, key: string, state: ReadState): Read | null {
  const items = [];
  const invalidUtf8: boolean[] = [];
  const options = goldenOptions(key);
  const whole = source.parseWhole!(content, state, { key, ...(options ? { options } : {}) });
  if (!whole) return null;
  try {
    for (const item of whole) {
      items.push(item);
      invalidUtf8.push(state.invalidUtf8);
    }
  } catch (err) {
    return { items: toPlain(items), invalidUtf8, error: (err as Error).message };
  }
  return { items: toPlain(items), invalidUtf8 };
}

async function expectSame(source: LogSource, content: Buffer, key: string, limits?: ReadState['limits']): Promise<boolean> {
  const whole = held(source, content, key, new ReadState(limits));
  if (!whole) return false;
  expect(whole).toEqual(await streamed(source, content, content.length || 1, key, new ReadState(limits)));
  expect(whole).toEqual(await streamed(source, content, 7, key, new ReadState(limits)));
  return true;
}

const WITH_PARSE_WHOLE = SOURCES.filter((s) => s.parseWhole !== undefined);

test('CloudTrail reads content held whole', () => {
  expect(WITH_PARSE_WHOLE.map((s) => s.id)).toContain('cloudtrail');
});

describe.each(WITH_PARSE_WHOLE.map((s) => [s.id, s] as const))('%s: parseWhole against parse', (_id, source) => {
  const dir = goldenDir(source);
  test.each(goldenSamples(dir))('golden file %s', async (sample) => {
    const file = join(dir, sample);
    const stored = readFileSync(file);
    const content = sample.endsWith('.gz') ? gunzipSync(stored) : stored;
    await expectSame(source, content, file);
  });

  const record = (i: number) =>
    JSON.stringify({
      eventVersion: '1.08',
      eventTime: `2026-11-0${1 + (i % 8)}T10:00:00Z`,
      eventSource: 'iam.amazonaws.com',
      eventName: 'ListUsers',
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.9',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ana', accountId: '111122223333' },
      recipientAccountId: '111122223333',
      requestParameters: { note: `r${i} é` },
    });
  const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/x.json';

  test('damaged content: bad UTF-8 bytes, a truncated tail, junk elements', async () => {
    const head = Buffer.from(`{"Records":[${record(1)},`);
    const badBytes = Buffer.from(record(2).replace('ana', 'a\u0001na'));
    badBytes[badBytes.indexOf(1)] = 0xff; // a byte that is not UTF-8 inside the second record
    const tail = Buffer.from(`,null,"x",${record(3)},{"eventTime":"nope"},{"eventName":`);
    const content = Buffer.concat([head, badBytes, tail]);
    expect(await expectSame(source, content, key)).toBe(true);
    // A character cut by the end of the content.
    expect(await expectSame(source, Buffer.concat([head, Buffer.from('{"x":"é').subarray(0, -1)]), key)).toBe(true);
    expect(await expectSame(source, Buffer.alloc(0), key)).toBe(true);
    expect(await expectSame(source, Buffer.from(`${record(4)}\n${record(5)}\nnot json\n`), key)).toBe(true);
  });

  test('a record past the limit stops both the same way', async () => {
    const content = Buffer.from(`${record(1)}\n${record(22)}\n`);
    const limits = { maxRecordBytes: record(22).length - 1, maxObjectBytes: 1 << 30 };
    expect(await expectSame(source, content, key, limits)).toBe(true);
    const whole = held(source, content, key, new ReadState(limits))!;
    expect(whole.error).toMatch(/maxRecordBytes/);
  });

  test('the CSV and CloudWatch export shapes are left to parse', () => {
    if (source.id !== 'cloudtrail') return;
    for (const sample of ['event-history-download.csv', 'cloudwatch-logs-export.txt'])
      expect(source.parseWhole!(readFileSync(join(dir, sample)), new ReadState(), { key: sample })).toBeNull();
  });
});
