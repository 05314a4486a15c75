/**
 * The audit trail for real: lines written by the trail writer to a folder (and to S3 through
 * s3rver), then edited, deleted, inserted, reordered and cut with the file system, and the exact
 * verdict of `verify` checked for each.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GENESIS, sha256Hex, type AuditRequest } from '../../src/api/audit/record';
import { AuditTrail } from '../../src/api/audit/trail';
import { listStreams, tailAudit, verifyAuditTrail, verifyStream } from '../../src/api/audit/verify';
import { LocalObjectStore, S3ObjectStore } from '../../src/api/store/object-store';
import { startS3Local, type S3Local } from '../../testkit/s3-local';

let dir: string;
let store: LocalObjectStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoutql-audit-'));
  store = new LocalObjectStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function request(n: number, overrides: Partial<AuditRequest> = {}): AuditRequest {
  return {
    time: new Date(Date.UTC(2025, 2, 1, 12, 0, n)),
    caller: { subject: 'apikey:0123456789abcdef', kind: 'apikey', role: 'soar', name: 'soar' },
    operation: 'ContextForIndicator',
    persisted: '04-context-for-indicator',
    documentSha256: sha256Hex(`query ContextForIndicator { n${n} }`),
    variables: { indicator: `203.0.113.${n}` },
    accounts: ['111111111111'],
    bytesScanned: 1000 * n,
    rows: n,
    durationMs: 12.34,
    outcome: 'ok',
    status: 200,
    ...overrides,
  };
}

/** Writes requests in sessions (one writer start each, so one chunk each); returns the chunk files. */
async function writeTrail(sessions: number[], options: { stream?: string } = {}): Promise<string[]> {
  let n = 0;
  for (const count of sessions) {
    const trail = await AuditTrail.open({ store, stream: options.stream, now: () => new Date('2025-03-01T12:00:00Z') });
    for (let i = 0; i < count; i++) await trail.append(request(++n));
    await trail.close();
  }
  return chunkFiles(options.stream);
}

async function chunkFiles(stream = 'main'): Promise<string[]> {
  return (await store.list(stream)).filter((n) => n.endsWith('.jsonl'));
}

function lines(name: string): string[] {
  return readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1);
}

function setLines(name: string, text: string[]): void {
  writeFileSync(join(dir, name), text.map((l) => `${l}\n`).join(''));
}

async function problem(stream = 'main') {
  const verdict = await verifyStream(store, stream);
  return verdict.problem && { ...verdict.problem, message: verdict.problem.message };
}

test('each request is one JSON line whose prev is the SHA-256 of the line before; HEAD names the end', async () => {
  const [chunk] = await writeTrail([3]);
  expect(chunk).toBe('main/2025-03-01/000000000001.jsonl');
  const text = lines(chunk);
  expect(text).toHaveLength(4); // the chunk line, then three requests
  const parsed = text.map((l) => JSON.parse(l));
  expect(parsed[0]).toMatchObject({ seq: 1, prev: GENESIS, kind: 'chunk', previous: null });
  expect(parsed[1]).toEqual({
    seq: 2,
    prev: sha256Hex(text[0]),
    kind: 'request',
    time: '2025-03-01T12:00:01.000Z',
    caller: { subject: 'apikey:0123456789abcdef', kind: 'apikey', role: 'soar', name: 'soar' },
    operation: 'ContextForIndicator',
    persisted: '04-context-for-indicator',
    documentSha256: sha256Hex('query ContextForIndicator { n1 }'),
    variables: { indicator: '203.0.113.1' },
    accounts: ['111111111111'],
    bytesScanned: 1000,
    rows: 1,
    durationMs: 12.3,
    outcome: 'ok',
    status: 200,
  });
  for (let i = 1; i < text.length; i++) expect(parsed[i].prev).toBe(sha256Hex(text[i - 1]));
  expect(JSON.parse(readFileSync(join(dir, 'main', 'HEAD.json'), 'utf8'))).toEqual({ seq: 4, sha256: sha256Hex(text[3]), chunk });
  expect(await verifyAuditTrail(store)).toEqual([
    { stream: 'main', ok: true, chunks: 1, lines: 4, requests: 3, lastSeq: 4, head: 'matches', problem: null, notes: [] },
  ]);
});

test('concurrent requests do not fork the chain: 200 appends at once get 200 distinct, consecutive seqs', async () => {
  const trail = await AuditTrail.open({ store });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => trail.append(request(i))));
  await trail.close();
  expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
  const verdict = await verifyStream(store, 'main');
  expect(verdict).toMatchObject({ ok: true, lines: 201, requests: 200, head: 'matches' });
});

test('a restart continues the chain in a new chunk that names the one before; rotation by size and by day', async () => {
  const chunks = await writeTrail([3, 2]);
  expect(chunks).toEqual(['main/2025-03-01/000000000001.jsonl', 'main/2025-03-01/000000000005.jsonl']);
  expect(JSON.parse(lines(chunks[1])[0])).toMatchObject({ seq: 5, kind: 'chunk', previous: { name: chunks[0], lastSeq: 4 } });

  let now = new Date('2025-03-01T23:59:59Z');
  const trail = await AuditTrail.open({ store, maxChunkBytes: 1500, now: () => now });
  for (let i = 0; i < 6; i++) await trail.append(request(i));
  now = new Date('2025-03-02T00:00:01Z');
  await trail.append(request(7));
  await trail.close();
  const after = await chunkFiles();
  expect(after.length).toBeGreaterThanOrEqual(5);
  expect(after.at(-1)).toMatch(/^main\/2025-03-02\/\d{12}\.jsonl$/);
  expect(await verifyStream(store, 'main')).toMatchObject({ ok: true, requests: 12, head: 'matches' });
});

describe('verify names the first broken line and what happened to it', () => {
  let chunks: string[];
  beforeEach(async () => {
    // Three chunks: seq 1–5, 6–10, 11–14 (each starts with its chunk line).
    chunks = await writeTrail([4, 4, 3]);
    expect(chunks).toHaveLength(3);
    expect((await verifyStream(store, 'main')).ok).toBe(true);
  });

  test('an edited line (variables changed) is named by its own line', async () => {
    const text = lines(chunks[0]);
    text[2] = text[2].replace('203.0.113.2', '198.51.100.7');
    setLines(chunks[0], text);
    expect(await problem()).toEqual({
      kind: 'edited',
      file: chunks[0],
      line: 3,
      seq: 3,
      message: `edited: its hash no longer matches the one ${chunks[0]} line 4 recorded`,
    });
  });

  test('an edited last line is caught by HEAD', async () => {
    const text = lines(chunks[2]);
    text[3] = text[3].replace('"outcome":"ok"', '"outcome":"error"');
    setLines(chunks[2], text);
    expect(await problem()).toEqual({ kind: 'edited', file: chunks[2], line: 4, seq: 14, message: 'edited: its hash does not match HEAD' });
  });

  test('a line that is no longer JSON', async () => {
    const text = lines(chunks[1]);
    text[1] = text[1].slice(0, 40);
    setLines(chunks[1], text);
    expect(await problem()).toEqual({
      kind: 'edited',
      file: chunks[1],
      line: 2,
      seq: null,
      message: 'not a valid audit line: edited or corrupted',
    });
  });

  test('a deleted line', async () => {
    const text = lines(chunks[1]);
    setLines(chunks[1], [...text.slice(0, 2), ...text.slice(3)]);
    expect(await problem()).toEqual({
      kind: 'deleted',
      file: chunks[1],
      line: 3,
      seq: 9,
      message: 'deleted: seq 8 (1 line) missing before this line',
    });
  });

  test('an inserted line, forged with the right seq and prev', async () => {
    const text = lines(chunks[0]);
    const forged = JSON.stringify({ ...JSON.parse(text[2]), seq: 4, prev: sha256Hex(text[2]), variables: { indicator: 'forged' } });
    setLines(chunks[0], [...text.slice(0, 3), forged, ...text.slice(3)]);
    expect(await problem()).toEqual({
      kind: 'inserted',
      file: chunks[0],
      line: 4,
      seq: 4,
      message: `inserted: ${chunks[0]} line 5 links past it`,
    });
  });

  test('an inserted copy of an existing line', async () => {
    const text = lines(chunks[0]);
    setLines(chunks[0], [...text.slice(0, 3), text[1], ...text.slice(3)]);
    expect(await problem()).toEqual({
      kind: 'inserted',
      file: chunks[0],
      line: 4,
      seq: 2,
      message: `inserted: a copy of ${chunks[0]} line 2`,
    });
  });

  test('two lines swapped', async () => {
    const text = lines(chunks[1]);
    [text[2], text[3]] = [text[3], text[2]];
    setLines(chunks[1], text);
    expect(await problem()).toEqual({
      kind: 'reordered',
      file: chunks[1],
      line: 3,
      seq: 9,
      message: `reordered: seq 8 comes later (${chunks[1]} line 4)`,
    });
  });

  test('a file cut mid-line', async () => {
    const path = join(dir, chunks[2]);
    truncateSync(path, readFileSync(path).length - 25);
    expect(await problem()).toEqual({
      kind: 'truncated',
      file: chunks[2],
      line: 4,
      seq: null,
      message: 'the line is cut short: the file was truncated',
    });
  });

  test('whole lines cut off the end of the last chunk (HEAD says where it ended)', async () => {
    setLines(chunks[2], lines(chunks[2]).slice(0, 2));
    expect(await problem()).toEqual({
      kind: 'truncated',
      file: chunks[2],
      line: 3,
      seq: 13,
      message: 'truncated: 2 lines cut off the end (HEAD says seq 14)',
    });
  });

  test('whole lines cut off the end of a middle chunk (the next chunk says where it ended)', async () => {
    setLines(chunks[0], lines(chunks[0]).slice(0, 3));
    expect(await problem()).toEqual({
      kind: 'truncated',
      file: chunks[0],
      line: 4,
      seq: 4,
      message: `truncated: 2 lines cut off the end (${chunks[1]} says it ended at seq 5)`,
    });
  });

  test('a missing middle chunk', async () => {
    unlinkSync(join(dir, chunks[1]));
    expect(await problem()).toEqual({
      kind: 'missing_chunk',
      file: chunks[1],
      line: 1,
      seq: 6,
      message: `missing: ${chunks[2]} follows this chunk (seq 6–10)`,
    });
  });

  test('a missing first chunk', async () => {
    unlinkSync(join(dir, chunks[0]));
    expect(await problem()).toEqual({
      kind: 'missing_chunk',
      file: chunks[0],
      line: 1,
      seq: null,
      message: `missing: the trail starts at ${chunks[1]}, which follows this chunk (up to seq 5)`,
    });
  });

  test('a missing last chunk', async () => {
    unlinkSync(join(dir, chunks[2]));
    expect(await problem()).toEqual({
      kind: 'missing_chunk',
      file: chunks[2],
      line: 1,
      seq: 11,
      message: 'missing: the last chunk (seq 11–14) is gone',
    });
  });

  test('a missing HEAD', async () => {
    unlinkSync(join(dir, 'main', 'HEAD.json'));
    expect(await problem()).toEqual({
      kind: 'missing_head',
      file: 'main/HEAD.json',
      line: 1,
      seq: null,
      message: 'HEAD.json is missing: lines cut off the end cannot be ruled out',
    });
  });

  test('the writer refuses to continue a trail that lost lines; a new stream goes on and verify checks both', async () => {
    setLines(chunks[2], lines(chunks[2]).slice(0, 2));
    await expect(AuditTrail.open({ store })).rejects.toThrow(
      `audit trail ${dir}/main: the chain ends at seq 12 but HEAD says seq 14; run \`scoutql audit verify\`; to keep this evidence and go on, set audit.stream to a new name`,
    );
    const fresh = await AuditTrail.open({ store, stream: 'main-2' });
    await fresh.append(request(1));
    await fresh.close();
    expect(await listStreams(store)).toEqual(['main', 'main-2']);
    const verdicts = await verifyAuditTrail(store);
    expect(verdicts.map((v) => [v.stream, v.ok, v.problem?.kind ?? null])).toEqual([
      ['main', false, 'truncated'],
      ['main-2', true, null],
    ]);
  });
});

test('after a crash mid-write the cut line stays as evidence, the next chunk records it, and verify accepts it', async () => {
  const [chunk] = await writeTrail([3]);
  appendFileSync(join(dir, chunk), '{"seq":5,"prev":"ab'); // a write the crash cut short (HEAD was not updated)
  const trail = await AuditTrail.open({ store });
  await trail.append(request(9));
  await trail.close();
  const chunks = await chunkFiles();
  expect(JSON.parse(lines(chunks[1])[0])).toMatchObject({
    kind: 'chunk',
    previous: { name: chunk, lastSeq: 4 },
    recovered: { name: chunk, bytes: 19 },
  });
  expect(await verifyStream(store, 'main')).toMatchObject({
    ok: true,
    requests: 4,
    notes: [`${chunk} line 5: 19 bytes of a line cut by a crash, recorded by the next chunk`],
  });
});

test('one writer per stream: a second process-level writer is refused until the first closes', async () => {
  const first = await AuditTrail.open({ store });
  // The lock names this (live) process; a writer from another live process is refused the same way.
  writeFileSync(join(dir, 'main', 'writer.lock'), `${process.ppid} ${hostname()}\n`);
  await expect(AuditTrail.open({ store })).rejects.toThrow(`audit stream 'main' is being written by process ${process.ppid}`);
  await first.close();
  const second = await AuditTrail.open({ store });
  await second.close();
});

test('every line is logged through pino with its seq and hash (a copy of the chain outside the lake)', async () => {
  const logged: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const trail = await AuditTrail.open({ store, logger: pino({ level: 'info' }, sink) });
  const a = await trail.append(request(1));
  const b = await trail.append(request(2));
  await trail.close();
  const audit = logged.filter((l) => l.msg === 'audit line').map((l) => l.audit);
  expect(audit).toEqual([
    { stream: 'main', seq: a.seq, sha256: a.sha256 },
    { stream: 'main', seq: b.seq, sha256: b.sha256 },
  ]);
  const [chunk] = await chunkFiles();
  expect(sha256Hex(lines(chunk)[2])).toBe(b.sha256);
});

test('large variables are recorded by size and hash; tail shows the last requests', async () => {
  const trail = await AuditTrail.open({ store });
  await trail.append(request(1, { variables: { blob: 'x'.repeat(10_000) } }));
  for (let i = 2; i <= 5; i++)
    await trail.append(
      request(i, { outcome: i === 5 ? 'forbidden' : 'ok', status: i === 5 ? 403 : 200, reason: i === 5 ? 'forbidden_account' : undefined }),
    );
  await trail.close();
  const tail = await tailAudit(store, { lines: 3 });
  expect(tail.map((l) => [l.rows, l.outcome, l.reason ?? null])).toEqual([
    [3, 'ok', null],
    [4, 'ok', null],
    [5, 'forbidden', 'forbidden_account'],
  ]);
  const all = await tailAudit(store, { lines: 100 });
  expect(all[0].variables).toEqual({ _truncated: true, bytes: 10_011, sha256: sha256Hex(JSON.stringify({ blob: 'x'.repeat(10_000) })) });
});

describe('on S3 (s3rver): one new object per batch, no appends', () => {
  let s3: S3Local;
  beforeAll(async () => {
    s3 = await startS3Local({ buckets: ['scoutql-lake'] });
  });
  afterAll(() => s3.close());

  test('batches become chunk objects chained like local chunks; concurrent appends; close flushes; an edit is caught', async () => {
    const s3Store = new S3ObjectStore('s3://scoutql-lake/lake/_audit', s3.client);
    const trail = await AuditTrail.open({ store: s3Store, flushMs: 50 });
    const first = await Promise.all([1, 2, 3].map((n) => trail.append(request(n))));
    expect(first.map((r) => r.seq)).toEqual([2, 3, 4]); // one batch: a chunk line and three requests
    await Promise.all([4, 5].map((n) => trail.append(request(n))));
    const last = trail.append(request(6));
    await trail.close(); // flushes what is pending
    await last;
    const chunks = (await s3Store.list('main')).filter((n) => n.endsWith('.jsonl'));
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(await verifyStream(s3Store, 'main')).toMatchObject({ ok: true, requests: 6, head: 'matches' });

    // The writer resumes from what S3 holds.
    const again = await AuditTrail.open({ store: s3Store, flushMs: 10 });
    await again.append(request(7));
    await again.close();
    expect(await verifyStream(s3Store, 'main')).toMatchObject({ ok: true, requests: 7 });

    const key = `lake/_audit/${chunks[0]}`;
    const body = await (await s3.client.send(new GetObjectCommand({ Bucket: 'scoutql-lake', Key: key }))).Body!.transformToString();
    await s3.client.send(new PutObjectCommand({ Bucket: 'scoutql-lake', Key: key, Body: body.replace('203.0.113.2', '192.0.2.66') }));
    expect((await verifyStream(s3Store, 'main')).problem).toMatchObject({ kind: 'edited', file: chunks[0], line: 3, seq: 3 });
  });
});
