/**
 * Waiting for the bot's side of a turn on a simulated call.
 */
import type { TwilioCall } from './twilio-caller.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the bot has answered: media arrived past `sinceBytes`, then playback drained and no
 * new audio came for `quietMs` (a turn's sentences may arrive with gaps). Rejects when no answer
 * starts (or playback does not drain) within `timeoutMs`.
 */
export async function waitForBotToFinish(
  call: TwilioCall,
  sinceBytes: number,
  timeoutMs = 30_000,
  quietMs = 500,
): Promise<void> {
  await call.waitForMedia(sinceBytes + 1, timeoutMs);
  for (;;) {
    await call.waitForPlaybackIdle(timeoutMs);
    const bytes = call.receivedBytes;
    await sleep(quietMs);
    if (call.closed) return;
    if (call.receivedBytes === bytes && call.pendingPlaybackBytes === 0) return;
  }
}
