/**
 * A simulated Twilio phone call against a statecall server: the voice webhook, the TwiML answer,
 * and a bidirectional Media Stream (PROTOCOLS.md §1), behaving like Twilio on both directions.
 * Used by the load tester (`npm run loadtest`) against any deployment, and by the tests and
 * benches (test/fakes/twilio-caller.ts re-exports it) against local servers.
 *
 * Inbound ("caller -> server"): like Twilio, the caller's line is a clock that sends a 160-byte,
 * 20 ms mu-law `media` frame every 20 ms for the whole call; silence (0xFF) when the caller says
 * nothing (`continuousAudio`, default on). `sendAudio` queues speech on that clock; with
 * `realtime:false` the frames go out as a burst instead.
 *
 * Outbound ("server -> caller"): `media` payloads are queued and "played" at real time (160
 * bytes per 20 ms, divided by `speedup`); a `mark` is echoed only once all audio queued before it
 * has played; `clear` drops the queued audio and echoes every pending mark at once.
 *
 * Records: audio received and actually played, marks echoed, clears, protocol errors in what the
 * server sent, and for each caller utterance the time from its last frame to the next media frame
 * from the server (`latencies`, performance.now() based) for benchmarks.
 *
 * Lifecycle: `const call = await startTwilioCall(...)` resolves once the socket is open and
 * `connected` + `start` were sent; end with `await call.hangUp()` (stop + close) or
 * `call.terminate()`. Either way every timer is cleared.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { WebSocket, type RawData } from 'ws';
import { MULAW_SILENCE } from '../audio/mulaw.js';
import { waitUntil } from './wait-until.js';

/**
 * Where the call is registered so that a REST hang-up ends its stream, like Twilio does (the
 * Twilio REST fake of the tests). A real deployment hangs up through Twilio, which knows nothing
 * of a simulated call: the server then closes the stream itself.
 */
export interface CallRegistry {
  readonly accountSid: string;
  addCall(callSid: string): void;
  readonly events: EventEmitter<{ hangup: [callSid: string] }>;
}

/** Options of {@link startTwilioCall}. */
export interface StartTwilioCallOptions {
  /** Where our server listens, e.g. `http://127.0.0.1:PORT`. */
  serverBaseUrl: string;
  /**
   * Where the media stream socket goes: `server` (default) = `serverBaseUrl` + the stream URL's
   * path (local tests, whose advertised host is not resolvable); `twiml` = the `<Stream url>`
   * exactly as the TwiML gave it, as Twilio does (the load tester against a deployment).
   */
  streamVia?: 'server' | 'twiml';
  /** When given, the webhook and the upgrade carry a valid `X-Twilio-Signature`. */
  authToken?: string;
  /** The public URL the server believes it is reached at (signatures are computed over it). Default `serverBaseUrl`. */
  publicUrl?: string;
  from: string;
  to: string;
  /** Default: a random `CA...`. */
  callSid?: string;
  /** Default: the REST fake's account, else `AC` + 32 "a". */
  accountSid?: string;
  /** Webhook path. Default `/twilio/voice`. */
  voicePath?: string;
  /** Extra webhook form fields. */
  webhookParams?: Record<string, string>;
  /** Speed factor for the line clock and playback (10 = ten times real time). Default 1. */
  speedup?: number;
  /** Send silence frames whenever the caller isn't speaking, like Twilio. Default true. */
  continuousAudio?: boolean;
  /**
   * The 20 ms frame (160 bytes) sent as the line's silence. Default all 0xFF (digital silence). A
   * benchmark marks each call's silence with a few near-silent bytes, so the STT connection that
   * carries the call can be told apart however fast calls are placed.
   */
  silenceFrame?: Uint8Array;
  /** Registers the call with this REST fake; a hang-up through it ends the stream like Twilio. */
  rest?: CallRegistry;
  /** Time limit of the webhook request and of the upgrade. Default: none. */
  timeoutMs?: number;
}

/** Options of {@link TwilioCall.sendAudio}. */
export interface SendAudioOptions {
  /** Pace frames at 20 ms (divided by speedup). `false` sends them as one burst. Default true. */
  realtime?: boolean;
  /** Overrides the call's speedup for these frames. */
  speedup?: number;
}

/** Latency of one caller utterance: last frame sent -> next media frame from the server. */
export interface UtteranceLatency {
  utteranceIndex: number;
  /** performance.now() when the last frame of the utterance was sent. */
  utteranceEndAt: number;
  /** performance.now() when the next server media frame arrived. */
  firstMediaAt: number;
  latencyMs: number;
}

/** Thrown when the webhook doesn't answer with a `<Connect><Stream>`. */

/** The `connected` and `start` messages Twilio sends when a Media Stream opens (PROTOCOLS.md §1). */
export function streamOpeningFrames(o: {
  accountSid: string;
  streamSid: string;
  callSid: string;
  customParameters?: Record<string, string>;
  sequenceNumber?: number;
}): Record<string, unknown>[] {
  return [
    { event: 'connected', protocol: 'Call', version: '1.0.0' },
    {
      event: 'start',
      sequenceNumber: String(o.sequenceNumber ?? 1),
      streamSid: o.streamSid,
      start: {
        accountSid: o.accountSid,
        streamSid: o.streamSid,
        callSid: o.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: o.customParameters ?? {},
      },
    },
  ];
}

export class TwilioCallRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly twiml: string,
  ) {
    super(message);
    this.name = 'TwilioCallRejectedError';
  }
}

type CallEvents = {
  /** A media payload arrived from the server. */
  media: [payload: Buffer];
  /** A mark was echoed back to the server (its audio finished playing, or a clear flushed it). */
  mark: [name: string];
  /** The server sent `clear`. */
  clear: [];
  /** The socket closed. */
  closed: [info: { code: number; reason: string; by: 'server' | 'caller' }];
  /** Internal progress (a frame sent or played); lets `waitFor` re-check. */
  tick: [];
};

interface MicFrame {
  frame: Buffer;
  intervalMs: number;
  onSent?: () => void;
  /** Settles the sendAudio promise if the call ends before the frame went out. */
  abort?: () => void;
}

type PlayItem = { kind: 'audio'; bytes: Buffer; offset: number } | { kind: 'mark'; name: string };

/** A call in progress. */
export class TwilioCall extends EventEmitter<CallEvents> {
  readonly callSid: string;
  readonly accountSid: string;
  readonly streamSid: string;
  /** The TwiML the webhook answered with. */
  readonly twiml: string;
  /** `<Stream url>` exactly as written in the TwiML. */
  readonly streamUrl: string;
  /** `<Parameter>`s of the stream (delivered as `start.customParameters`). */
  readonly customParameters: Readonly<Record<string, string>>;
  /** Every JSON message sent to the server, in order. */
  readonly sentMessages: Array<Record<string, unknown>> = [];
  /** Every message the server sent, parsed. */
  readonly receivedMessages: Array<Record<string, unknown>> = [];
  /** Problems in what the server sent (bad JSON, wrong streamSid, bad payload, unknown event...). */
  readonly protocolErrors: string[] = [];
  /** Names of the marks echoed back, in order. */
  readonly marksEchoed: string[] = [];
  /** One entry per `clear` received: when, and how many queued bytes it dropped. */
  readonly clears: Array<{ at: number; droppedBytes: number }> = [];
  /** DTMF digits sent. */
  readonly dtmfSent: string[] = [];
  /** Per caller utterance (each `sendAudio`), the latency to the next server media frame. */
  readonly latencies: UtteranceLatency[] = [];
  /** performance.now() at which each caller utterance finished sending. */
  readonly utteranceEnds: number[] = [];
  /** Set once the socket is closed. */
  closed: { code: number; reason: string; by: 'server' | 'caller' } | null = null;
  /** Bytes of audio played (what the caller heard). */
  playedBytes = 0;
  /** Bytes of media payload received. */
  receivedBytes = 0;
  /** Media frames sent to the server (speech and silence). */
  framesSent = 0;

  private readonly ws: WebSocket;
  private readonly speedup: number;
  private readonly continuousAudio: boolean;
  /** The line's silence frame (see `silenceFrame`). */
  private readonly silence: Buffer;
  private seq = 0;
  private chunk = 0;
  private readonly received: Buffer[] = [];
  private readonly played: Buffer[] = [];
  private readonly mic: MicFrame[] = [];
  private micTimer: NodeJS.Timeout | undefined;
  private micNextAt = 0;
  private micRunning = false;
  private readonly playQueue: PlayItem[] = [];
  private playTimer: NodeJS.Timeout | undefined;
  private inFlight: Buffer | null = null;
  private utteranceCount = 0;
  private awaitingMediaFor: { index: number; endAt: number } | null = null;
  private closedPromise: Promise<void>;
  private detachRest: (() => void) | undefined;

  /** @internal use {@link startTwilioCall}. */
  constructor(init: {
    ws: WebSocket;
    callSid: string;
    accountSid: string;
    twiml: string;
    streamUrl: string;
    customParameters: Record<string, string>;
    speedup: number;
    continuousAudio: boolean;
    silenceFrame?: Uint8Array;
  }) {
    super();
    this.ws = init.ws;
    this.callSid = init.callSid;
    this.accountSid = init.accountSid;
    this.streamSid = `MZ${randomBytes(16).toString('hex')}`;
    this.twiml = init.twiml;
    this.streamUrl = init.streamUrl;
    this.customParameters = init.customParameters;
    this.speedup = init.speedup;
    this.continuousAudio = init.continuousAudio;
    this.silence = init.silenceFrame ? Buffer.from(init.silenceFrame) : Buffer.alloc(160, MULAW_SILENCE);
    this.closedPromise = new Promise<void>((resolve) => {
      this.ws.on('close', (code: number, reason: Buffer) => {
        this.stopClocks();
        this.closed ??= { code, reason: reason.toString(), by: 'server' };
        this.detachRest?.();
        this.emit('closed', this.closed);
        resolve();
      });
    });
    this.ws.on('error', (err) => this.protocolErrors.push(`socket error: ${err.message}`));
    this.ws.on('message', (data: RawData, isBinary: boolean) => this.onServerMessage(data, isBinary));
  }

  /** @internal */
  begin(rest: CallRegistry | undefined): void {
    for (const frame of streamOpeningFrames({
      accountSid: this.accountSid,
      streamSid: this.streamSid,
      callSid: this.callSid,
      customParameters: { ...this.customParameters },
      sequenceNumber: ++this.seq,
    }))
      this.sendJson(frame);
    if (rest) {
      const onHangUp = (sid: string): void => {
        if (sid === this.callSid) void this.hangUp();
      };
      rest.events.on('hangup', onHangUp);
      this.detachRest = () => rest.events.off('hangup', onHangUp);
    }
    if (this.continuousAudio) this.startMic();
  }

  /** Every media byte received from the server, concatenated. */
  receivedAudio(): Buffer {
    return Buffer.concat(this.received);
  }

  /** The audio actually played to the caller (received minus what `clear` dropped). */
  playedAudio(): Buffer {
    return Buffer.concat(this.played);
  }

  /** Bytes queued but not yet played. */
  get pendingPlaybackBytes(): number {
    let n = this.inFlight?.length ?? 0;
    for (const item of this.playQueue) if (item.kind === 'audio') n += item.bytes.length - item.offset;
    return n;
  }

  /**
   * Speaks `mulaw` (8 kHz mu-law) into the call as 160-byte frames (the last one padded with
   * silence). Resolves when the last frame was sent. One call = one caller utterance.
   */
  sendAudio(mulaw: Uint8Array, opts: SendAudioOptions = {}): Promise<void> {
    const index = this.utteranceCount++;
    return this.enqueueFrames(mulaw, opts, () => {
      const endAt = performance.now();
      this.utteranceEnds[index] = endAt;
      this.awaitingMediaFor = { index, endAt };
    });
  }

  /** Sends `ms` of silence frames (on the line clock unless `realtime:false`). */
  sendSilence(ms: number, opts: SendAudioOptions = {}): Promise<void> {
    return this.enqueueFrames(Buffer.alloc(Math.round(ms * 8), MULAW_SILENCE), opts);
  }

  /** Sends a DTMF key press (bidirectional streams only, like Twilio). */
  sendDtmf(digit: string): void {
    this.dtmfSent.push(digit);
    this.sendJson({
      event: 'dtmf',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      dtmf: { track: 'inbound_track', digit },
    });
  }

  /** The caller hangs up: `stop`, then close. Resolves once closed. Idempotent. */
  async hangUp(): Promise<void> {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) {
      this.stopClocks();
      this.sendJson({
        event: 'stop',
        sequenceNumber: String(++this.seq),
        streamSid: this.streamSid,
        stop: { accountSid: this.accountSid, callSid: this.callSid },
      });
      this.closed = { code: 1000, reason: '', by: 'caller' };
      this.ws.close(1000);
    }
    await this.closedPromise;
  }

  /** Drops the connection without `stop` (network failure). */
  terminate(): void {
    this.stopClocks();
    if (!this.closed) this.closed = { code: 1006, reason: 'terminated', by: 'caller' };
    this.ws.terminate();
  }

  /** Resolves once the socket closed. */
  waitForClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string; by: 'server' | 'caller' }> {
    return this.waitFor(() => this.closed ?? undefined, timeoutMs, 'the call to close');
  }

  /** Resolves once a mark with this name was echoed. */
  waitForMark(name: string, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => (this.marksEchoed.includes(name) ? true : undefined),
      timeoutMs,
      `mark ${name}`,
    ).then(() => undefined);
  }

  /** Resolves once at least `bytes` of media were received in total. */
  waitForMedia(bytes = 1, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => (this.receivedBytes >= bytes ? true : undefined),
      timeoutMs,
      `${bytes} media bytes`,
    ).then(() => undefined);
  }

  /** Resolves with the latency record of utterance `index` once the server answered it with media. */
  waitForLatency(index: number, timeoutMs = 10_000): Promise<UtteranceLatency> {
    return this.waitFor(
      () => this.latencies.find((l) => l.utteranceIndex === index),
      timeoutMs,
      `media after utterance ${index}`,
    );
  }

  /** Resolves once nothing is queued for playback. */
  waitForPlaybackIdle(timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => (this.pendingPlaybackBytes === 0 ? true : undefined),
      timeoutMs,
      'playback to drain',
    ).then(() => undefined);
  }

  /** Waits until `check` returns a value, re-checked on every event of this call. */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return waitUntil(
      check,
      (l) => {
        const names = ['media', 'mark', 'clear', 'closed', 'tick'] as const;
        for (const n of names) this.on(n, l);
        return () => {
          for (const n of names) this.off(n, l);
        };
      },
      timeoutMs,
      what,
    );
  }

  // ---- inbound (caller -> server) ----

  private enqueueFrames(bytes: Uint8Array, opts: SendAudioOptions, onDone?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('twilio caller: the call is closed'));
    const realtime = opts.realtime ?? true;
    const intervalMs = realtime ? 20 / (opts.speedup ?? this.speedup) : 0;
    const frames: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 160) {
      const frame = Buffer.alloc(160, MULAW_SILENCE);
      frame.set(bytes.subarray(i, Math.min(bytes.length, i + 160)));
      frames.push(frame);
    }
    if (!frames.length) {
      onDone?.();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      frames.forEach((frame, i) => {
        const last = i === frames.length - 1;
        this.mic.push({
          frame,
          intervalMs,
          ...(last
            ? {
                onSent: () => {
                  onDone?.();
                  resolve();
                },
                abort: resolve,
              }
            : {}),
        });
      });
      if (!this.micRunning) this.startMic();
    });
  }

  private startMic(): void {
    if (this.micRunning || this.closed) return;
    this.micRunning = true;
    this.micNextAt = performance.now();
    this.micTick();
  }

  private micTick(): void {
    this.micTimer = undefined;
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
      this.micRunning = false;
      return;
    }
    // Burst frames (interval 0) go out back to back, in order.
    let next = this.mic.shift();
    while (next && next.intervalMs === 0) {
      this.sendFrame(next);
      next = this.mic.shift();
    }
    let interval: number;
    if (next) {
      this.sendFrame(next);
      interval = next.intervalMs;
    } else if (this.continuousAudio) {
      this.sendFrame({ frame: this.silence, intervalMs: 20 / this.speedup });
      interval = 20 / this.speedup;
    } else {
      this.micRunning = false;
      return;
    }
    this.micNextAt += interval;
    const now = performance.now();
    if (this.micNextAt < now - 200) this.micNextAt = now; // fell far behind (debugger, GC): don't burst
    this.micTimer = setTimeout(() => this.micTick(), Math.max(0, this.micNextAt - now));
  }

  private sendFrame(f: MicFrame): void {
    const chunk = ++this.chunk;
    this.sendJson({
      event: 'media',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      media: {
        track: 'inbound',
        chunk: String(chunk),
        timestamp: String((chunk - 1) * 20),
        payload: f.frame.toString('base64'),
      },
    });
    this.framesSent++;
    f.onSent?.();
    this.emit('tick');
  }

  private sendJson(message: Record<string, unknown>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.sentMessages.push(message);
    this.ws.send(JSON.stringify(message));
  }

  // ---- outbound (server -> caller) ----

  private onServerMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.protocolErrors.push('binary frame (Twilio only accepts JSON text frames)');
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString(
      'utf8',
    );
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.protocolErrors.push(`invalid JSON: ${text.slice(0, 80)}`);
      return;
    }
    this.receivedMessages.push(msg);
    if (msg.streamSid !== this.streamSid) {
      this.protocolErrors.push(
        `${String(msg.event)}: streamSid ${String(msg.streamSid)} is not ${this.streamSid}`,
      );
      return;
    }
    switch (msg.event) {
      case 'media': {
        const payload = (msg.media as { payload?: unknown } | undefined)?.payload;
        if (
          typeof payload !== 'string' ||
          !payload ||
          !/^[A-Za-z0-9+/]+={0,2}$/.test(payload) ||
          payload.length % 4 !== 0
        ) {
          this.protocolErrors.push('media: payload is not a non-empty base64 string');
          return;
        }
        const bytes = Buffer.from(payload, 'base64');
        this.received.push(bytes);
        this.receivedBytes += bytes.length;
        if (this.awaitingMediaFor) {
          const now = performance.now();
          const { index, endAt } = this.awaitingMediaFor;
          this.awaitingMediaFor = null;
          this.latencies.push({
            utteranceIndex: index,
            utteranceEndAt: endAt,
            firstMediaAt: now,
            latencyMs: now - endAt,
          });
        }
        this.playQueue.push({ kind: 'audio', bytes, offset: 0 });
        this.emit('media', bytes);
        this.pumpPlayback();
        return;
      }
      case 'mark': {
        const name = (msg.mark as { name?: unknown } | undefined)?.name;
        if (typeof name !== 'string' || !name) {
          this.protocolErrors.push('mark: mark.name must be a non-empty string');
          return;
        }
        this.playQueue.push({ kind: 'mark', name });
        this.pumpPlayback();
        return;
      }
      case 'clear': {
        let dropped = this.inFlight?.length ?? 0;
        if (this.playTimer) clearTimeout(this.playTimer);
        this.playTimer = undefined;
        this.inFlight = null;
        const marks: string[] = [];
        for (const item of this.playQueue.splice(0)) {
          if (item.kind === 'audio') dropped += item.bytes.length - item.offset;
          else marks.push(item.name);
        }
        this.clears.push({ at: performance.now(), droppedBytes: dropped });
        this.emit('clear');
        for (const name of marks) this.echoMark(name);
        return;
      }
      default:
        this.protocolErrors.push(`unknown event ${String(msg.event)}`);
    }
  }

  /** Plays the queue: echoes marks at the head, then plays up to 160 bytes (up to the next mark). */
  private pumpPlayback(): void {
    if (this.inFlight || this.closed) return;
    while (this.playQueue[0]?.kind === 'mark') {
      const item = this.playQueue.shift() as { kind: 'mark'; name: string };
      this.echoMark(item.name);
    }
    const parts: Buffer[] = [];
    let n = 0;
    while (n < 160 && this.playQueue[0]?.kind === 'audio') {
      const item = this.playQueue[0];
      const take = Math.min(160 - n, item.bytes.length - item.offset);
      parts.push(item.bytes.subarray(item.offset, item.offset + take));
      item.offset += take;
      n += take;
      if (item.offset >= item.bytes.length) this.playQueue.shift();
    }
    if (!n) return;
    this.inFlight = Buffer.concat(parts);
    this.playTimer = setTimeout(
      () => {
        this.playTimer = undefined;
        if (this.inFlight) {
          this.played.push(this.inFlight);
          this.playedBytes += this.inFlight.length;
        }
        this.inFlight = null;
        this.emit('tick');
        this.pumpPlayback();
      },
      n / 8 / this.speedup,
    );
  }

  private echoMark(name: string): void {
    this.marksEchoed.push(name);
    this.sendJson({
      event: 'mark',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      mark: { name },
    });
    this.emit('mark', name);
  }

  private stopClocks(): void {
    if (this.micTimer) clearTimeout(this.micTimer);
    if (this.playTimer) clearTimeout(this.playTimer);
    this.micTimer = undefined;
    this.playTimer = undefined;
    this.micRunning = false;
    for (const f of this.mic.splice(0)) f.abort?.();
  }
}

/** The webhook's TwiML, reduced to what a `<Connect><Stream>` needs. */
export interface ParsedStreamTwiml {
  streamUrl: string;
  parameters: Record<string, string>;
}

/** True for a `ws://` URL to this machine (a local server; Twilio itself accepts only `wss://`). */
function isLocalPlainUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'ws:' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(u.hostname);
  } catch {
    return false;
  }
}

/**
 * Extracts `<Connect><Stream url>` and its `<Parameter>`s. Throws {@link TwilioCallRejectedError}
 * for TwiML Twilio would not turn into a bidirectional stream (no `<Connect>`, a one-way
 * `<Start><Stream>`, a non-`wss://` URL; `allowLocalPlain` accepts `ws://` to this machine).
 */
export function parseStreamTwiml(
  twiml: string,
  status = 200,
  opts: { allowLocalPlain?: boolean } = {},
): ParsedStreamTwiml {
  const connect = /<Connect\b[^>]*>([\s\S]*?)<\/Connect>/.exec(twiml)?.[1];
  if (connect === undefined) {
    const why = /<Start\b[^>]*>\s*<Stream\b/.test(twiml)
      ? '<Start><Stream> is one-way: the bot would be mute; use <Connect><Stream>'
      : 'no <Connect><Stream> in the TwiML';
    throw new TwilioCallRejectedError(why, status, twiml);
  }
  const streamTag = new RegExp(`<Stream\\b(${ATTRS})\\/?>`).exec(connect);
  const attrs = streamTag ? parseAttributes(streamTag[1] ?? '') : {};
  const streamUrl = attrs.url;
  if (!streamUrl) throw new TwilioCallRejectedError('<Stream> has no url', status, twiml);
  if (!streamUrl.startsWith('wss://') && !(opts.allowLocalPlain && isLocalPlainUrl(streamUrl)))
    throw new TwilioCallRejectedError(
      `Twilio only accepts wss:// stream URLs, got ${streamUrl}`,
      status,
      twiml,
    );
  const parameters: Record<string, string> = {};
  for (const m of connect.matchAll(new RegExp(`<Parameter\\b(${ATTRS})\\/?>`, 'g'))) {
    const a = parseAttributes(m[1] ?? '');
    if (a.name !== undefined) parameters[a.name] = a.value ?? '';
  }
  return { streamUrl, parameters };
}

/** Attribute text of a tag: quoted values may contain `>` (XML only requires `<` and `&` escaped). */
const ATTRS = `(?:[^>"'/]|"[^"]*"|'[^']*'|/(?!>))*`;

function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
    if (m[1]) out[m[1]] = decodeXml(m[2] ?? m[3] ?? '');
  return out;
}

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

/**
 * Places a simulated inbound call: POSTs the voice webhook (signed when `authToken` is given),
 * parses the `<Connect><Stream>` TwiML, opens the Media Stream WebSocket on the server's local
 * address (path of the stream URL; query dropped, as Twilio does; upgrade signed over the stream
 * URL as written), then sends `connected` and `start`.
 */
export async function startTwilioCall(opts: StartTwilioCallOptions): Promise<TwilioCall> {
  if (opts.silenceFrame && opts.silenceFrame.length !== 160)
    throw new RangeError(`silenceFrame must be one 20 ms frame (160 bytes), not ${opts.silenceFrame.length}`);
  const base = opts.serverBaseUrl.replace(/\/+$/, '');
  const publicUrl = (opts.publicUrl ?? base).replace(/\/+$/, '');
  const voicePath = opts.voicePath ?? '/twilio/voice';
  const callSid = opts.callSid ?? `CA${randomBytes(16).toString('hex')}`;
  const accountSid = opts.accountSid ?? opts.rest?.accountSid ?? `AC${'a'.repeat(32)}`;
  opts.rest?.addCall(callSid);
  const params: Record<string, string> = {
    CallSid: callSid,
    AccountSid: accountSid,
    From: opts.from,
    To: opts.to,
    Caller: opts.from,
    Called: opts.to,
    CallStatus: 'ringing',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    ...opts.webhookParams,
  };
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
    'User-Agent': 'TwilioProxy/1.1',
    Accept: '*/*',
  };
  if (opts.authToken)
    headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(
      opts.authToken,
      publicUrl + voicePath,
      params,
    );
  const res = await fetch(base + voicePath, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const twiml = await res.text();
  if (res.status !== 200)
    throw new TwilioCallRejectedError(`voice webhook answered HTTP ${res.status}`, res.status, twiml);
  const viaTwiml = opts.streamVia === 'twiml';
  const { streamUrl, parameters } = parseStreamTwiml(twiml, res.status, { allowLocalPlain: viaTwiml });

  const target = new URL(streamUrl);
  target.search = ''; // Twilio strips the query string
  const wsHeaders: Record<string, string> = { 'User-Agent': 'Twilio.TmeWs/1.0' };
  if (opts.authToken)
    wsHeaders['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(opts.authToken, streamUrl, {});
  const ws = new WebSocket(viaTwiml ? target.toString() : base.replace(/^http/, 'ws') + target.pathname, {
    headers: wsHeaders,
    ...(opts.timeoutMs ? { handshakeTimeout: opts.timeoutMs } : {}),
  });
  ws.on('error', () => {
    /* reported through the promise below, then through TwilioCall.protocolErrors */
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, response) => {
      reject(
        new TwilioCallRejectedError(
          `stream upgrade refused with HTTP ${response.statusCode}`,
          response.statusCode ?? 0,
          twiml,
        ),
      );
      ws.terminate();
    });
    ws.once('error', reject);
  });
  const call = new TwilioCall({
    ws,
    callSid,
    accountSid,
    twiml,
    streamUrl,
    customParameters: parameters,
    speedup: opts.speedup ?? 1,
    continuousAudio: opts.continuousAudio ?? true,
    ...(opts.silenceFrame ? { silenceFrame: opts.silenceFrame } : {}),
  });
  call.begin(opts.rest);
  return call;
}
