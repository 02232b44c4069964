/**
 * The Twilio REST fake, driven by the real `twilio` 6.2 client (no mocks).
 *
 * How the engine points the client at it (the client has no base-URL option):
 *   class Rewriting extends twilio.RequestClient {
 *     override request<T>(o: Parameters<twilio.RequestClient['request']>[0]) {
 *       o.uri = o.uri.replace(/^https:\/\/api\.twilio\.com/, TWILIO_API_URL);
 *       return super.request<T>(o as never);
 *     }
 *   }
 *   const client = twilio(accountSid, authToken, { httpClient: new Rewriting() });
 *   await client.calls(callSid).update({ status: 'completed' });
 */
import twilio from 'twilio';
import { FakeTwilioRequestClient, startTwilioRestFake, type TwilioRestFake } from '../fakes/twilio-rest.js';

const CALL = `CA${'1'.repeat(32)}`;

describe('Twilio REST fake with the real client', () => {
  let fake: TwilioRestFake;
  afterEach(async () => {
    await fake.close();
  });
  const clientFor = (f: TwilioRestFake, token = f.authToken) =>
    twilio(f.accountSid, token, { httpClient: new FakeTwilioRequestClient(f.url) });

  it('completes an in-progress call with Status=completed over Basic auth and answers the call resource', async () => {
    fake = await startTwilioRestFake({ calls: [CALL] });
    const call = await clientFor(fake).calls(CALL).update({ status: 'completed' });
    expect(call.sid).toBe(CALL);
    expect(call.status).toBe('completed');
    expect(fake.hangUps).toEqual([{ callSid: CALL, status: 'completed', at: expect.any(Number) }]);
    const req = fake.requests[0]!;
    expect(req).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${fake.accountSid}/Calls/${CALL}.json`,
      form: { Status: 'completed' },
    });
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`,
    );
  });

  it('records every call update, keeps a call given a <Dial> in progress, and ends its stream', async () => {
    fake = await startTwilioRestFake({ calls: [CALL] });
    const streamEnded: string[] = [];
    fake.events.on('hangup', (sid) => streamEnded.push(sid));
    const dial =
      '<Response><Dial><Number url="https://bot.example.test/w">+15550100999</Number></Dial></Response>';
    const call = await clientFor(fake).calls(CALL).update({ twiml: dial });
    expect(call.status).toBe('in-progress');
    expect(fake.callUpdates).toEqual([{ callSid: CALL, form: { Twiml: dial }, at: expect.any(Number) }]);
    expect(fake.hangUps).toEqual([]);
    expect(streamEnded).toEqual([CALL]);
    await clientFor(fake).calls(CALL).update({ status: 'completed' });
    expect(fake.callUpdates.map((u) => u.form)).toEqual([{ Twiml: dial }, { Status: 'completed' }]);
  });

  it('answers 404 with code 20404 for a call that already ended or never existed', async () => {
    fake = await startTwilioRestFake({ calls: [CALL] });
    const client = clientFor(fake);
    await client.calls(CALL).update({ status: 'completed' });
    await expect(client.calls(CALL).update({ status: 'completed' })).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(client.calls(`CA${'2'.repeat(32)}`).update({ status: 'completed' })).rejects.toBeInstanceOf(
      twilio.RestException,
    );
    expect(fake.hangUps).toHaveLength(1);
  });

  it('rejects a wrong auth token with 401 code 20003', async () => {
    fake = await startTwilioRestFake({ calls: [CALL] });
    await expect(
      clientFor(fake, 'wrong-token').calls(CALL).update({ status: 'completed' }),
    ).rejects.toMatchObject({ status: 401, code: 20003 });
    expect(fake.callStatus(CALL)).toBe('in-progress');
  });

  it('emits hangup and resolves waitForHangUp, and can inject server errors', async () => {
    fake = await startTwilioRestFake({ calls: [CALL] });
    const seen: string[] = [];
    fake.events.on('hangup', (sid) => seen.push(sid));
    fake.failNextRequests(1, 500);
    const client = clientFor(fake);
    await expect(client.calls(CALL).update({ status: 'completed' })).rejects.toMatchObject({ status: 500 });
    const waiting = fake.waitForHangUp(CALL);
    await client.calls(CALL).update({ status: 'completed' });
    await expect(waiting).resolves.toMatchObject({ callSid: CALL });
    expect(seen).toEqual([CALL]);
  });
});
