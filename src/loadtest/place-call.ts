/**
 * One simulated caller's call against a deployment: the signed webhook, the Media Stream from the
 * TwiML's `<Stream url>`, the greeting, then each scripted turn once the bot went quiet, timed from
 * the caller's last frame (or keypress) to the next bot audio; after the last turn the bot is
 * expected to say goodbye and close the stream (the claim is filed). Every way a call can go wrong
 * becomes one failure kind; nothing throws.
 */
import { randomBytes } from 'node:crypto';
import { CALLER_TURNS, type CallerTurn, type TurnInput } from './caller-script.js';
import { waitForBotToFinish } from './bot-turns.js';
import { startTwilioCall, TwilioCallRejectedError, type TwilioCall } from './twilio-caller.js';

/** Why a call failed. */
export const FAILURE_KINDS = {
  webhook_http: 'the voice webhook answered an HTTP error',
  webhook_refused: 'the webhook answered TwiML without <Connect><Stream> (busy, draining)',
  stream_refused: 'the media stream upgrade was refused',
  connect_error: 'the webhook or the stream could not be reached',
  no_greeting: 'no bot audio after the stream started',
  no_answer: 'the bot did not answer a caller turn in time',
  dropped: 'the server closed the stream before the script ended',
  not_completed: 'the bot did not hang up after the last turn',
  protocol_error: 'the server sent messages Twilio would reject',
} as const;
export type FailureKind = keyof typeof FAILURE_KINDS;

/** A timed caller turn. */
export interface TurnLatency {
  turn: CallerTurn;
  /** Caller speech end (last frame or keypress) -> first bot audio, ms. */
  latencyMs: number;
}

/** How one call went. */
export interface CallOutcome {
  status: 'completed' | 'failed' | 'aborted';
  failure?: FailureKind;
  /** A short reason (no secrets: URLs and statuses only). */
  detail?: string;
  /** Stream `start` -> first bot audio, ms. */
  greetingMs?: number;
  turns: TurnLatency[];
  durationMs: number;
}

/** Options of {@link placeCall}. */
export interface PlaceCallOptions {
  /** Base URL the webhook is POSTed to (`--url`). */
  url: string;
  /** The URL the deployment validates signatures against (its PUBLIC_URL). Default `url`. */
  publicUrl?: string;
  webhookPath: string;
  authToken?: string | undefined;
  to: string;
  script: Record<CallerTurn, TurnInput>;
  /** Longest wait for any one answer, and for the hang-up. */
  turnTimeoutMs: number;
  signal?: AbortSignal;
}

/** A caller number in the fictional 555-01xx range, so no real number is ever dialled from. */
function fakeCaller(): string {
  return `+1555010${String(randomBytes(1)[0]! % 100).padStart(2, '0')}`;
}

class Aborted extends Error {}

/** Places one call (see file header). */
export async function placeCall(opts: PlaceCallOptions): Promise<CallOutcome> {
  const t0 = performance.now();
  const turns: TurnLatency[] = [];
  const done = (o: Omit<CallOutcome, 'turns' | 'durationMs'>): CallOutcome => ({
    ...o,
    turns,
    durationMs: Math.round(performance.now() - t0),
  });
  let call: TwilioCall;
  try {
    call = await startTwilioCall({
      serverBaseUrl: opts.url,
      publicUrl: opts.publicUrl ?? opts.url,
      voicePath: opts.webhookPath,
      from: fakeCaller(),
      to: opts.to,
      streamVia: 'twiml',
      timeoutMs: opts.turnTimeoutMs,
      ...(opts.authToken ? { authToken: opts.authToken } : {}),
    });
  } catch (err) {
    if (err instanceof TwilioCallRejectedError) {
      if (/upgrade refused/.test(err.message))
        return done({ status: 'failed', failure: 'stream_refused', detail: `HTTP ${err.status}` });
      if (err.status !== 200)
        return done({ status: 'failed', failure: 'webhook_http', detail: `HTTP ${err.status}` });
      return done({ status: 'failed', failure: 'webhook_refused', detail: err.message.slice(0, 120) });
    }
    return done({
      status: 'failed',
      failure: 'connect_error',
      detail: String((err as Error).message).slice(0, 120),
    });
  }

  const media: number[] = [];
  call.on('media', () => media.push(performance.now()));
  const onAbort = () => call.terminate();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const check = () => {
    if (opts.signal?.aborted) throw new Aborted();
  };
  const startedAt = performance.now();
  let greetingMs: number | undefined;
  try {
    try {
      await call.waitForMedia(1, opts.turnTimeoutMs);
    } catch {
      check();
      return done({ status: 'failed', failure: call.closed ? 'dropped' : 'no_greeting' });
    }
    greetingMs = Math.round(media[0]! - startedAt);
    for (const [i, turn] of CALLER_TURNS.entries()) {
      try {
        await waitForBotToFinish(call, 0, opts.turnTimeoutMs);
      } catch {
        check();
        return done({
          status: 'failed',
          failure: call.closed ? 'dropped' : 'no_answer',
          greetingMs,
          detail: `before ${turn}`,
        });
      }
      check();
      if (call.closed)
        return done({ status: 'failed', failure: 'dropped', greetingMs, detail: `before ${turn}` });
      const input = opts.script[turn];
      const since = call.receivedBytes;
      if (input.kind === 'audio') await call.sendAudio(input.audio);
      else for (const key of input.keys) call.sendDtmf(key);
      const endAt = performance.now();
      try {
        await call.waitForMedia(since + 1, opts.turnTimeoutMs);
      } catch {
        check();
        return done({
          status: 'failed',
          failure: call.closed ? 'dropped' : 'no_answer',
          greetingMs,
          detail: turn,
        });
      }
      const first = media.find((m) => m >= endAt);
      if (first !== undefined) turns.push({ turn, latencyMs: Math.round(first - endAt) });
      if (i === CALLER_TURNS.length - 1) {
        // The claim is filed: the bot says goodbye and closes the stream itself.
        const closed = await call.waitForClosed(opts.turnTimeoutMs * 2).catch(() => null);
        check();
        if (!closed || closed.by !== 'server')
          return done({ status: 'failed', failure: 'not_completed', greetingMs });
      }
    }
    if (call.protocolErrors.length)
      return done({
        status: 'failed',
        failure: 'protocol_error',
        greetingMs,
        detail: call.protocolErrors[0]!.slice(0, 120),
      });
    return done({ status: 'completed', greetingMs });
  } catch (err) {
    if (err instanceof Aborted)
      return done({ status: 'aborted', ...(greetingMs !== undefined ? { greetingMs } : {}) });
    return done({
      status: 'failed',
      failure: 'dropped',
      detail: String((err as Error).message).slice(0, 120),
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (!call.closed) await Promise.race([call.hangUp(), new Promise((r) => setTimeout(r, 2000))]);
    call.terminate();
  }
}
