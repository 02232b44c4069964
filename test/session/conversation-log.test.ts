/**
 * The conversation log alone, over a recording ConversationWriter double: what a call writes to the
 * store and tells its observers. The claim runs as the `claim` child of a minimal parent, the way
 * the call machine invokes it, so the inspection hook sees it as the claim.
 */
import { createActor, setup, type ActorRefFrom, type InspectionEvent } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import type { ClaimEvent } from '../../machines/claim/claim.events.js';
import { ConversationMetrics } from '../../src/metrics/conversation-metrics.js';
import { createConversationLog } from '../../src/session/conversation-log.js';
import type { ConversationWriter, SessionNotice } from '../../src/session/session-types.js';

const NOW = '2030-01-01T00:00:00.000Z';

/** A writer that records every call, in order. */
function recordingWriter() {
  const calls: { method: keyof ConversationWriter; arg: unknown; patch?: unknown }[] = [];
  const writer: ConversationWriter = {
    createConversation: (row) => calls.push({ method: 'createConversation', arg: row }),
    updateConversation: (id, patch) => calls.push({ method: 'updateConversation', arg: id, patch }),
    appendTransitions: (rows) => calls.push({ method: 'appendTransitions', arg: rows }),
    upsertMessages: (rows) => calls.push({ method: 'upsertMessages', arg: rows }),
    upsertMetrics: (row) => calls.push({ method: 'upsertMetrics', arg: row }),
  };
  const of = (method: keyof ConversationWriter) => calls.filter((c) => c.method === method);
  return { writer, calls, of };
}

function setUp() {
  const rec = recordingWriter();
  const notices: SessionNotice[] = [];
  const log = createConversationLog({
    conversationId: 'conv-1',
    writer: rec.writer,
    notify: (n) => notices.push(n),
    now: () => NOW,
  });
  return { ...rec, notices, log };
}

/** Starts a parent that invokes the claim as its `claim` child, inspected by `inspect`. */
function startClaim(inspect: (ev: InspectionEvent) => void) {
  const parent = setup({ actors: { claim: claimMachine } }).createMachine({
    id: 'parent',
    invoke: { id: 'claim', src: 'claim', input: { claimId: 'CLM-4821-0937', today: '2026-11-24' } },
  });
  const actor = createActor(parent, { inspect }).start();
  const claim = actor.getSnapshot().children.claim as ActorRefFrom<typeof claimMachine>;
  return { actor, send: (e: ClaimEvent) => claim.send(e) };
}

const messagesOf = (of: ReturnType<typeof recordingWriter>['of']) =>
  of('upsertMessages').flatMap((c) => c.arg as { seq: number; role: string }[]);

describe('the conversation log', () => {
  it('queues the conversation row with its id and creation time', () => {
    const { log, of } = setUp();
    log.created({
      call_sid: null,
      stream_sid: null,
      from_number: null,
      to_number: null,
      channel: 'browser',
      claim_id: 'CLM-4821-0937',
      machine_version: 'v1',
    });
    expect(of('createConversation')).toEqual([
      {
        method: 'createConversation',
        arg: expect.objectContaining({ id: 'conv-1', created_at: NOW, claim_id: 'CLM-4821-0937' }),
      },
    ]);
  });

  it('numbers transcript lines 0, 1, 2... across the caller, tool and bot lines', () => {
    const { log, of, notices } = setUp();
    log.botSaid(0, 'Hello.', { heardText: 'Hello.', interrupted: false });
    log.userSaid(1, 'got it');
    log.toolCalled(1, 'claim_number_acknowledged', '{}', '{"ok":true}');
    log.botSaid(1, 'Thanks.', { heardText: 'Thanks.', interrupted: false });
    expect(messagesOf(of).map((m) => [m.seq, m.role])).toEqual([
      [0, 'assistant'],
      [1, 'user'],
      [2, 'tool'],
      [3, 'assistant'],
    ]);
    expect(messagesOf(of)[2]).toMatchObject({
      text: 'claim_number_acknowledged({}) -> {"ok":true}',
      turn: 1,
      conversation_id: 'conv-1',
      created_at: NOW,
    });
    expect(notices.map((n) => n.type)).toEqual([
      'bot.turn.ended',
      'user.turn',
      'tool.called',
      'bot.turn.ended',
    ]);
  });

  it('stores what the caller heard only for an interrupted bot turn', () => {
    const { log, of } = setUp();
    log.botSaid(0, 'Your claim number is C. L. M.', { heardText: 'Your claim', interrupted: true });
    log.botSaid(1, 'Thanks.', { heardText: 'Thanks.', interrupted: false });
    expect(messagesOf(of)).toEqual([
      expect.objectContaining({ heard_text: 'Your claim', interrupted: true }),
      expect.objectContaining({ heard_text: null, interrupted: false }),
    ]);
  });

  it('writes no transcript line for a bot turn that said nothing, but still tells its observers', () => {
    const { log, of, notices } = setUp();
    log.botSaid(2, '', { heardText: '', interrupted: true });
    expect(of('upsertMessages')).toEqual([]);
    expect(notices).toEqual([
      { type: 'bot.turn.ended', turn: 2, text: '', heardText: '', interrupted: true },
    ]);
    log.userSaid(3, 'hello');
    expect(messagesOf(of)[0]!.seq).toBe(0);
  });

  it('records every transition of the claim child, numbered per actor', () => {
    const { log, of, notices } = setUp();
    const { actor, send } = startClaim(log.inspect);
    send({ type: 'claim.number.acknowledged' });
    const rows = of('appendTransitions').flatMap(
      (c) => c.arg as { actor: string; seq: number; event_type: string }[],
    );
    const claimRows = rows.filter((r) => r.actor === 'claim');
    expect(claimRows.map((r) => r.seq)).toEqual(claimRows.map((_, i) => i));
    expect(claimRows.at(-1)).toMatchObject({ event_type: 'claim.number.acknowledged' });
    expect(rows.some((r) => r.actor === 'call')).toBe(true); // the parent is recorded as the call
    expect(notices).toContainEqual({
      type: 'state.changed',
      actor: 'claim',
      value: { ongoing: 'collectingDate' },
      event: 'claim.number.acknowledged',
    });
    actor.stop();
  });

  it('writes the claim fields once per change, not for a snapshot that changed nothing', () => {
    const { log, of, notices } = setUp();
    const { actor, send } = startClaim(log.inspect);
    const patches = () => of('updateConversation').map((c) => c.patch);
    expect(patches()).toEqual([
      { claim_date: null, claim_amount: null, claim_status: 'Open', state: 'initial', updated_at: NOW },
    ]);

    send({ type: 'claim.number.repeat_requested' }); // same state, same fields
    expect(patches()).toHaveLength(1);

    send({ type: 'claim.number.acknowledged' });
    send({ type: 'claim.date.provided', date: '1999-01-01' }); // refused: too old, nothing changes
    expect(patches()).toHaveLength(2);

    send({ type: 'claim.date.provided', date: '2026-11-20' });
    send({ type: 'claim.amount.provided', amount: 1250.5 });
    send({ type: 'claim.details.confirmed' });
    expect(patches().slice(2)).toEqual([
      expect.objectContaining({ claim_date: '2026-11-20', claim_amount: null, state: 'ongoing' }),
      expect.objectContaining({ claim_date: '2026-11-20', claim_amount: 1250.5, state: 'ongoing' }),
      expect.objectContaining({ claim_status: 'Pending', state: 'done' }),
    ]);
    const updates = notices.filter((n) => n.type === 'claim.updated');
    expect(updates).toHaveLength(patches().length);
    expect(updates.at(-1)).toEqual({
      type: 'claim.updated',
      claim: {
        claimId: 'CLM-4821-0937',
        claimDate: '2026-11-20',
        claimAmount: 1250.5,
        claimStatus: 'Pending',
        state: 'done',
        path: 'done',
      },
    });
    actor.stop();
  });

  it('writes the metrics row when asked', () => {
    const { log, of } = setUp();
    const metrics = new ConversationMetrics('conv-1', { stt: null, llm: 'local', tts: 'text' });
    metrics.addTurn({ turn: 0, interrupted: false, latencyMs: 500 });
    log.metrics(metrics);
    expect(of('upsertMetrics')).toEqual([
      { method: 'upsertMetrics', arg: expect.objectContaining({ conversation_id: 'conv-1', turns: 1 }) },
    ]);
  });

  it('ends the conversation with its reason, final phase and last metrics row', () => {
    const { log, calls } = setUp();
    const metrics = new ConversationMetrics('conv-1', { stt: null, llm: 'local', tts: 'text' });
    log.ended('completed', 'done', metrics);
    expect(calls).toEqual([
      {
        method: 'updateConversation',
        arg: 'conv-1',
        patch: { ended_at: NOW, end_reason: 'completed', state: 'done', updated_at: NOW },
      },
      { method: 'upsertMetrics', arg: expect.objectContaining({ conversation_id: 'conv-1', turns: 0 }) },
    ]);
  });

  it('leaves the state as it is when the call ends without a known claim phase', () => {
    const { log, of } = setUp();
    log.ended('caller_hung_up', null, new ConversationMetrics('conv-1', { stt: null, llm: null, tts: null }));
    expect(of('updateConversation')[0]!.patch).toEqual({
      ended_at: NOW,
      end_reason: 'caller_hung_up',
      updated_at: NOW,
    });
  });
});
