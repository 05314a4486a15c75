/**
 * `npm run screenshots`: the README's pictures of the workbench (an entity page and the graph view),
 * taken by headless Chromium (Debian's /usr/bin/chromium through playwright-core) from a server over
 * the workbench suite's lake (test/workbench/lake.ts), so they show what the code shows today.
 * Writes docs/images/workbench-entity.png, workbench-identity.png (new behaviour and the world map of
 * source countries) and workbench-graph.png.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ScoutApi } from '../../src/api/server';
import { DuckDbEngine } from '../../src/engine/duckdb';
import { graphDays } from '../../src/engine/lake';
import { tempLake } from '../api/fixtures/lake';
import { BOB, BOB_CONSOLE_KEY, BRUTE_IP } from '../api/fixtures/story';
import { DEPLOY_BOT, hashWindow, writeWorkbenchLake } from './lake';

const OUT = join(__dirname, '..', '..', 'docs', 'images');

async function main(): Promise<void> {
  const lake = tempLake();
  const engine = await writeWorkbenchLake(lake).then(() => DuckDbEngine.open({ lake }));
  const api = new ScoutApi({ engine, latestDay: () => graphDays(lake).at(-1) ?? null });
  const { url, close } = await api.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    // Nothing but this server, as in the tests.
    await page.route('**/*', (route) => (route.request().url().startsWith(url) ? route.continue() : route.abort()));
    mkdirSync(OUT, { recursive: true });

    await page.goto(`${url}/ui/#/entity/ip/${BRUTE_IP}?${hashWindow}`);
    await page.waitForSelector('#activity .histogram');
    await page.waitForSelector('#events tbody tr');
    await page.waitForSelector('#new-behaviour[data-state="done"]');
    await page.screenshot({ path: join(OUT, 'workbench-entity.png'), fullPage: true });

    await page.goto(`${url}/ui/#/entity/identity/${encodeURIComponent(DEPLOY_BOT)}?${hashWindow}`);
    await page.waitForSelector('#world-map[data-state="done"]');
    await page.waitForSelector('#new-behaviour[data-state="done"]');
    await page.screenshot({ path: join(OUT, 'workbench-identity.png'), fullPage: true });

    const settle = () => page.waitForFunction(() => document.querySelector('#view')?.getAttribute('data-graph-state') === 'idle');
    await page.goto(`${url}/ui/#/graph/identity/${encodeURIComponent(BOB)}?${hashWindow}`);
    await page.waitForSelector('#graph-nodes [data-node]');
    await page.click('#graph-expand');
    await settle();
    await page.click(`#graph-nodes [data-node="session:${BOB_CONSOLE_KEY}"] button`);
    await page.click('#graph-expand');
    await settle();
    await page.waitForSelector('#graph-details [data-field="eventCount"]');
    await page.screenshot({ path: join(OUT, 'workbench-graph.png') });
    process.stdout.write(`wrote workbench-entity.png, workbench-identity.png and workbench-graph.png in ${OUT}\n`);
  } finally {
    await browser.close();
    await close();
    await api.stop();
    await engine.close();
    rmSync(lake, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
