/**
 * The post-call report end to end: real phone calls through the server (Deepgram and Cartesia
 * fakes, PGlite) with POST_CALL_WEBHOOK_URL pointing at a local receiver. The report arrives
 * signed, with the stored claim, transcript, metrics and recording link; a receiver that hangs
 * holds up no call; a 500 is retried.
 */
import { createHmac } from 'node:crypto';
import { AUDIO_FIXTURE_TEXT } from '../fakes/fixtures.js';
import { answeredCall } from '../support/answered-call.js';
import { startPhoneHarness, waitForBotToFinish } from '../support/phone-harness.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import type { PostCallReport } from '../../src/reports/post-call-report.js';

const SPEEDUP = 8;
const SECRET = 'e2e-webhook-secret';

describe('the post-call report of a phone call', () => {
  it('is POSTed signed after the call, retried after a 500, and never holds up another call', async () => {
    // The first request is held (a receiver that hangs) and later answered 500; then 200s.
    const receiver = await startWebhookReceiver(['hold']);
    const h = await startPhoneHarness({
      deepgram: { utterances: [AUDIO_FIXTURE_TEXT['okay-got-it']] },
      cartesia: {},
      env: { RECORDING: 'on', POST_CALL_WEBHOOK_URL: receiver.url, POST_CALL_WEBHOOK_SECRET: SECRET },
    });
    try {
      const { call: first, detail: d } = await answeredCall(h, SPEEDUP);
      await receiver.waitFor(1); // held by the receiver from now on

      // Another caller is served while that delivery hangs.
      const second = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(second, 0);
      expect(second.receivedBytes).toBeGreaterThan(0);
      await second.hangUp();
      const d2 = await h.conversationByCallSid(second.callSid);

      receiver.release(500);
      // The first call's report: held then 500, then delivered; the second's: delivered.
      await receiver.waitFor(3, 60_000);
      const byConversation = (id: string) =>
        receiver.received.filter((r) => r.headers['x-statecall-delivery'] === id);
      const attempts = byConversation(d.conversation.id);
      expect(attempts.length).toBe(2);
      expect(attempts[1]!.headers['x-statecall-attempt']).toBe('2');
      expect(byConversation(d2.conversation.id).length).toBeGreaterThanOrEqual(1);
      expect(new Set(attempts.map((a) => a.body)).size).toBe(1);

      const last = attempts.at(-1)!;
      const ts = last.headers['x-statecall-timestamp'] as string;
      const mac = createHmac('sha256', SECRET).update(`${ts}.${last.body}`).digest('hex');
      expect(last.headers['x-statecall-signature']).toBe(`sha256=${mac}`);
      const report = JSON.parse(last.body) as PostCallReport;
      expect(report).toMatchObject({
        type: 'conversation.ended',
        conversation: { id: d.conversation.id, callSid: first.callSid, channel: 'phone' },
        claim: { claimId: d.conversation.claim_id, claimStatus: d.conversation.claim_status },
        endReason: d.conversation.end_reason,
        recording: {
          url: `${h.config.PUBLIC_URL}/api/conversations/${d.conversation.id}/recording`,
          contentType: 'audio/wav',
        },
      });
      expect(report.conversation.from).not.toContain('555123');
      expect(report.transcript.filter((t) => t.role === 'user').map((t) => t.text)).toEqual([
        AUDIO_FIXTURE_TEXT['okay-got-it'],
      ]);
      expect(report.transcript[0]!.text).toContain('This call is recorded.');
      expect(report.metrics).toMatchObject({ stt: { provider: 'deepgram' }, tts: { provider: 'cartesia' } });
      expect(report.metrics!.turns).toBeGreaterThanOrEqual(1);
    } finally {
      await h.close();
      await receiver.close();
    }
  }, 120_000);
});
