/**
 * Adapts the store outbox to the session's {@link ConversationWriter}: every record a call produces
 * becomes one queued op. Synchronous and never throwing, so nothing on the call path waits on the
 * database. `onConversationEnded` hears of every conversation's end (the post-call report), right
 * after its `ended_at` was queued.
 */
import type { Outbox } from '../store/outbox.js';
import type { ConversationWriter } from './session-types.js';

/** Hooks of {@link createOutboxWriter}. Synchronous; must not throw. */
export interface OutboxWriterHooks {
  /** A conversation's end (`ended_at`) was queued. */
  onConversationEnded?: (conversationId: string) => void;
}

/** A writer that enqueues into `outbox` (see file header). */
export function createOutboxWriter(outbox: Outbox, hooks: OutboxWriterHooks = {}): ConversationWriter {
  return {
    createConversation: (row) => outbox.enqueue({ type: 'createConversation', row }),
    updateConversation: (id, patch) => {
      outbox.enqueue({ type: 'updateConversation', id, patch });
      if (patch.ended_at) hooks.onConversationEnded?.(id);
    },
    appendTransitions: (rows) => outbox.enqueue({ type: 'appendTransitions', rows }),
    upsertMessages: (rows) => outbox.enqueue({ type: 'upsertMessages', rows }),
    upsertMetrics: (row) => outbox.enqueue({ type: 'upsertMetrics', row }),
  };
}
