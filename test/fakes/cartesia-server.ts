/**
 * A fake Cartesia TTS WebSocket server (`/tts/websocket`, PROTOCOLS.md §4) on 127.0.0.1.
 *
 * Per context it queues the transcripts it receives and "synthesises" each one as deterministic
 * audio (a tone, ~`msPerChar` ms per character, capped) in the requested raw format (`pcm_mulaw`
 * or `pcm_s16le`, any Cartesia sample rate), sent as base64 `chunk` messages of `chunkMs` audio,
 * with `timestamps` messages when `add_timestamps`, `flush_done` after a `flush:true` input, and
 * `done` once the context got `continue:false` and all its audio was sent.
 *
 * Strict where the real service is: auth (`authorization: Bearer`, `X-API-Key` or `?api_key=`;
 * HTTP 401 on the upgrade), `cartesia-version` header or `?cartesia_version=` (HTTP 400),
 * `model_id`/`voice`/`output_format` required and constant within a context (`error` message,
 * status_code 400, done:true), no input after a context is done. `cancel:true` drops queued
 * inputs, but (as the real service) up to `lateChunksAfterCancel` chunks of the input being
 * generated still arrive, and no `done` follows a cancel.
 *
 * Connect the real SDK with `createConnection` (the SDK forces `wss:`): see
 * test/fakes-tests/cartesia-server.test.ts.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  closeWebSocketServer,
  listenEphemeral,
  refuseUpgrade,
  TimerBag,
  waitUntil,
} from './fake-server-util.js';
import { encodeMulawSample } from './mulaw.js';

/** Options of {@link startCartesiaFake}. */
export interface CartesiaFakeOptions {
  /** Accepted key. Default `test-cartesia-key`. */
  apiKey?: string;
  /** Audio per transcript character. Default 60 ms. */
  msPerChar?: number;
  /** Cap on the audio of one transcript input. Default 8000 ms. */
  maxMsPerInput?: number;
  /** Audio per `chunk` message. Default 50 ms (400 mu-law bytes: deliberately not 160-aligned). */
  chunkMs?: number;
  /** Delay before the first chunk of a context (time to first byte). Default 0. */
  ttfbMs?: number;
  /** Delay between chunks. Default 0 (faster than real time, like the real service). */
  chunkIntervalMs?: number;
  /** Chunks of the input being generated that still arrive after `cancel`. Default 1. */
  lateChunksAfterCancel?: number;
  /** Close an idle socket after this long without a message. Default 300 000 ms (5 min). */
  idleTimeoutMs?: number;
  /** Tone frequency of the generated audio. Default 330 Hz. */
  toneHz?: number;
  /**
   * Audio length from every character of an input, whitespace included, with no one-chunk floor:
   * the same words make the same audio whether they came as a token stream or as sentences (what
   * a benchmark comparing two clients needs). Default false: the input's trimmed length, at least
   * one chunk, and a blank input makes no audio.
   */
  exactDuration?: boolean;
}

/** What the fake knows about one context. */
export interface CartesiaContextRecord {
  readonly contextId: string;
  /** Connection (0-based) the context lived on. */
  readonly connectionId: number;
  readonly modelId: string;
  /** The voice id, whichever of the three accepted shapes it came in. */
  readonly voiceId: string;
  readonly outputFormat: { container: string; encoding: string; sample_rate: number };
  readonly language: string | undefined;
  readonly addTimestamps: boolean;
  /** Transcripts received, in order (empty ones included). */
  readonly transcripts: string[];
  /** Every request of this context, as received. */
  readonly requests: Array<Record<string, unknown>>;
  /** Got `continue:false`. */
  ended: boolean;
  cancelled: boolean;
  /** `done` was sent. */
  done: boolean;
  /** An `error` message was sent for this context. */
  error: { status_code: number; title: string; message: string } | null;
  chunksSent: number;
  audioBytesSent: number;
  /** Chunks sent after the cancel arrived. */
  chunksAfterCancel: number;
  /** Text of every transcript input fully synthesised. */
  readonly spoken: string[];
  /** performance.now() of the first request and of the first chunk. */
  firstRequestAt: number;
  firstChunkAt: number | null;
}

/** A message sent by the fake. */
export type CartesiaServerMessage = Record<string, unknown> & { type: string; context_id?: string };

/** One WebSocket connection. */
export interface CartesiaConnectionRecord {
  readonly id: number;
  readonly headers: IncomingHttpHeaders;
  readonly query: Readonly<Record<string, string>>;
  /** Every text frame received, parsed (or `{'<unparseable>': raw}`). */
  readonly received: Array<Record<string, unknown>>;
  readonly sent: CartesiaServerMessage[];
  closed: { code: number; reason: string; by: 'server' | 'client' } | null;
}

/** A running fake Cartesia server. */
export interface CartesiaFake {
  /** `http://127.0.0.1:PORT`: the SDK's `baseURL` (it will still dial `wss:`; see createConnection). */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/tts/websocket`, for raw clients. */
  readonly wsUrl: string;
  readonly port: number;
  readonly connections: readonly CartesiaConnectionRecord[];
  /** Open sockets now. */
  readonly openConnections: number;
  readonly contexts: readonly CartesiaContextRecord[];
  readonly rejectedUpgrades: ReadonlyArray<{ status: number; reason: string }>;
  /** Context record by id (the latest with that id). */
  context(contextId: string): CartesiaContextRecord | undefined;
  /** Ids of the contexts that were cancelled. */
  readonly cancelledContextIds: string[];
  /** The next new context answers with an `error` message (default 500) instead of audio. */
  failNextContext(error?: { status_code?: number; title?: string; message?: string }): void;
  /** Closes every open socket with `code` (default 1011). */
  dropConnections(code?: number, reason?: string): void;
  /** Resolves with the context once it exists. */
  waitForContext(contextId: string, timeoutMs?: number): Promise<CartesiaContextRecord>;
  /** Resolves when `predicate` holds for the context (re-checked on every change). */
  waitForContextState(
    contextId: string,
    predicate: (c: CartesiaContextRecord) => boolean,
    timeoutMs?: number,
  ): Promise<CartesiaContextRecord>;
  close(): Promise<void>;
}

const SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const ENCODINGS = ['pcm_mulaw', 'pcm_s16le'];

interface ContextState {
  record: CartesiaContextRecord;
  queue: Array<{ transcript: string; flush: boolean }>;
  working: boolean;
  audioPosSec: number;
  flushCount: number;
  lateBudget: number;
}

/** Starts a fake Cartesia TTS WebSocket server on an ephemeral port. */
export async function startCartesiaFake(options: CartesiaFakeOptions = {}): Promise<CartesiaFake> {
  const apiKey = options.apiKey ?? 'test-cartesia-key';
  const msPerChar = options.msPerChar ?? 60;
  const maxMsPerInput = options.maxMsPerInput ?? 8000;
  const chunkMs = options.chunkMs ?? 50;
  const ttfbMs = options.ttfbMs ?? 0;
  const chunkIntervalMs = options.chunkIntervalMs ?? 0;
  const lateChunksAfterCancel = options.lateChunksAfterCancel ?? 1;
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const toneHz = options.toneHz ?? 330;
  const exactDuration = options.exactDuration ?? false;
  const inputMs = (transcript: string): number =>
    exactDuration
      ? Math.min(maxMsPerInput, transcript.length * msPerChar)
      : transcript.trim()
        ? Math.min(maxMsPerInput, Math.max(chunkMs, transcript.trim().length * msPerChar))
        : 0;

  const connections: CartesiaConnectionRecord[] = [];
  const contexts: CartesiaContextRecord[] = [];
  const rejectedUpgrades: Array<{ status: number; reason: string }> = [];
  const open = new Map<WebSocket, (code: number, reason: string) => void>();
  const timers = new TimerBag();
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  const subscribe = (l: () => void): (() => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  let failNext: { status_code?: number; title?: string; message?: string } | null = null;

  const http = await listenEphemeral((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'Not found' }));
  });
  const wss = new WebSocketServer({ noServer: true });

  http.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, message: string): void => {
      rejectedUpgrades.push({ status, reason: message });
      refuseUpgrade(socket, status, { error: message });
      notify();
    };
    if (url.pathname !== '/tts/websocket') return refuse(404, `No route for ${url.pathname}`);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const key = bearer ?? header(req.headers, 'x-api-key') ?? url.searchParams.get('api_key') ?? undefined;
    if (key !== apiKey) return refuse(401, key ? 'Invalid API key' : 'Missing API key');
    const version = header(req.headers, 'cartesia-version') ?? url.searchParams.get('cartesia_version');
    if (!version) return refuse(400, 'Missing Cartesia-Version header (or cartesia_version query parameter)');
    wss.handleUpgrade(req, socket, head, (ws) =>
      startConnection(ws, req, Object.fromEntries(url.searchParams.entries())),
    );
  });

  function startConnection(ws: WebSocket, req: IncomingMessage, query: Record<string, string>): void {
    const conn: CartesiaConnectionRecord = {
      id: connections.length,
      headers: req.headers,
      query,
      received: [],
      sent: [],
      closed: null,
    };
    connections.push(conn);
    const states = new Map<string, ContextState>();
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      timers.clear(idle);
      idle = timers.set(() => serverClose(1000, 'idle timeout'), idleTimeoutMs);
    };
    armIdle();

    const send = (message: CartesiaServerMessage): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      conn.sent.push(message);
      ws.send(JSON.stringify(message));
      notify();
      return true;
    };
    const serverClose = (code: number, reason: string): void => {
      if (conn.closed) return;
      conn.closed = { code, reason, by: 'server' };
      timers.clear(idle);
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
      notify();
    };
    open.set(ws, serverClose);

    const sendError = (
      contextId: string | undefined,
      status: number,
      title: string,
      message: string,
    ): void => {
      send({
        type: 'error',
        ...(contextId !== undefined ? { context_id: contextId } : {}),
        status_code: status,
        done: true,
        title,
        message,
        error_code: status === 400 ? 'invalid_request' : 'internal_error',
        request_id: `req-fake-${conn.id}`,
      });
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      armIdle();
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString(
        'utf8',
      );
      let msg: Record<string, unknown>;
      try {
        if (isBinary) throw new Error('binary');
        const parsed: unknown = JSON.parse(text);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        msg = parsed as Record<string, unknown>;
      } catch {
        conn.received.push({ '<unparseable>': text });
        sendError(undefined, 400, 'Invalid request', 'Could not parse the request as a JSON object');
        return;
      }
      conn.received.push(msg);
      notify();
      handleRequest(msg);
    });

    function handleRequest(msg: Record<string, unknown>): void {
      const contextId = typeof msg.context_id === 'string' ? msg.context_id : undefined;
      if (msg.cancel === true) {
        if (!contextId)
          return sendError(undefined, 400, 'Invalid request', 'context_id is required to cancel');
        const st = states.get(contextId);
        if (!st) return; // nothing to cancel (unknown or already finished): silently ignored
        st.record.requests.push(msg);
        if (st.record.done || st.record.cancelled) return;
        st.record.cancelled = true;
        st.queue.length = 0;
        st.lateBudget = lateChunksAfterCancel;
        notify();
        return;
      }
      const problem = validate(msg);
      if (problem) return sendError(contextId, 400, 'Invalid request', problem);
      const id = contextId ?? `fake-ctx-${contexts.length}`;
      const output = msg.output_format as CartesiaContextRecord['outputFormat'];
      const voiceId = voiceIdOf(msg.voice) as string;
      let st = states.get(id);
      if (st) {
        const r = st.record;
        if (r.done || r.error) {
          return sendError(id, 400, 'Invalid request', `Context ${id} is already done; use a new context_id`);
        }
        if (r.cancelled) {
          r.requests.push(msg);
          return; // inputs to a cancelled context are dropped
        }
        if (
          r.modelId !== msg.model_id ||
          r.voiceId !== voiceId ||
          JSON.stringify(r.outputFormat) !== JSON.stringify(output) ||
          r.language !== (msg.language as string | undefined)
        ) {
          return sendError(
            id,
            400,
            'Invalid request',
            'model_id, voice, output_format and language must not change within a context',
          );
        }
        if (r.ended) {
          return sendError(id, 400, 'Invalid request', `Context ${id} already received continue:false`);
        }
      } else {
        const record: CartesiaContextRecord = {
          contextId: id,
          connectionId: conn.id,
          modelId: String(msg.model_id),
          voiceId,
          outputFormat: output,
          language: msg.language as string | undefined,
          addTimestamps: msg.add_timestamps === true,
          transcripts: [],
          requests: [],
          ended: false,
          cancelled: false,
          done: false,
          error: null,
          chunksSent: 0,
          audioBytesSent: 0,
          chunksAfterCancel: 0,
          spoken: [],
          firstRequestAt: performance.now(),
          firstChunkAt: null,
        };
        contexts.push(record);
        st = { record, queue: [], working: false, audioPosSec: 0, flushCount: 0, lateBudget: 0 };
        states.set(id, st);
        if (failNext) {
          const f = failNext;
          failNext = null;
          record.requests.push(msg);
          record.error = {
            status_code: f.status_code ?? 500,
            title: f.title ?? 'Internal Server Error',
            message: f.message ?? 'Injected failure (fake)',
          };
          sendError(id, record.error.status_code, record.error.title, record.error.message);
          notify();
          return;
        }
      }
      const r = st.record;
      r.requests.push(msg);
      const transcript = String(msg.transcript ?? '');
      r.transcripts.push(transcript);
      st.queue.push({ transcript, flush: msg.flush === true });
      if (msg.continue !== true) r.ended = true;
      notify();
      if (!st.working) void work(st);
    }

    async function work(st: ContextState): Promise<void> {
      st.working = true;
      const r = st.record;
      try {
        while (st.queue.length) {
          const input = st.queue.shift()!;
          const durationMs = inputMs(input.transcript);
          if (durationMs > 0) await synthesise(st, input.transcript, durationMs);
          if (r.cancelled || conn.closed) return;
          r.spoken.push(input.transcript);
          if (input.flush) {
            st.flushCount++;
            send({
              type: 'flush_done',
              context_id: r.contextId,
              status_code: 206,
              done: false,
              flush_done: true,
              flush_id: st.flushCount,
            });
          }
        }
        if (r.ended && !r.cancelled && !r.done) {
          r.done = true;
          send({ type: 'done', context_id: r.contextId, status_code: 206, done: true });
        }
      } finally {
        st.working = false;
      }
    }

    async function synthesise(st: ContextState, transcript: string, durationMs: number): Promise<void> {
      const r = st.record;
      const rate = r.outputFormat.sample_rate;
      const bytesPerSample = r.outputFormat.encoding === 'pcm_s16le' ? 2 : 1;
      const audio = synthesiseTone(durationMs, rate, r.outputFormat.encoding, toneHz);
      const chunkBytes = Math.max(bytesPerSample, Math.round((rate * chunkMs) / 1000) * bytesPerSample);
      const inputStartSec = st.audioPosSec;
      st.audioPosSec += durationMs / 1000;
      for (let offset = 0, i = 0; offset < audio.length; offset += chunkBytes, i++) {
        const wait = r.firstChunkAt === null && i === 0 ? ttfbMs : i > 0 ? chunkIntervalMs : 0;
        if (wait > 0) await new Promise<void>((resolve) => timers.set(resolve, wait));
        else await new Promise<void>((resolve) => setImmediate(resolve));
        if (conn.closed || ws.readyState !== ws.OPEN) return;
        if (r.cancelled) {
          // Audio already "generating" when the cancel arrived still goes out, up to the budget.
          if (st.lateBudget <= 0) return;
          st.lateBudget--;
        }
        const piece = audio.subarray(offset, offset + chunkBytes);
        send({
          type: 'chunk',
          context_id: r.contextId,
          status_code: 206,
          done: false,
          data: piece.toString('base64'),
          step_time: Math.round(Math.random() * 5 + 10),
        });
        r.firstChunkAt ??= performance.now();
        r.chunksSent++;
        r.audioBytesSent += piece.length;
        if (r.cancelled) r.chunksAfterCancel++;
        if (i === 0 && r.addTimestamps) {
          send({
            type: 'timestamps',
            context_id: r.contextId,
            status_code: 206,
            done: false,
            word_timestamps: wordTimestamps(transcript, inputStartSec, durationMs / 1000),
          });
        }
      }
    }

    ws.on('close', (code: number, reason: Buffer) => {
      open.delete(ws);
      timers.clear(idle);
      if (!conn.closed) conn.closed = { code, reason: reason.toString(), by: 'client' };
      notify();
    });
    ws.on('error', () => {
      /* recorded by 'close' */
    });
    notify();
  }

  const latest = (id: string): CartesiaContextRecord | undefined => {
    for (let i = contexts.length - 1; i >= 0; i--) if (contexts[i]?.contextId === id) return contexts[i];
    return undefined;
  };

  return {
    url: http.url,
    wsUrl: `ws://127.0.0.1:${http.port}/tts/websocket`,
    port: http.port,
    connections,
    get openConnections() {
      return open.size;
    },
    contexts,
    rejectedUpgrades,
    context: latest,
    get cancelledContextIds() {
      return contexts.filter((c) => c.cancelled).map((c) => c.contextId);
    },
    failNextContext(error = {}) {
      failNext = error;
    },
    dropConnections(code = 1011, reason = 'fake: connection dropped') {
      for (const close of [...open.values()]) close(code, reason);
    },
    waitForContext(contextId, timeoutMs = 5000) {
      return waitUntil(() => latest(contextId), subscribe, timeoutMs, `cartesia context ${contextId}`);
    },
    waitForContextState(contextId, predicate, timeoutMs = 5000) {
      return waitUntil(
        () => {
          const c = latest(contextId);
          return c && predicate(c) ? c : undefined;
        },
        subscribe,
        timeoutMs,
        `cartesia context ${contextId} state`,
      );
    },
    async close() {
      timers.clearAll();
      await closeWebSocketServer(wss);
      await http.close();
      listeners.clear();
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function voiceIdOf(voice: unknown): string | undefined {
  if (typeof voice === 'string' && voice) return voice;
  if (voice && typeof voice === 'object') {
    const v = voice as { id?: unknown; mode?: unknown };
    if ((v.mode === undefined || v.mode === 'id') && typeof v.id === 'string' && v.id) return v.id;
  }
  return undefined;
}

function validate(msg: Record<string, unknown>): string | undefined {
  if (typeof msg.model_id !== 'string' || !msg.model_id) return 'model_id is required';
  if (msg.voice === undefined) return 'voice is required';
  if (!voiceIdOf(msg.voice)) return 'voice must be a voice id, {"id": ...} or {"mode": "id", "id": ...}';
  const f = msg.output_format as Record<string, unknown> | undefined;
  if (!f || typeof f !== 'object') return 'output_format is required';
  if (f.container !== 'raw')
    return `output_format.container must be "raw" on the WebSocket (got ${String(f.container)})`;
  if (!ENCODINGS.includes(String(f.encoding)))
    return `output_format.encoding ${String(f.encoding)} is not supported (fake: ${ENCODINGS.join(', ')})`;
  if (!SAMPLE_RATES.includes(Number(f.sample_rate)))
    return `output_format.sample_rate ${String(f.sample_rate)} is not supported`;
  if (typeof msg.transcript !== 'string') return 'transcript is required';
  return undefined;
}

function synthesiseTone(durationMs: number, rate: number, encoding: string, hz: number): Buffer {
  const n = Math.round((durationMs * rate) / 1000);
  const fade = Math.round(rate / 200);
  const pcm16 = encoding === 'pcm_s16le';
  const out = Buffer.alloc(pcm16 ? n * 2 : n);
  for (let i = 0; i < n; i++) {
    const edge = Math.min(1, i / fade, (n - 1 - i) / fade);
    const sample = Math.sin((2 * Math.PI * hz * i) / rate) * 6000 * Math.max(0, edge);
    if (pcm16) out.writeInt16LE(Math.round(sample), i * 2);
    else out[i] = encodeMulawSample(sample);
  }
  return out;
}

function wordTimestamps(transcript: string, startSec: number, durationSec: number) {
  const words = transcript.split(/\s+/).filter(Boolean);
  const totalChars = words.reduce((n, w) => n + w.length, 0) || 1;
  const start: number[] = [];
  const end: number[] = [];
  let t = startSec;
  for (const w of words) {
    const d = (durationSec * w.length) / totalChars;
    start.push(Math.round(t * 1000) / 1000);
    t += d;
    end.push(Math.round(t * 1000) / 1000);
  }
  return { words, start, end };
}
