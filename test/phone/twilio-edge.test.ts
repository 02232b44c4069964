/**
 * The Twilio edge under abuse and at its limits: signatures on the webhook and the upgrade,
 * garbage on the media stream (counted, answered by nothing, never a crash; a flood closes that
 * socket only), and the polite refusal at MAX_CONCURRENT_CALLS.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { WebSocket } from 'ws';
import { startPhoneHarness, waitForBotToFinish, type PhoneHarness } from '../support/phone-harness.js';

const AUTH_TOKEN = 'test-twilio-auth-token';

function openRawStream(h: PhoneHarness, signature?: string): Promise<WebSocket> {
  const streamUrl = 'wss://statecall.example.test/twilio/stream';
  const sig = signature ?? twilio.getExpectedTwilioSignature(AUTH_TOKEN, streamUrl, {});
  const ws = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}/twilio/stream`, {
    headers: { 'X-Twilio-Signature': sig },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** POSTs the voice webhook as Twilio does: form-encoded, signed over PUBLIC_URL (or with `signature`). */
function postWebhook(h: PhoneHarness, params: Record<string, string>, signature?: string): Promise<Response> {
  const sig =
    signature ??
    twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://statecall.example.test/twilio/voice', params);
  return fetch(`${h.server.url}/twilio/voice`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
    body: new URLSearchParams(params),
  });
}

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );

describe('the Twilio edge', () => {
  let h: PhoneHarness;
  beforeAll(async () => {
    h = await startPhoneHarness({ deepgram: false, cartesia: false, env: { MAX_CONCURRENT_CALLS: '2' } });
  });
  afterAll(async () => h?.close());

  it('answers a signed webhook with a bidirectional stream to PUBLIC_URL carrying the call parameters', async () => {
    // Through the simulated caller, so the slot the webhook reserves is claimed and freed again.
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const call = await h.call({ callSid, from: '+15551112222', speedup: 4 });
    expect(call.twiml).toContain('<Connect><Stream url="wss://statecall.example.test/twilio/stream">');
    expect(call.twiml).toContain('<Parameter name="from" value="+15551112222"/>');
    expect(call.twiml).toContain(`<Parameter name="callSid" value="${callSid}"/>`);
    await call.hangUp();
  });

  it('refuses a webhook or an upgrade whose signature does not match with 403', async () => {
    const res = await postWebhook(h, { CallSid: 'CA1' }, 'bogus');
    expect(res.status).toBe(403);
    await expect(openRawStream(h, 'bogus')).rejects.toThrow('upgrade refused: 403');
  });

  it('counts garbage on a media stream without crashing, while another call goes on', async () => {
    const good = await h.call({ speedup: 4 });
    const ws = await openRawStream(h);
    const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    const streamSid = `MZ${randomBytes(16).toString('hex')}`;
    send('not json');
    send({ event: 'media', streamSid: 'MZx', media: { payload: 'AAAA' } }); // before start
    send({ event: 'something-new', streamSid: 'MZx' }); // unknown: ignored on purpose
    send({
      event: 'start',
      streamSid,
      start: { callSid: `CA${randomBytes(16).toString('hex')}`, customParameters: { from: '+15550000000' } },
    });
    send({ event: 'media', streamSid: 'MZother', media: { payload: 'AAAA' } }); // wrong streamSid
    send({ event: 'media', streamSid, media: { payload: '!!not base64!!' } });
    send('x'.repeat(40_000)); // oversized
    ws.send(Buffer.from([1, 2, 3])); // binary
    send({ event: 'dtmf', streamSid, dtmf: { digit: 'Z' } }); // invalid digit
    // The raw stream is still open and served: the bot greets it.
    await new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        if (JSON.parse(String(m)).event === 'media') resolve();
      });
    });
    expect(ws.readyState).toBe(WebSocket.OPEN);

    // A flood closes that socket with 1008; the good call is unaffected.
    const done = closed(ws);
    for (let i = 0; i < 60; i++) send('{"event":');
    expect((await done).code).toBe(1008);
    await waitForBotToFinish(good, 0);
    expect(good.closed).toBeNull();
    expect(good.protocolErrors).toEqual([]);
    await good.hangUp();
    const health = (await (await fetch(`${h.server.url}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
  }, 60_000);

  it('counts a start with a malformed callSid as bad and starts no call until a valid start', async () => {
    const ws = await openRawStream(h);
    const send = (m: unknown) => ws.send(JSON.stringify(m));
    const streamSid = `MZ${randomBytes(16).toString('hex')}`;
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const start = (sid: string) => ({
      event: 'start',
      streamSid,
      start: { callSid: sid, streamSid, customParameters: { from: '+15550000000', note: 'bad\u0000' } },
    });
    send(start(`${callSid.slice(0, 33)}\u0000`));
    send(start(`${callSid.slice(0, 33)}\uD800`));
    send(start(callSid));
    await new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        if (JSON.parse(String(m)).event === 'media') resolve();
      });
    });
    ws.close();
    const detail = await h.conversationByCallSid(callSid);
    expect(detail.conversation.call_sid).toBe(callSid);
    const all = await h.server.store.listConversations({ limit: 200 });
    expect(all.filter((c) => c.call_sid?.startsWith(callSid.slice(0, 33)) && c.call_sid !== callSid)).toEqual(
      [],
    );
  }, 60_000);

  it('politely refuses calls at MAX_CONCURRENT_CALLS instead of opening a stream', async () => {
    const a = await h.call({ speedup: 4 });
    const b = await h.call({ speedup: 4 });
    const params = {
      CallSid: `CA${randomBytes(16).toString('hex')}`,
      From: '+15551112222',
      To: '+15553334444',
    };
    const res = await postWebhook(h, params);
    const xml = await res.text();
    expect(xml).toContain('<Say>');
    expect(xml).toContain('<Hangup/>');
    expect(xml).not.toContain('<Stream');
    await a.hangUp();
    await b.hangUp();
  }, 60_000);
});
