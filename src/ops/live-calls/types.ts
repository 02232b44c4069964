/**
 * Shapes of the live calls view: what one instance says about its calls in progress, and the view
 * across every instance that still sends heartbeats. Serializable (they travel through the
 * database as JSON). No personal data beyond the masked caller number.
 */

/** One call in progress on one instance. */
export interface LiveCall {
  instanceId: string;
  conversationId: string;
  /** `phone`, `browser` or `terminal`. */
  channel: string;
  /** Dotted state of the call machine, e.g. `active.responding.speaking`. */
  callState: string | null;
  /** Dotted state of the claim machine, e.g. `ongoing.collectingDate`. */
  claimState: string | null;
  /** The claim state's meta label, e.g. `Collecting the date`. */
  claimStep: string | null;
  /** ISO instant the call started (on its instance's clock). */
  startedAt: string;
  /** Latest turn's caller-stops-speaking -> first bot audio, ms; null before the first answer. */
  latestLatencyMs: number | null;
  /** The caller's number, masked (last 4 digits), or null (browser calls). */
  caller: string | null;
}

/** What an instance publishes: itself and its calls. */
export interface InstanceState {
  instanceId: string;
  /** ISO instant the instance started. */
  startedAt: string;
  /** A drain (SIGTERM) started: it takes no new calls. */
  draining: boolean;
  /** The media stream URL this instance advertises to Twilio (PUBLIC_STREAM_URL), if set. */
  streamUrl: string | null;
  calls: LiveCall[];
}

/** An instance as the view shows it. */
export interface LiveInstance {
  instanceId: string;
  startedAt: string;
  /** ISO instant of its last heartbeat (database clock where there is one). */
  heartbeatAt: string;
  draining: boolean;
  streamUrl: string | null;
  calls: number;
}

/** A call as the view shows it: with its duration at the time of the view. */
export interface LiveCallView extends LiveCall {
  durationMs: number;
}

/** Where the view comes from. */
export type LiveCallsSource = 'postgres' | 'supabase' | 'in-process';

/** The live calls across every instance whose heartbeat has not expired. */
export interface LiveCallsView {
  source: LiveCallsSource;
  /** The instance that answered. */
  instanceId: string;
  heartbeatMs: number;
  /** An instance whose last heartbeat is older than this is gone, with its calls. */
  expiresAfterMs: number;
  generatedAt: string;
  instances: LiveInstance[];
  /** Oldest call first. */
  calls: LiveCallView[];
}

/**
 * The live calls feed of one instance: publishes its own state, reads everyone's.
 * `start` never rejects because the database is down (it retries on the next heartbeat);
 * `view` rejects when the database cannot be read; `stop` never rejects.
 */
export interface LiveCallsFeed {
  readonly source: LiveCallsSource;
  start(): Promise<void>;
  /** The view now (a query, except in process). */
  view(): Promise<LiveCallsView>;
  /**
   * Called when the view may have changed: a change on any instance (NOTIFY, Realtime), and on every
   * heartbeat tick (expiry, durations). Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void;
  stop(): Promise<void>;
}

/** Default heartbeat interval (LIVE_HEARTBEAT_S). */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/** Heartbeats missed before an instance and its calls leave the view. */
export const EXPIRY_HEARTBEATS = 3;
