/**
 * `/client/stream`: talk to the bot from a browser (or the terminal chat) over one WebSocket.
 *
 * Client → server (JSON text frames, validated):
 *   {"event":"text","text":"..."}      a typed caller turn
 *   {"event":"dtmf","digit":"1"}       a keypad digit (0-9 * #)
 *   {"event":"hangup"}                 the caller leaves
 * Server → client: every SessionNotice as {"event": notice.type, ...fields} (for `state.changed`
 * the triggering event's type is in `eventType`, since `event` is the frame's own type), plus
 *   {"event":"clear"}                  barge-in: stop local playback now
 *   {"event":"error","message":"..."}  a message was refused (the session goes on)
 * The session starts when the socket opens (the bot speaks first) and ends when either side hangs up;
 * when the bot ends the call the client gets `hangup`, then `session.ended`, then a 1000 close.
 */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CallSession } from '../engine/call-session.js';
import type { SessionNotice, SessionTransport, SessionOptions } from '../engine/session-types.js';
import { createTextSpeaker } from '../engine/text-speaker.js';
import { createAudioCall, type AudioCall } from '../engine/audio-call.js';
import type { Providers } from '../providers/create-providers.js';
import { noticeFrame, type ServerFrame } from './browser-protocol.js';

const clientMessage = z.discriminatedUnion('event', [
  z.object({ event: z.literal('text'), text: z.string().trim().min(1).max(2000) }),
  z.object({ event: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#]$/) }),
  z.object({ event: z.literal('hangup') }),
  z.object({ event: z.literal('ping') }),
  z.object({ event: z.literal('mark'), name: z.string().min(1).max(128) }),
]);

/** Providers for audio mode. */
export type BrowserAudioProviders = Pick<Providers, 'stt' | 'tts' | 'localTts' | 'makeVad'>;

/** Starts a session for a transport; injected so the handler knows nothing of the engine's deps. */
export type SessionStarter = (transport: SessionTransport, opts?: SessionOptions) => Promise<CallSession>;

const MAX_BAD_MESSAGES = 20;
const MAX_FRAME_BYTES = 64 * 1024;

/** Serves one browser/terminal connection until it closes. */
export async function handleBrowserStream(
  ws: WebSocket,
  startSession: SessionStarter,
  logger: Logger,
  audioProviders: BrowserAudioProviders | null = null,
): Promise<void> {
  let badMessages = 0;
  let session: CallSession | null = null;
  const pending: string[] = [];
  const sendJson = (obj: ServerFrame | Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj));
  };
  const notify = (n: SessionNotice) => {
    sendJson(noticeFrame(n));
    // The session is over (bot hang-up, watchdog, error): close once the client was told why.
    if (n.type === 'session.ended' && ws.readyState === ws.OPEN) ws.close(1000, 'call ended');
  };
  const audio: AudioCall | null = audioProviders
    ? createAudioCall({
        stt: audioProviders.stt,
        tts: audioProviders.tts,
        fallbackTts: audioProviders.localTts,
        makeVad: audioProviders.makeVad,
        onSpeechFailed: () =>
          sendJson({
            event: 'error',
            message: 'speech synthesis is unavailable: the bot answers in text only',
          }),
        logger: logger.child({ component: 'browser-audio' }),
        output: {
          sendAudio: (mulaw) => {
            if (ws.readyState === ws.OPEN) ws.send(mulaw, { binary: true });
          },
          sendMark: (name) => sendJson({ event: 'mark', name }),
          clear: () => sendJson({ event: 'clear' }),
        },
      })
    : null;
  const transport: SessionTransport = {
    channel: 'browser',
    speaker: audio ? audio.speaker : createTextSpeaker(),
    ...(audio ? { sttLogic: audio.sttLogic } : {}),
    interrupt: () => (audio ? audio.interrupt() : sendJson({ event: 'clear' })),
    // The socket stays open until `session.ended` (sent right after the call machine ends).
    hangUp: async (reason) => sendJson({ event: 'hangup', reason }),
    notify,
  };

  const onMessage = (raw: string) => {
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return refuse('invalid JSON');
    }
    const parsed = clientMessage.safeParse(data);
    if (!parsed.success)
      return refuse(`unsupported message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const m = parsed.data;
    if (!session) return;
    if (m.event === 'text') session.send({ type: 'user.text.received', text: m.text });
    else if (m.event === 'dtmf') session.send({ type: 'dtmf.received', digit: m.digit });
    else if (m.event === 'mark') audio?.markReceived(m.name);
    else if (m.event === 'hangup') {
      session.stop('caller_hung_up');
      ws.close(1000, 'bye');
    } else sendJson({ event: 'pong' });
  };

  const refuse = (message: string) => {
    badMessages += 1;
    logger.warn({ badMessages }, `browser stream: ${message}`);
    sendJson({ event: 'error', message });
    if (badMessages >= MAX_BAD_MESSAGES) {
      ws.close(1008, 'too many invalid messages');
      // Recorded as the server's decision, not as the caller hanging up.
      session?.stop('too_many_invalid_messages');
    }
  };

  ws.on('message', (data, isBinary) => {
    const size = Array.isArray(data) ? data.reduce((a, b) => a + b.length, 0) : (data as Buffer).byteLength;
    if (size > MAX_FRAME_BYTES) return refuse('frame too large');
    if (isBinary) {
      if (!audio) return refuse('binary frames are not accepted (connect with ?audio=1 to send audio)');
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      audio.pushAudio(buf);
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    if (!session) pending.push(text);
    else onMessage(text);
  });
  ws.on('close', () => {
    session?.stop('caller_hung_up');
    audio?.close();
  });
  ws.on('error', (err) => logger.warn({ err: err.message }, 'browser stream socket error'));

  try {
    session = await startSession(transport);
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'could not start browser session');
    sendJson({ event: 'error', message: 'could not start a session' });
    ws.close(1011, 'session start failed');
    return;
  }
  audio?.attach(session);
  if (ws.readyState !== ws.OPEN) {
    session.stop('caller_hung_up');
    return;
  }
  for (const m of pending.splice(0)) onMessage(m);
}
