/**
 * The simulated Twilio caller against a minimal bot server written here with the real `twilio`
 * helpers (signature validation, VoiceResponse TwiML) and `ws`.
 */
import twilio from 'twilio';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  closeWebSocketServer,
  delay,
  listenEphemeral,
  refuseUpgrade,
  type ListeningServer,
} from '../fakes/fake-server-util.js';
import { loadAudioFixture } from '../fakes/fixtures.js';
import { mulawTone } from '../fakes/mulaw.js';
import {
  parseStreamTwiml,
  startTwilioCall,
  TwilioCallRejectedError,
  type TwilioCall,
} from '../fakes/twilio-caller.js';
import { FakeTwilioRequestClient, startTwilioRestFake } from '../fakes/twilio-rest.js';

const TOKEN = 'test-twilio-token';
const PUBLIC_URL = 'https://bot.example.ngrok.app';
const STREAM_URL = 'wss://bot.example.ngrok.app/twilio/stream?dropped=1';

type Msg = Record<string, unknown> & { event?: string };

/** A tiny bot server: validates signatures like the engine must, answers <Connect><Stream>. */
async function startBot() {
  const received: Msg[] = [];
  const sockets: WebSocket[] = [];
  const upgrades: Array<{ path: string; valid: boolean }> = [];
  let streamSid = '';
  const http: ListeningServer = await listenEphemeral((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(raw).entries());
      const sig = String(req.headers['x-twilio-signature'] ?? '');
      if (!twilio.validateRequest(TOKEN, sig, `${PUBLIC_URL}/twilio/voice`, params)) {
        res.writeHead(403).end();
        return;
      }
      const vr = new twilio.twiml.VoiceResponse();
      const stream = vr.connect().stream({ url: STREAM_URL });
      stream.parameter({ name: 'from', value: params.From ?? '' });
      stream.parameter({ name: 'note', value: 'a&b <c>' });
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(vr.toString());
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  http.server.on('upgrade', (req, socket, head) => {
    const valid = twilio.validateRequest(
      TOKEN,
      String(req.headers['x-twilio-signature'] ?? ''),
      STREAM_URL,
      {},
    );
    upgrades.push({ path: req.url ?? '', valid });
    if (!valid) return refuseUpgrade(socket, 403, 'bad signature');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as Msg;
        received.push(m);
        if (m.event === 'start') streamSid = String(m.streamSid);
      });
    });
  });
  const send = (m: Record<string, unknown>) => sockets[0]!.send(JSON.stringify({ streamSid, ...m }));
  return {
    url: http.url,
    received,
    upgrades,
    sockets,
    sendAudio: (bytes: Buffer) => send({ event: 'media', media: { payload: bytes.toString('base64') } }),
    sendMark: (name: string) => send({ event: 'mark', mark: { name } }),
    sendClear: () => send({ event: 'clear' }),
    sendRaw: (m: unknown) => sockets[0]!.send(JSON.stringify(m)),
    async close() {
      await closeWebSocketServer(wss);
      await http.close();
    },
  };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await delay(2);
  }
}

describe('simulated Twilio caller', () => {
  let bot: Awaited<ReturnType<typeof startBot>>;
  let call: TwilioCall | undefined;
  beforeEach(async () => {
    bot = await startBot();
    call = undefined;
  });
  afterEach(async () => {
    call?.terminate();
    await bot.close();
  });
  const dial = (extra: Partial<Parameters<typeof startTwilioCall>[0]> = {}) =>
    startTwilioCall({
      serverBaseUrl: bot.url,
      authToken: TOKEN,
      publicUrl: PUBLIC_URL,
      from: '+15550001111',
      to: '+15550002222',
      ...extra,
    });

  it('signs the webhook and the upgrade, follows <Connect><Stream> without its query, and sends connected then start with the parameters', async () => {
    call = await dial({ continuousAudio: false });
    await until(() => bot.received.length >= 2);
    expect(bot.upgrades).toEqual([{ path: '/twilio/stream', valid: true }]);
    expect(call.streamUrl).toBe(STREAM_URL);
    expect(bot.received[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(bot.received[1]).toMatchObject({
      event: 'start',
      sequenceNumber: '1',
      streamSid: call.streamSid,
      start: {
        callSid: call.callSid,
        accountSid: call.accountSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: { from: '+15550001111', note: 'a&b <c>' },
      },
    });
  });

  it('is refused when the server rejects the signature (wrong token)', async () => {
    await expect(dial({ authToken: 'other-token' })).rejects.toMatchObject({ status: 403 });
  });

  it('sends speech as 160-byte frames with string sequenceNumber/chunk/timestamp, and silence frames while idle', async () => {
    call = await dial({ speedup: 4 });
    const audio = loadAudioFixture('hello');
    await call.sendAudio(audio);
    await call.sendSilence(100);
    const media = bot.received.filter((m) => m.event === 'media') as Array<
      Msg & {
        media: { payload: string; chunk: string; timestamp: string; track: string };
        sequenceNumber: string;
      }
    >;
    expect(media.every((m) => Buffer.from(m.media.payload, 'base64').length === 160)).toBe(true);
    expect(media.every((m) => typeof m.sequenceNumber === 'string' && m.media.track === 'inbound')).toBe(
      true,
    );
    expect(media.map((m) => m.media.chunk).slice(0, 3)).toEqual(['1', '2', '3']);
    expect(media[2]!.media.timestamp).toBe('40');
    const sent = Buffer.concat(media.map((m) => Buffer.from(m.media.payload, 'base64')));
    expect(sent.indexOf(audio.subarray(0, 800))).toBeGreaterThanOrEqual(0); // speech went out intact
    expect(media.length).toBeGreaterThanOrEqual(Math.ceil(audio.length / 160) + 5);
    const seqs = bot.received.slice(1).map((m) => Number(m.sequenceNumber));
    expect(seqs).toEqual(seqs.map((_s, i) => i + 1));
  });

  it("sends the given silence frame while idle (a benchmark's per-call tag)", async () => {
    const silenceFrame = Buffer.alloc(160, 0xff);
    silenceFrame[0] = 0x7e;
    silenceFrame[1] = 0xf3;
    call = await dial({ speedup: 4, silenceFrame });
    await call.sendSilence(60);
    const payloads = bot.received
      .filter((m) => m.event === 'media')
      .map((m) => Buffer.from((m as Msg & { media: { payload: string } }).media.payload, 'base64'));
    expect(payloads.length).toBeGreaterThan(0);
    // Idle frames are the given one; sendSilence's own frames stay plain silence.
    expect(payloads.some((p) => p.equals(silenceFrame))).toBe(true);
    expect(payloads.every((p) => p.equals(silenceFrame) || p.every((b) => b === 0xff))).toBe(true);
  });

  it('paces realtime frames at 20 ms (divided by speedup) and bursts with realtime:false', async () => {
    call = await dial({ continuousAudio: false });
    const t0 = performance.now();
    await call.sendAudio(mulawTone(200)); // 10 frames
    const paced = performance.now() - t0;
    const t1 = performance.now();
    await call.sendAudio(mulawTone(200), { realtime: false });
    const burst = performance.now() - t1;
    expect(paced).toBeGreaterThanOrEqual(170);
    expect(burst).toBeLessThan(paced / 2);
    expect(call.framesSent).toBe(20);
  });

  it('plays server audio at real time and echoes a mark only once the audio before it has played', async () => {
    call = await dial({ continuousAudio: false });
    await until(() => bot.sockets.length === 1 && bot.received.length >= 2);
    const t0 = performance.now();
    bot.sendAudio(mulawTone(100)); // 800 bytes = 100 ms
    bot.sendMark('m1');
    await call.waitForMark('m1');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(call.playedBytes).toBe(800);
    await until(() => bot.received.some((m) => m.event === 'mark'));
    expect(bot.received.find((m) => m.event === 'mark')).toMatchObject({
      streamSid: call.streamSid,
      mark: { name: 'm1' },
    });
    // A mark with nothing queued is echoed at once.
    bot.sendMark('m2');
    await call.waitForMark('m2', 50);
  });

  it('clear drops the queued audio and echoes every pending mark at once', async () => {
    call = await dial({ continuousAudio: false });
    await until(() => bot.received.length >= 2);
    bot.sendAudio(mulawTone(1000));
    bot.sendMark('s1');
    bot.sendAudio(mulawTone(1000));
    bot.sendMark('s2');
    await delay(100);
    expect(call.marksEchoed).toEqual([]);
    bot.sendClear();
    await until(() => call!.marksEchoed.length === 2);
    expect(call.marksEchoed).toEqual(['s1', 's2']);
    expect(call.clears).toHaveLength(1);
    expect(call.clears[0]!.droppedBytes).toBeGreaterThan(8_000);
    expect(call.playedBytes + call.clears[0]!.droppedBytes).toBe(16_000);
    expect(call.receivedBytes).toBe(16_000);
    expect(call.pendingPlaybackBytes).toBe(0);
  });

  it('records the latency from the end of a caller utterance to the next server media frame', async () => {
    call = await dial({ speedup: 5 });
    await call.sendAudio(loadAudioFixture('mm-hmm'));
    await delay(60);
    bot.sendAudio(mulawTone(40));
    const latency = await call.waitForLatency(0);
    expect(latency.latencyMs).toBeGreaterThanOrEqual(50);
    expect(latency.firstMediaAt).toBeGreaterThan(latency.utteranceEndAt);
  });

  it('sends DTMF, and on hangUp sends stop then closes', async () => {
    call = await dial({ continuousAudio: false });
    call.sendDtmf('5');
    await call.hangUp();
    await until(() => bot.received.some((m) => m.event === 'stop'));
    const tail = bot.received.slice(-2);
    expect(tail[0]).toMatchObject({ event: 'dtmf', dtmf: { track: 'inbound_track', digit: '5' } });
    expect(tail[1]).toMatchObject({
      event: 'stop',
      stop: { callSid: call.callSid, accountSid: call.accountSid },
    });
    expect(call.closed).toMatchObject({ code: 1000, by: 'caller' });
  });

  it("emits 'closed' with the code when the server closes the socket", async () => {
    call = await dial();
    const closed = new Promise<{ code: number; by: string }>((r) => call!.once('closed', r));
    await until(() => bot.sockets.length === 1);
    bot.sockets[0]!.close(1000, 'bye');
    await expect(closed).resolves.toMatchObject({ code: 1000, by: 'server' });
    const framesAtClose = call.framesSent;
    await delay(60);
    expect(call.framesSent).toBe(framesAtClose); // the line clock stopped
  });

  it('ends the stream like Twilio (stop, then close) when the call is hung up through the REST fake', async () => {
    const rest = await startTwilioRestFake();
    try {
      call = await dial({ rest });
      expect(rest.callStatus(call.callSid)).toBe('in-progress');
      await twilio(rest.accountSid, rest.authToken, { httpClient: new FakeTwilioRequestClient(rest.url) })
        .calls(call.callSid)
        .update({ status: 'completed' });
      await call.waitForClosed();
      await until(() => bot.received.some((m) => m.event === 'stop'));
    } finally {
      await rest.close();
    }
  });

  it('reports protocol errors in what the server sends (wrong streamSid, bad payload, unknown event)', async () => {
    call = await dial({ continuousAudio: false });
    await until(() => bot.received.length >= 2);
    bot.sendRaw({ event: 'media', streamSid: 'MZwrong', media: { payload: 'AAAA' } });
    bot.sendRaw({ event: 'media', streamSid: call.streamSid, media: { payload: '!!not base64' } });
    bot.sendRaw({ event: 'play', streamSid: call.streamSid });
    await until(() => call!.protocolErrors.length === 3);
    expect(call.protocolErrors.join('\n')).toMatch(/streamSid[\s\S]*base64[\s\S]*unknown event play/);
  });

  it('refuses TwiML without <Connect><Stream>, explaining why <Start><Stream> is wrong', () => {
    const start =
      '<?xml version="1.0"?><Response><Start><Stream url="wss://x/twilio/stream"/></Start></Response>';
    expect(() => parseStreamTwiml(start)).toThrow(TwilioCallRejectedError);
    expect(() => parseStreamTwiml(start)).toThrow(/one-way/);
    expect(() => parseStreamTwiml('<Response><Say>Busy</Say><Hangup/></Response>')).toThrow(
      /no <Connect><Stream>/,
    );
    expect(() =>
      parseStreamTwiml('<Response><Connect><Stream url="ws://x/s"/></Connect></Response>'),
    ).toThrow(/wss/);
  });
});
