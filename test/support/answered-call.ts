/**
 * The shortest answered phone call: the caller hears the greeting, says "Okay, got it", hears the
 * answer and hangs up. Returns the conversation as stored once it ended.
 */
import { loadAudioFixture } from '../fakes/fixtures.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import type { ConversationDetail } from '../../src/store/types.js';
import { sayAndWait, waitForBotToFinish, type PhoneHarness } from './phone-harness.js';

/** Places the call (see file header) at `speedup` times real time. */
export async function answeredCall(
  h: PhoneHarness,
  speedup: number,
): Promise<{ call: TwilioCall; detail: ConversationDetail }> {
  const call = await h.call({ speedup });
  await waitForBotToFinish(call, 0);
  await sayAndWait(call, loadAudioFixture('okay-got-it'), { speedup });
  await call.hangUp();
  return { call, detail: await h.conversationByCallSid(call.callSid) };
}
