/**
 * Counts live calls against MAX_CONCURRENT_CALLS. A slot is reserved before a session starts and
 * released when its socket closes, so a burst of calls cannot overshoot the limit.
 */
export interface SessionRegistry {
  /** Takes a slot if one is free. */
  tryReserve(): boolean;
  release(): void;
  size(): number;
  readonly limit: number;
  /** Stops admitting calls for good (a drain started): every later reservation fails. */
  startDraining(): void;
  isDraining(): boolean;
}

/** Creates a registry with `limit` slots. */
export function createSessionRegistry(limit: number): SessionRegistry {
  let active = 0;
  let draining = false;
  return {
    limit,
    startDraining() {
      draining = true;
    },
    isDraining: () => draining,
    tryReserve() {
      if (draining || active >= limit) return false;
      active += 1;
      return true;
    },
    release() {
      active = Math.max(0, active - 1);
    },
    size: () => active,
  };
}
