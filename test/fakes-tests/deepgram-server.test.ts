/**
 * The Deepgram fake, driven by the real @deepgram/sdk 5.13 (no mocks).
 *
 * How the engine connects (same code works against api.deepgram.com):
 *   const dg = new DeepgramClient({ apiKey, baseUrl: DEEPGRAM_URL });   // fake.url in tests
 *   const conn = await dg.listen.v1.connect({ model: 'nova-3', encoding: 'mulaw', sample_rate: 8000, ...,
 *                                             reconnectAttempts: 0 });
 *   conn.on('message', ...); conn.on('close', ...); conn.on('error', ...);
 *   conn.connect(); await conn.waitForOpen();
 */
import { DeepgramClient } from '@deepgram/sdk';
import { startDeepgramFake, type DeepgramFake } from '../fakes/deepgram-server.js';
import { AUDIO_FIXTURE_TEXT, loadAudioFixture } from '../fakes/fixtures.js';
import { mulawSilence, mulawTone } from '../fakes/mulaw.js';
import { delay } from '../fakes/fake-server-util.js';

const KEY = 'test-deepgram-key';
type Msg = Record<string, unknown> & { type?: string };

const LIVE_OPTIONS = {
  model: 'nova-3',
  encoding: 'mulaw',
  sample_rate: 8000,
  channels: 1,
  // The SDK types these flags as strings ('true' | 'false'); booleans don't type-check.
  interim_results: 'true',
  endpointing: 300,
  utterance_end_ms: 1000,
  vad_events: 'true',
  smart_format: 'true',
  punctuate: 'true',
  language: 'en-US',
  reconnectAttempts: 0,
} as const;

async function connect(fake: DeepgramFake, apiKey = KEY) {
  const dg = new DeepgramClient({ apiKey, baseUrl: fake.url });
  const conn = await dg.listen.v1.connect({ ...LIVE_OPTIONS });
  const messages: Msg[] = [];
  const closes: Array<{ code?: number; reason?: string }> = [];
  const errors: Error[] = [];
  conn.on('message', (m) => messages.push(m as unknown as Msg));
  conn.on('close', (e) => closes.push(e as { code?: number; reason?: string }));
  conn.on('error', (e) => errors.push(e));
  conn.connect();
  return { conn, messages, closes, errors, open: () => conn.waitForOpen() };
}

/** Polls the client's received messages (the fake's own wait resolves on send, before arrival). */
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting on the client side');
    await delay(5);
  }
}

const transcriptOf = (m: Msg): string =>
  ((m.channel as { alternatives: Array<{ transcript: string }> } | undefined)?.alternatives[0]?.transcript ??
    '') as string;
const finals = (ms: Msg[]) => ms.filter((m) => m.type === 'Results' && m.is_final === true);

describe('Deepgram fake with the real SDK', () => {
  let fake: DeepgramFake;
  afterEach(async () => {
    await fake.close();
  });

  it('transcribes a spoken fixture as the next scripted utterance with SpeechStarted, interims, speech_final and UtteranceEnd', async () => {
    fake = await startDeepgramFake({ utterances: [AUDIO_FIXTURE_TEXT['march-third']] });
    const c = await connect(fake);
    await c.open();
    const audio = loadAudioFixture('march-third');
    // 200 ms silence, the utterance, then 1.5 s of silence, in 20 ms frames like Twilio.
    const stream = Buffer.concat([mulawSilence(200), audio, mulawSilence(1500)]);
    for (let i = 0; i < stream.length; i += 160) c.conn.sendMedia(stream.subarray(i, i + 160));
    await until(() => c.messages.some((m) => m.type === 'UtteranceEnd'));

    const types = c.messages.map((m) => m.type);
    expect(types[0]).toBe('SpeechStarted');
    expect(c.messages[0]?.timestamp).toBeCloseTo(0.2, 1);
    expect(c.messages.some((m) => m.type === 'Results' && m.is_final === false)).toBe(true);
    const [final] = finals(c.messages);
    expect(final).toMatchObject({ speech_final: true, from_finalize: false, channel_index: [0, 1] });
    expect(transcriptOf(final!)).toBe('March third.');
    const words = (
      final!.channel as {
        alternatives: Array<{
          words: Array<{ word: string; start: number; end: number; punctuated_word: string }>;
        }>;
      }
    ).alternatives[0]!.words;
    expect(words.map((w) => w.word)).toEqual(['march', 'third']);
    expect(words[0]!.start).toBeGreaterThanOrEqual(0.19);
    expect(words[1]!.end).toBeLessThanOrEqual(0.2 + audio.length / 8000 + 0.01);
    const utteranceEnd = c.messages.find((m) => m.type === 'UtteranceEnd');
    expect(utteranceEnd?.last_word_end).toBe(words[1]!.end);
    expect(types.indexOf('UtteranceEnd')).toBeGreaterThan(types.indexOf('Results'));
    expect(fake.receivedBytes).toBe(stream.length);
    expect(fake.sessions[0]!.query).toMatchObject({
      encoding: 'mulaw',
      sample_rate: '8000',
      endpointing: '300',
    });
    c.conn.close();
  });

  it('gives consecutive speech segments consecutive utterances, or asks a script function by segment index', async () => {
    const asked: number[] = [];
    fake = await startDeepgramFake({
      utterances: (i) => {
        asked.push(i);
        return ['Hello.', 'Okay, got it.'][i] ?? '';
      },
      emptyFinalIntervalMs: false,
    });
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(
      Buffer.concat([
        loadAudioFixture('hello'),
        mulawSilence(400),
        loadAudioFixture('okay-got-it'),
        mulawSilence(400),
      ]),
    );
    await until(() => finals(c.messages).length === 2);
    expect(finals(c.messages).map(transcriptOf)).toEqual(['Hello.', 'Okay, got it.']);
    expect(asked).toEqual([0, 1]);
    c.conn.close();
  });

  it('tells a script function which connection a segment belongs to and its index there, so concurrent calls can each follow their own script', async () => {
    const asked: Array<[number, number, number]> = [];
    fake = await startDeepgramFake({
      utterances: (i, session, inSession) => {
        asked.push([i, session.id, inSession]);
        return ['Hello.', 'Okay, got it.'][inSession] ?? '';
      },
      emptyFinalIntervalMs: false,
    });
    const a = await connect(fake);
    const b = await connect(fake);
    await Promise.all([a.open(), b.open()]);
    const hello = Buffer.concat([loadAudioFixture('hello'), mulawSilence(400)]);
    a.conn.sendMedia(hello);
    await until(() => finals(a.messages).length === 1);
    b.conn.sendMedia(hello);
    await until(() => finals(b.messages).length === 1);
    a.conn.sendMedia(Buffer.concat([loadAudioFixture('okay-got-it'), mulawSilence(400)]));
    await until(() => finals(a.messages).length === 2);
    expect(finals(a.messages).map(transcriptOf)).toEqual(['Hello.', 'Okay, got it.']);
    expect(finals(b.messages).map(transcriptOf)).toEqual(['Hello.']);
    // Global index, connection, index within the connection: a, b, then a again.
    expect(asked.map(([i]) => i)).toEqual([0, 1, 2]);
    expect(asked.map(([, , n]) => n)).toEqual([0, 0, 1]);
    expect(asked[2]![1]).toBe(asked[0]![1]);
    expect(asked[1]![1]).not.toBe(asked[0]![1]);
    a.conn.close();
    b.conn.close();
  });

  it('sends empty finals during a long silence, as the real service does', async () => {
    fake = await startDeepgramFake({ utterances: ['Hello.'], emptyFinalIntervalMs: 1000 });
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(mulawSilence(2500));
    await until(() => finals(c.messages).length === 2);
    expect(finals(c.messages).map(transcriptOf)).toEqual(['', '']);
    expect(finals(c.messages).every((m) => m.speech_final === false)).toBe(true);
    c.conn.close();
  });

  it('flushes the segment in progress with from_finalize:true on Finalize', async () => {
    fake = await startDeepgramFake({ utterances: ['Twelve hundred fifty dollars.'] });
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(mulawTone(600)); // still "speaking": no endpoint yet
    await fake.waitForMessage((m) => m.type === 'SpeechStarted');
    c.conn.sendFinalize({ type: 'Finalize' });
    await until(() => finals(c.messages).length > 0);
    const final = finals(c.messages)[0]!;
    expect(final).toMatchObject({ from_finalize: true, speech_final: false });
    expect(transcriptOf(final)).toBe('Twelve hundred fifty dollars.');
    expect(fake.sessions[0]!.controlMessages).toEqual([{ type: 'Finalize' }]);
    c.conn.close();
  });

  it('flushes, sends Metadata and closes with 1000 on CloseStream', async () => {
    fake = await startDeepgramFake({ utterances: ['Yes, that is correct.'] });
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(mulawTone(500));
    c.conn.sendCloseStream({ type: 'CloseStream' });
    await until(() => c.closes.length > 0);
    expect(c.messages.map((m) => m.type)).toEqual(['SpeechStarted', 'Results', 'Results', 'Metadata']);
    expect(finals(c.messages).map(transcriptOf)).toEqual(['Yes, that is correct.']);
    expect(c.closes[0]?.code).toBe(1000);
    expect(fake.sessions[0]!.closed).toMatchObject({ code: 1000, by: 'server' });
    expect(fake.connections).toBe(0);
  });

  it('closes with 1011 (NET-0001) after the idle timeout unless KeepAlive arrives', async () => {
    fake = await startDeepgramFake({ idleTimeoutMs: 300 });
    const kept = await connect(fake);
    await kept.open();
    const idle = await connect(fake);
    await idle.open();
    for (let i = 0; i < 10; i++) {
      kept.conn.sendKeepAlive({ type: 'KeepAlive' });
      await delay(50);
    }
    expect(fake.sessions[1]!.closed).toMatchObject({ code: 1011, by: 'server' });
    expect(fake.sessions[1]!.closed?.reason).toContain('net0001');
    expect(idle.closes[0]?.code).toBe(1011);
    expect(fake.sessions[0]!.closed).toBeNull();
    kept.conn.close();
  });

  it('refuses a wrong key with HTTP 401 on the upgrade; the SDK reports an error and never opens', async () => {
    fake = await startDeepgramFake();
    const c = await connect(fake, 'wrong-key');
    await expect(c.open()).rejects.toBeDefined();
    await delay(50);
    expect(fake.rejectedUpgrades).toEqual([{ status: 401, reason: 'Invalid credentials.' }]);
    expect(c.errors.length).toBeGreaterThan(0);
    // SDK quirk: the failed handshake is ALSO reported as a close event with code 1000.
    expect(c.closes[0]?.code).toBe(1000);
    expect(fake.sessions).toHaveLength(0);
    c.conn.close();
  });

  it('fails the next N upgrades on demand, then accepts again', async () => {
    fake = await startDeepgramFake();
    fake.failNextUpgrades(1, 503);
    const first = await connect(fake);
    await expect(first.open()).rejects.toBeDefined();
    first.conn.close();
    const second = await connect(fake);
    await second.open();
    expect(fake.rejectedUpgrades.map((r) => r.status)).toEqual([503]);
    expect(fake.connections).toBe(1);
    second.conn.close();
  });

  it('drops every socket mid-call with 1011, and with reconnectAttempts:0 the SDK does not reconnect', async () => {
    fake = await startDeepgramFake();
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(mulawSilence(100));
    await until(() => fake.receivedBytes === 800);
    fake.dropConnections();
    await until(() => c.closes.length > 0);
    await delay(100);
    expect(c.closes[0]?.code).toBe(1011);
    expect(fake.sessions[0]!.closed).toMatchObject({ code: 1011, by: 'server' });
    expect(fake.connections).toBe(0);
    expect(() => c.conn.sendMedia(mulawSilence(20))).toThrow(/not open/);
    expect(fake.sessions).toHaveLength(1);
    c.conn.close();
  });

  it('treats a zero-length binary frame as CloseStream (forwarding an empty payload ends the stream)', async () => {
    fake = await startDeepgramFake();
    const c = await connect(fake);
    await c.open();
    c.conn.sendMedia(Buffer.alloc(0));
    await until(() => c.closes.length > 0);
    expect(c.messages.map((m) => m.type)).toEqual(['Metadata']);
    expect(c.closes[0]?.code).toBe(1000);
  });
});
