/**
 * The workbench at /ui/, driven in a real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core) with every request that is not to this server refused. Each test reads what the
 * page shows and checks it against the API's own answer to the same question.
 *
 * One server and one lake for the suite (test/workbench/lake.ts). The server runs with auth on
 * (API keys), so the page signs in as a user would.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { Authenticator } from '../../src/api/auth/authenticate';
import { ApiKeyStore, ApiKeyVerifier } from '../../src/api/auth/api-keys';
import { ScoutApi } from '../../src/api/server';
import { LocalObjectStore } from '../../src/api/store/object-store';
import { InvestigationStore } from '../../src/api/investigations/store';
import { INVESTIGATIONS_DIR } from '../../src/core/lake-layout';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import { tempLake } from '../api/fixtures/lake';
import {
  ACCOUNT,
  ADMIN_ROLE,
  BOB,
  BOB_CONSOLE_KEY,
  BRUTE_IP,
  DELETED_BUCKET,
  DEVOPS_KEY,
  DEVOPS_ROLE,
  PUBLIC_BUCKET_NAME,
} from '../api/fixtures/story';
import { CI_BOT, CI_BOT_READS, DEPLOY_BOT, DEPLOY_BOT_NEW, hashWindow, W, writeWorkbenchLake } from './lake';
import { CHROMIUM, launchChromium } from '../explorer/chromium';

let lake: string;
let keysDir: string;
let engine: DuckDbEngine;
let api: ScoutApi;
let url: string;
let close: () => Promise<void>;
let token: string;
let browser: Browser | undefined;

beforeAll(async () => {
  lake = tempLake();
  keysDir = mkdtempSync(join(tmpdir(), 'scoutql-keys-'));
  await writeWorkbenchLake(lake);
  const keys = new ApiKeyStore(new LocalObjectStore(keysDir));
  ({ token } = await keys.create({ name: 'analyst', role: 'analyst', accounts: '*' }));
  engine = await DuckDbEngine.open({ lake });
  api = new ScoutApi({
    engine,
    latestDay: () => graphDays(lake).at(-1) ?? null,
    investigations: new InvestigationStore(new LocalObjectStore(join(lake, INVESTIGATIONS_DIR))),
    service: { authenticator: new Authenticator({ mode: 'on', oidc: null, apiKeys: new ApiKeyVerifier(keys, { cacheSeconds: 60 }) }) },
  });
  ({ url, close } = await api.listen({ port: 0, host: '127.0.0.1' }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  await api?.stop();
  await engine?.close();
  if (lake) rmSync(lake, { recursive: true, force: true });
  if (keysDir) rmSync(keysDir, { recursive: true, force: true });
});

/** The API's own answer (what the page must show), with the same key. */
async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': token },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}

test('the page and its assets come from this server, with a strict content security policy', async () => {
  const page = await fetch(`${url}/ui/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  const html = await page.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(refs).toEqual(['/ui/assets/app.css', '/ui/assets/app.js']);
  for (const ref of refs) {
    const asset = await fetch(`${url}${ref}`);
    expect(asset.status).toBe(200);
    // Cytoscape.js is inside the bundle, not fetched from anywhere.
    if (ref.endsWith('.js')) expect(await asset.text()).toMatch(/cytoscape/i);
  }
  expect((await fetch(`${url}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
  expect((await fetch(`${url}/ui/assets/../../package.json`)).status).toBe(404);
  // The page itself needs no credentials; /graphql does.
  expect(
    (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }))
      .status,
  ).toBe(401);
}, 120_000);

const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  // eslint-disable-next-line no-console
  console.warn(`workbench browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}

describeBrowser('in headless Chromium', () => {
  /** Requests that left this server, and page errors (CSP violations included), per page. */
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);

  afterEach(() => {
    expect(offOrigin.splice(0)).toEqual([]);
    expect(pageErrors.splice(0)).toEqual([]);
  });

  /** A page that may reach this server only; signed in already unless told otherwise. */
  async function open(hash: string, options: { signedIn?: boolean } = {}): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const origin = new URL(url).origin;
    await page.route('**/*', (route) => {
      const target = route.request().url();
      if (target.startsWith(origin) || target.startsWith('data:') || target.startsWith('blob:')) return route.continue();
      offOrigin.push(target);
      return route.abort();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    if (options.signedIn !== false) await page.addInitScript((key) => sessionStorage.setItem('scoutql.credentials', key), token);
    await page.goto(`${url}/ui/${hash}`, { waitUntil: 'load' });
    return page;
  }

  const field = (page: Page, scope: string, name: string) => page.locator(`${scope} [data-field="${name}"]`).first().innerText();

  test('signs in with an API key, then shows one context card per pasted indicator, as contextFor answers', async () => {
    const page = await open(`#/?${hashWindow}`, { signedIn: false });
    await page.fill('#credentials', token);
    await page.click('#sign-in');
    await page.waitForSelector('#indicators');
    // The one refusal the page met before it asked for the key, as the browser logs it.
    expect(pageErrors.splice(0)).toEqual([expect.stringMatching(/status of 401/)]);
    const indicators = [BRUTE_IP, BOB_CONSOLE_KEY, 'bob', PUBLIC_BUCKET_NAME, DEVOPS_ROLE, 'never-seen.example.org'];
    // A paste as analysts paste: spaces, commas and new lines mixed.
    await page.fill(
      '#indicators',
      `${indicators.slice(0, 2).join(', ')}\n${indicators.slice(2, 4).join(' ')}\n${indicators.slice(4).join('\n')}`,
    );
    await page.click('#look-up');
    await page.waitForFunction((n) => document.querySelectorAll('.card:not([data-state="loading"])').length === n, indicators.length);
    expect(page.url()).toContain(hashWindow);
    const cards = page.locator('.card');
    expect(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-indicator')))).toEqual(indicators);

    const CONTEXT = `query($i: String!, $w: TimeWindow!) { contextFor(indicator: $i, window: $w) {
      found tried matches { kind } firstSeen lastSeen eventCount
      identities(first: 1) { totalCount } ips(first: 1) { totalCount } resources(first: 1) { totalCount } sessions(first: 1) { totalCount }
      findings(first: 20) { findingId } } }`;
    const fmt = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');
    let found = 0;
    for (const indicator of indicators) {
      const c = (await gql(CONTEXT, { i: indicator, w: W })).contextFor;
      const scope = `.card[data-indicator="${indicator}"]`;
      expect(await page.getAttribute(scope, 'data-state')).toBe(c.found ? 'found' : 'not-found');
      expect(
        await page.locator(`${scope} [data-field="tried"] [data-kind]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))),
      ).toEqual(c.tried);
      const hits = await page
        .locator(`${scope} [data-field="tried"] [data-found="true"]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
      const matched = new Set(c.matches.map((m: { kind: string }) => m.kind));
      expect(hits).toEqual(c.tried.filter((kind: string) => matched.has(kind)));
      expect(await field(page, scope, 'eventCount')).toBe(c.eventCount.toLocaleString('en-US'));
      expect(await field(page, scope, 'firstSeen')).toBe(fmt(c.firstSeen));
      expect(await field(page, scope, 'lastSeen')).toBe(fmt(c.lastSeen));
      for (const list of ['identities', 'ips', 'resources', 'sessions'])
        expect(await field(page, scope, list)).toBe(c[list].totalCount.toLocaleString('en-US'));
      expect(await page.locator(`${scope} [data-finding]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-finding')))).toEqual(
        c.findings.map((f: { findingId: string }) => f.findingId),
      );
      if (c.found) found++;
    }
    // The mix is a real one: most indicators are in the lake, one is not, and findings show on the brute-forcing address's card.
    expect(found).toBe(indicators.length - 1);
    expect(await page.locator(`.card[data-indicator="${BRUTE_IP}"] [data-finding]`).count()).toBe(2);
    await page.close();
  }, 120_000);

  test('an entity page shows what the API knows, and the window survives pivots to another entity and to the graph', async () => {
    const page = await open(`#/entity/identity/${encodeURIComponent(BOB)}?${hashWindow}`);
    await page.waitForSelector('#facts');
    await page.waitForSelector('#activity .histogram');
    const bob = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) { eventCount firstSeen findings(window: $w) { edges { node { findingId } } }
          ips(first: 10, window: $w) { edges { node { address } } } } }`,
        { id: BOB, w: W },
      )
    ).identity;
    expect(await field(page, '#facts', 'eventCount')).toBe(String(bob.eventCount));
    expect(await page.locator('#findings [data-finding]').evaluateAll((els) => els.map((e) => e.getAttribute('data-finding')))).toEqual(
      bob.findings.edges.map((e: any) => e.node.findingId),
    );
    const shownIps = await page
      .locator('[data-related="ips"] [data-entity]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-entity')));
    expect(shownIps).toEqual(bob.ips.edges.map((e: any) => `ip:${e.node.address}`));

    // Pivot: bob → the address he came from. Same window, now the address's page.
    await page.click(`[data-related="ips"] [data-entity="ip:${BRUTE_IP}"]`);
    await page.waitForFunction((ip) => location.hash.startsWith(`#/entity/ip/${ip}`), BRUTE_IP);
    await page.waitForSelector('#facts [data-field="address"]');
    expect(page.url()).toContain(hashWindow);
    expect(await page.inputValue('#window-from')).toBe(W.from);
    expect(await page.inputValue('#window-to')).toBe(W.to);
    const ip = (await gql(`query($a: String!, $w: TimeWindow!) { ip(address: $a, window: $w) { eventCount } }`, { a: BRUTE_IP, w: W })).ip;
    expect(await field(page, '#facts', 'eventCount')).toBe(String(ip.eventCount));
    // And on to the graph, still in the same window.
    await page.click('#open-graph');
    await page.waitForSelector('#graph-nodes [data-node]');
    expect(page.url()).toContain(`#/graph/ip/${BRUTE_IP}?`);
    expect(page.url()).toContain(hashWindow);
    // Back in history: the previous page, same window.
    await page.goBack();
    await page.waitForSelector('#facts [data-field="address"]');
    expect(page.url()).toContain(hashWindow);
    await page.close();
  }, 120_000);

  /** The page's key facts, related lists, findings, histogram total and grid total, against the API's answer for the same entity. */
  async function checkEntityPage(
    kind: 'resource' | 'session' | 'account',
    id: string,
    lookup: string,
    argument: string,
    related: string[],
  ) {
    const page = await open(`#/entity/${kind}/${encodeURIComponent(id)}?${hashWindow}`);
    await page.waitForSelector('#facts');
    await page.waitForSelector('#activity .histogram');
    await page.waitForSelector('[data-field="grid-status"]:not(:empty)');
    const connections = related.map((r) => `${r}(first: 10, window: $w) { totalCount edges { node { ...Ref } } }`).join('\n');
    const e = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { entity: ${lookup}(${argument}: $id, window: $w) {
          eventCount firstSeen lastSeen
          findings(first: 50, window: $w) { edges { node { findingId } } }
          events(first: 1, window: $w) { totalCount aggregate(bucket: HOUR, orderBy: TIME, top: 500) { totalEvents } }
          ${connections} } }
        fragment Ref on Entity { __typename ... on Identity { identityId } ... on Session { sessionId } ... on IPAddress { address }
          ... on Resource { resourceId } ... on Account { accountId } ... on UserAgent { userAgent } }`,
        { id, w: W },
      )
    ).entity;
    const fmt = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');
    expect(await field(page, '#facts', 'eventCount')).toBe(e.eventCount.toLocaleString('en-US'));
    expect(await field(page, '#facts', 'firstSeen')).toBe(fmt(e.firstSeen));
    expect(await field(page, '#facts', 'lastSeen')).toBe(fmt(e.lastSeen));
    expect(await page.innerText('[data-field="activity-total"]')).toBe(`${e.events.aggregate.totalEvents.toLocaleString('en-US')} events`);
    expect(e.events.aggregate.totalEvents).toBe(e.events.totalCount);
    expect(await page.innerText('[data-field="grid-status"]')).toMatch(new RegExp(` of ${e.events.totalCount.toLocaleString('en-US')}$`));
    expect(await page.locator('#findings [data-finding]').evaluateAll((els) => els.map((x) => x.getAttribute('data-finding')))).toEqual(
      e.findings.edges.map((f: any) => f.node.findingId),
    );
    const refOf = (n: any) =>
      n.identityId
        ? `identity:${n.identityId}`
        : n.sessionId
          ? `session:${n.sessionId}`
          : n.address
            ? `ip:${n.address}`
            : n.resourceId
              ? `resource:${n.resourceId}`
              : n.userAgent
                ? `useragent:${n.userAgent}`
                : `account:${n.accountId}`;
    let shownLists = 0;
    for (const r of related) {
      const shown = await page
        .locator(`[data-related="${r}"] [data-entity]`)
        .evaluateAll((els) => els.map((x) => x.getAttribute('data-entity')));
      expect([r, shown]).toEqual([r, e[r].edges.map((edge: any) => refOf(edge.node))]);
      if (shown.length > 0) shownLists++;
    }
    expect(shownLists).toBeGreaterThan(0);
    return { page, entity: e };
  }

  test('the resource, session and account pages show what the API returns for them', async () => {
    const resource = await checkEntityPage('resource', DELETED_BUCKET, 'resource', 'id', [
      'actors',
      'sessions',
      'sourceIps',
      'interfaces',
      'addresses',
    ]);
    expect(await field(resource.page, '#facts', 'resourceId')).toBe(DELETED_BUCKET);
    expect(await resource.page.locator(`[data-related="actors"] [data-entity="identity:${ADMIN_ROLE}"]`).count()).toBeGreaterThan(0);
    await resource.page.close();

    const session = await checkEntityPage('session', BOB_CONSOLE_KEY, 'session', 'id', ['ips', 'resources', 'userAgents', 'children']);
    const s = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { session(id: $id, window: $w) { sessionId kind account identity { identityId } } }`,
        {
          id: BOB_CONSOLE_KEY,
          w: W,
        },
      )
    ).session;
    expect(await field(session.page, '#facts', 'sessionId')).toBe(s.sessionId);
    expect(await field(session.page, '#facts', 'kind')).toBe(s.kind ?? '–');
    expect(await field(session.page, '#facts', 'account')).toBe(s.account ?? '–');
    expect(await session.page.getAttribute('#facts [data-field="identity"] [data-entity]', 'data-entity')).toBe(
      `identity:${s.identity.identityId}`,
    );
    // The brute force's finding names this session.
    expect(session.entity.findings.edges.map((f: any) => f.node.findingId)).toContain('f-brute');
    // The child session it issued is a pivot that keeps the window.
    await session.page.click(`[data-related="children"] [data-entity="session:${DEVOPS_KEY}"]`);
    await session.page.waitForFunction((k) => location.hash.startsWith(`#/entity/session/${k}`), DEVOPS_KEY);
    await session.page.waitForSelector('#facts [data-field="sessionId"]');
    expect(session.page.url()).toContain(hashWindow);
    await session.page.close();

    const account = await checkEntityPage('account', ACCOUNT, 'account', 'id', ['identities']);
    expect(await field(account.page, '#facts', 'accountId')).toBe(ACCOUNT);
    // The account's findings show as on every entity page: the lake's three are all in this account.
    expect(account.entity.findings.edges.map((f: any) => f.node.findingId).sort()).toEqual(['f-brute', 'f-chain', 'f-public-read']);
    await account.page.close();
  }, 180_000);

  test('new behaviour: the values first seen in the window against the look-back are those newBehaviour answers', async () => {
    const NEW_BEHAVIOUR = `query($id: String!, $w: TimeWindow!, $lookback: Int!) { identity(id: $id, window: $w) {
      newBehaviour(lookbackDays: $lookback, top: 10) { dimension seenCount newCount values { value firstSeen eventCount } } } }`;
    const answer = async (lookback: number) => (await gql(NEW_BEHAVIOUR, { id: DEPLOY_BOT, w: W, lookback })).identity.newBehaviour;
    const month = await answer(30);
    // What the lake holds: routine two to four weeks before the window, then a new address, network, country, region and client.
    expect(Object.fromEntries(month.map((d: any) => [d.dimension, d.values.map((v: any) => v.value)]))).toEqual(DEPLOY_BOT_NEW);
    expect(month.find((d: any) => d.dimension === 'SOURCE_IP')).toMatchObject({ seenCount: 3, newCount: 2 });
    expect(month.find((d: any) => d.dimension === 'SOURCE_IP').values[0]).toEqual({
      value: '203.0.113.66',
      firstSeen: '2026-03-03T02:30:00.000Z',
      eventCount: 2,
    });

    const page = await open(`#/entity/identity/${encodeURIComponent(DEPLOY_BOT)}?${hashWindow}`);
    const shown = async () => {
      await page.waitForSelector('#new-behaviour[data-state="done"]');
      return page.locator('#new-behaviour [data-dimension]').evaluateAll((els) =>
        els.map((el) => ({
          dimension: el.getAttribute('data-dimension'),
          counts: el.querySelector('[data-field="new-count"]')?.textContent,
          values: Array.from(el.querySelectorAll('[data-value]'), (v) => v.getAttribute('data-value')),
        })),
      );
    };
    const expected = (dimensions: any[]) =>
      dimensions.map((d) => ({
        dimension: d.dimension,
        counts: `${d.newCount} new of ${d.seenCount}`,
        values: d.values.map((v: any) => v.value),
      }));
    expect(await shown()).toEqual(expected(month));
    // A week's look-back holds none of the routine: everything in the window is new.
    await page.selectOption('#lookback', '7');
    await page.waitForSelector('#new-behaviour[data-state="loading"]', { state: 'detached' }).catch(() => undefined);
    const week = await answer(7);
    expect(week.find((d: any) => d.dimension === 'SOURCE_IP')).toMatchObject({ seenCount: 3, newCount: 3 });
    await page.waitForFunction(
      () => document.querySelector('#new-behaviour [data-dimension="SOURCE_IP"] [data-field="new-count"]')?.textContent === '3 new of 3',
    );
    expect(await shown()).toEqual(expected(week));
    expect(page.url()).toContain(hashWindow);
    await page.close();
  }, 120_000);

  test('the activity histogram equals aggregate; the grid pages through the connection; exports hold totalCount rows', async () => {
    const page = await open(`#/entity/identity/${encodeURIComponent(CI_BOT)}?${hashWindow}`);
    await page.waitForSelector('#activity .histogram');
    const answer = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
          events(first: 10, window: $w) { totalCount pageInfo { endCursor } aggregate(bucket: HOUR, orderBy: TIME, top: 500) { totalEvents groups { bucket count } } } } }`,
        { id: CI_BOT, w: W },
      )
    ).identity.events;
    expect(answer.totalCount).toBe(CI_BOT_READS);
    const bars = await page
      .locator('#activity .bar[data-bucket]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-bucket'), Number(e.getAttribute('data-count'))]));
    expect(bars).toEqual(
      answer.aggregate.groups.map((g: { bucket: string; count: number }) => [new Date(g.bucket).toISOString(), g.count]),
    );
    // The quiet day is drawn: empty bars between busy ones.
    expect(await page.locator('#activity .bar.empty').count()).toBeGreaterThan(24);

    // The grid: 10 rows a page, the second page is the connection's second page.
    await page.waitForSelector('#events tbody tr');
    await page.selectOption('#grid-page-size', '10');
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 10);
    expect(await page.innerText('[data-field="grid-status"]')).toBe(`Events 1–10 of ${CI_BOT_READS}`);
    await page.click('#grid-next');
    await page.waitForFunction(() => document.querySelector('[data-field="grid-status"]')?.textContent?.startsWith('Events 11–20'));
    const second = (
      await gql(
        `query($id: String!, $w: TimeWindow!, $after: String) { identity(id: $id, window: $w) { events(first: 10, after: $after, window: $w) { edges { node { eventId } } } } }`,
        { id: CI_BOT, w: W, after: answer.pageInfo.endCursor },
      )
    ).identity.events.edges.map((e: any) => e.node.eventId);
    expect(await page.locator('#events tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-event')))).toEqual(second);

    // Exports hold every matched event, not the page shown (620 events: two pages of 500 behind the scenes).
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const lines = readFileSync(await csv.path(), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0].split(',')).toContain('eventId');
    expect(lines.length - 1).toBe(answer.totalCount);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const rows = JSON.parse(readFileSync(await json.path(), 'utf8')) as { eventId: string }[];
    expect(rows).toHaveLength(answer.totalCount);
    expect(new Set(rows.map((r) => r.eventId)).size).toBe(CI_BOT_READS);
    await page.close();
  }, 120_000);

  test('the graph expands to exactly the neighbours the API returned, a page at a time, and collapses back', async () => {
    const page = await open(`#/graph/identity/${encodeURIComponent(BOB)}?${hashWindow}`);
    const nodes = () => page.locator('#graph-nodes [data-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')).sort());
    const settle = () => page.waitForFunction(() => document.querySelector('#view')?.getAttribute('data-graph-state') === 'idle');
    await page.waitForSelector('#graph-nodes [data-node]');
    expect(await nodes()).toEqual([`identity:${BOB}`]);

    // What the API gives as bob's neighbours (first page of each link connection the graph follows).
    const neighbours = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
          sessions(first: 10, window: $w) { edges { node { sessionId } } }
          ips(first: 10, window: $w) { edges { node { address } } }
          resources(first: 10, window: $w) { edges { node { resourceId } } }
          accounts(first: 10, window: $w) { edges { node { accountId } } } } }`,
        { id: BOB, w: W },
      )
    ).identity;
    const expected = [
      `identity:${BOB}`,
      ...neighbours.sessions.edges.map((e: any) => `session:${e.node.sessionId}`),
      ...neighbours.ips.edges.map((e: any) => `ip:${e.node.address}`),
      ...neighbours.resources.edges.map((e: any) => `resource:${e.node.resourceId}`),
      ...neighbours.accounts.edges.map((e: any) => `account:${e.node.accountId}`),
    ].sort();
    expect(expected.length).toBeGreaterThan(3);
    await page.click('#graph-expand');
    await settle();
    await page.waitForFunction((n) => document.querySelectorAll('#graph-nodes [data-node]').length === n, expected.length);
    expect(await nodes()).toEqual([...new Set(expected)]);

    // Expand bob's console session too: its neighbours join; details of the selected node show beside the graph.
    const session = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { session(id: $id, window: $w) { eventCount
          ips(first: 10, window: $w) { edges { node { address } } }
          resources(first: 10, window: $w) { edges { node { resourceId } } }
          children(first: 10, window: $w) { edges { node { sessionId } } } } }`,
        { id: BOB_CONSOLE_KEY, w: W },
      )
    ).session;
    await page.click(`#graph-nodes [data-node="session:${BOB_CONSOLE_KEY}"] button`);
    await page.waitForSelector(`#graph-details [data-selected="session:${BOB_CONSOLE_KEY}"]`);
    await page.waitForSelector('#graph-details [data-field="eventCount"]');
    expect(await page.innerText('#graph-details [data-field="eventCount"]')).toBe(String(session.eventCount));
    await page.click('#graph-expand');
    await settle();
    const both = [
      ...expected,
      ...session.ips.edges.map((e: any) => `ip:${e.node.address}`),
      ...session.resources.edges.map((e: any) => `resource:${e.node.resourceId}`),
      ...session.children.edges.map((e: any) => `session:${e.node.sessionId}`),
    ];
    expect(await nodes()).toEqual([...new Set(both)].sort());
    expect(await nodes()).toContain(`session:${DEVOPS_KEY}`);

    // Collapse the session: back to bob's first expansion. Collapse bob: back to bob alone.
    await page.click('#graph-collapse');
    await settle();
    expect(await nodes()).toEqual([...new Set(expected)]);
    await page.click(`#graph-nodes [data-node="identity:${BOB}"] button`);
    await page.click('#graph-collapse');
    await settle();
    expect(await nodes()).toEqual([`identity:${BOB}`]);
    await page.close();
  }, 120_000);

  test('the graph folds neighbours of one type and unfolds them, narrows to a time range, and opens picked nodes in the event grid', async () => {
    const page = await open(`#/graph/identity/${encodeURIComponent(DEPLOY_BOT)}?${hashWindow}`);
    const nodes = () => page.locator('#graph-nodes [data-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')).sort());
    const settle = () => page.waitForFunction(() => document.querySelector('#view')?.getAttribute('data-graph-state') === 'idle');
    await page.waitForSelector('#graph-nodes [data-node]');
    const api = (
      await gql(
        `query($id: String!, $w: TimeWindow!) { identity(id: $id, window: $w) {
          sessions(first: 10, window: $w) { edges { firstSeen lastSeen node { sessionId } } }
          ips(first: 10, window: $w) { edges { firstSeen lastSeen node { address } } }
          resources(first: 10, window: $w) { edges { firstSeen lastSeen node { resourceId } } }
          accounts(first: 10, window: $w) { edges { firstSeen lastSeen node { accountId } } } } }`,
        { id: DEPLOY_BOT, w: W },
      )
    ).identity;
    const links: { key: string; kind: string; firstSeen: string; lastSeen: string }[] = [
      ...api.sessions.edges.map((e: any) => ({ ...e, kind: 'session', key: `session:${e.node.sessionId}` })),
      ...api.ips.edges.map((e: any) => ({ ...e, kind: 'ip', key: `ip:${e.node.address}` })),
      ...api.resources.edges.map((e: any) => ({ ...e, kind: 'resource', key: `resource:${e.node.resourceId}` })),
      ...api.accounts.edges.map((e: any) => ({ ...e, kind: 'account', key: `account:${e.node.accountId}` })),
    ];
    const start = `identity:${DEPLOY_BOT}`;
    const expanded = [start, ...new Set(links.map((l) => l.key))].sort();
    await page.click('#graph-expand');
    await settle();
    expect(await nodes()).toEqual(expanded);

    // Fold: each kind with two or more neighbours becomes one node counting them; a kind with one stays as it is.
    const byKind = new Map<string, Set<string>>();
    for (const l of links) byKind.set(l.kind, (byKind.get(l.kind) ?? new Set()).add(l.key));
    expect(byKind.get('ip')?.size).toBe(3);
    const folded = [start];
    const counts: Record<string, number> = {};
    for (const [kind, keys] of byKind) {
      if (keys.size >= 2) {
        folded.push(`fold:${start}:${kind}`);
        counts[`fold:${start}:${kind}`] = keys.size;
      } else folded.push(...keys);
    }
    await page.click('#graph-fold');
    await settle();
    expect(await nodes()).toEqual(folded.sort());
    expect(
      Object.fromEntries(
        await page
          .locator('#graph-nodes li.fold')
          .evaluateAll((els) => els.map((e) => [e.getAttribute('data-node'), Number(e.getAttribute('data-count'))])),
      ),
    ).toEqual(counts);
    await page.click('#graph-unfold');
    await settle();
    expect(await nodes()).toEqual(expanded);

    // The time slider: from 2026-03-04 on, only the links active then (and the nodes they reach) show.
    const step = (Date.parse('2026-03-04T00:00:00Z') - Date.parse(W.from)) / 3_600_000;
    await page.$eval(
      '#graph-time-from',
      (el, value) => {
        (el as HTMLInputElement).value = String(value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
      },
      step,
    );
    await settle();
    expect(await page.getAttribute('[data-field="graph-time-range"]', 'data-from')).toBe('2026-03-04T00:00:00.000Z');
    const from = Date.parse('2026-03-04T00:00:00Z');
    const active = links.filter((l) => Date.parse(l.lastSeen) >= from && Date.parse(l.firstSeen) < Date.parse(W.to)).map((l) => l.key);
    const narrowed = [start, ...new Set(active)].sort();
    expect(narrowed.length).toBeLessThan(expanded.length);
    expect(narrowed).not.toContain('ip:198.51.100.20');
    await page.waitForFunction((n) => document.querySelectorAll('#graph-nodes [data-node]').length === n, narrowed.length);
    expect(await nodes()).toEqual(narrowed);
    await page.$eval('#graph-time-from', (el) => {
      (el as HTMLInputElement).value = '0';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await settle();
    expect(await nodes()).toEqual(expanded);

    // Pick two nodes and open their events in the grid: same window, each grid pages through that entity's own events.
    const picks = [start, 'ip:203.0.113.66'];
    for (const key of picks) await page.check(`#graph-nodes [data-pick="${key}"]`);
    await page.click('#graph-open-grid');
    await page.waitForFunction(() => location.hash.startsWith('#/selection?'));
    expect(page.url()).toContain(hashWindow);
    const totals = await gql(
      `query($id: String!, $ip: String!, $w: TimeWindow!) { identity(id: $id, window: $w) { events(first: 1, window: $w) { totalCount } }
        ip(address: $ip, window: $w) { events(first: 1, window: $w) { totalCount } } }`,
      { id: DEPLOY_BOT, ip: '203.0.113.66', w: W },
    );
    const expectedTotals: Record<string, number> = {
      [start]: totals.identity.events.totalCount,
      'ip:203.0.113.66': totals.ip.events.totalCount,
    };
    for (const key of picks) {
      const status = `[data-grid-for="${key}"] [data-field="grid-status"]`;
      await page.waitForFunction((sel) => /of \d+$/.test(document.querySelector(sel)?.textContent ?? ''), status);
      expect(await page.innerText(status)).toMatch(new RegExp(` of ${expectedTotals[key]}$`));
    }
    expect(await page.locator('[data-grid-for]').evaluateAll((els) => els.map((e) => e.getAttribute('data-grid-for')))).toEqual(
      [...picks].sort(),
    );
    await page.close();
  }, 120_000);

  test('pins an event with a note to the investigation the URL names; after a reload the pin and note are there, as the API keeps them', async () => {
    const inv = 'case-ui-pins';
    const page = await open(`#/entity/identity/${encodeURIComponent(BOB)}?inv=${inv}&${hashWindow}`);
    await page.waitForSelector('#events tbody tr');
    await page.waitForFunction(() => /pinned in/.test(document.querySelector('[data-field="pin-status"]')?.textContent ?? ''));
    expect(await page.inputValue('#investigation')).toBe(inv);
    const ids = await page.locator('#events tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-event')!));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const [first, , third] = ids;
    // A note typed on an unpinned row pins it with the note; the star pins another without one.
    await page.fill(`[data-note="${first}"]`, 'bob signs in after the brute force');
    await page.press(`[data-note="${first}"]`, 'Enter');
    await page.waitForSelector(`tr[data-event="${first}"][data-pinned="true"]`);
    await page.click(`[data-pin-toggle="${third}"]`);
    await page.waitForSelector(`tr[data-event="${third}"][data-pinned="true"]`);
    const PINS = `query($inv: String!) { investigation(id: $inv) { pins { totalCount edges { node { eventId note pinnedBy } } } } }`;
    const kept = (await gql(PINS, { inv })).investigation.pins;
    expect(kept.edges.map((e: any) => [e.node.eventId, e.node.note, e.node.pinnedBy])).toEqual([
      [first, 'bob signs in after the brute force', 'analyst'],
      [third, null, 'analyst'],
    ]);

    // A reload reads them back from the server (nothing is kept in the browser).
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.waitForSelector(`tr[data-event="${first}"][data-pinned="true"]`);
    expect(await page.inputValue(`[data-note="${first}"]`)).toBe('bob signs in after the brute force');
    expect(
      await page.locator('#events tbody tr[data-pinned="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-event'))),
    ).toEqual([first, third]);
    // Pinned only: the grid pages through exactly the pinned events.
    await page.check('#grid-pinned-only');
    await page.waitForFunction(() => document.querySelector('[data-field="grid-status"]')?.textContent === 'Events 1–2 of 2');
    expect(await page.locator('#events tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-event')))).toEqual([
      first,
      third,
    ]);
    // The note changes, and an unpin leaves one pin.
    await page.fill(`[data-note="${third}"]`, 'and reads the bucket');
    await page.press(`[data-note="${third}"]`, 'Enter');
    await page.waitForFunction(() => document.querySelector('[data-field="pin-status"]')?.textContent === '2 pinned in case-ui-pins');
    await page.click(`[data-pin-toggle="${first}"]`);
    await page.waitForSelector(`tr[data-event="${first}"]:not([data-pinned])`);
    expect((await gql(PINS, { inv })).investigation.pins.edges.map((e: any) => [e.node.eventId, e.node.note])).toEqual([
      [third, 'and reads the bucket'],
    ]);

    // The investigation rides along on a pivot, and its pins page lists what the API keeps.
    await page.click(`[data-related="ips"] [data-entity="ip:${BRUTE_IP}"]`);
    await page.waitForFunction((ip) => location.hash.startsWith(`#/entity/ip/${ip}`), BRUTE_IP);
    expect(page.url()).toContain(`inv=${inv}`);
    expect(page.url()).toContain(hashWindow);
    await page.click('#investigation-pins');
    await page.waitForSelector('[data-field="pins-total"]');
    expect(await page.locator('tr[data-pin]').evaluateAll((els) => els.map((e) => e.getAttribute('data-pin')))).toEqual([third]);
    expect(await page.innerText(`tr[data-pin="${third}"] [data-field="note"]`)).toBe('and reads the bucket');
    await page.close();
  }, 120_000);

  test('the world map draws the source countries of the lake offline, sized by their events; a click narrows the grid to one', async () => {
    const COUNTRIES = `query($id: String!, $w: TimeWindow!, $f: EventFilter) { identity(id: $id, window: $w) {
      events(first: 50, window: $w, filter: $f) { totalCount edges { node { eventId } } aggregate(groupBy: [COUNTRY], top: 300) { groups { country count } } } } }`;
    const all = (await gql(COUNTRIES, { id: DEPLOY_BOT, w: W })).identity.events;
    const located = all.aggregate.groups.filter((g: any) => g.country !== null);
    // What the lake holds: one routine call from the US in the window, then three from the Netherlands.
    expect(Object.fromEntries(located.map((g: any) => [g.country, g.count]))).toEqual({ NL: 3, US: 1 });

    const page = await open(`#/entity/identity/${encodeURIComponent(DEPLOY_BOT)}?${hashWindow}`);
    await page.waitForSelector('#world-map[data-state="done"]');
    // The outline is drawn from the bundle (every request left this server or was refused: afterEach).
    expect(await page.locator('#world-map path.country').count()).toBeGreaterThan(150);
    const points = await page
      .locator('#world-map circle.point')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-country'), Number(e.getAttribute('data-count')), Number(e.getAttribute('r'))]),
      );
    expect(Object.fromEntries(points.map(([c, n]) => [c, n]))).toEqual({ NL: 3, US: 1 });
    const radius = Object.fromEntries(points.map(([c, , r]) => [c, r]));
    expect(radius.NL).toBeGreaterThan(radius.US);
    // The countries with events are shaded: the outline's shapes are keyed by ISO numeric code (528 NL, 840 US).
    expect(
      (await page.locator('#world-map path.country.seen').evaluateAll((els) => els.map((e) => e.getAttribute('data-ccn3')))).sort(),
    ).toEqual(['528', '840']);

    // A click on the Netherlands narrows the event grid to its events, as the API's country filter gives them.
    await page.click('#world-map circle.point[data-country="NL"]');
    await page.waitForFunction(() => location.hash.includes('country=NL'));
    await page.waitForSelector('[data-field="grid-country"]');
    const nl = (await gql(COUNTRIES, { id: DEPLOY_BOT, w: W, f: { country: 'NL' } })).identity.events;
    expect(nl.totalCount).toBe(3);
    await page.waitForFunction(() => document.querySelector('[data-field="grid-status"]')?.textContent === 'Events 1–3 of 3');
    expect(await page.locator('#events tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-event')))).toEqual(
      nl.edges.map((e: any) => e.node.eventId),
    );
    expect(page.url()).toContain(hashWindow);
    await page.click('#map-clear');
    await page.waitForFunction(
      (n) => document.querySelector('[data-field="grid-status"]')?.textContent === `Events 1–${n} of ${n}`,
      all.totalCount,
    );

    // An address's page maps where it is.
    await page.goto(`${url}/ui/#/entity/ip/203.0.113.66?${hashWindow}`);
    await page.waitForSelector('#world-map[data-state="done"]');
    expect(await page.locator('#world-map circle.point').evaluateAll((els) => els.map((e) => e.getAttribute('data-country')))).toEqual([
      'NL',
    ]);
    await page.close();
  }, 120_000);

  test('findings are grouped by the entities they share; coverage shows the lake’s map', async () => {
    const page = await open(`#/findings?${hashWindow}`);
    await page.waitForSelector('[data-field="findings-total"]');
    const all = (await gql(`query($w: TimeWindow!) { findings(window: $w, first: 50) { totalCount } }`, { w: W })).findings;
    expect(await page.innerText('[data-field="findings-total"]')).toBe(`${all.totalCount} in 2 groups`);
    // The brute force and the role chain share the brute-forcing address: one group; the outside read is its own.
    const groups = await page
      .locator('.finding-group')
      .evaluateAll((els) => els.map((g) => Array.from(g.querySelectorAll('[data-finding]'), (f) => f.getAttribute('data-finding')).sort()));
    expect(groups).toEqual([['f-brute', 'f-chain'], ['f-public-read']]);

    await page.click('header nav a:text("Coverage")');
    await page.waitForSelector('table.coverage');
    expect(page.url()).toContain(hashWindow);
    const coverage = (
      await gql(`query($w: TimeWindow!) { lake { coverage(window: $w, bucket: DAY) { series { source account region counts } } } }`, {
        w: W,
      })
    ).lake.coverage.series;
    const shown = await page
      .locator('table.coverage tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [
          r.getAttribute('data-series'),
          Array.from(r.querySelectorAll('td[data-count]'), (c) => Number(c.getAttribute('data-count'))),
        ]),
      );
    expect(shown).toEqual(coverage.map((s: any) => [`${s.source}/${s.account}/${s.region}`, s.counts]));
    await page.close();
  }, 120_000);
});
