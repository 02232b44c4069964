/**
 * Row shapes the API returns, shared with the server (type-only imports: nothing of the server is
 * bundled), so a column rename breaks the client's typecheck instead of the page.
 */
export type { ConversationResponse as ConversationDetail } from '../../../src/http/api-routes';
export type {
  ConversationRow,
  ConversationState,
  MessageRow,
  MetricsRow,
  TransitionRow,
} from '../../../src/store/types';
export type { TurnTiming } from '../../../src/metrics/conversation-metrics';
