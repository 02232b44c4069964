/**
 * The conversation log of one call: everything the session records, in the store (through the
 * outbox writer, never awaited) and for its observers (notices). Transcript lines with their
 * sequence numbers, claim fields the moment the machine accepts them, every machine transition
 * (the replay log), metrics, and the end of the call.
 */
import type { InspectionEvent } from 'xstate';
import { claimViewOf, type ClaimPhase, type ClaimSnapshot } from '../../machines/claim/claim.view.js';
import type { ConversationMetrics } from '../metrics/conversation-metrics.js';
import type { MessageRow, NewConversation } from '../store/types.js';
import type { ConversationWriter, SessionNotice } from './session-types.js';
import { createTransitionRecorder } from './transition-recorder.js';

/** What a log needs. */
export interface ConversationLogDeps {
  conversationId: string;
  writer: ConversationWriter;
  notify(notice: SessionNotice): void;
  now?: () => string;
}

/** One call's log. Every method is synchronous and never throws into the call. */
export interface ConversationLog {
  /** Queues the conversation row (the outbox writes it before anything that references it). */
  created(row: Omit<NewConversation, 'id' | 'created_at'>): void;
  /** The `inspect` callback that records both machines' transitions and the claim's fields. */
  readonly inspect: (ev: InspectionEvent) => void;
  userSaid(turn: number, text: string): void;
  toolCalled(turn: number, name: string, args: string, result: string): void;
  /** The bot's turn as spoken, and what the caller heard of it when interrupted. */
  botSaid(turn: number, text: string, heard: { heardText: string; interrupted: boolean }): void;
  metrics(metrics: ConversationMetrics): void;
  ended(endReason: string, phase: ClaimPhase | null, metrics: ConversationMetrics): void;
}

/** Creates the log of one conversation (see file header). */
export function createConversationLog(deps: ConversationLogDeps): ConversationLog {
  const { conversationId, writer, notify } = deps;
  const now = deps.now ?? (() => new Date().toISOString());
  let seq = 0;
  let lastClaimKey = '';

  const message = (
    role: MessageRow['role'],
    text: string,
    turn: number,
    extra: Partial<MessageRow> = {},
  ): MessageRow => ({
    conversation_id: conversationId,
    seq: seq++,
    role,
    text,
    heard_text: null,
    interrupted: false,
    turn,
    created_at: now(),
    ...extra,
  });

  const claimChanged = (snapshot: ClaimSnapshot) => {
    const view = claimViewOf(snapshot);
    const c = view.context;
    const key = JSON.stringify([c.claimDate, c.claimAmount, c.claimStatus, view.phase, view.path]);
    if (key === lastClaimKey) return;
    lastClaimKey = key;
    writer.updateConversation(conversationId, {
      claim_date: c.claimDate,
      claim_amount: c.claimAmount,
      claim_status: c.claimStatus,
      state: view.phase,
      updated_at: now(),
    });
    notify({
      type: 'claim.updated',
      claim: {
        claimId: c.claimId,
        claimDate: c.claimDate,
        claimAmount: c.claimAmount,
        claimStatus: c.claimStatus,
        state: view.phase,
        path: view.path,
      },
    });
  };

  const inspect = createTransitionRecorder(conversationId, {
    transition: (row) => {
      writer.appendTransitions([row]);
      notify({ type: 'state.changed', actor: row.actor, value: row.state_value, event: row.event_type });
    },
    claimSnapshot: (s) => claimChanged(s as ClaimSnapshot),
  });

  return {
    created(row) {
      writer.createConversation({ ...row, id: conversationId, created_at: now() });
    },
    inspect,
    userSaid(turn, text) {
      writer.upsertMessages([message('user', text, turn)]);
      notify({ type: 'user.turn', turn, text });
    },
    toolCalled(turn, name, args, result) {
      writer.upsertMessages([message('tool', `${name}(${args}) -> ${result}`, turn)]);
      notify({ type: 'tool.called', turn, name, arguments: args, result });
    },
    botSaid(turn, text, { heardText, interrupted }) {
      if (text) {
        writer.upsertMessages([
          message('assistant', text, turn, { heard_text: interrupted ? heardText : null, interrupted }),
        ]);
      }
      notify({ type: 'bot.turn.ended', turn, text, heardText, interrupted });
    },
    metrics(metrics) {
      writer.upsertMetrics(metrics.toRow());
    },
    ended(endReason, phase, metrics) {
      writer.updateConversation(conversationId, {
        ended_at: now(),
        end_reason: endReason,
        ...(phase ? { state: phase } : {}),
        updated_at: now(),
      });
      writer.upsertMetrics(metrics.toRow());
    },
  };
}
