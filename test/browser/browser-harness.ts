/**
 * Helpers for the browser tests: Debian's Chromium driven by playwright-core (Playwright's own
 * browser download does not work offline), the built client, screenshots, console-error capture.
 *
 * Without Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) the suites skip with a one-line
 * reason, unless `STATECALL_REQUIRE_ALL_SUITES=1` (CI), where a missing browser fails instead.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describeWhen } from '../support/describe-when.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where screenshots go (test-output/ is git-ignored). */
export const SCREENSHOT_DIR = path.join(repoRoot, 'test-output', 'screenshots');

/** The Chromium binary the tests drive. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser suites cannot run here, or null when they can. */
export function browserUnavailableReason(): string | null {
  return fs.existsSync(CHROMIUM_PATH)
    ? null
    : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** `describe` for a browser suite (see {@link describeWhen}). */
export function describeBrowser(name: string, fn: () => void): void {
  describeWhen('test/browser', name, browserUnavailableReason(), fn);
}

/** Builds `client/dist` if it is missing or stale (same script as `npm start`'s prestart). */
export async function ensureClientBuilt(): Promise<void> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  await promisify(execFile)(tsx, ['client/scripts/ensure-build.ts', '--quiet'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

/** Launches headless Chromium with a fake microphone (fed from `wav` when given). */
export function launchChromium(opts: { fakeMicWav?: string } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(opts.fakeMicWav ? [`--use-file-for-fake-audio-capture=${opts.fakeMicWav}%noloop`] : []),
    ],
  });
}

/** A page whose console errors and uncaught exceptions are collected (tests assert none). */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** `console.error` messages, failed requests and uncaught page errors, in order. */
  errors: string[];
}

/** Opens a page (phone-sized when `mobile`) that records every console error. */
export async function openWatchedPage(
  browser: Browser,
  opts: { mobile?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext(
    opts.mobile
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1366, height: 900 } },
  );
  await context.grantPermissions(['microphone']);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    // Aborted in-flight fetches on navigation are not errors.
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`request failed: ${req.url()}`);
  });
  return { context, page, errors };
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
