/**
 * The browser client as operators and designers use it, in headless Chromium against the real
 * server (PGlite in a temp dir, local providers):
 * - every page (Talk mid-call, the charts with "All transitions", History, a call's page) fits the
 *   screen at 1280x800, 390x844 and 320x640, with no sideways scroll; each is screenshotted to
 *   test-output/screenshots/;
 * - on a desktop the claim card and the live machines stay in view while the caller types;
 * - keypad digits show as one caller entry, confirmed as one turn;
 * - History says how each call ended and the claim's status, never "live" for an ended call, and
 *   filters by end reason;
 * - a locked dashboard (PUBLIC_URL without DASHBOARD_TOKEN) says why and how to open it.
 */
import type { Browser, Page } from 'playwright-core';
import { startLocalServer, type LocalServer } from '../support/replay-helper.js';
import {
  SCREENSHOT_DIR,
  describeBrowser,
  ensureClientBuilt,
  launchChromium,
  openWatchedPage,
} from './browser-harness.js';
import { VIEWPORTS, openAt, sayAndWait, shootAllPages, typedCallToAmount } from './page-shots.js';

/** Where an element is on screen. */
interface Box {
  top: number;
  bottom: number;
}

async function boxOf(page: Page, selector: string): Promise<Box> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not rendered`);
  return { top: box.y, bottom: box.y + box.height };
}

describeBrowser('browser client layout', () => {
  let server: LocalServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureClientBuilt();
    server = await startLocalServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('fits every page on every screen size without sideways scroll, and screenshots each', async () => {
    const shots = await shootAllPages(browser, server.url, SCREENSHOT_DIR, () => server.flush());
    const names = new Set(shots.map((s) => s.name));
    for (const vp of VIEWPORTS)
      for (const page of ['talk-midcall', 'charts-all-transitions', 'live', 'history', 'call-page'])
        expect(names).toContain(`${page}-${vp.name}`);
    expect(shots.filter((s) => s.overflow > 0).map((s) => `${s.name}: ${s.overflow} px`)).toEqual([]);
  }, 240_000);

  it('keeps the claim card and the live machines in view on a desktop while the caller types', async () => {
    const page = await openAt(browser, VIEWPORTS[0]!);
    try {
      await typedCallToAmount(page, server.url);
      // The caller is at the input (focused after each turn), the bottom of the call panel in view.
      await page.locator('.call-panel').evaluate((el) => el.scrollIntoView({ block: 'end' }));
      const height = page.viewportSize()!.height;
      for (const selector of ['.claim-card', '.machines-now']) {
        const box = await boxOf(page, selector);
        expect(box.top).toBeGreaterThanOrEqual(0);
        expect(box.bottom).toBeLessThanOrEqual(height);
      }
      expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('say-input');
      const input = await boxOf(page, '#say-input');
      expect(input.bottom).toBeLessThanOrEqual(height);
      // The card names the step in words; the live machines say where both machines are.
      expect(await page.locator('[data-field="path"]').textContent()).toBe('Collecting the amount');
      expect(await page.locator('.machines-now [data-now="claim"]').textContent()).toBe(
        'Collecting the amount',
      );
      expect(await page.locator('.machines-now [data-now="call"]').textContent()).toBe('active.listening');
    } finally {
      await page.context().close();
    }
  }, 120_000);

  it('shows keypad digits as one caller entry, and each entry as one turn', async () => {
    const { page, errors, context } = await openWatchedPage(browser, { mobile: true });
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(`${server.url}/`);
      await page.getByRole('button', { name: 'Chat without microphone' }).click();
      await page.locator('.msg-bot .msg-text').first().waitFor();
      await page.locator('.keypad summary').click();
      const press = async (digits: string) => {
        for (const d of digits) await page.getByRole('button', { name: `key ${d}`, exact: true }).click();
      };
      await press('1');
      await page.locator('.msg-keypad:not(.msg-pending) .keypad-digits').filter({ hasText: /^1$/ }).waitFor();
      await page.locator('.msg-bot').nth(1).waitFor();
      await press('0303');
      // Still one entry, growing as keys are pressed.
      expect(await page.locator('.msg-keypad.msg-pending .keypad-digits').allTextContents()).toEqual([
        '0303',
      ]);
      await press('2026#');
      await page
        .locator('.msg-keypad:not(.msg-pending) .keypad-digits')
        .filter({ hasText: /^03032026#?$/ })
        .waitFor();
      expect(await page.locator('.msg-keypad').count()).toBe(2);
      expect(await page.locator('.msg-note').filter({ hasText: 'pressed' }).count()).toBe(0);
      await page.locator('[data-field="claimDate"]').filter({ hasText: 'Mar 3, 2026' }).waitFor();
      await page.getByRole('button', { name: 'Hang up' }).click();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('says in History how each call ended and the claim status, and filters by end reason', async () => {
    // One call hung up mid-claim (ended, not done: it must not look live).
    const caller = await openAt(browser, VIEWPORTS[0]!);
    let claimId: string;
    try {
      await typedCallToAmount(caller, server.url);
      claimId = (await caller.locator('[data-field="claimId"]').textContent())?.trim() ?? '';
      await caller.getByRole('button', { name: 'Hang up' }).click();
      await caller
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();
    } finally {
      await caller.context().close();
    }
    // And one filed (so the test does not depend on the calls of the others).
    const filer = await openAt(browser, VIEWPORTS[0]!);
    try {
      await typedCallToAmount(filer, server.url);
      await sayAndWait(filer, 'twelve hundred fifty dollars');
      await sayAndWait(filer, "yes, that's correct");
      await filer
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();
    } finally {
      await filer.context().close();
    }
    await server.flush();

    const page = await openAt(browser, VIEWPORTS[0]!);
    try {
      await page.goto(`${server.url}/#/history`);
      await page.locator('table.calls thead th').first().waitFor();
      const headers = await page.locator('table.calls thead th').allTextContents();
      expect(headers).toEqual(expect.arrayContaining(['Outcome', 'Claim status', 'End reason', 'Channel']));
      const cell = async (row: ReturnType<Page['locator']>, label: string) =>
        (await row.locator(`[data-label="${label}"]`).textContent())?.trim();
      const hungUp = page.locator('table.calls tbody tr').filter({ hasText: claimId });
      await hungUp.waitFor();
      expect(await cell(hungUp, 'Outcome')).toBe('ended at ongoing');
      expect(await cell(hungUp, 'Claim status')).toBe('Open');
      expect(await cell(hungUp, 'End reason')).toBe('caller hung up');
      expect(await cell(hungUp, 'Channel')).toBe('browser (typed)');
      // The end-reason filter asks the API for those calls only.
      // Listen before choosing (the answer can come back before a late listener is set), then wait
      // until the table shows the filtered rows: the render follows the response.
      const allShow = (label: string, text: string) =>
        page.waitForFunction(
          `(() => {
            const cells = [...document.querySelectorAll('table.calls tbody [data-label="${label}"]')];
            return cells.length > 0 && cells.every((c) => c.textContent.trim() === ${JSON.stringify(text)});
          })()`,
        );
      await Promise.all([
        page.waitForResponse((r) => r.url().includes('end_reason=caller_hung_up')),
        page.getByLabel('End reason').selectOption('caller_hung_up'),
      ]);
      await allShow('End reason', 'caller hung up');
      const reasons = await page.locator('table.calls tbody [data-label="End reason"]').allTextContents();
      expect(reasons.length).toBeGreaterThan(0);
      expect(new Set(reasons)).toEqual(new Set(['caller hung up']));
      await Promise.all([
        page.waitForResponse((r) => r.url().includes('end_reason=completed')),
        page.getByLabel('End reason').selectOption('completed'),
      ]);
      await allShow('Outcome', 'filed');
      expect(await page.locator('table.calls tbody tr').filter({ hasText: claimId }).count()).toBe(0);
      expect(
        new Set(await page.locator('table.calls tbody [data-label="Outcome"]').allTextContents()),
      ).toEqual(new Set(['filed']));
    } finally {
      await page.context().close();
    }
  }, 120_000);

  it('says why a locked dashboard refuses calls and how to open it', async () => {
    const locked = await startLocalServer({ env: { PUBLIC_URL: 'https://bot.example.com' } });
    const page = await openAt(browser, VIEWPORTS[1]!);
    try {
      await page.goto(`${locked.url}/`);
      const notice = page.locator('#dashboard-locked');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/PUBLIC_URL is set.*DASHBOARD_TOKEN.*\?token=/);
      expect(await page.getByRole('button', { name: 'Chat without microphone' }).isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Call', exact: true }).isDisabled()).toBe(true);
    } finally {
      await page.context().close();
      await locked.stop();
    }
  }, 120_000);
});
