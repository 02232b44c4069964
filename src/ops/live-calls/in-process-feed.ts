/**
 * The live calls feed of a single instance (embedded PGlite: no other instance can share its
 * database): the view is this instance's tracker, changes are its changes, and a heartbeat tick
 * refreshes durations. Nothing is written anywhere.
 */
import type { LiveCallTracker } from './tracker.js';
import { buildLiveCallsView } from './view.js';
import type { LiveCallsFeed } from './types.js';
import { createChangeListeners } from './listeners.js';

/** Creates the feed (see file header). */
export function createInProcessLiveFeed(opts: {
  tracker: LiveCallTracker;
  heartbeatMs: number;
  now?: () => Date;
}): LiveCallsFeed {
  const now = opts.now ?? (() => new Date());
  const listeners = createChangeListeners();
  const tell = () => listeners.tell();
  let unsubscribe: (() => void) | null = null;
  let tick: NodeJS.Timeout | undefined;
  return {
    source: 'in-process',
    async start() {
      unsubscribe = opts.tracker.onChange(tell);
      tick = setInterval(tell, opts.heartbeatMs);
      tick.unref();
    },
    async view() {
      const state = opts.tracker.state();
      const at = now();
      return buildLiveCallsView({
        source: 'in-process',
        instanceId: state.instanceId,
        heartbeatMs: opts.heartbeatMs,
        rows: [{ ...state, heartbeatAt: at.toISOString() }],
        now: at,
      });
    },
    subscribe: (listener) => listeners.subscribe(listener),
    async stop() {
      unsubscribe?.();
      if (tick) clearInterval(tick);
      listeners.clear();
    },
  };
}
