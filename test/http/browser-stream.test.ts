/**
 * `/client/stream` end to end: the documented protocol (see the header of
 * src/transports/browser/browser-codec.ts), refusal of bad input, and isolation between sessions, over a real
 * WebSocket against the whole server (PGlite in a temp dir, local dialogue).
 */
import {
  connectBrowserCall,
  isListening,
  runScriptedCall,
  startLocalServer,
  waitForStoredEnd,
  type BrowserCall,
  type LocalServer,
  type StreamMessage,
} from '../support/replay-helper.js';

const HAPPY_PATH = [
  'okay, got it',
  'it happened on March 3rd, 2026',
  'twelve hundred fifty dollars and fifty cents',
  "yes, that's correct",
];

const events = (ms: StreamMessage[]) => ms.map((m) => m.event);

/** Sends a frame and waits for the next `error` frame after it. */
async function expectRefused(call: BrowserCall, send: () => void): Promise<StreamMessage> {
  const from = call.messages.length;
  send();
  return call.waitFor((m) => m.event === 'error', from, 'an error frame');
}

describe('/client/stream', () => {
  let server: LocalServer;

  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('carries a typed conversation to done with the documented events, then closes normally', async () => {
    const call = await runScriptedCall(
      server,
      HAPPY_PATH.map((say) => ({ say })),
    );
    const ms = call.messages;
    const seen = new Set(events(ms));

    // session.started comes before anything but the machines' initial states.
    const startAt = ms.findIndex((m) => m.event === 'session.started');
    expect(ms[startAt]).toMatchObject({
      channel: 'browser',
      conversationId: call.conversationId,
      claimId: call.claimId,
    });
    expect(ms.slice(0, startAt).map((m) => m.eventType)).toEqual(
      ms.slice(0, startAt).map(() => 'xstate.init'),
    );
    for (const e of [
      'state.changed',
      'claim.updated',
      'bot.turn.started',
      'bot.text',
      'bot.turn.ended',
      'user.turn',
      'tool.called',
      'metrics.turn',
      'hangup',
      'session.ended',
    ]) {
      expect(seen).toContain(e);
    }
    expect(seen).not.toContain('error');

    // state.changed: both machines, with the event that caused the change.
    const changes = ms.filter((m) => m.event === 'state.changed');
    expect(changes.filter((m) => m.actor === 'claim').map((m) => m.eventType)).toEqual([
      'xstate.init',
      'claim.number.acknowledged',
      'claim.date.provided',
      'claim.amount.provided',
      'claim.details.confirmed',
    ]);
    expect(changes.some((m) => m.actor === 'call' && m.eventType === 'user.text.received')).toBe(true);
    expect(changes.at(-1)).toMatchObject({ actor: 'call', value: 'ending', eventType: 'bot.turn.completed' });

    // claim.updated: the card as it fills in, ending filed.
    const cards = ms.filter((m) => m.event === 'claim.updated').map((m) => m.claim);
    expect(cards[0]).toMatchObject({ claimId: call.claimId, state: 'initial', claimStatus: 'Open' });
    expect(cards.at(-1)).toEqual({
      claimId: call.claimId,
      claimDate: '2026-03-03',
      claimAmount: 1250.5,
      claimStatus: 'Pending',
      state: 'done',
      path: 'done',
    });

    // Every caller turn is echoed and answered; the bot's text arrives between start and end of its turn.
    expect(ms.filter((m) => m.event === 'user.turn').map((m) => m.text)).toEqual(HAPPY_PATH);
    const ended = ms.filter((m) => m.event === 'bot.turn.ended');
    expect(ended).toHaveLength(HAPPY_PATH.length + 1);
    for (const turn of ended) {
      const text = ms
        .filter((m) => m.event === 'bot.text' && m.turn === turn.turn)
        .map((m) => m.text)
        .join(' ');
      expect(text.length).toBeGreaterThan(0);
      expect(turn).toMatchObject({ interrupted: false });
    }
    expect(ms.filter((m) => m.event === 'tool.called').map((m) => m.name)).toEqual([
      'claim_number_acknowledged',
      'claim_date_provided',
      'claim_amount_provided',
      'claim_details_confirmed',
    ]);

    // The bot hangs up: hangup, then session.ended last, then a normal close.
    expect(events(ms).indexOf('hangup')).toBeLessThan(events(ms).indexOf('session.ended'));
    expect(ms.find((m) => m.event === 'hangup')).toMatchObject({ reason: 'completed' });
    expect(ms.at(-1)).toMatchObject({ event: 'session.ended', reason: 'completed' });
    expect(call.close.code).toBe(1000);
  });

  it('answers ping with pong', async () => {
    const call = await connectBrowserCall(server.streamUrl);
    await call.waitFor((m) => m.event === 'session.started');
    const from = call.messages.length;
    call.send({ event: 'ping' });
    await call.waitFor((m) => m.event === 'pong', from, 'pong');
    call.send({ event: 'hangup' });
    await call.closed;
  });

  it('refuses bad frames with an error event and the call goes on', async () => {
    const call = await connectBrowserCall(server.streamUrl);
    const started = await call.waitFor((m) => m.event === 'session.started');
    await call.waitFor(isListening, 0, 'the greeting to end');

    const refusals = [
      await expectRefused(call, () => call.ws.send('{"event":"text",')),
      await expectRefused(call, () => call.send({ event: 'teleport', to: 'mars' })),
      await expectRefused(call, () => call.send({ event: 'text', text: '   ' })),
      await expectRefused(call, () => call.send({ event: 'dtmf', digit: '12' })),
      await expectRefused(call, () => call.ws.send(Buffer.from([1, 2, 3]), { binary: true })),
      await expectRefused(call, () => call.ws.send('x'.repeat(70 * 1024))),
    ];
    expect(refusals.map((r) => r.message)).toEqual([
      'invalid JSON',
      expect.stringMatching(/^unsupported message/),
      expect.stringMatching(/^unsupported message/),
      expect.stringMatching(/^unsupported message/),
      expect.stringMatching(/binary frames are not accepted/),
      'frame too large',
    ]);

    // Still the same call, still listening: a good turn moves the claim on.
    const from = call.messages.length;
    call.say('got it');
    const card = await call.waitFor(
      (m) => m.event === 'claim.updated' && (m.claim as { path: string }).path === 'ongoing.collectingDate',
      from,
      'the claim to move to collectingDate',
    );
    expect(card.claim).toMatchObject({ claimId: started.claimId });
    expect(call.ws.readyState).toBe(call.ws.OPEN);
    call.send({ event: 'hangup' });
    expect((await call.closed).code).toBe(1000);
  });

  it('closes the socket with 1008 after 20 bad frames and ends that call, leaving another call unaffected', async () => {
    const noisy = await connectBrowserCall(server.streamUrl);
    const calm = await connectBrowserCall(server.streamUrl);
    const noisyStart = await noisy.waitFor((m) => m.event === 'session.started');
    await calm.waitFor(isListening, 0, 'the greeting to end');

    // The calm caller's first turn and the noisy caller's garbage are in flight at the same time.
    let from = calm.messages.length;
    calm.say(HAPPY_PATH[0]!);
    for (let i = 0; i < 20; i++) noisy.ws.send(`not json ${i}`);
    const closed = await noisy.closed;

    expect(closed).toEqual({ code: 1008, reason: 'too many invalid messages' });
    expect(noisy.messages.filter((m) => m.event === 'error')).toHaveLength(20);
    const stored = await waitForStoredEnd(server, String(noisyStart.conversationId));
    expect(stored.conversation.end_reason).toBe('too_many_invalid_messages');

    // The other call carries on to done and never saw an error.
    for (const say of HAPPY_PATH.slice(1)) {
      await calm.waitFor(isListening, from, 'the bot to answer');
      from = calm.messages.length;
      calm.say(say);
    }
    expect((await calm.closed).code).toBe(1000);
    expect(events(calm.messages)).not.toContain('error');
    expect(calm.messages.at(-1)).toMatchObject({ event: 'session.ended', reason: 'completed' });
    const calmStart = calm.messages.find((m) => m.event === 'session.started')!;
    const calmStored = await waitForStoredEnd(server, String(calmStart.conversationId));
    expect(calmStored.conversation).toMatchObject({ state: 'done', claim_status: 'Pending' });
  });

  it('ends the call when the caller hangs up mid-claim, keeping what was collected', async () => {
    const call = await runScriptedCall(server, [{ say: 'got it' }, { say: 'March 3rd, 2026' }], {
      hangUpAtEnd: true,
    });
    expect(call.close.code).toBe(1000);
    const stored = await waitForStoredEnd(server, call.conversationId);
    expect(stored.conversation).toMatchObject({
      state: 'ongoing',
      claim_status: 'Open',
      claim_date: '2026-03-03',
      claim_amount: null,
      end_reason: 'caller_hung_up',
    });
  });

  it('ends the call when the client just closes the socket', async () => {
    const call = await connectBrowserCall(server.streamUrl);
    const started = await call.waitFor((m) => m.event === 'session.started');
    call.close();
    await call.closed;
    const stored = await waitForStoredEnd(server, String(started.conversationId));
    expect(stored.conversation.end_reason).toBe('caller_hung_up');
  });
});
