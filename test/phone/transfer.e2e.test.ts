/**
 * Transfer to a person, through the running server: a simulated Twilio caller asks for a person
 * (spoken, read by the local fast path; or the OpenAI dialogue's `caller_transfer_requested` tool;
 * or the keypad's 0); the bot says it is connecting them; once that played, the live call gets a
 * `<Dial>` through the REST fake; the dialled person's answer fetches our signed whisper; the
 * conversation is stored as `transferred`. Without TRANSFER_NUMBER the bot says it cannot and the
 * claim goes on.
 */
import { claimNumberForSpeech } from '../../machines/claim/claim-number.js';
import { answerDial } from '../fakes/twilio-rest.js';
import { loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import * as phone from '../support/phone-harness.js';
import type { PhoneHarness, PhoneHarnessOptions } from '../support/phone-harness.js';
import { scriptedClaimModel } from '../support/scripted-llm.js';

const SPEEDUP = 8;
const TODAY = '2026-11-25';
const TRANSFER_NUMBER = '+15550100999';
const PUBLIC_URL = 'https://statecall.example.test';
const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const ANNOUNCEMENT = "I'll connect you with a member of our claims team now.";

/** A fresh stack whose "today" is fixed (claim dates). */
const withStack = (opts: PhoneHarnessOptions, body: (h: PhoneHarness) => Promise<void>) =>
  phone.withPhoneHarness({ today: TODAY, ...opts }, body);

const say = (call: TwilioCall, name: AudioFixtureName, waitForAnswer = true) =>
  phone.sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP, waitForAnswer });

/** The `<Dial>` TwiML the server must post for a conversation. */
const dialTwiml = (conversationId: string) =>
  `${XML}<Response><Dial timeout="30"><Number url="${PUBLIC_URL}/twilio/whisper?conversation=${conversationId}" method="POST">${TRANSFER_NUMBER}</Number></Dial></Response>`;

/** The dialled person answers the transfer the caller's call got (signed unless `authToken` is null). */
const personAnswers = (h: PhoneHarness, call: TwilioCall, twiml: string, authToken: string | null) =>
  answerDial(twiml, {
    serverBaseUrl: h.server.url,
    publicUrl: PUBLIC_URL,
    accountSid: h.rest!.accountSid,
    parentCallSid: call.callSid,
    ...(authToken ? { authToken } : {}),
  });

const withTransfer: PhoneHarnessOptions['env'] = { TRANSFER_NUMBER };

describe('transfer to a person', () => {
  it('connects a caller who asks for a real person: announcement, REST <Dial>, signed whisper, stored as transferred', async () => {
    await withStack(
      {
        deepgram: { utterances: ['Okay, got it.', 'March third.', 'Can I talk to a real person?'] },
        cartesia: {},
        env: withTransfer,
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await phone.waitForBotToFinish(call, 0);
        await say(call, 'okay-got-it');
        await say(call, 'march-third');
        await say(call, 'hello', false); // scripted as "Can I talk to a real person?"
        await call.waitForClosed(60_000);
        const d = await h.conversationByCallSid(call.callSid);

        expect(d.conversation).toMatchObject({
          end_reason: 'transferred',
          claim_date: '2026-03-03',
          state: 'ongoing',
        });
        // Exactly one update of the live call: the <Dial>, after the announcement was heard.
        expect(h.rest!.callUpdates).toEqual([
          { callSid: call.callSid, form: { Twiml: dialTwiml(d.conversation.id) }, at: expect.any(Number) },
        ]);
        expect(h.rest!.hangUps).toEqual([]);
        const bot = d.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
        expect(bot.at(-1)).toContain(ANNOUNCEMENT);
        expect(call.marksEchoed.length).toBeGreaterThan(0);

        const twiml = h.rest!.callUpdates[0]!.form.Twiml!;
        const whisper = await personAnswers(h, call, twiml, h.config.TWILIO_AUTH_TOKEN!);
        expect(whisper.status).toBe(200);
        expect(whisper.body).toBe(
          `${XML}<Response><Say>Claims call transferred by the Acme Insurance assistant. The caller asked to speak to a person. ` +
            `Claim number ${claimNumberForSpeech(d.conversation.claim_id)}. Date of the incident: March 3, 2026. ` +
            'Still missing: the amount.</Say></Response>',
        );
        // Claim data only for Twilio: unsigned, or signed with another key, is refused.
        expect((await personAnswers(h, call, twiml, null)).status).toBe(403);
        expect((await personAnswers(h, call, twiml, 'not-the-token')).status).toBe(403);
        expect(call.protocolErrors).toEqual([]);
      },
    );
  }, 120_000);

  it('transfers when the OpenAI dialogue calls caller_transfer_requested', async () => {
    const ASK = 'Is there anybody there who works for you?';
    await withStack(
      {
        deepgram: { utterances: [ASK] },
        openai: {
          replies: scriptedClaimModel({
            tweak: (_i, body) => {
              const last = body.messages?.at(-1);
              const offered = (body.tools ?? []).some((t) => t.function.name === 'caller_transfer_requested');
              return last?.role === 'user' && last.content === ASK && offered
                ? { text: undefined, toolCalls: [{ name: 'caller_transfer_requested', arguments: {} }] }
                : {};
            },
          }),
        },
        cartesia: {},
        env: withTransfer,
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await phone.waitForBotToFinish(call, 0);
        await say(call, 'hello', false);
        await call.waitForClosed(60_000);
        const d = await h.conversationByCallSid(call.callSid);
        expect(d.conversation.end_reason).toBe('transferred');
        expect(h.rest!.callUpdates.map((u) => u.form.Twiml)).toEqual([dialTwiml(d.conversation.id)]);
        const whisper = await personAnswers(
          h,
          call,
          dialTwiml(d.conversation.id),
          h.config.TWILIO_AUTH_TOKEN!,
        );
        expect(whisper.body).toContain('The caller asked to speak to a person.');
        expect(whisper.body).toContain('Still missing: the date of the incident and the amount.');
      },
    );
  }, 120_000);

  it('transfers a caller who presses 0 (keypad only)', async () => {
    await withStack({ deepgram: false, cartesia: false, env: withTransfer }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      await phone.waitForBotToFinish(call, 0);
      await phone.pressKeys(call, '0', false);
      await call.waitForClosed(60_000);
      const d = await h.conversationByCallSid(call.callSid);
      expect(d.conversation.end_reason).toBe('transferred');
      expect(h.rest!.callUpdates.map((u) => u.form)).toEqual([{ Twiml: dialTwiml(d.conversation.id) }]);
      const whisper = await personAnswers(h, call, dialTwiml(d.conversation.id), h.config.TWILIO_AUTH_TOKEN!);
      expect(whisper.body).toContain('The caller pressed zero for a person.');
    });
  }, 60_000);

  it('without TRANSFER_NUMBER says transfers are not available and goes on with the claim', async () => {
    await withStack({ deepgram: false, cartesia: false }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      await phone.waitForBotToFinish(call, 0);
      await phone.pressKeys(call, '0');
      await phone.pressKeys(call, '1'); // the claim goes on: the claim number is acknowledged
      await phone.pressKeys(call, '03032026#');
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);
      expect(d.conversation).toMatchObject({ end_reason: 'caller_hung_up', claim_date: '2026-03-03' });
      const bot = d.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
      expect(bot[1]).toMatch(
        /^I'm sorry, I can't transfer you to a person on this line, but I can help you here\. /,
      );
      expect(h.rest!.callUpdates).toEqual([]);
      // No transfer, no whisper endpoint.
      const res = await fetch(`${h.server.url}/twilio/whisper?conversation=${d.conversation.id}`, {
        method: 'POST',
      });
      expect(res.status).toBe(404);
    });
  }, 60_000);
});
