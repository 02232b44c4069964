/**
 * One call over one socket, for every carrier: the codec turns frames into transport events and
 * commands into frames; this runs the call around them. It counts bad messages under one flood
 * policy, admits the call, builds the speech side (an audio call or a text speaker) around the
 * session's hooks, buffers what arrives before the session exists, forwards events to the
 * session, sends `clear` on barge-in, echoes marks into the playback tracker, and ends the
 * session when the socket closes.
 *
 * Flood policy (the same for Twilio and the browser): every bad message is counted, answered by
 * the codec's error frame if it has one, and logged (the first 5 in full, then every 10th);
 * at {@link MAX_BAD_MESSAGES} the socket is closed with 1008 and the session ends as
 * `too_many_invalid_messages`. Nothing here throws into the socket: a handler error costs one
 * message, not the process, and never another call.
 *
 * Lifecycle: `runCall` registers on the socket and returns the call's counters. The session
 * starts at open (`codec.startsOnOpen`) or at the carrier's `stream.started`; it is stopped as
 * `caller_hung_up` when the socket closes, whenever that happens (before the session started
 * too). A carrier with a call of its own (Twilio) hangs that call up before the socket closes;
 * otherwise the socket closes once the session has ended.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createAudioCall, type AudioCall } from './audio-call.js';
import type { CallSession } from '../session/call-session.js';
import type {
  CallSpeech,
  SessionNotice,
  SessionOptions,
  SessionTransport,
  SpeechHooks,
  TransferRequest,
} from '../session/session-types.js';
import { createTextSpeaker } from './text-speaker.js';
import type { Providers } from '../providers/create-providers.js';
import { maskPhoneNumber } from '../privacy/phone-number.js';
import type { CallSocket, InboundFrame } from './call-socket.js';
import type { CallCodec, TransportCommand, TransportEvent } from './codec.js';
import type { Slot } from './host.js';
import type { CallRecorder } from '../recording/call-recorder.js';

/** Bad messages tolerated on one socket before it is closed (Twilio and browser alike). */
export const MAX_BAD_MESSAGES = 20;
/** Close code for a socket that kept sending garbage. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** Close code for a call refused at capacity or while the server drains (RFC 6455 "try again later"). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Events kept while the session starts (a few ms; 5 s of 20 ms audio frames is plenty). */
export const MAX_EARLY_EVENTS = 250;
/** How long a carrier's socket may stay open without its `start` message (Twilio sends it at once). */
export const START_TIMEOUT_MS = 10_000;

/** Starts a session for a transport. */
export type SessionStarter = (transport: SessionTransport, opts?: SessionOptions) => Promise<CallSession>;

/** Providers of the audio side. */
export type AudioProviders = Pick<Providers, 'stt' | 'tts' | 'localTts' | 'makeVad'> & {
  /** Call recording (RECORDING=on): a recorder for a conversation, or null (not recorded). */
  openRecorder?: ((conversationId: string) => CallRecorder | null) | undefined;
};

/** What a carrier's own call needs (a call-scoped logger included). */
export interface CarrierCallInfo {
  callSid: string | null;
  claimId: string | null;
  log: Logger;
}

/** A carrier that owns the call beyond the socket (Twilio: the phone call, ended over REST). */
export interface CarrierCall {
  /** Ends the carrier's call for `reason`, before the socket closes. Never rejects. */
  hangUp(reason: string, call: CarrierCallInfo): Promise<void>;
  /** Our speech is down for good: last words in the carrier's own voice, then the hang-up. Never rejects. */
  apologize(call: CarrierCallInfo): Promise<void>;
  /**
   * Redirects the carrier's call to a person, where the carrier can (see
   * `SessionTransport.transfer`). Rejects when the carrier refused; then the call goes on.
   */
  transfer?(request: TransferRequest, call: CarrierCallInfo): Promise<void>;
}

/** What a call needs from the server. */
export interface CallRunDeps {
  startSession: SessionStarter;
  logger: Logger;
  /** The audio side's providers; without them an audio codec's call speaks as text. */
  audio: AudioProviders | null;
  /**
   * Admission at `stream.started` (the first moment the CallSid is known); null refuses the call
   * (closed with 1013). The slot is released when the socket closes. Without it, every call is
   * admitted (a codec that starts on open is admitted by its route before the socket opens).
   */
  admit?: (callSid: string) => Slot | null;
  /** The carrier's own call (Twilio); without one the far end is told `hang_up`. */
  carrier?: CarrierCall;
  /** Session observers (tests, live dashboards). */
  onNotice?: (n: SessionNotice) => void;
  /** Closes a socket that never sends its start message after this long (default START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

/** Counters of one call, for logs and tests. */
export interface CallStats {
  bad: number;
  ignored: number;
  media: number;
  marks: number;
  dtmf: number;
  /** Events dropped because the session took too long to start. */
  dropped: number;
}

/** Said when the browser's audio cannot be voiced any more. */
const SPEECH_UNAVAILABLE = 'speech synthesis is unavailable: the bot answers in text only';

/** Runs one call on `socket` through `codec` (see file header). */
export function runCall(socket: CallSocket, codec: CallCodec, deps: CallRunDeps): CallStats {
  const stats: CallStats = { bad: 0, ignored: 0, media: 0, marks: 0, dtmf: 0, dropped: 0 };
  const component = codec.name.replace(/ /g, '-');
  let log = deps.logger.child({ component });
  let session: CallSession | null = null;
  let audio: AudioCall | null = null;
  let callSid: string | null = null;
  let slot: Slot | null = null;
  /** The session has been asked to start (once). */
  let starting = false;
  /** Why the session must stop as soon as it exists (the socket closed or flooded first). */
  let pendingStop: string | null = null;
  /** Closing on our initiative (flood, refusal): the rest of what the socket sends is not read. */
  let deaf = false;
  /** Why we closed the socket, when it was our decision: the session's end reason. */
  let endedBy: string | null = null;
  const early: TransportEvent[] = [];

  const send = (command: TransportCommand) => {
    const frame = codec.encode(command);
    if (frame !== null && socket.isOpen()) socket.send(frame);
  };
  const close = (code: number, reason: string) => {
    if (socket.isOpen()) socket.close(code, reason);
  };
  const stopSession = (reason: string) => {
    if (session) session.stop(reason);
    else pendingStop ??= reason;
  };
  const carrierInfo = (): CarrierCallInfo => ({ callSid, claimId: session?.claimId ?? null, log });

  const bad = (reason: string) => {
    stats.bad += 1;
    // First few in full, then every 10th: a flood must not flood the logs too.
    if (stats.bad <= 5 || stats.bad % 10 === 0)
      log.warn({ bad: stats.bad, reason }, `invalid ${codec.name} message`);
    send({ type: 'report.error', message: reason });
    if (stats.bad >= MAX_BAD_MESSAGES && !deaf) {
      deaf = true;
      log.warn({ bad: stats.bad }, `closing ${codec.name}: too many invalid messages`);
      // Recorded as the server's decision, not as the caller hanging up (even if the close fires first).
      endedBy = 'too_many_invalid_messages';
      close(CLOSE_POLICY_VIOLATION, 'too many invalid messages');
      stopSession(endedBy);
    }
  };

  const speechFailed = () => {
    if (!deps.carrier) return send({ type: 'report.error', message: SPEECH_UNAVAILABLE });
    log.error('speech synthesis is down and no local voice is installed: ending the call with an apology');
    stopSession('tts_failed');
    void deps.carrier.apologize(carrierInfo()).then(() => close(1000, 'speech unavailable'));
  };

  const openSpeech = (hooks: SpeechHooks, call: { conversationId: string }): CallSpeech => {
    if (!codec.carriesAudio || !deps.audio)
      return { speaker: createTextSpeaker(), interrupt: () => send({ type: 'clear' }) };
    audio = createAudioCall({
      stt: deps.audio.stt,
      tts: deps.audio.tts,
      fallbackTts: deps.audio.localTts,
      makeVad: deps.audio.makeVad,
      recorder: deps.audio.openRecorder?.(call.conversationId) ?? null,
      hooks,
      onSpeechFailed: speechFailed,
      logger: log,
      output: {
        sendAudio: (mulaw) => send({ type: 'send.audio', mulaw }),
        sendMark: (name) => send({ type: 'send.mark', name }),
        clear: () => send({ type: 'clear' }),
      },
    });
    return audio;
  };

  const transport: SessionTransport = {
    channel: codec.channel,
    carriesVoice: codec.carriesAudio && deps.audio !== undefined,
    openSpeech,
    hangUp: async (reason) => {
      if (!deps.carrier) {
        // The socket stays open until `session.ended` (sent right after the call machine ends).
        send({ type: 'hang_up', reason });
        return;
      }
      log.info({ reason }, 'hanging up');
      await deps.carrier.hangUp(reason, carrierInfo());
      close(1000, 'call ended');
    },
    ...(deps.carrier?.transfer
      ? { transfer: (request: TransferRequest) => deps.carrier!.transfer!(request, carrierInfo()) }
      : {}),
    notify: (n) => {
      send({ type: 'tell', notice: n });
      deps.onNotice?.(n);
      // The session is over (bot hang-up, watchdog, error): close once the far end was told why.
      if (n.type === 'session.ended' && !deps.carrier) close(1000, 'call ended');
    },
  };

  const start = (opts?: SessionOptions) => {
    starting = true;
    // The call's id is chosen here, so every line this transport logs for the call carries it.
    const conversationId = opts?.conversationId ?? randomUUID();
    log = log.child({ conversationId });
    deps
      .startSession(transport, { ...opts, conversationId })
      .then((s) => {
        session = s;
        if (pendingStop) return s.stop(pendingStop);
        for (const e of early.splice(0)) dispatch(e);
      })
      .catch((err: unknown) => {
        log.error({ err: (err as Error).message }, 'could not start the call session');
        send({ type: 'report.error', message: 'could not start a session' });
        close(1011, 'session start failed');
      });
  };

  const streamStarted = (e: Extract<TransportEvent, { type: 'stream.started' }>) => {
    if (starting) return bad('second start');
    clearTimeout(startTimer);
    const admitted = deps.admit ? deps.admit(e.callSid) : { release() {} };
    if (!admitted) {
      deaf = true;
      log.warn(`${codec.name} refused at start: no call slot (at capacity or draining)`);
      close(CLOSE_TRY_AGAIN_LATER, 'at capacity');
      return;
    }
    slot = admitted;
    callSid = e.callSid;
    log = log.child({ callSid: e.callSid });
    if (e.droppedParameters > 0)
      log.warn({ dropped: e.droppedParameters }, 'custom parameters dropped: not clean text');
    const params = e.parameters;
    // Last 4 digits only: phone numbers never reach the logs.
    log.info({ from: maskPhoneNumber(params.from), to: maskPhoneNumber(params.to) }, `${codec.name} started`);
    start({
      callSid: e.callSid,
      streamSid: e.streamSid,
      from: params.from ?? null,
      to: params.to ?? null,
      customParameters: params,
    });
  };

  /** Hands an event to the session (which exists). */
  const dispatch = (e: TransportEvent) => {
    const s = session!;
    switch (e.type) {
      case 'audio.received':
        audio?.pushAudio(e.mulaw);
        return;
      case 'mark.received':
        audio?.markReceived(e.name);
        return;
      case 'dtmf.received':
        s.send({ type: 'dtmf.received', digit: e.digit });
        return;
      case 'text.received':
        s.send({ type: 'user.text.received', text: e.text });
        return;
      case 'caller.hung_up':
        log.info({ stats }, `${codec.name} ended by the caller`);
        s.stop('caller_hung_up');
        close(1000, e.closeReason);
        return;
      default:
        return;
    }
  };

  const onEvent = (e: TransportEvent) => {
    if (e.type === 'stream.started') return streamStarted(e);
    if (e.type === 'ping.received') return send({ type: 'pong' });
    if (e.type === 'audio.received') stats.media += 1;
    else if (e.type === 'mark.received') stats.marks += 1;
    else if (e.type === 'dtmf.received') stats.dtmf += 1;
    if (session) return dispatch(e);
    // Before the session exists (it starts in a few ms): keep, bounded.
    if (early.length < MAX_EARLY_EVENTS) early.push(e);
    else if (stats.dropped++ === 0) log.warn(`${codec.name}: session slow to start, dropping early events`);
  };

  const onFrame = (frame: InboundFrame) => {
    if (deaf) return;
    try {
      if (frame.data.byteLength > codec.maxFrameBytes) return bad('frame too large');
      const d = codec.decode(frame);
      if (d.kind === 'bad') return bad(d.reason);
      if (d.kind === 'ignored') {
        stats.ignored += 1;
        log.debug({ event: d.what.slice(0, 40) }, `unknown ${codec.name} event ignored`);
        return;
      }
      if (d.kind === 'event') onEvent(d.event);
    } catch (err) {
      // Defensive: a bug here must cost one message, not the process.
      bad(`handler error: ${(err as Error).message}`);
    }
  };

  // A socket that never says which call it carries holds no slot, but it must not stay open forever.
  const startTimer = codec.startsOnOpen
    ? undefined
    : setTimeout(() => {
        deaf = true;
        log.warn(`${codec.name}: no start message in time; closing`);
        close(CLOSE_POLICY_VIOLATION, 'no start message');
      }, deps.startTimeoutMs ?? START_TIMEOUT_MS);
  startTimer?.unref();

  socket.onMessage(onFrame);
  socket.onClose((code) => {
    clearTimeout(startTimer);
    log.info({ code, stats: { ...stats, ...audio?.stats() } }, `${codec.name} closed`);
    slot?.release();
    stopSession(endedBy ?? 'caller_hung_up');
    audio?.close();
  });
  socket.onError((err) => log.warn({ err: err.message }, `${codec.name} socket error`));
  if (codec.startsOnOpen) start();
  return stats;
}
