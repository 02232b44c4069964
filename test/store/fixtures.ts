/**
 * Row builders and store doubles shared by the store tests.
 */
import { randomUUID } from 'node:crypto';
import type {
  ConversationStore,
  MessageRow,
  MetricsRow,
  NewConversation,
  TransitionRow,
} from '../../src/store/types.js';
import type { SqlExecutor } from '../../src/store/sql-client.js';

let claimCounter = 0;

/** A unique claim id per call (unique across runs too, as tests may share a database). */
export function claimId(): string {
  claimCounter++;
  return `CLM-${randomUUID().slice(0, 8)}-${claimCounter}`;
}

export function newConversation(over: Partial<NewConversation> = {}): NewConversation {
  return {
    id: randomUUID(),
    call_sid: `CA${randomUUID().replace(/-/g, '')}`,
    stream_sid: null,
    from_number: '+1555***0100',
    to_number: null,
    channel: 'phone',
    claim_id: claimId(),
    machine_version: 'test-1',
    created_at: new Date().toISOString(),
    ...over,
  };
}

export function transition(
  conversationId: string,
  seq: number,
  over: Partial<TransitionRow> = {},
): TransitionRow {
  return {
    conversation_id: conversationId,
    actor: 'call',
    seq,
    event_type: 'user.speech.started',
    event: { type: 'user.speech.started', n: seq },
    state_value: { active: 'userSpeaking' },
    created_at: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(),
    ...over,
  };
}

export function message(conversationId: string, seq: number, over: Partial<MessageRow> = {}): MessageRow {
  return {
    conversation_id: conversationId,
    seq,
    role: seq % 2 === 0 ? 'assistant' : 'user',
    text: `line ${seq}`,
    heard_text: null,
    interrupted: false,
    turn: Math.floor(seq / 2),
    created_at: new Date(Date.UTC(2030, 0, 1, 0, 1, seq)).toISOString(),
    ...over,
  };
}

export function metrics(conversationId: string, over: Partial<MetricsRow> = {}): MetricsRow {
  return {
    conversation_id: conversationId,
    turns: 3,
    interruptions: 1,
    latency_avg_ms: 812.5,
    latency_min_ms: 640,
    latency_max_ms: 1020,
    heard_latency_avg_ms: null,
    heard_latency_min_ms: null,
    heard_latency_max_ms: null,
    stt_provider: 'deepgram',
    stt_ttfb_avg_ms: 120.25,
    stt_ttfb_min_ms: 100,
    stt_ttfb_max_ms: 150,
    stt_processing_avg_ms: 300,
    stt_processing_min_ms: 250,
    stt_processing_max_ms: 350,
    llm_provider: 'openai',
    llm_ttfb_avg_ms: 400,
    llm_ttfb_min_ms: 380,
    llm_ttfb_max_ms: 450,
    llm_processing_avg_ms: 900,
    llm_processing_min_ms: 800,
    llm_processing_max_ms: 1000,
    llm_prompt_tokens: 1234,
    llm_completion_tokens: 321,
    tts_provider: 'cartesia',
    tts_ttfb_avg_ms: 90,
    tts_ttfb_min_ms: 80,
    tts_ttfb_max_ms: 100,
    tts_processing_avg_ms: 700,
    tts_processing_min_ms: 600,
    tts_processing_max_ms: 800,
    prepared_turns_committed: 1,
    prepared_turns_discarded: 0,
    updated_at: new Date().toISOString(),
    ...over,
  };
}

/** A store call as seen by {@link recordingStore}. */
export interface RecordedCall {
  method: string;
  args: unknown[];
}

/**
 * Wraps a store and records every write call (after `controls.failuresLeft` have been spent:
 * each failing call rejects with an ECONNREFUSED-like error, as pg does when the server is down).
 * `controls.down = true` makes every call fail until set back; `controls.hang = true` never settles.
 */
export function recordingStore(inner?: ConversationStore) {
  const calls: RecordedCall[] = [];
  const controls = { failuresLeft: 0, down: false, hang: false, attempts: 0 };
  const connectionRefused = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const reserved = new Set<string>();
  const reachable = (): Promise<void> => {
    if (controls.hang) return new Promise<void>(() => {});
    if (controls.down) return Promise.reject(connectionRefused());
    return Promise.resolve();
  };
  const write =
    (method: keyof ConversationStore) =>
    async (...args: unknown[]): Promise<void> => {
      controls.attempts++;
      if (controls.hang) return new Promise<void>(() => {});
      if (controls.down) throw connectionRefused();
      if (controls.failuresLeft > 0) {
        controls.failuresLeft--;
        throw connectionRefused();
      }
      calls.push({ method, args });
      if (inner) await (inner[method] as (...a: unknown[]) => Promise<void>)(...args);
    };
  const store: ConversationStore = {
    kind: 'recording',
    init: async () => inner?.init(),
    // Non-outbox calls follow the same switches as writes, but are not recorded.
    ping: async () => {
      await reachable();
      await inner?.ping();
    },
    reserveClaimNumbers: async (candidates, instanceId) => {
      await reachable();
      if (inner) return inner.reserveClaimNumbers(candidates, instanceId);
      // Without a database behind it: every new candidate is free once.
      const fresh = [...new Set(candidates)].filter((c) => !reserved.has(c));
      for (const c of fresh) reserved.add(c);
      return fresh;
    },
    closeCrashedConversations: async (instanceId, at) => {
      await reachable();
      return inner ? inner.closeCrashedConversations(instanceId, at) : 0;
    },
    createConversation: write('createConversation'),
    updateConversation: write('updateConversation'),
    createConversations: write('createConversations'),
    updateConversations: write('updateConversations'),
    appendTransitions: write('appendTransitions'),
    upsertMessages: write('upsertMessages'),
    upsertMetrics: write('upsertMetrics'),
    upsertMetricsBatch: write('upsertMetricsBatch'),
    listConversations: async (q) => (inner ? inner.listConversations(q) : []),
    getConversation: async (id) => (inner ? inner.getConversation(id) : null),
    close: async () => inner?.close(),
  };
  return { store, calls, controls };
}

/** Tables of the current schema without row level security (the server must create none). */
export async function tablesWithoutRls(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relrowsecurity
      order by c.relname`,
  );
  return rows.map((r) => r.relname);
}

/** Polls `cond` every 5 ms until true or `timeoutMs` elapses (then throws). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
