/**
 * The bare pipeline the latency bench compares the engine with: the same SDKs, nothing else.
 *
 *   Twilio webhook -> TwiML <Connect><Stream> -> Media Streams WebSocket
 *   caller audio -> Deepgram SDK live socket (one per call)
 *   final transcript (`is_final` + `speech_final`, non-empty) -> ONE OpenAI chat-completions stream
 *   (SDK, no tools) -> every content delta pushed to a Cartesia SDK context (one socket per call,
 *   one context per turn) -> each audio chunk sent to the caller as one Twilio `media` message,
 *   a `mark` after the last one
 *   caller starts speaking (`SpeechStarted`) while the bot talks -> `clear`, abort the LLM stream,
 *   cancel the context (late chunks of a cancelled context are dropped)
 *
 * No machines, no storage, no logging, no metrics. Twilio signatures are checked with the Twilio SDK
 * (the engine checks them too). It is a benchmark yardstick, not a product: errors end the call.
 *
 * Lifecycle: `startBarePipeline(opts)` listens and resolves with `{ url, close }`; run as a process
 * (`node --import tsx bench/bare-pipeline.ts`) it reads the engine's environment variables
 * (PORT, HOST, PUBLIC_URL, TWILIO_AUTH_TOKEN, DEEPGRAM_*, OPENAI_*, CARTESIA_*) plus
 * `BARE_ENDPOINTING_MS` (Deepgram `endpointing`, default 300).
 */
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { DeepgramClient } from '@deepgram/sdk';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import twilio from 'twilio';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
// Same SDK traps as src/providers/cartesia: the CJS build, and a plain-http base reached through
// createConnection because the SDK always dials wss:.
const require = createRequire(import.meta.url);
const CartesiaSdk = require('@cartesia/cartesia-js') as { Cartesia?: Any; default?: Any };
const CartesiaClient: Any = CartesiaSdk.Cartesia ?? CartesiaSdk.default;
const { TTSWS } = require('@cartesia/cartesia-js/resources/tts/ws') as { TTSWS: Any };

/** Options of {@link startBarePipeline}. */
export interface BarePipelineOptions {
  port?: number;
  host?: string;
  /** The public base URL Twilio signs against (the stream URL is `wss://<host>/twilio/stream`). */
  publicUrl: string;
  /** When set, webhook and upgrade must carry a valid `X-Twilio-Signature`. */
  twilioAuthToken?: string;
  deepgram: { apiKey: string; url: string; endpointingMs: number };
  openai: { apiKey: string; baseURL: string; model: string };
  cartesia: { apiKey: string; url: string; voiceId: string; model: string };
}

/** A running bare pipeline. */
export interface BarePipeline {
  url: string;
  close(): Promise<void>;
}

const SYSTEM_PROMPT =
  'You are the phone claims assistant. Answer in one to three short spoken sentences, no lists, no markdown.';

/** Starts the bare pipeline (see file header). */
export async function startBarePipeline(opts: BarePipelineOptions): Promise<BarePipeline> {
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const streamUrl = `${publicUrl.replace(/^http/, 'ws')}/twilio/stream`;
  const deepgram = new DeepgramClient({
    apiKey: opts.deepgram.apiKey,
    baseUrl: opts.deepgram.url.replace(/^http(s?):\/\//, 'ws$1://').replace(/\/+$/, ''),
  });
  const openai = new OpenAI({ apiKey: opts.openai.apiKey, baseURL: opts.openai.baseURL, maxRetries: 0 });
  const cartesia = new CartesiaClient({ apiKey: opts.cartesia.apiKey, baseURL: opts.cartesia.url });
  const cartesiaWsOptions = opts.cartesia.url.startsWith('http://')
    ? {
        createConnection: (o: { host?: string; hostname?: string; port?: string | number }) =>
          net.connect({ host: o.hostname ?? o.host ?? '127.0.0.1', port: Number(o.port) }),
      }
    : undefined;
  const signed = (signature: string | string[] | undefined, url: string, params: Record<string, string>) =>
    !opts.twilioAuthToken ||
    (typeof signature === 'string' && twilio.validateRequest(opts.twilioAuthToken, signature, url, params));

  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    if (req.method !== 'POST' || req.url !== '/twilio/voice') return void res.writeHead(404).end();
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(parts).toString('utf8')));
      if (!signed(req.headers['x-twilio-signature'], `${publicUrl}/twilio/voice`, params)) {
        return void res.writeHead(403).end();
      }
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${streamUrl}"/></Connect></Response>`,
      );
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (
      req.url?.split('?')[0] !== '/twilio/stream' ||
      !signed(req.headers['x-twilio-signature'], streamUrl, {})
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveCall(ws));
  });

  function serveCall(twilioWs: WebSocket): void {
    let streamSid = '';
    let ended = false;
    const history: ChatCompletionMessageParam[] = [];
    let turnCount = 0;
    let current: { abort: AbortController; ctx: Any; cancelled: boolean } | null = null;
    /** The bot is talking from the first audio of a turn until its end mark comes back. */
    let speakingMark: string | null = null;
    const toTwilio = (message: Record<string, unknown>) => {
      if (twilioWs.readyState === twilioWs.OPEN) twilioWs.send(JSON.stringify(message));
    };

    const tts = new TTSWS(cartesia, cartesiaWsOptions);
    tts.on('error', () => end());
    const ttsReady: Promise<void> = tts.connect();
    ttsReady.catch(() => end());

    let dg: Any = null;
    let dgOpen = false;
    const pendingAudio: Buffer[] = [];
    void (async () => {
      dg = await deepgram.listen.v1.connect({
        model: 'nova-3',
        encoding: 'mulaw',
        sample_rate: 8000,
        channels: 1,
        interim_results: 'true',
        endpointing: opts.deepgram.endpointingMs,
        vad_events: 'true',
        smart_format: 'true',
        punctuate: 'true',
        language: 'en-US',
        reconnectAttempts: 0,
      } as unknown as Parameters<DeepgramClient['listen']['v1']['connect']>[0]);
      dg.on('message', onTranscript);
      dg.on('error', () => {});
      dg.on('close', () => {
        dgOpen = false;
        end();
      });
      dg.connect();
      await dg.waitForOpen();
      dgOpen = true;
      for (const chunk of pendingAudio.splice(0)) dg.sendMedia(chunk);
    })().catch(() => end());

    function onTranscript(msg: Any): void {
      if (msg?.type === 'SpeechStarted' && (current || speakingMark)) return bargeIn();
      if (msg?.type !== 'Results' || !msg.is_final || !msg.speech_final) return;
      const text = String(msg.channel?.alternatives?.[0]?.transcript ?? '').trim();
      if (text) void respond(text);
    }

    function bargeIn(): void {
      cancelTurn();
      speakingMark = null;
      toTwilio({ event: 'clear', streamSid });
    }

    function cancelTurn(): void {
      const turn = current;
      current = null;
      if (!turn) return;
      turn.cancelled = true;
      turn.abort.abort();
      void Promise.resolve(turn.ctx?.cancel()).catch(() => {});
    }

    async function respond(userText: string | null): Promise<void> {
      cancelTurn();
      if (userText) history.push({ role: 'user', content: userText });
      const n = ++turnCount;
      const turn = { abort: new AbortController(), ctx: null as Any, cancelled: false };
      current = turn;
      try {
        await ttsReady;
        if (turn.cancelled) return;
        turn.ctx = tts.context({
          contextId: `bare-${n}-${Math.random().toString(36).slice(2)}`,
          model_id: opts.cartesia.model,
          voice: { mode: 'id', id: opts.cartesia.voiceId },
          output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
          language: 'en',
          max_buffer_delay_ms: 0,
        });
        void playContext(turn, `turn-${n}`);
        const stream = await openai.chat.completions.create(
          {
            model: opts.openai.model,
            stream: true,
            messages: [{ role: 'system', content: SYSTEM_PROMPT }, ...history],
          },
          { signal: turn.abort.signal },
        );
        let said = '';
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta?.content;
          if (turn.cancelled) return;
          if (delta) {
            said += delta;
            await turn.ctx.push({ transcript: delta });
          }
        }
        if (turn.cancelled) return;
        history.push({ role: 'assistant', content: said });
        await turn.ctx.no_more_inputs();
      } catch {
        if (!turn.cancelled) end();
      }
    }

    async function playContext(turn: { ctx: Any; cancelled: boolean }, mark: string): Promise<void> {
      try {
        for await (const ev of turn.ctx.receive()) {
          if (turn.cancelled) return; // late chunks of a cancelled context
          if (ev.type === 'chunk' && ev.data) {
            speakingMark = mark;
            toTwilio({ event: 'media', streamSid, media: { payload: ev.data } });
          } else if (ev.type === 'done') break;
        }
        if (turn.cancelled) return;
        if (current === turn) current = null;
        toTwilio({ event: 'mark', streamSid, mark: { name: mark } });
      } catch {
        /* a cancelled context ends its receive() */
      }
    }

    function end(): void {
      if (ended) return;
      ended = true;
      cancelTurn();
      try {
        if (dgOpen) dg.sendCloseStream({ type: 'CloseStream' });
        dg?.close();
      } catch {
        /* closing anyway */
      }
      void ttsReady.then(() => tts.close()).catch(() => {});
      if (twilioWs.readyState === twilioWs.OPEN) twilioWs.close(1000);
    }

    twilioWs.on('message', (data: RawData) => {
      let m: Any;
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (m?.event === 'media') {
        const audio = Buffer.from(String(m.media?.payload ?? ''), 'base64');
        if (!dgOpen) pendingAudio.push(audio);
        else {
          try {
            dg.sendMedia(audio);
          } catch {
            end(); // the socket went away between its close and our flag: the call ends
          }
        }
      } else if (m?.event === 'start') {
        streamSid = String(m.start?.streamSid ?? m.streamSid ?? '');
        void respond(null); // the greeting
      } else if (m?.event === 'mark') {
        if (m.mark?.name === speakingMark) speakingMark = null;
      } else if (m?.event === 'stop') end();
    });
    twilioWs.on('close', () => end());
    twilioWs.on('error', () => end());
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string, fallback?: string): string => {
    const v = process.env[name] ?? fallback;
    if (v === undefined) throw new Error(`bare pipeline: ${name} is required`);
    return v;
  };
  const bare = await startBarePipeline({
    port: Number(env('PORT', '0')),
    host: env('HOST', '127.0.0.1'),
    publicUrl: env('PUBLIC_URL'),
    ...(process.env.TWILIO_AUTH_TOKEN ? { twilioAuthToken: process.env.TWILIO_AUTH_TOKEN } : {}),
    deepgram: {
      apiKey: env('DEEPGRAM_API_KEY'),
      url: env('DEEPGRAM_URL'),
      endpointingMs: Number(env('BARE_ENDPOINTING_MS', '300')),
    },
    openai: {
      apiKey: env('OPENAI_API_KEY'),
      baseURL: env('OPENAI_BASE_URL'),
      model: env('OPENAI_MODEL', 'gpt-4o-mini'),
    },
    cartesia: {
      apiKey: env('CARTESIA_API_KEY'),
      url: env('CARTESIA_URL'),
      voiceId: env('CARTESIA_VOICE_ID', '694f9389-aac1-45b6-b726-9d9369183238'),
      model: env('CARTESIA_MODEL', 'sonic-3'),
    },
  });
  process.on('SIGTERM', () => void bare.close().then(() => process.exit(0)));
  console.log(`bare pipeline listening on ${bare.url}`);
}
