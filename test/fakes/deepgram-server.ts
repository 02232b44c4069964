/**
 * A fake Deepgram live-transcription server (`/v1/listen`, PROTOCOLS.md §2) on 127.0.0.1.
 *
 * It cannot recognise speech, so transcription is scripted: the fake runs an energy detector over
 * the audio it receives (mu-law or linear16, decoded here), cuts it into speech segments the way
 * Deepgram's endpointing does, and gives segment N the N-th scripted utterance. Everything else
 * follows the real wire protocol: `Token` auth checked on the upgrade (HTTP 401), `SpeechStarted`
 * (vad_events), interim `Results` while speech continues (interim_results), a final with
 * `speech_final:true` after `endpointing` ms of silence (default 10 ms when the parameter is absent,
 * none with `endpointing=false`), `UtteranceEnd` after `utterance_end_ms` of stream time without
 * words (only with `interim_results=true`), `Finalize` flushes with `from_finalize:true`, `CloseStream`
 * flushes, sends `Metadata` and closes 1000, and 10 s without any message closes with 1011
 * (NET-0001). Like the real service it sends empty finals during long silences, so a consumer
 * that doesn't ignore empty transcripts fails here too; a `Finalize` with nothing pending answers
 * an empty final; a zero-length binary frame is the legacy close signal (= CloseStream); without
 * `encoding` the fake treats the audio as a container it can't decode and hears nothing.
 *
 * A scripted text is split on spaces: `word` is lower-cased without punctuation, `punctuated_word`
 * and `transcript` keep the script's text when `punctuate`/`smart_format` is on.
 *
 * All times in messages are seconds of stream time, computed from bytes received.
 *
 * Lifecycle: `await startDeepgramFake(opts)` ... `await fake.close()` (terminates every socket and
 * timer; safe to call twice).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  closeWebSocketServer,
  listenEphemeral,
  refuseUpgrade,
  TimerBag,
  waitUntil,
} from './fake-server-util.js';
import { mulawRms, pcm16Rms } from './mulaw.js';

/**
 * Script of what the "caller" says: the text of speech segment 0, 1, 2... (counted across every
 * connection). The function form also gets the connection and the segment's index within it, so
 * concurrent calls that each follow their own script can share one fake (benchmarks).
 */
export type DeepgramUtteranceScript =
  | DeepgramUtterance[]
  | ((segmentIndex: number, session: DeepgramSessionRecord, segmentInSession: number) => DeepgramUtterance);

/**
 * What one speech segment is transcribed as: its text, or an interim guess that the final revises
 * (as the real service does): `{interim: 'Wait', text: ''}` is noise first heard as a word whose
 * final comes back empty.
 */
export type DeepgramUtterance = string | { interim: string; text: string };

/** Options of {@link startDeepgramFake}. */
export interface DeepgramFakeOptions {
  /** The key clients must send as `Authorization: Token <key>`. Default `test-deepgram-key`. */
  apiKey?: string;
  /**
   * Segment N (counted across all connections of this fake, so a reconnect continues the
   * script) is transcribed as `utterances[N]` (or `utterances(N)`). Past the end of an array the
   * transcript is empty, which is what Deepgram sends for noise.
   */
  utterances?: DeepgramUtteranceScript;
  /** RMS level (16-bit linear scale) above which a 20 ms window counts as speech. Default 400. */
  speechThresholdRms?: number;
  /** Stream time between two interim results of one segment. Default 400 ms. */
  interimIntervalMs?: number;
  /** Close with 1011 after this long without any message (data, KeepAlive...). Default 10 000 ms. */
  idleTimeoutMs?: number;
  /** Wall-clock delay before every `Results` message (models processing latency). Default 0. */
  resultDelayMs?: number;
  /**
   * While nobody speaks, send an empty final (`is_final:true`, transcript "") every this many ms
   * of stream time, as the real service does. `false` disables it. Default 3000.
   */
  emptyFinalIntervalMs?: number | false;
}

/** A message the fake sent (parsed JSON). */
export type DeepgramServerMessage = Record<string, unknown> & { type: string };

/** What the fake knows about one WebSocket connection. */
export interface DeepgramSessionRecord {
  /** 0-based, in connection order. */
  readonly id: number;
  /** The `dg-request-id` sent on the upgrade response and in every message's metadata. */
  readonly requestId: string;
  /** Query parameters of the upgrade request. */
  readonly query: Readonly<Record<string, string>>;
  /** Headers of the upgrade request. */
  readonly headers: IncomingHttpHeaders;
  /** Binary bytes received on this connection. */
  receivedBytes: number;
  /** Number of binary frames received. */
  binaryFrames: number;
  /** Every text frame received, parsed (or `{type:'<unparseable>', raw}`). */
  readonly controlMessages: Array<Record<string, unknown>>;
  /** Every message sent by the fake, in order. */
  readonly sent: DeepgramServerMessage[];
  /** performance.now() at which each message of `sent` was written to the socket (benchmarks). */
  readonly sentAt: number[];
  /** Transcripts of the finals sent (empty ones included). */
  readonly finals: string[];
  /** Set once the socket closed: who closed it and how. */
  closed: { code: number; reason: string; by: 'server' | 'client' } | null;
  /** Every binary byte received, concatenated. */
  audio(): Buffer;
}

/** A running fake Deepgram server. */
export interface DeepgramFake {
  /** `http://127.0.0.1:PORT`: pass as the SDK's `baseUrl` (the SDK appends `/v1/listen`). */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/v1/listen`, for raw clients. */
  readonly wsUrl: string;
  readonly port: number;
  /** Connections currently open. */
  readonly connections: number;
  /** Every accepted connection, in order (open or closed). */
  readonly sessions: readonly DeepgramSessionRecord[];
  /** Upgrades refused (bad key, bad query, injected failures), in order. */
  readonly rejectedUpgrades: ReadonlyArray<{ status: number; reason: string }>;
  /** Binary bytes received over all connections. */
  readonly receivedBytes: number;
  /** Speech segments cut so far over all connections (= index of the next scripted utterance). */
  readonly segmentsStarted: number;
  /** Simulates a drop mid-call: closes every open socket with `code` (default 1011). */
  dropConnections(code?: number, reason?: string): void;
  /** The next `count` upgrades fail with HTTP `status` (default 503). */
  failNextUpgrades(count: number, status?: number): void;
  /** Replaces the utterance script (segment numbering continues). */
  setUtterances(script: DeepgramUtteranceScript): void;
  /** Resolves with session `index` once it connected. */
  waitForSession(index?: number, timeoutMs?: number): Promise<DeepgramSessionRecord>;
  /** Resolves with the first sent message (any session) that matches, including earlier ones. */
  waitForMessage(
    predicate: (message: DeepgramServerMessage, session: DeepgramSessionRecord) => boolean,
    timeoutMs?: number,
  ): Promise<DeepgramServerMessage>;
  /** Closes every socket and the server. */
  close(): Promise<void>;
}

const IDLE_REASON =
  'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001';
const MODEL_INFO = { name: '2-general-nova', version: '2024-01-18.26916', arch: 'nova-3' };
const MODEL_UUID = 'c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c';
const WINDOW_MS = 20;

interface Segment {
  index: number;
  text: string;
  /** What interim results show (the final says `text`). */
  interim: string;
  startSec: number;
  lastVoicedEndSec: number;
  lastInterimSec: number;
}

/** Starts a fake Deepgram live STT server on an ephemeral port. */
export async function startDeepgramFake(options: DeepgramFakeOptions = {}): Promise<DeepgramFake> {
  const apiKey = options.apiKey ?? 'test-deepgram-key';
  const threshold = options.speechThresholdRms ?? 400;
  const interimIntervalSec = (options.interimIntervalMs ?? 400) / 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const resultDelayMs = options.resultDelayMs ?? 0;
  const emptyFinalIntervalSec =
    options.emptyFinalIntervalMs === false ? Infinity : (options.emptyFinalIntervalMs ?? 3000) / 1000;
  let script: DeepgramUtteranceScript = options.utterances ?? [];
  let segmentCounter = 0;
  let failUpgrades = 0;
  let failStatus = 503;
  const sessions: DeepgramSessionRecord[] = [];
  const rejectedUpgrades: Array<{ status: number; reason: string }> = [];
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  const subscribe = (l: () => void): (() => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  const timers = new TimerBag();
  /** Open sockets -> how to drop them. */
  const open = new Map<WebSocket, (code: number, reason: string) => void>();

  const sessionSegments = new WeakMap<DeepgramSessionRecord, number>();
  const utteranceFor = (index: number, session: DeepgramSessionRecord): { text: string; interim: string } => {
    const inSession = sessionSegments.get(session) ?? 0;
    sessionSegments.set(session, inSession + 1);
    const u = typeof script === 'function' ? script(index, session, inSession) : (script[index] ?? '');
    return typeof u === 'string' ? { text: u, interim: u } : u;
  };

  const http = await listenEphemeral((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'Not found' }));
  });
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (headers, req) => {
    const id = (req as IncomingMessage & { dgRequestId?: string }).dgRequestId;
    if (id) headers.push(`dg-request-id: ${id}`);
  });

  http.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = randomUUID();
    const refuse = (status: number, errCode: string, errMsg: string): void => {
      rejectedUpgrades.push({ status, reason: errMsg });
      refuseUpgrade(
        socket,
        status,
        { err_code: errCode, err_msg: errMsg, request_id: requestId },
        { 'dg-error': errMsg, 'dg-request-id': requestId },
      );
      notify();
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/v1/listen') return refuse(404, 'NOT_FOUND', `No route for ${url.pathname}`);
    if (failUpgrades > 0) {
      failUpgrades--;
      return refuse(failStatus, 'INJECTED_FAILURE', 'Injected upgrade failure (fake)');
    }
    if (req.headers.authorization !== `Token ${apiKey}`) {
      return refuse(401, 'INVALID_AUTH', 'Invalid credentials.');
    }
    const query = Object.fromEntries(url.searchParams.entries());
    const encoding = query.encoding;
    if (encoding !== undefined && !['mulaw', 'linear16'].includes(encoding)) {
      // The real service knows more encodings; the fake can only measure these two.
      return refuse(400, 'INVALID_QUERY_PARAMETER', `fake supports encoding=mulaw|linear16, got ${encoding}`);
    }
    if (encoding !== undefined && query.sample_rate === undefined) {
      return refuse(400, 'INVALID_QUERY_PARAMETER', 'sample_rate is required when encoding is set');
    }
    (req as IncomingMessage & { dgRequestId?: string }).dgRequestId = requestId;
    wss.handleUpgrade(req, socket, head, (ws) => startSession(ws, req, query, requestId));
  });

  function startSession(
    ws: WebSocket,
    req: IncomingMessage,
    query: Record<string, string>,
    requestId: string,
  ): void {
    const chunks: Buffer[] = [];
    const record: DeepgramSessionRecord = {
      id: sessions.length,
      requestId,
      query,
      headers: req.headers,
      receivedBytes: 0,
      binaryFrames: 0,
      controlMessages: [],
      sent: [],
      sentAt: [],
      finals: [],
      closed: null,
      audio: () => Buffer.concat(chunks),
    };
    sessions.push(record);

    const encoding = query.encoding;
    const sampleRate = Number(query.sample_rate ?? 8000);
    const channels = Number(query.channels ?? 1);
    const bytesPerSample = encoding === 'linear16' ? 2 : 1;
    const bytesPerSecond = sampleRate * bytesPerSample * channels;
    const windowBytes = Math.max(1, Math.round((bytesPerSecond * WINDOW_MS) / 1000));
    const interim = query.interim_results === 'true';
    const vadEvents = query.vad_events === 'true';
    const punctuate = query.punctuate === 'true' || query.smart_format === 'true';
    // Deepgram's default endpointing is 10 ms; `endpointing=false` turns it off.
    const endpointingMs = query.endpointing === 'false' ? null : Number(query.endpointing ?? 10);
    // UtteranceEnd only exists with interim results on (it is computed from interim word timings).
    const utteranceEndSec =
      interim && query.utterance_end_ms !== undefined ? Number(query.utterance_end_ms) / 1000 : null;

    let pending: Buffer = Buffer.alloc(0);
    let processedBytes = 0;
    let segment: Segment | null = null;
    let silenceRunMs = 0;
    let cursorSec = 0; // end of the audio covered by the last final
    let lastWordEndSec: number | null = null; // armed UtteranceEnd
    let closing = false;
    let idleTimer: NodeJS.Timeout | undefined;

    const armIdle = (): void => {
      timers.clear(idleTimer);
      idleTimer = timers.set(() => serverClose(1011, IDLE_REASON), idleTimeoutMs);
    };
    armIdle();

    const send = (message: DeepgramServerMessage, delayMs = 0): void => {
      const doSend = (): void => {
        if (ws.readyState !== ws.OPEN) return;
        record.sent.push(message);
        record.sentAt.push(performance.now());
        ws.send(JSON.stringify(message));
        notify();
      };
      if (delayMs > 0) timers.set(doSend, delayMs);
      else doSend();
    };
    const serverClose = (code: number, reason: string, immediately = false): void => {
      if (record.closed) return;
      record.closed = { code, reason, by: 'server' };
      closing = true;
      timers.clear(idleTimer);
      const finish = (): void => {
        if (ws.readyState === ws.OPEN) ws.close(code, reason);
      };
      // Let delayed Results go out first, as the real server drains before closing.
      if (resultDelayMs > 0 && !immediately) timers.set(finish, resultDelayMs + 1);
      else finish();
      notify();
    };
    open.set(ws, (code, reason) => serverClose(code, reason, true));

    const wordsOf = (text: string, startSec: number, endSec: number) => {
      const tokens = text.split(/\s+/).filter(Boolean);
      const span = Math.max(0.01, endSec - startSec);
      const per = span / Math.max(1, tokens.length);
      return tokens.map((token, i) => ({
        word: token.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, ''),
        start: round3(startSec + i * per),
        end: round3(startSec + (i + 1) * per),
        confidence: 0.99,
        punctuated_word: token,
      }));
    };
    const results = (
      text: string,
      words: ReturnType<typeof wordsOf>,
      startSec: number,
      endSec: number,
      flags: { is_final: boolean; speech_final: boolean; from_finalize: boolean },
    ): DeepgramServerMessage => ({
      type: 'Results',
      channel_index: [0, 1],
      duration: round3(Math.max(0, endSec - startSec)),
      start: round3(startSec),
      ...flags,
      channel: {
        alternatives: [
          {
            transcript: punctuate ? text : words.map((w) => w.word).join(' '),
            confidence: words.length ? 0.99 : 0,
            words: punctuate ? words : words.map(({ punctuated_word: _p, ...w }) => w),
          },
        ],
      },
      metadata: { request_id: requestId, model_info: MODEL_INFO, model_uuid: MODEL_UUID },
    });

    const emitFinal = (nowSec: number, speechFinal: boolean, fromFinalize: boolean): void => {
      const seg = segment;
      segment = null;
      silenceRunMs = 0;
      const text = seg?.text ?? '';
      const words = seg ? wordsOf(text, seg.startSec, seg.lastVoicedEndSec) : [];
      send(
        results(text, words, cursorSec, nowSec, {
          is_final: true,
          speech_final: speechFinal,
          from_finalize: fromFinalize,
        }),
        resultDelayMs,
      );
      record.finals.push(punctuate ? text : words.map((w) => w.word).join(' '));
      cursorSec = nowSec;
      const last = words[words.length - 1];
      if (last) lastWordEndSec = last.end;
    };

    const processWindow = (bytes: Buffer): void => {
      const t0 = processedBytes / bytesPerSecond;
      processedBytes += bytes.length;
      const t1 = processedBytes / bytesPerSecond;
      const windowMs = (bytes.length / bytesPerSecond) * 1000;
      if (encoding === undefined) return; // containerised audio: the fake can't decode it; nothing is heard
      const rms = bytesPerSample === 2 ? pcm16Rms(bytes) : mulawRms(bytes);
      if (rms > threshold) {
        silenceRunMs = 0;
        lastWordEndSec = null; // speech resumed: no UtteranceEnd for the previous words
        if (!segment) {
          const index = segmentCounter++;
          segment = {
            index,
            ...utteranceFor(index, record),
            startSec: t0,
            lastVoicedEndSec: t1,
            lastInterimSec: t0,
          };
          if (vadEvents) send({ type: 'SpeechStarted', channel: [0], timestamp: round3(t0) });
        }
        segment.lastVoicedEndSec = t1;
        if (interim && t1 - segment.lastInterimSec >= interimIntervalSec) {
          segment.lastInterimSec = t1;
          const all = segment.interim.split(/\s+/).filter(Boolean);
          const shown = Math.min(all.length, Math.max(1, Math.ceil((t1 - segment.startSec) / 0.3)));
          const text = all.slice(0, shown).join(' ');
          send(
            results(text, wordsOf(text, segment.startSec, t1), cursorSec, t1, {
              is_final: false,
              speech_final: false,
              from_finalize: false,
            }),
            resultDelayMs,
          );
        }
        return;
      }
      if (segment) {
        silenceRunMs += windowMs;
        // Without endpointing Deepgram still finalises segments, just never marks speech_final.
        if (endpointingMs === null ? silenceRunMs >= 300 : silenceRunMs >= endpointingMs) {
          emitFinal(t1, endpointingMs !== null, false);
        }
        return;
      }
      if (utteranceEndSec !== null && lastWordEndSec !== null && t1 - lastWordEndSec >= utteranceEndSec) {
        send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: lastWordEndSec }, resultDelayMs);
        lastWordEndSec = null;
      }
      if (t1 - cursorSec >= emptyFinalIntervalSec) emitFinal(t1, false, false);
    };

    const processAudio = (data: Buffer): void => {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      let offset = 0;
      while (pending.length - offset >= windowBytes) {
        processWindow(pending.subarray(offset, offset + windowBytes));
        offset += windowBytes;
      }
      pending = Buffer.from(pending.subarray(offset));
    };
    const flushPartialWindow = (): void => {
      if (pending.length) processWindow(pending);
      pending = Buffer.alloc(0);
    };
    const nowSec = (): number => processedBytes / bytesPerSecond;

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (closing) return;
      armIdle();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        record.binaryFrames++;
        if (buf.length === 0) {
          // A zero-length binary frame is the legacy "close stream" signal.
          closeStream();
          return;
        }
        record.receivedBytes += buf.length;
        chunks.push(buf);
        processAudio(buf);
        notify();
        return;
      }
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
      } catch {
        message = { type: '<unparseable>', raw: buf.toString('utf8') };
      }
      record.controlMessages.push(message);
      notify();
      switch (message.type) {
        case 'KeepAlive':
          return;
        case 'Finalize':
          flushPartialWindow();
          emitFinal(nowSec(), false, true);
          return;
        case 'CloseStream':
          closeStream();
          return;
        default:
          return;
      }
    });

    function closeStream(): void {
      flushPartialWindow();
      if (segment) emitFinal(nowSec(), false, false);
      send(
        {
          type: 'Metadata',
          transaction_key: 'deprecated',
          request_id: requestId,
          sha256: 'fake',
          created: new Date().toISOString(),
          duration: round3(nowSec()),
          channels: channels,
          models: [MODEL_UUID],
          model_info: { [MODEL_UUID]: MODEL_INFO },
        },
        resultDelayMs,
      );
      serverClose(1000, '');
    }

    ws.on('close', (code: number, reason: Buffer) => {
      open.delete(ws);
      timers.clear(idleTimer);
      if (!record.closed) record.closed = { code, reason: reason.toString(), by: 'client' };
      notify();
    });
    ws.on('error', () => {
      /* a client that vanishes mid-frame; recorded by 'close' */
    });
    notify();
  }

  return {
    url: http.url,
    wsUrl: `ws://127.0.0.1:${http.port}/v1/listen`,
    port: http.port,
    get connections() {
      return open.size;
    },
    sessions,
    rejectedUpgrades,
    get receivedBytes() {
      return sessions.reduce((n, s) => n + s.receivedBytes, 0);
    },
    get segmentsStarted() {
      return segmentCounter;
    },
    dropConnections(code = 1011, reason = 'fake: connection dropped') {
      for (const drop of [...open.values()]) drop(code, reason);
    },
    failNextUpgrades(count, status = 503) {
      failUpgrades = count;
      failStatus = status;
    },
    setUtterances(next) {
      script = next;
    },
    waitForSession(index = 0, timeoutMs = 5000) {
      return waitUntil(() => sessions[index], subscribe, timeoutMs, `deepgram session #${index}`);
    },
    waitForMessage(predicate, timeoutMs = 5000) {
      return waitUntil(
        () => {
          for (const s of sessions) for (const m of s.sent) if (predicate(m, s)) return m;
          return undefined;
        },
        subscribe,
        timeoutMs,
        'a matching deepgram message',
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

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
