/**
 * Screenshots of every page of the browser client at the sizes operators use (1280x800, 390x844,
 * 320x640): Talk mid-call (full page and the viewport alone, to show what stays in view), the
 * machine charts with "All transitions", Live calls, History, and a finished call's page.
 *
 * Used by test/browser/layout.test.ts (into test-output/screenshots/) and runnable on its own
 * against any checkout, e.g. to compare before and after a change:
 *
 *   npx tsx test/browser/page-shots.ts /tmp/shots
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startLocalServer } from '../support/replay-helper.js';
import { ensureClientBuilt, launchChromium } from './browser-harness.js';

/** One screen size. */
export interface Viewport {
  name: string;
  width: number;
  height: number;
  mobile: boolean;
}

/** The sizes every page is checked and screenshotted at. */
export const VIEWPORTS: Viewport[] = [
  { name: 'desktop', width: 1280, height: 800, mobile: false },
  { name: 'phone', width: 390, height: 844, mobile: true },
  { name: 'narrow', width: 320, height: 640, mobile: true },
];

/** Opens a page of the given size (touch on phone sizes). */
export async function openAt(browser: Browser, vp: Viewport): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: vp.width, height: vp.height },
    deviceScaleFactor: vp.mobile ? 2 : 1,
    isMobile: vp.mobile,
    hasTouch: vp.mobile,
  });
  await context.grantPermissions(['microphone']);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

/** Types one caller turn on the Talk page and waits until the bot answered it. */
export async function sayAndWait(page: Page, text: string): Promise<void> {
  const before = await page.locator('.msg-bot').count();
  await page.getByLabel('Type what you would say').fill(text);
  await page.keyboard.press('Enter');
  await page.waitForFunction(`document.querySelectorAll('.msg-bot').length > ${before}`);
}

/** Starts a typed call and takes it to the amount question (mid-call). */
export async function typedCallToAmount(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByRole('button', { name: 'Chat without microphone' }).click();
  await page.locator('.msg-bot .msg-text').first().waitFor();
  await sayAndWait(page, 'okay, got it');
  await sayAndWait(page, 'It happened on March 3rd');
}

/** How many CSS pixels the document is wider than the screen (0 when it fits). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/** One screenshot, and how far its page scrolled sideways when it was taken. */
export interface Shot {
  name: string;
  file: string;
  viewport: string;
  /** CSS pixels the page was wider than the screen (0: it fits). */
  overflow: number;
}

async function shot(page: Page, dir: string, name: string, fullPage = true): Promise<Shot> {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  const viewport = page.viewportSize();
  return {
    name,
    file,
    viewport: `${viewport?.width}x${viewport?.height}`,
    overflow: await sidewaysOverflow(page),
  };
}

/**
 * Takes every screenshot into `dir` and returns them. `flush` (the server's outbox) runs before
 * History is opened, so the call just made is listed as stored.
 */
export async function shootAllPages(
  browser: Browser,
  baseUrl: string,
  dir: string,
  flush: () => Promise<void> = async () => {},
): Promise<Shot[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files: Shot[] = [];
  // One call hung up mid-claim first, so History shows an unfinished call next to filed ones.
  const first = await openAt(browser, VIEWPORTS[0]!);
  try {
    await typedCallToAmount(first, baseUrl);
    await first.getByRole('button', { name: 'Hang up' }).click();
    await first
      .locator('#call-status')
      .filter({ hasText: /^Call ended/ })
      .waitFor();
  } finally {
    await first.context().close();
  }
  for (const vp of VIEWPORTS) {
    const page = await openAt(browser, vp);
    try {
      await typedCallToAmount(page, baseUrl);
      files.push(await shot(page, dir, `talk-midcall-${vp.name}`));
      files.push(await shot(page, dir, `talk-midcall-${vp.name}-viewport`, false));
      for (const toggle of await page.getByLabel('All transitions').all()) await toggle.check();
      await page.locator('.machines').scrollIntoViewIfNeeded();
      files.push(await shot(page, dir, `charts-all-transitions-${vp.name}`));
      // The Live page in a second tab while this call is still in progress.
      const live = await page.context().newPage();
      await live.goto(`${baseUrl}/#/live`);
      await live.getByRole('heading', { name: 'Live calls' }).waitFor();
      files.push(await shot(live, dir, `live-${vp.name}`));
      await live.close();
      await sayAndWait(page, 'twelve hundred fifty dollars');
      await sayAndWait(page, "yes, that's correct");
      await page
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();
      await flush();
      await page.goto(`${baseUrl}/#/history`);
      await page.locator('table.calls tbody tr').first().waitFor();
      files.push(await shot(page, dir, `history-${vp.name}`));
      await page.locator('table.calls tbody tr a').first().click();
      await page.locator('.transcript-list .msg').first().waitFor();
      files.push(await shot(page, dir, `call-page-${vp.name}`));
    } finally {
      await page.context().close();
    }
  }
  return files;
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? 'test-output/screenshots');
  await ensureClientBuilt();
  const server = await startLocalServer();
  const browser = await launchChromium();
  try {
    const shots = await shootAllPages(browser, server.url, dir, () => server.flush());
    for (const s of shots)
      process.stdout.write(`${s.file}${s.overflow > 0 ? ` (${s.overflow} px wider than the screen)` : ''}\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
