import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: this machine cannot download playwright's browser builds. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium with nothing of its own reaching the network (no updates, sync or QUIC). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
