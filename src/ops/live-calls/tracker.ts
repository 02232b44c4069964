/**
 * This instance's calls in progress, in memory: the source every live calls feed publishes.
 *
 * The composition root reports call lifecycle and state changes here (from the session's notices,
 * never from audio); each method is synchronous, cheap and never throws. Listeners hear only real
 * changes (a state reported twice is not a change), so publishing stays coalesced to state changes.
 */
import type { InstanceState, LiveCall } from './types.js';
import { createChangeListeners } from './listeners.js';

/** What may change on a call after it started. */
export type LiveCallPatch = Partial<
  Pick<LiveCall, 'callState' | 'claimState' | 'claimStep' | 'latestLatencyMs'>
>;

/** The tracker (see file header). */
export interface LiveCallTracker {
  readonly instanceId: string;
  callStarted(call: { conversationId: string; channel: string; caller: string | null }): void;
  callChanged(conversationId: string, patch: LiveCallPatch): void;
  callEnded(conversationId: string): void;
  /** A drain started: shown on the instance. */
  setDraining(): void;
  /** This instance and its calls now (a copy). */
  state(): InstanceState;
  /** Hears every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Options of {@link createLiveCallTracker}. */
export interface LiveCallTrackerOptions {
  instanceId: string;
  /** The stream URL this instance gives Twilio (PUBLIC_STREAM_URL), shown with the instance. */
  streamUrl?: string | null;
  /** Wall clock (tests inject one). */
  now?: () => Date;
}

const PATCH_KEYS = ['callState', 'claimState', 'claimStep', 'latestLatencyMs'] as const;

/** Creates the tracker (see file header). */
export function createLiveCallTracker(opts: LiveCallTrackerOptions): LiveCallTracker {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const calls = new Map<string, LiveCall>();
  const listeners = createChangeListeners();
  let draining = false;

  const changed = () => listeners.tell();

  return {
    instanceId: opts.instanceId,
    callStarted({ conversationId, channel, caller }) {
      if (calls.has(conversationId)) return;
      calls.set(conversationId, {
        instanceId: opts.instanceId,
        conversationId,
        channel,
        callState: null,
        claimState: null,
        claimStep: null,
        startedAt: now().toISOString(),
        latestLatencyMs: null,
        caller,
      });
      changed();
    },
    callChanged(conversationId, patch) {
      const call = calls.get(conversationId);
      if (!call) return;
      let any = false;
      for (const key of PATCH_KEYS) {
        const value = patch[key];
        if (value === undefined || call[key] === value) continue;
        (call as unknown as Record<string, unknown>)[key] = value;
        any = true;
      }
      if (any) changed();
    },
    callEnded(conversationId) {
      if (calls.delete(conversationId)) changed();
    },
    setDraining() {
      if (draining) return;
      draining = true;
      changed();
    },
    state() {
      return {
        instanceId: opts.instanceId,
        startedAt,
        draining,
        streamUrl: opts.streamUrl ?? null,
        calls: [...calls.values()].map((c) => ({ ...c })),
      };
    },
    onChange: (listener) => listeners.subscribe(listener),
  };
}
