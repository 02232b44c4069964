/**
 * What a stored call must look like after a fault: its replay log complete (seq 0..n-1 per actor,
 * no gap = nothing lost), nothing written twice (each claim event once; exactly one `dtmf.received`
 * per key the caller pressed; one row per seq), in order (timestamps follow seq), and replayable
 * through the machines without divergence; the transcript's seq contiguous too.
 */
import { replayTransitions } from '../../../src/replay/replay.js';
import type { ConversationRow, TransitionRow } from '../../../src/store/types.js';
import { CLAIM } from './phone-stack.js';
import type { ScenarioReport } from './report.js';
import type { ScratchDb } from './scratch-db.js';

/** The claim events a complete keypad claim records, in order. */
export const CLAIM_EVENTS = [
  'claim.number.acknowledged',
  'claim.date.provided',
  'claim.amount.provided',
  'claim.details.confirmed',
];

/** The claim fields of a stored conversation, as compared by the scenarios (amount as a number). */
export function claimFields(c: ConversationRow | null | undefined) {
  if (!c) return null;
  return {
    state: c.state,
    claim_status: c.claim_status,
    claim_date: c.claim_date,
    claim_amount: c.claim_amount === null ? null : Number(c.claim_amount),
    end_reason: c.end_reason,
  };
}

/** What a claim filed to the end is stored as. */
export const COMPLETED_CLAIM = {
  state: 'done',
  claim_status: 'Pending',
  claim_date: CLAIM.date,
  claim_amount: CLAIM.amount,
  end_reason: 'completed',
};

/** Counts of one actor's log. */
export interface ActorLog {
  rows: number;
  /** Seq numbers missing below the highest one (lost rows). */
  gaps: number;
  /** Rows sharing a seq with another row (the primary key should make this impossible). */
  duplicated: number;
  /** Rows whose timestamp is earlier than the row before (by seq). */
  outOfOrder: number;
}

/** Reads the stored conversation of `callSid` directly from the database. */
export async function readStoredCall(
  db: ScratchDb,
  callSid: string,
): Promise<{ conversation: ConversationRow | null; transitions: TransitionRow[]; messageSeqs: number[] }> {
  const [conversation] = await db.query<ConversationRow & { claim_date: unknown }>(
    `select *, to_char(claim_date, 'YYYY-MM-DD') as claim_date from conversations where call_sid = $1`,
    [callSid],
  );
  if (!conversation) return { conversation: null, transitions: [], messageSeqs: [] };
  const transitions = (
    await db.query<TransitionRow & { created_at: Date | string }>(
      'select * from conversation_transitions where conversation_id = $1 order by actor, seq',
      [conversation.id],
    )
  ).map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
  const messageSeqs = (
    await db.query<{ seq: number }>(
      'select seq from conversation_messages where conversation_id = $1 order by seq',
      [conversation.id],
    )
  ).map((r) => r.seq);
  return { conversation: conversation as ConversationRow, transitions, messageSeqs };
}

function actorLog(rows: TransitionRow[]): ActorLog {
  const seqs = new Set(rows.map((r) => r.seq));
  const max = rows.reduce((m, r) => Math.max(m, r.seq), -1);
  let gaps = 0;
  for (let s = 0; s <= max; s++) if (!seqs.has(s)) gaps++;
  let outOfOrder = 0;
  const sorted = [...rows].sort((a, b) => a.seq - b.seq);
  sorted.forEach((r, i) => {
    if (i > 0 && r.created_at < sorted[i - 1]!.created_at) outOfOrder++;
  });
  return { rows: rows.length, gaps, duplicated: rows.length - seqs.size, outOfOrder };
}

/**
 * Checks the stored log of a call (see file header) and prints its counts. `claimEvents`: the claim
 * events the call must have recorded, in order; `keysPressed`: how many DTMF keys the caller sent.
 */
export function checkStoredLog(
  report: ScenarioReport,
  stored: Awaited<ReturnType<typeof readStoredCall>>,
  expected: { label: string; claimEvents: string[]; keysPressed: number },
): void {
  const figure = (name: string, v: unknown) => report.figure(`${expected.label}: ${name}`, v);
  const check = (name: string, ok: boolean, d?: unknown) => report.check(`${expected.label}: ${name}`, ok, d);
  const equal = (name: string, a: unknown, b: unknown) => report.equal(`${expected.label}: ${name}`, a, b);
  const call = actorLog(stored.transitions.filter((r) => r.actor === 'call'));
  const claim = actorLog(stored.transitions.filter((r) => r.actor === 'claim'));
  const lost = call.gaps + claim.gaps;
  const duplicated = call.duplicated + claim.duplicated;
  figure('transitions stored (call / claim)', `${call.rows} / ${claim.rows}`);
  figure('lost (gaps in seq)', lost);
  figure('duplicated', duplicated);
  figure('out of order', call.outOfOrder + claim.outOfOrder);
  check('both actors have a log', call.rows > 0 && claim.rows > 0, { call: call.rows, claim: claim.rows });
  equal('transitions lost', lost, 0);
  equal('transitions duplicated', duplicated, 0);
  equal('transitions out of order', call.outOfOrder + claim.outOfOrder, 0);
  const replay = replayTransitions(stored.transitions);
  figure('replay: steps / divergences', `${replay.steps.length} / ${replay.divergences.length}`);
  check('the log replays through the machines without divergence', replay.ok, {
    errors: replay.errors.slice(0, 3),
    divergences: replay.divergences.slice(0, 3).map((d) => `${d.actor}#${d.seq} ${d.eventType}`),
  });
  const gapsInMessages = stored.messageSeqs.filter((s, i) => s !== i).length;
  figure('transcript messages', stored.messageSeqs.length);
  equal('transcript seq contiguous', gapsInMessages, 0);
  const claimEvents = stored.transitions
    .filter((r) => r.actor === 'claim' && r.event_type.startsWith('claim.'))
    .sort((a, b) => a.seq - b.seq)
    .map((r) => r.event_type);
  equal('claim events recorded exactly once each, in order', claimEvents, expected.claimEvents);
  const keys = stored.transitions.filter(
    (r) => r.actor === 'call' && r.event_type === 'dtmf.received',
  ).length;
  figure('keys pressed / dtmf.received stored', `${expected.keysPressed} / ${keys}`);
  equal('one dtmf.received per key pressed', keys, expected.keysPressed);
}
