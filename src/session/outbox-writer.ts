/**
 * Adapts the store outbox to the session's {@link ConversationWriter}: every record a call produces
 * becomes one queued op. Synchronous and never throwing, so nothing on the call path waits on the
 * database.
 */
import type { Outbox } from '../store/outbox.js';
import type { ConversationWriter } from './session-types.js';

/** A writer that enqueues into `outbox` (see file header). */
export function createOutboxWriter(outbox: Outbox): ConversationWriter {
  return {
    createConversation: (row) => outbox.enqueue({ type: 'createConversation', row }),
    updateConversation: (id, patch) => outbox.enqueue({ type: 'updateConversation', id, patch }),
    appendTransitions: (rows) => outbox.enqueue({ type: 'appendTransitions', rows }),
    upsertMessages: (rows) => outbox.enqueue({ type: 'upsertMessages', rows }),
    upsertMetrics: (row) => outbox.enqueue({ type: 'upsertMetrics', row }),
  };
}
