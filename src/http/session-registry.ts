/**
 * Admission control: counts calls against MAX_CONCURRENT_CALLS.
 *
 * A slot is either *live* (a socket that is open and serving a call) or *reserved* (the Twilio
 * webhook told Twilio to connect a stream for this CallSid, and the stream has not started yet).
 * Reserving at the webhook is what makes a burst safe: 20 webhooks before 20 upgrades cannot all
 * be told to connect when only 10 slots are free. A reservation that is not claimed within
 * `reservationTtlMs` (the stream never came) frees its slot again.
 *
 * Slots are only ever taken once a socket is open (`tryAcquire`, `claim`), so a refused or
 * malformed WebSocket upgrade holds nothing. Every `Slot.release()` is idempotent: a close event
 * fired twice cannot free another call's slot.
 *
 * Draining (SIGTERM): `startDraining()` makes every new `reserve` and `tryAcquire` fail, while the
 * reservations already handed out can still be claimed (Twilio is already connecting those calls).
 *
 * Expiry is checked lazily against the injected clock on every call: no timers to leak or unref.
 */
import type { AdmissionStats, CallAdmission, Slot } from '../transports/host.js';

export type { AdmissionStats, Slot };

/** The registry (see file header): the admission port transports use, plus draining. */
export interface SessionRegistry extends CallAdmission {
  /** From now on no new reservation or slot is granted; live calls and reservations are kept. */
  startDraining(): void;
}

/** Options of {@link createSessionRegistry}. */
export interface SessionRegistryOptions {
  /** How long a webhook reservation waits for its stream (CALL_RESERVATION_TTL_S). Default 15 s. */
  reservationTtlMs?: number;
  /** Milliseconds clock (tests inject one). Default `performance.now`. */
  now?: () => number;
}

/** Default expiry of a webhook reservation. */
export const DEFAULT_RESERVATION_TTL_MS = 15_000;

/** Creates a registry with `limit` slots. */
export function createSessionRegistry(limit: number, opts: SessionRegistryOptions = {}): SessionRegistry {
  const ttl = opts.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  const now = opts.now ?? (() => performance.now());
  let active = 0;
  let draining = false;
  /** CallSid → expiry time. */
  const reservations = new Map<string, number>();

  const sweep = () => {
    const t = now();
    for (const [sid, expiresAt] of reservations) if (expiresAt <= t) reservations.delete(sid);
  };
  const used = () => {
    sweep();
    return active + reservations.size;
  };
  const liveSlot = (): Slot => {
    active += 1;
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        active -= 1;
      },
    };
  };

  return {
    limit,
    tryAcquire() {
      if (draining || used() >= limit) return null;
      return liveSlot();
    },
    reserve(callSid) {
      if (draining) return false;
      sweep();
      if (!reservations.has(callSid) && used() >= limit) return false;
      reservations.set(callSid, now() + ttl);
      return true;
    },
    claim(callSid) {
      sweep();
      if (!reservations.delete(callSid)) return null;
      return liveSlot();
    },
    size: used,
    isFull: () => used() >= limit,
    stats() {
      const total = used();
      return { limit, active, reserved: total - active, draining };
    },
    startDraining() {
      draining = true;
    },
    isDraining: () => draining,
  };
}
