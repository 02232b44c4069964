/**
 * The Cartesia fake, driven by the real @cartesia/cartesia-js 4.2.0 (no mocks).
 *
 * How the engine connects (two traps, PROTOCOLS.md §0):
 *   // 1. ESM trap: the .mjs build can't find `ws` on Node 20; load the CJS build.
 *   const { Cartesia } = createRequire(import.meta.url)('@cartesia/cartesia-js');
 *   const client = new Cartesia({ apiKey, baseURL: CARTESIA_URL });           // fake.url in tests
 *   // 2. wss trap: the SDK always dials wss:; for a plain-http URL hand ws a plain TCP socket.
 *   const wsOptions = isPlainHttp(CARTESIA_URL)
 *     ? { createConnection: (o) => net.connect({ host: o.host, port: Number(o.port) }) } : undefined;
 *   // 3. unhandled-rejection trap: `await client.tts.websocket(opts)` gives you the socket only after
 *   //    the handshake, so a refused handshake (401) or any early `error` has no listener and the SDK
 *   //    turns it into an unhandled rejection. Build the TTSWS yourself and listen first:
 *   const { TTSWS } = createRequire(import.meta.url)('@cartesia/cartesia-js/resources/tts/ws');
 *   const ws = new TTSWS(client, wsOptions);
 *   ws.on('error', onError);
 *   await ws.connect();    // rejects with a ws ErrorEvent (not an Error): .message "Unexpected server response: 401"
 *   const ctx = ws.context({ contextId, model_id, voice, output_format, add_timestamps: true });
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { WebSocket } from 'ws';
import {
  startCartesiaFake,
  type CartesiaFake,
  type CartesiaServerMessage,
} from '../fakes/cartesia-server.js';
import { delay } from '../fakes/fake-server-util.js';

type CartesiaModule = typeof import('@cartesia/cartesia-js');
type TTSWSModule = typeof import('@cartesia/cartesia-js/resources/tts/ws');
const requireCjs = createRequire(import.meta.url);
const { Cartesia } = requireCjs('@cartesia/cartesia-js') as CartesiaModule;
const { TTSWS } = requireCjs('@cartesia/cartesia-js/resources/tts/ws') as TTSWSModule;

const KEY = 'test-cartesia-key';
const OUTPUT = { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 } as const;
const VOICE = '694f9389-aac1-45b6-b726-9d9369183238';

/** The createConnection option that lets the SDK's forced `wss:` URL reach a plain-http fake. */
const plainTcp = {
  createConnection: (o: { host?: string | null; port?: string | number | null }) =>
    net.connect({ host: o.host ?? '127.0.0.1', port: Number(o.port) }),
};

/** The engine's pattern: error listener attached before the handshake can fail. */
async function openSdk(fake: CartesiaFake, apiKey = KEY) {
  const client = new Cartesia({ apiKey, baseURL: fake.url });
  const ws = new TTSWS(client, plainTcp as never);
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  await ws.connect();
  return { ws, errors };
}

type Event = { type?: string; audio?: Uint8Array; word_timestamps?: unknown; context_id?: string };

describe('Cartesia fake with the real SDK', () => {
  let fake: CartesiaFake;
  afterEach(async () => {
    await fake.close();
  });

  it('with exactDuration, the same words make the same audio as a token stream or as one sentence', async () => {
    fake = await startCartesiaFake({ msPerChar: 20, chunkMs: 50, exactDuration: true });
    const { ws, errors } = await openSdk(fake);
    const sentence = 'Got it, March 3rd. How much?';
    const audioOf = async (contextId: string, inputs: string[]) => {
      const ctx = ws.context({
        contextId,
        model_id: 'sonic-3',
        voice: { mode: 'id', id: VOICE },
        output_format: OUTPUT,
      });
      for (const transcript of inputs) await ctx.push({ transcript });
      await ctx.no_more_inputs();
      let bytes = 0;
      for await (const ev of ctx.receive()) bytes += (ev as Event).audio?.length ?? 0;
      return bytes;
    };
    const tokens = ['Got', ' it', ',', ' March', ' ', '3', 'rd', '.', ' How', ' much', '?'];
    expect(tokens.join('')).toBe(sentence);
    expect(await audioOf('tokens', tokens)).toBe(sentence.length * 20 * 8);
    expect(await audioOf('sentence', [sentence])).toBe(sentence.length * 20 * 8);
    expect(errors).toEqual([]);
    ws.close();
  });

  it('streams a context: chunks of mu-law audio proportional to the text, timestamps, then done', async () => {
    fake = await startCartesiaFake({ msPerChar: 60, chunkMs: 50 });
    const { ws, errors } = await openSdk(fake);
    const ctx = ws.context({
      contextId: 't1-s1',
      model_id: 'sonic-3',
      voice: { mode: 'id', id: VOICE },
      output_format: OUTPUT,
      add_timestamps: true,
      language: 'en',
    });
    await ctx.push({ transcript: 'Your claim number is ' });
    await ctx.push({ transcript: 'four two seven.' });
    await ctx.no_more_inputs();
    const events: Event[] = [];
    for await (const ev of ctx.receive()) events.push(ev as Event);

    const chunks = events.filter((e) => e.type === 'chunk');
    const bytes = chunks.reduce((n, e) => n + (e.audio?.length ?? 0), 0);
    const expectedMs = ('Your claim number is'.length + 'four two seven.'.length) * 60;
    expect(bytes).toBe(expectedMs * 8);
    expect(chunks[0]!.audio!.length).toBe(400); // 50 ms: deliberately not a multiple of 160
    const stamps = events
      .filter((e) => e.type === 'timestamps')
      .map((e) => e.word_timestamps as { words: string[]; start: number[] });
    expect(stamps.flatMap((s) => s.words)).toEqual([
      'Your',
      'claim',
      'number',
      'is',
      'four',
      'two',
      'seven.',
    ]);
    expect(stamps[1]!.start[0]).toBeCloseTo(1.2, 3); // second input starts after the first one's audio
    expect(events[events.length - 1]).toMatchObject({ type: 'done', context_id: 't1-s1' });
    const record = fake.context('t1-s1')!;
    expect(record).toMatchObject({
      transcripts: ['Your claim number is ', 'four two seven.', ''],
      ended: true,
      done: true,
      voiceId: VOICE,
    });
    expect(fake.connections[0]!.headers['cartesia-version']).toBeDefined();
    expect(fake.connections[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(errors).toEqual([]);
    ws.close();
  });

  it('keeps sending a few late chunks after cancel, then nothing (and no done); the SDK context stops receiving', async () => {
    fake = await startCartesiaFake({ chunkIntervalMs: 10, lateChunksAfterCancel: 2 });
    const { ws } = await openSdk(fake);
    const seen: CartesiaServerMessage[] = [];
    ws.on('event', (e) => seen.push(e as unknown as CartesiaServerMessage));
    const ctx = ws.context({ contextId: 't2-s1', model_id: 'sonic-3', voice: VOICE, output_format: OUTPUT });
    await ctx.push({ transcript: 'This is a rather long sentence that takes a while to say.' });
    await fake.waitForContextState('t2-s1', (c) => c.chunksSent >= 2);
    await ctx.cancel();
    await fake.waitForContextState('t2-s1', (c) => c.cancelled);
    await delay(100);
    const record = fake.context('t2-s1')!;
    expect(fake.cancelledContextIds).toEqual(['t2-s1']);
    expect(record.chunksAfterCancel).toBeLessThanOrEqual(2);
    expect(record.done).toBe(false);
    expect(seen.filter((e) => e.type === 'done')).toEqual([]);
    // The late chunks still reach the socket's global 'event' listener: the engine must drop them.
    expect(seen.filter((e) => e.type === 'chunk')).toHaveLength(record.chunksSent);
    ws.close();
  });

  it('accepts the voice as a string, {id} or {mode:"id", id}', async () => {
    fake = await startCartesiaFake();
    const { ws } = await openSdk(fake);
    const voices = [VOICE, { id: VOICE }, { mode: 'id' as const, id: VOICE }];
    for (const [i, voice] of voices.entries()) {
      const ctx = ws.context({
        contextId: `v${i}`,
        model_id: 'sonic-3',
        voice: voice as never,
        output_format: OUTPUT,
      });
      await ctx.push({ transcript: 'Hi.' });
      await ctx.no_more_inputs();
      for await (const _ev of ctx.receive()) void _ev;
    }
    expect(fake.contexts.map((c) => [c.voiceId, c.done])).toEqual([
      [VOICE, true],
      [VOICE, true],
      [VOICE, true],
    ]);
    ws.close();
  });

  it('answers an injected failure with an error message (done:true) that makes ctx.receive() throw', async () => {
    fake = await startCartesiaFake();
    const { ws, errors } = await openSdk(fake);
    fake.failNextContext({ status_code: 500, message: 'model overloaded' });
    const ctx = ws.context({ contextId: 't3-s1', model_id: 'sonic-3', voice: VOICE, output_format: OUTPUT });
    await ctx.push({ transcript: 'Hello.' });
    const consume = async () => {
      for await (const _ev of ctx.receive()) void _ev;
    };
    await expect(consume()).rejects.toThrow('model overloaded');
    expect(errors[0]?.message).toContain('model overloaded'); // also surfaces on ws.on('error')
    expect(fake.context('t3-s1')!.error).toMatchObject({ status_code: 500 });
    ws.close();
  });

  it('validates requests: a missing voice, or options that change within a context, get a 400 error message', async () => {
    fake = await startCartesiaFake();
    const raw = new WebSocket(fake.wsUrl, {
      headers: { 'X-API-Key': KEY, 'Cartesia-Version': '2025-04-16' },
    });
    const got: CartesiaServerMessage[] = [];
    raw.on('message', (d) => got.push(JSON.parse(String(d)) as CartesiaServerMessage));
    await new Promise((r) => raw.once('open', r));
    raw.send(
      JSON.stringify({
        context_id: 'a',
        model_id: 'sonic-3',
        transcript: 'Hi',
        output_format: OUTPUT,
        continue: false,
      }),
    );
    raw.send(
      JSON.stringify({
        context_id: 'b',
        model_id: 'sonic-3',
        voice: VOICE,
        transcript: 'Hi ',
        output_format: OUTPUT,
        continue: true,
      }),
    );
    raw.send(
      JSON.stringify({
        context_id: 'b',
        model_id: 'sonic-2',
        voice: VOICE,
        transcript: 'there',
        output_format: OUTPUT,
        continue: false,
      }),
    );
    await delay(100);
    const errors = got.filter((m) => m.type === 'error');
    expect(errors.map((e) => [e.context_id, e.status_code, e.done])).toEqual([
      ['a', 400, true],
      ['b', 400, true],
    ]);
    expect(String(errors[0]!.message)).toContain('voice');
    raw.close();
  });

  it('refuses a wrong key with HTTP 401 on the upgrade, and accepts the key as ?api_key= with ?cartesia_version=', async () => {
    fake = await startCartesiaFake();
    await expect(openSdk(fake, 'wrong')).rejects.toMatchObject({
      message: 'Unexpected server response: 401',
    });
    expect(fake.rejectedUpgrades).toEqual([{ status: 401, reason: 'Invalid API key' }]);

    const noVersion = new WebSocket(`${fake.wsUrl}?api_key=${KEY}`);
    noVersion.on('error', () => undefined);
    const status = await new Promise<number | undefined>((r) =>
      noVersion.once('unexpected-response', (_q, res) => r(res.statusCode)),
    );
    noVersion.terminate();
    expect(status).toBe(400);

    const byQuery = new WebSocket(`${fake.wsUrl}?api_key=${KEY}&cartesia_version=2025-04-16`);
    await new Promise((r) => byQuery.once('open', r));
    byQuery.close();
  });

  it('closes every open socket on dropConnections', async () => {
    fake = await startCartesiaFake();
    const { ws } = await openSdk(fake);
    const closed = new Promise<number>((r) =>
      (ws.socket as unknown as WebSocket).once('close', (code: number) => r(code)),
    );
    fake.dropConnections(1011);
    expect(await closed).toBe(1011);
    expect(fake.connections[0]!.closed).toMatchObject({ code: 1011, by: 'server' });
  });

  it('the ESM build of the SDK cannot open a socket on Node 20 (hence createRequire)', async () => {
    fake = await startCartesiaFake();
    const esm = (await import('@cartesia/cartesia-js')) as CartesiaModule;
    const client = new esm.Cartesia({ apiKey: KEY, baseURL: fake.url });
    // It throws synchronously, not as a rejected promise.
    expect(() => client.tts.websocket(plainTcp as never)).toThrow(/"ws" peer dependency is required/);
  });

  it('after a drop, the SDK silently reopens a socket on the next send, ends in-flight receive() loops without error, and loses the queue of the context that triggered it', async () => {
    fake = await startCartesiaFake({ chunkIntervalMs: 20 });
    const { ws, errors } = await openSdk(fake);
    const ctx = ws.context({ contextId: 'd1', model_id: 'sonic-3', voice: VOICE, output_format: OUTPUT });
    await ctx.push({ transcript: 'A sentence long enough to still be streaming.' });
    const events: Event[] = [];
    const loop = (async () => {
      for await (const ev of ctx.receive()) events.push(ev as Event);
    })();
    await fake.waitForContextState('d1', (c) => c.chunksSent >= 1);
    fake.dropConnections(1011);
    await delay(50);
    const next = ws.context({ contextId: 'd2', model_id: 'sonic-3', voice: VOICE, output_format: OUTPUT });
    await next.push({ transcript: 'Hi.' }); // reconnects under the hood
    await loop; // the old context's loop just ends: no done, no error
    expect(events.some((e) => e.type === 'done')).toBe(false);
    expect(fake.connections).toHaveLength(2);
    expect((await fake.waitForContext('d2')).connectionId).toBe(1);
    await next.no_more_inputs();
    await fake.waitForContextState('d2', (c) => c.done);
    // d2 was registered before the reconnect, which cleared every context queue: its loop sees nothing.
    const d2Events: Event[] = [];
    for await (const ev of next.receive()) d2Events.push(ev as Event);
    expect(d2Events).toEqual([]);
    expect(errors).toEqual([]);
    ws.close();
  });
});
