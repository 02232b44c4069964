/**
 * The browser client in headless Chromium against the real server (PGlite in a temp dir, local
 * providers): a typed call from the Talk page to `done`, then the History list and the call's
 * detail page, then the same pages on a phone-sized screen. Every page is screenshotted to
 * test-output/screenshots/, and any console error fails the test.
 */
import type { Browser, Page } from 'playwright-core';
import { startLocalServer, type LocalServer } from '../support/replay-helper.js';
import {
  describeBrowser,
  ensureClientBuilt,
  launchChromium,
  openWatchedPage,
  screenshot,
  type WatchedPage,
} from './browser-harness.js';

/** Generous limit for each wait, so a broken page fails with a message (not a timing assertion). */
const WAIT_MS = 20_000;

/** Waits until the claim card's step is the claim state `path` (shown in words, kept in data-path). */
async function waitForStep(page: Page, path: string): Promise<void> {
  await page.locator(`[data-field="path"][data-path="${path}"]`).waitFor({ timeout: WAIT_MS });
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Type what you would say').fill(text);
  await page.keyboard.press('Enter');
}

describeBrowser('browser client', () => {
  let server: LocalServer;
  let browser: Browser;
  let claimId = '';

  beforeAll(async () => {
    await ensureClientBuilt();
    server = await startLocalServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const open = async (opts: { mobile?: boolean } = {}): Promise<WatchedPage> => {
    const w = await openWatchedPage(browser, opts);
    w.page.setDefaultTimeout(WAIT_MS);
    return w;
  };

  it('takes a typed call from the Talk page to done, showing the transcript, claim card, both machines and latency live', async () => {
    const { page, errors, context } = await open();
    try {
      await page.goto(`${server.url}/`);
      await page.getByRole('heading', { name: 'Talk to the bot' }).waitFor();
      await page.getByRole('button', { name: 'Chat without microphone' }).click();

      // The bot speaks first: greeting with the claim number; the claim machine starts in `initial`.
      await page.locator('.msg-bot .msg-text').first().waitFor();
      await waitForStep(page, 'initial');
      claimId = (await page.locator('[data-field="claimId"]').textContent())?.trim() ?? '';
      expect(claimId).toMatch(/^CLM-\d{4}-\d{4}$/);
      await page.locator('[data-state="claim.initial"].active').waitFor();

      await say(page, 'okay, got it');
      await waitForStep(page, 'ongoing.collectingDate');
      await page.locator('[data-state="claim.ongoing.collectingDate"].active-leaf').waitFor();

      await say(page, 'It happened on March 3rd');
      await waitForStep(page, 'ongoing.collectingAmount');
      expect(await page.locator('[data-field="claimDate"]').textContent()).toMatch(/2026/);

      await say(page, 'twelve hundred fifty dollars');
      await waitForStep(page, 'ongoing.verifying');
      expect(await page.locator('[data-field="claimAmount"]').textContent()).toBe('$1,250.00');

      await say(page, "yes, that's correct");
      await waitForStep(page, 'done');
      await page
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();

      // Live views: status, machines, transcript, latency.
      expect(await page.locator('[data-field="claimStatus"]').textContent()).toBe('Pending');
      await page.locator('[data-state="claim.done"].active').waitFor();
      await page.locator('[data-state="call.ended"].active').waitFor();
      const userTurns = await page.locator('.msg-you:not(.msg-pending) .msg-text').allTextContents();
      expect(userTurns).toEqual(
        expect.arrayContaining(['okay, got it', 'It happened on March 3rd', "yes, that's correct"]),
      );
      expect(await page.locator('.msg-bot').count()).toBeGreaterThanOrEqual(5);
      expect(await page.locator('.latency .bar-row').count()).toBeGreaterThanOrEqual(4);
      // The controls went back to "start a call" and the microphone stayed off (typed call).
      await page.getByRole('button', { name: 'Call', exact: true }).waitFor();
      expect(await page.locator('#mic-state').textContent()).toBe('Microphone off');

      await screenshot(page, 'talk-typed-call');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lists that call in History and opens its transcript, timeline and metrics charts', async () => {
    expect(claimId).not.toBe('');
    await server.flush();
    const { page, errors, context } = await open();
    try {
      await page.goto(`${server.url}/#/history`);
      await page.getByRole('heading', { name: 'Call history' }).waitFor();
      const row = page.locator('table.calls tbody tr').filter({ hasText: claimId });
      await row.waitFor();
      const cells = await row.locator('th, td').allTextContents();
      expect(cells.slice(1, 4)).toEqual(['filed', 'Pending', 'claim filed']);
      expect(cells[4]).toBe('$1,250.00');
      expect(cells[5]).toMatch(/Mar 3, 2026/);
      expect(cells[8]).toBe('browser (typed)');
      await screenshot(page, 'history-list');

      // Keyboard: the claim number is a link; Enter opens the detail page.
      await row.getByRole('link', { name: claimId }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Claim ${claimId}` }).waitFor();
      await page.locator('.transcript-list .msg-you').filter({ hasText: 'March 3rd' }).waitFor();
      // Charts, not tables of numbers: a lane of state segments per machine, a range bar per timing.
      await page.locator('.tl-call .tl-seg').first().waitFor();
      await page.locator('.tl-claim .tl-seg').filter({ hasText: 'verifying' }).waitFor();
      expect(await page.locator('.range-row .range-bar').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('.msg-tool .tool-result').allTextContents()).toContain(
        ' → accepted, now ongoing.verifying',
      );
      expect(await page.locator('.tiles .tile-value').first().textContent()).toMatch(/^\d+$/);
      await screenshot(page, 'history-detail');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('fits a phone screen: Talk and History without horizontal scrolling, controls reachable by keyboard', async () => {
    const { page, errors, context } = await open({ mobile: true });
    try {
      await page.goto(`${server.url}/`);
      await page.getByRole('heading', { name: 'Talk to the bot' }).waitFor();
      const overflow = () =>
        page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(await overflow()).toBeLessThanOrEqual(0);
      // The skip link is the first stop; the call buttons follow the navigation.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
      await page.getByRole('button', { name: 'Chat without microphone' }).focus();
      await page.keyboard.press('Enter');
      await page.getByLabel('Type what you would say').waitFor({ state: 'visible' });
      await page.locator('.msg-bot .msg-text').first().waitFor();
      expect(await page.evaluate('document.activeElement.id')).toBe('say-input');
      await screenshot(page, 'talk-mobile');
      await page.getByRole('button', { name: 'Hang up' }).click();
      await page
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();

      await page.goto(`${server.url}/#/history`);
      await page.locator('table.calls tbody tr').first().waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(page, 'history-mobile');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
