/**
 * The post-call report: what a conversation came to, as the webhook receiver gets it (JSON,
 * camelCase, versioned). Built from the stored conversation once its last rows are written, so it
 * says exactly what the database and the dashboard say. Phone numbers are as stored (masked unless
 * STORE_FULL_NUMBERS); tool and system messages stay internal; the recording is a URL on this
 * server (behind the dashboard token), never the audio itself.
 *
 * The schema is documented in the README (Post-call report); bump {@link POST_CALL_REPORT_VERSION}
 * on any change a receiver could notice.
 */
import type { ConversationDetail, MetricsRow } from '../store/types.js';

/** Version of the payload's shape. */
export const POST_CALL_REPORT_VERSION = 1;

/** avg/min/max of one timing in ms (null: never measured). */
export interface Timing {
  avgMs: number | null;
  minMs: number | null;
  maxMs: number | null;
}

/** One provider role's metrics. */
export interface ProviderTimings {
  provider: string | null;
  ttfb: Timing;
  processing: Timing;
}

/** The JSON body POSTed to POST_CALL_WEBHOOK_URL. */
export interface PostCallReport {
  type: 'conversation.ended';
  version: typeof POST_CALL_REPORT_VERSION;
  conversation: {
    id: string;
    channel: string;
    callSid: string | null;
    from: string | null;
    to: string | null;
    createdAt: string;
    endedAt: string | null;
    durationMs: number | null;
    endReason: string | null;
    /** The claim flow's phase at the end: initial | ongoing | done. */
    state: string;
    machineVersion: string;
  };
  claim: { claimId: string; claimDate: string | null; claimAmount: number | null; claimStatus: string };
  endReason: string | null;
  /** The caller's and the bot's turns, in order; `heardText` is what the caller heard of an interrupted bot turn. */
  transcript: Array<{
    seq: number;
    turn: number;
    role: 'user' | 'assistant';
    text: string;
    heardText: string | null;
    interrupted: boolean;
    at: string;
  }>;
  metrics: {
    turns: number;
    interruptions: number;
    /** Caller stopped speaking → first bot audio sent. */
    latency: Timing;
    /** Caller stopped speaking → first bot audio heard (mark echo). */
    heardLatency: Timing;
    stt: ProviderTimings;
    llm: ProviderTimings & { promptTokens: number; completionTokens: number };
    tts: ProviderTimings;
    /** Preemptive generation: prepared replies played (committed) and thrown away (discarded). */
    preparedTurns: { committed: number; discarded: number };
  } | null;
  /** The call's recording (RECORDING=on), or null. */
  recording: { url: string; contentType: 'audio/wav'; channels: { left: 'caller'; right: 'bot' } } | null;
}

const timing = (m: MetricsRow, k: string): Timing => {
  const r = m as unknown as Record<string, number | null>;
  return {
    avgMs: r[`${k}_avg_ms`] ?? null,
    minMs: r[`${k}_min_ms`] ?? null,
    maxMs: r[`${k}_max_ms`] ?? null,
  };
};

const provider = (m: MetricsRow, role: 'stt' | 'llm' | 'tts'): ProviderTimings => ({
  provider: m[`${role}_provider`],
  ttfb: timing(m, `${role}_ttfb`),
  processing: timing(m, `${role}_processing`),
});

/** Builds the report of a stored conversation; `recordingUrl` when a recording exists. */
export function buildPostCallReport(detail: ConversationDetail, recordingUrl: string | null): PostCallReport {
  const c = detail.conversation;
  const m = detail.metrics;
  const duration = c.ended_at ? Date.parse(c.ended_at) - Date.parse(c.created_at) : NaN;
  return {
    type: 'conversation.ended',
    version: POST_CALL_REPORT_VERSION,
    conversation: {
      id: c.id,
      channel: c.channel,
      callSid: c.call_sid,
      from: c.from_number,
      to: c.to_number,
      createdAt: c.created_at,
      endedAt: c.ended_at,
      durationMs: Number.isFinite(duration) ? Math.max(0, duration) : null,
      endReason: c.end_reason,
      state: c.state,
      machineVersion: c.machine_version,
    },
    claim: {
      claimId: c.claim_id,
      claimDate: c.claim_date,
      claimAmount: c.claim_amount === null ? null : Number(c.claim_amount),
      claimStatus: c.claim_status,
    },
    endReason: c.end_reason,
    transcript: detail.messages
      .filter(
        (x): x is typeof x & { role: 'user' | 'assistant' } => x.role === 'user' || x.role === 'assistant',
      )
      .map((x) => ({
        seq: x.seq,
        turn: x.turn,
        role: x.role,
        text: x.text,
        heardText: x.heard_text,
        interrupted: x.interrupted,
        at: x.created_at,
      })),
    metrics: m
      ? {
          turns: m.turns,
          interruptions: m.interruptions,
          latency: timing(m, 'latency'),
          heardLatency: timing(m, 'heard_latency'),
          stt: provider(m, 'stt'),
          llm: {
            ...provider(m, 'llm'),
            promptTokens: m.llm_prompt_tokens,
            completionTokens: m.llm_completion_tokens,
          },
          tts: provider(m, 'tts'),
          preparedTurns: { committed: m.prepared_turns_committed, discarded: m.prepared_turns_discarded },
        }
      : null,
    recording: recordingUrl
      ? { url: recordingUrl, contentType: 'audio/wav', channels: { left: 'caller', right: 'bot' } }
      : null,
  };
}
