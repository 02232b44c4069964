/**
 * Feeds the live calls tracker from a session's notices (what the browser client sees too): the
 * call started, the call and claim machines changed state, a turn's latency was measured, the
 * call ended. Never audio, never transcripts; the caller's number is masked before it is kept.
 */
import { claimMetaOfPath, claimPathOfValue } from '../../machines/claim/claim.view.js';
import type { StateValue } from 'xstate';
import type { LiveCallTracker } from '../ops/live-calls/tracker.js';
import { maskPhoneNumber } from '../privacy/phone-number.js';
import type { SessionNotice, SessionTransport } from '../session/session-types.js';

/** Dotted path of a recorded state value (`active.responding.speaking`), or null. */
function pathOf(value: unknown): string | null {
  if (typeof value === 'string') return value.slice(0, 200);
  if (value && typeof value === 'object') return claimPathOfValue(value as StateValue).slice(0, 200) || null;
  return null;
}

/** Applies one notice to the tracker. Never throws. */
export function trackNotice(
  tracker: LiveCallTracker,
  notice: SessionNotice,
  call: { conversationId: string | null; from?: string | null | undefined },
): string | null {
  switch (notice.type) {
    case 'session.started':
      tracker.callStarted({
        conversationId: notice.conversationId,
        channel: notice.channel,
        caller: maskPhoneNumber(call.from),
      });
      return notice.conversationId;
    case 'state.changed':
      if (call.conversationId && notice.actor === 'call')
        tracker.callChanged(call.conversationId, { callState: pathOf(notice.value) });
      return call.conversationId;
    case 'claim.updated':
      if (call.conversationId)
        tracker.callChanged(call.conversationId, {
          claimState: notice.claim.path,
          claimStep: claimMetaOfPath(notice.claim.path).label || null,
        });
      return call.conversationId;
    case 'metrics.turn': {
      const ms = notice.timing.latencyMs;
      if (call.conversationId && typeof ms === 'number' && Number.isFinite(ms))
        tracker.callChanged(call.conversationId, { latestLatencyMs: Math.round(ms) });
      return call.conversationId;
    }
    case 'session.ended':
      if (call.conversationId) tracker.callEnded(call.conversationId);
      return call.conversationId;
    default:
      return call.conversationId;
  }
}

/**
 * The same transport, whose notices also go to the tracker (before the transport's own observers).
 * `from` is the caller's number as the carrier gave it (masked here).
 */
export function observedTransport(
  tracker: LiveCallTracker,
  transport: SessionTransport,
  from: string | null | undefined,
): SessionTransport {
  let conversationId: string | null = null;
  const notify = (notice: SessionNotice) => {
    try {
      conversationId = trackNotice(tracker, notice, { conversationId, from });
    } catch {
      /* the live view is best effort; the call goes on */
    }
    transport.notify(notice);
  };
  // Everything else is the transport's own (channel, speech, hang-up, transfer, and whatever a
  // transport adds later): a wrapper listing members would silently drop new ones.
  return new Proxy(transport, {
    get(target, prop) {
      if (prop === 'notify') return notify;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
