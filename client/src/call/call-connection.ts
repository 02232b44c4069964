/**
 * One call over `/client/stream`: the WebSocket, the microphone and the speaker, glued by the
 * protocol. Text mode carries typed turns only; audio mode adds 20 ms mu-law frames both ways and
 * the mark / clear bookkeeping (marks echoed once the audio before them was played; `clear` stops
 * playback at once and echoes every pending mark).
 *
 * Lifecycle: `startCall(...)` opens everything; the call ends when the server ends it (`hangup`,
 * `session.ended`, socket close) or on `hangUp()`. `onEnded` fires exactly once. Nothing throws
 * after start: failures become `onError` messages.
 */
import { callSocketUrl } from '../lib/api';
import { startMicCapture, type MicCapture } from '../audio/mic-capture';
import { createPlayer, type Player } from '../audio/player';
import { parseServerFrame, type ClientFrame, type ServerFrame } from './protocol';

/** What a call reports to the page. */
export interface CallHandlers {
  onFrame(frame: ServerFrame): void;
  onError(message: string): void;
  /** The call is over (server hang-up, socket closed, or `hangUp()`). */
  onEnded(reason: string): void;
  onMicLevel?(rms: number): void;
  onSpeakingChange?(botAudible: boolean): void;
}

/** A call in progress. */
export interface CallConnection {
  readonly mode: 'text' | 'audio';
  sendText(text: string): void;
  sendDtmf(digit: string): void;
  setMuted(muted: boolean): void;
  readonly muted: boolean;
  hangUp(): void;
}

/** Why a microphone could not be opened, in words a user can act on. */
export function micErrorMessage(err: unknown): string {
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'The microphone is blocked. Allow it for this site (address bar), or chat without a microphone.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return 'No microphone was found. Plug one in, or chat without a microphone.';
  if (!window.isSecureContext)
    return 'Browsers only open the microphone on https:// or localhost. Use one of those, or chat without a microphone.';
  return `The microphone could not be opened (${(err as Error)?.message ?? String(err)}).`;
}

/**
 * Starts a call. In audio mode the microphone is asked for first (it rejects with a readable
 * message when refused) and `ctx` must be an AudioContext created during the user's click.
 */
export async function startCall(
  mode: 'text' | 'audio',
  handlers: CallHandlers,
  ctx: AudioContext | null,
): Promise<CallConnection> {
  let mic: MicCapture | null = null;
  let player: Player | null = null;
  let ended = false;
  let ws: WebSocket | null = null;

  const send = (f: ClientFrame) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(f));
  };
  const echoMark = (name: string) => send({ event: 'mark', name });

  const finish = (reason: string) => {
    if (ended) return;
    ended = true;
    mic?.stop();
    // Let the goodbye finish playing; the page closes the AudioContext later.
    if (ws?.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
    else if (ws?.readyState === WebSocket.CONNECTING) {
      const w = ws;
      w.onopen = () => w.close(1000, 'bye');
    }
    handlers.onEnded(reason);
  };

  if (mode === 'audio') {
    if (!ctx) throw new Error('audio mode needs an AudioContext');
    player = await createPlayer(ctx, {
      onMarkPlayed: echoMark,
      onPlayingChange: (p) => handlers.onSpeakingChange?.(p),
    });
    try {
      mic = await startMicCapture(ctx, {
        onFrame: (frame) => {
          if (ws && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 64 * 1024) ws.send(frame);
        },
        onLevel: (rms) => handlers.onMicLevel?.(rms),
      });
    } catch (err) {
      player.close();
      throw new Error(micErrorMessage(err), { cause: err });
    }
  }

  ws = new WebSocket(callSocketUrl(mode === 'audio'));
  ws.binaryType = 'arraybuffer';
  let endReason = 'the connection closed';
  ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
    if (typeof e.data !== 'string') {
      player?.enqueue(new Uint8Array(e.data));
      return;
    }
    const frame = parseServerFrame(e.data);
    if (!frame) return;
    if (frame.event === 'mark') {
      if (player) player.mark(frame.name);
      else echoMark(frame.name);
      return;
    }
    if (frame.event === 'clear') {
      for (const name of player?.clear() ?? []) echoMark(name);
    }
    if (frame.event === 'hangup') endReason = frame.reason ?? 'the bot hung up';
    if (frame.event === 'session.ended') endReason = frame.reason;
    if (frame.event === 'error') handlers.onError(frame.message);
    handlers.onFrame(frame);
  };
  ws.onerror = () => {
    if (!ended) handlers.onError('The connection to the server failed.');
  };
  ws.onclose = (e) => {
    if (e.code !== 1000 && e.code !== 1005 && !ended) {
      handlers.onError(
        e.reason ? `The server closed the call: ${e.reason}` : `The call was cut (code ${e.code}).`,
      );
    }
    finish(endReason);
  };

  return {
    mode,
    sendText(text) {
      send({ event: 'text', text });
    },
    sendDtmf(digit) {
      send({ event: 'dtmf', digit });
    },
    setMuted(m) {
      mic?.setMuted(m);
    },
    get muted() {
      return mic?.muted ?? false;
    },
    hangUp() {
      if (ended) return;
      // Anything still queued is not going to be heard.
      player?.clear();
      send({ event: 'hangup' });
      finish('you hung up');
    },
  };
}
