/**
 * The explorer works air-gapped: the page and every script come from this server, and a real
 * headless Chromium runs a preloaded hunting query through it.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { type Browser } from 'playwright-core';
import { openStoryApi, type TestApi } from '../api/helpers';
import { OUTSIDE_READER_IP } from '../api/fixtures/story';
import { CHROMIUM, launchChromium } from './chromium';

let t: TestApi;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  t = await openStoryApi();
  ({ url, close } = await t.api.listen({ port: 0, host: '127.0.0.1' }));
});
afterAll(async () => {
  await close?.();
  await t?.close();
});

function http(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

test('the page loads only same-origin assets, all served from node_modules', async () => {
  const page = await http('GET', '/');
  expect(page.status).toBe(200);
  expect(page.type).toMatch(/text\/html/);
  expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
  const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(refs.length).toBeGreaterThanOrEqual(4);
  for (const ref of refs) {
    expect(ref.startsWith('/')).toBe(true);
    const asset = await http('GET', ref);
    expect(asset.status).toBe(200);
    expect(asset.text.length).toBeGreaterThan(1000);
  }
  expect((await http('GET', '/explorer/assets/../../package.json')).status).toBe(404);
  expect((await http('GET', '/nothing-here')).status).toBe(404);
});

test('POST /graphql answers with data and stats; bad bodies get clear errors', async () => {
  const ok = await http('POST', '/graphql', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json' });
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.text)).toMatchObject({ data: { __typename: 'Query' }, extensions: { stats: { engine: 'duckdb', queries: 0 } } });
  const badJson = await http('POST', '/graphql', '{"query": ', { 'content-type': 'application/json' });
  expect(badJson.status).toBe(400);
  expect(JSON.parse(badJson.text).errors[0].extensions.code).toBe('BAD_REQUEST');
  const huge = await http('POST', '/graphql', JSON.stringify({ query: `{ ${'a'.repeat(200_000)} }` }), {
    'content-type': 'application/json',
  });
  expect(huge.status).toBe(413);
  const deep = await http(
    'POST',
    '/graphql',
    JSON.stringify({ query: `{ session(id: "x") ${'{ parent '.repeat(30)}{ sessionId }${' }'.repeat(30)} }` }),
    { 'content-type': 'application/json' },
  );
  expect(JSON.parse(deep.text).errors[0].extensions.code).toBe('QUERY_TOO_DEEP');
  expect(deep.text).not.toMatch(/stacktrace|\.ts:\d/);
});

const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  // eslint-disable-next-line no-console
  console.warn(`explorer browser test skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}

describeBrowser('in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  test('opens the explorer, runs the preloaded hunting query, and shows the answer', async () => {
    const page = await browser.newPage();
    const offOrigin: string[] = [];
    const origin = new URL(url).origin;
    // Air-gapped: anything not from this server is recorded and refused.
    await page.route('**/*', (route) => {
      const target = route.request().url();
      if (target.startsWith(origin) || target.startsWith('data:') || target.startsWith('blob:')) return route.continue();
      offOrigin.push(target);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    await page.goto(`${url}/`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    // The first preloaded tab asks who read the public bucket from outside the known ranges.
    await page.waitForFunction(() => document.body.innerText.includes('PublicBucket'), undefined, { timeout: 30_000 });
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      (needle) => (document.querySelector('.graphiql-response')?.textContent ?? '').includes(needle),
      OUTSIDE_READER_IP,
      { timeout: 30_000 },
    );
    const response = await page.textContent('.graphiql-response');
    expect(response).toContain('"totalCount": 1');
    // S3 access operations are filed under their API action (REST.GET.OBJECT → GetObject), as CloudTrail data events are.
    expect(response).toContain('"relation": "GetObject"');
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
