/**
 * Builds the live calls view from instances' heartbeat rows as read back from a database (or from
 * this instance alone). Rows written by other instances are validated: a malformed call is left
 * out, never a crash.
 */
import { z } from 'zod';
import type { InstanceState, LiveCall, LiveCallsSource, LiveCallsView, LiveInstance } from './types.js';
import { EXPIRY_HEARTBEATS } from './types.js';

const nullableText = z.string().max(500).nullable();

/** One call as stored in `live_instances.calls`. */
export const liveCallSchema = z.object({
  instanceId: z.string().max(200),
  conversationId: z.string().max(100),
  channel: z.string().max(40),
  callState: nullableText,
  claimState: nullableText,
  claimStep: nullableText,
  startedAt: z.string().max(40),
  latestLatencyMs: z.number().finite().nullable(),
  caller: z.string().max(40).nullable(),
});

/** An instance row as read back: its state plus the heartbeat time. */
export interface InstanceRow extends Omit<InstanceState, 'calls'> {
  heartbeatAt: string;
  /** The stored calls, unvalidated. */
  calls: unknown;
}

/** The valid calls of a row (anything else in it is dropped). */
export function callsOfRow(raw: unknown): LiveCall[] {
  if (!Array.isArray(raw)) return [];
  const out: LiveCall[] = [];
  for (const item of raw) {
    const parsed = liveCallSchema.safeParse(item);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** Options of {@link buildLiveCallsView}. */
export interface BuildViewOptions {
  source: LiveCallsSource;
  instanceId: string;
  heartbeatMs: number;
  /** Rows of live (not expired) instances. */
  rows: InstanceRow[];
  now: Date;
}

/** The view (see file header); calls oldest first, instances by id. */
export function buildLiveCallsView(o: BuildViewOptions): LiveCallsView {
  const nowMs = o.now.getTime();
  const instances: LiveInstance[] = [];
  const calls: LiveCallsView['calls'] = [];
  for (const row of [...o.rows].sort((a, b) => a.instanceId.localeCompare(b.instanceId))) {
    const own = callsOfRow(row.calls).filter((c) => c.instanceId === row.instanceId);
    instances.push({
      instanceId: row.instanceId,
      startedAt: row.startedAt,
      heartbeatAt: row.heartbeatAt,
      draining: row.draining,
      streamUrl: row.streamUrl,
      calls: own.length,
    });
    for (const c of own) {
      const started = Date.parse(c.startedAt);
      calls.push({ ...c, durationMs: Number.isFinite(started) ? Math.max(0, nowMs - started) : 0 });
    }
  }
  calls.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return {
    source: o.source,
    instanceId: o.instanceId,
    heartbeatMs: o.heartbeatMs,
    expiresAfterMs: o.heartbeatMs * EXPIRY_HEARTBEATS,
    generatedAt: o.now.toISOString(),
    instances,
    calls,
  };
}
