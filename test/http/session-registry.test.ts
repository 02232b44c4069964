/**
 * Admission control in isolation, on an injected clock (no timers, no waits).
 */
import { createSessionRegistry } from '../../src/http/session-registry.js';

function registry(limit: number, ttlMs = 15_000) {
  let t = 0;
  const sessions = createSessionRegistry(limit, { reservationTtlMs: ttlMs, now: () => t });
  return { sessions, advance: (ms: number) => (t += ms) };
}

describe('the session registry', () => {
  it('grants at most `limit` slots, counting live calls and webhook reservations together', () => {
    const { sessions } = registry(3);
    expect(sessions.reserve('CA1')).toBe(true);
    expect(sessions.tryAcquire()).not.toBeNull();
    expect(sessions.reserve('CA2')).toBe(true);
    expect(sessions.reserve('CA3')).toBe(false);
    expect(sessions.tryAcquire()).toBeNull();
    expect(sessions.stats()).toEqual({ limit: 3, active: 1, reserved: 2, draining: false });
  });

  it('turns a reservation into a live slot when its stream claims it, once', () => {
    const { sessions } = registry(1);
    sessions.reserve('CA1');
    const slot = sessions.claim('CA1');
    expect(slot).not.toBeNull();
    expect(sessions.claim('CA1')).toBeNull();
    expect(sessions.stats()).toMatchObject({ active: 1, reserved: 0 });
    slot!.release();
    expect(sessions.size()).toBe(0);
  });

  it('frees the slot of a reservation whose stream never arrives once it expires', () => {
    const { sessions, advance } = registry(1, 15_000);
    sessions.reserve('CA1');
    advance(14_999);
    expect(sessions.reserve('CA2')).toBe(false);
    advance(1);
    expect(sessions.size()).toBe(0);
    expect(sessions.claim('CA1')).toBeNull();
    expect(sessions.reserve('CA2')).toBe(true);
  });

  it('refreshes the reservation of a retried webhook instead of taking a second slot', () => {
    const { sessions, advance } = registry(2);
    sessions.reserve('CA1');
    advance(10_000);
    expect(sessions.reserve('CA1')).toBe(true);
    expect(sessions.size()).toBe(1);
    advance(10_000);
    expect(sessions.claim('CA1')).not.toBeNull();
  });

  it('lets a retried webhook keep its reservation even when the other slots filled up', () => {
    const { sessions } = registry(1);
    sessions.reserve('CA1');
    expect(sessions.reserve('CA1')).toBe(true);
  });

  it('frees a slot once however many times it is released', () => {
    const { sessions } = registry(2);
    const a = sessions.tryAcquire()!;
    sessions.tryAcquire();
    a.release();
    a.release();
    expect(sessions.size()).toBe(1);
  });

  it('admits nothing new while draining but still lets reserved streams claim their slot', () => {
    const { sessions } = registry(5);
    sessions.reserve('CA1');
    sessions.startDraining();
    expect(sessions.isDraining()).toBe(true);
    expect(sessions.reserve('CA2')).toBe(false);
    expect(sessions.tryAcquire()).toBeNull();
    expect(sessions.claim('CA1')).not.toBeNull();
    expect(sessions.stats()).toMatchObject({ active: 1, reserved: 0, draining: true });
  });
});
