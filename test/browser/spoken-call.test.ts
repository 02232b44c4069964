/**
 * A spoken call from the browser: Chromium's fake microphone plays test/fixtures/audio/spoken-claim.wav
 * (the caller's four answers, see spoken-fixture.ts) into the Talk page, which captures it with its
 * AudioWorklet, sends 8 kHz mu-law over `/client/stream?audio=1`, plays the bot's audio and echoes
 * its marks. The server hears it through Deepgram's protocol fake (scripted transcripts per speech
 * segment) and speaks through Cartesia's fake; the dialogue is the local one. The call must reach
 * `done` with the claim filled in from speech alone, with per-turn latency (STT included) and the
 * heard-latency tick that only echoed marks produce.
 */
import type { Browser } from 'playwright-core';
import { startPhoneHarness, type PhoneHarness } from '../support/phone-harness.js';
import { FIXED_TODAY } from '../support/replay-helper.js';
import {
  describeBrowser,
  ensureClientBuilt,
  launchChromium,
  openWatchedPage,
  screenshot,
} from './browser-harness.js';
import { SPOKEN_UTTERANCES, SPOKEN_WAV } from './spoken-fixture.js';

/** The WAV lasts about 33 s; each wait is a generous limit, not a timing assertion. */
const CALL_LIMIT_MS = 90_000;

describeBrowser('spoken call from the browser', () => {
  let harness: PhoneHarness;
  let browser: Browser;

  beforeAll(async () => {
    await ensureClientBuilt();
    harness = await startPhoneHarness({
      twilio: false,
      today: FIXED_TODAY,
      deepgram: { utterances: SPOKEN_UTTERANCES },
      // Short bot audio (10 ms per character, at most 2 s per sentence) so each answer fits
      // between the caller's lines in the WAV.
      cartesia: { msPerChar: 10, maxMsPerInput: 2000 },
    });
    browser = await launchChromium({ fakeMicWav: SPOKEN_WAV });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  it(
    'files a claim from the microphone alone: transcripts, claim card, heard latency and a clean hang-up',
    async () => {
      const { page, errors, context } = await openWatchedPage(browser);
      page.setDefaultTimeout(CALL_LIMIT_MS);
      try {
        await page.goto(`${harness.server.url}/`);
        await page.getByRole('button', { name: 'Call', exact: true }).click();
        await page
          .locator('#mic-state')
          .filter({ hasText: /^Microphone on/ })
          .waitFor();
        await page.getByRole('button', { name: 'Mute microphone' }).waitFor();

        await page.locator('[data-field="path"][data-path="done"]').waitFor();
        await page
          .locator('#call-status')
          .filter({ hasText: /^Call ended/ })
          .waitFor();

        expect(await page.locator('[data-field="claimDate"]').textContent()).toBe('Mar 3, 2026');
        expect(await page.locator('[data-field="claimAmount"]').textContent()).toBe('$1,250.00');
        expect(await page.locator('[data-field="claimStatus"]').textContent()).toBe('Pending');
        const said = await page.locator('.msg-you .msg-text').allTextContents();
        expect(said).toEqual(expect.arrayContaining(SPOKEN_UTTERANCES));

        // The server heard the microphone: continuous 20 ms frames reached the STT.
        expect(harness.deepgram!.receivedBytes).toBeGreaterThan(8000 * 25);
        expect(harness.deepgram!.segmentsStarted).toBeGreaterThanOrEqual(SPOKEN_UTTERANCES.length);
        // Latency per turn includes STT for spoken turns, and the heard tick (marks were echoed).
        expect(await page.locator('.latency .seg-stt').count()).toBeGreaterThanOrEqual(3);
        expect(await page.locator('.latency .bar-tick').count()).toBeGreaterThanOrEqual(3);
        expect(await page.locator('#mic-state').textContent()).toBe('Microphone off');

        await screenshot(page, 'talk-spoken-call');
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    },
    CALL_LIMIT_MS + 30_000,
  );
});
