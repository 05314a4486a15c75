import { readJsonRecords } from '../../etl/readers/json-records';

async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(text: string, size: number, envelopeKeys = ['Records']) {
  const out: unknown[] = [];
  for await (const r of readJsonRecords(chunked(text, size), { envelopeKeys }))
    out.push(r.ok ? r.value : { bad: r.reason.split(':')[0], text: r.text, at: r.position });
  return out;
}

// Every case is read with chunk boundaries everywhere (1 byte) and nowhere (whole text).
describe.each([1, 7, 1 << 20])('readJsonRecords with %i-byte chunks', (size) => {
  test('an envelope array streams its records; escapes and nesting do not confuse it', async () => {
    expect(await read('\ufeff{"Records":[{"a":"x\\"}]{\\\\"},{"b":[1,{"c":"]"}]}]}', size)).toEqual([
      { a: 'x"}]{\\' },
      { b: [1, { c: ']' }] },
    ]);
  });

  test('bare values inside the array are reported one by one and cost nothing after them', async () => {
    expect(await read('{"Records":[{"a":1}, null, "s\\"", -1.5e3 ,true,oops,{"b":2}]}', size)).toEqual([
      { a: 1 },
      null,
      's"',
      -1500,
      true,
      { bad: 'invalid JSON', text: 'oops', at: 'record 6 (line 1)' },
      { b: 2 },
    ]);
  });

  test('a truncated tail costs only the unfinished record', async () => {
    expect(await read('{"Records":[{"a":1},\n{"b":2},{"c":', size)).toEqual([
      { a: 1 },
      { b: 2 },
      { bad: 'truncated JSON', text: '{"c":', at: 'record 3 (line 2)' },
    ]);
  });

  test('JSON lines: a bad line costs only itself', async () => {
    expect(await read('{"a":1}\n{"b":2\nnot json\n\n{"c":3}\n', size)).toEqual([
      { a: 1 },
      { bad: 'invalid JSON', text: '{"b":2', at: 'line 2' },
      { bad: 'invalid JSON', text: 'not json', at: 'line 3' },
      { c: 3 },
    ]);
  });

  test('pretty-printed concatenated records and top-level arrays', async () => {
    expect(await read('{\n "a": 1\n}\n{\n "b": 2\n}', size)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(await read('[{"a":1},{"b":2}]', size)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  test('several envelopes in one object (Event Hubs capture, Firehose) are all read', async () => {
    const text = '{"records":[{"a":1}],"x":{"y":"]}"}}\n{"records":[{"b":2},{"c":3}]}{"records":[]}{"records":[{"d":4}]}';
    expect(await read(text, size, ['records'])).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
  });

  test('objects concatenated on one line ({…}{…}, as Firehose writes them) are separate records', async () => {
    expect(await read('{"a":1}{"b":2}\n{"c":3} {"d":4}', size)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
  });

  test('an object whose first key is not an envelope key is itself a record', async () => {
    expect(await read('{"eventVersion":"1.08","x":{"Records":[]}}', size)).toEqual([{ eventVersion: '1.08', x: { Records: [] } }]);
    expect(await read('{"records":[{"a":1}]}', size, ['records'])).toEqual([{ a: 1 }]);
  });
});
