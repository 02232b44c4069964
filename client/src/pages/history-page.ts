/**
 * History: the stored conversations, newest first, filterable by claim state and end reason; each
 * row links to its detail page and says how the call ended (live, filed, transferred, or ended
 * unfinished), why, and the claim's status. On a narrow screen the table becomes one card per call.
 */
import { h, replaceChildren } from '../lib/dom';
import { ApiError, listConversations } from '../lib/api';
import {
  durationBetween,
  formatAgo,
  formatAmount,
  formatClaimDate,
  formatDurationMs,
  formatWhen,
} from '../lib/format';
import type { ConversationRow, ConversationState } from '../lib/rows';
import { KNOWN_END_REASONS, callKindOf, callOutcomeOf, endReasonText } from '../lib/call-outcome';

const COLUMNS = [
  'Claim',
  'Outcome',
  'Claim status',
  'End reason',
  'Amount',
  'Claim date',
  'When',
  'Duration',
  'Channel',
];

/** The outcome badge: a call that ended before its claim was done never reads as live. */
function outcomeBadge(c: ConversationRow): HTMLElement {
  const o = callOutcomeOf(c);
  return h('span', { class: `badge badge-outcome-${o.kind}`, 'data-outcome': o.kind }, o.text);
}

/** Renders the page into `main` (focus moves to its heading after a navigation); returns a cleanup. */
export function mountHistoryPage(
  main: HTMLElement,
  linkTo: (id: string) => string,
  moveFocus: boolean,
): () => void {
  const abort = new AbortController();
  const select = h(
    'select',
    { id: 'state-filter', name: 'state' },
    h('option', { value: '' }, 'All'),
    h('option', { value: 'done' }, 'Done'),
    h('option', { value: 'ongoing' }, 'Ongoing'),
    h('option', { value: 'initial' }, 'Initial'),
  );
  const reasonSelect = h(
    'select',
    { id: 'reason-filter', name: 'end_reason' },
    h('option', { value: '' }, 'Any'),
    KNOWN_END_REASONS.map((r) => h('option', { value: r }, endReasonText(r))),
  );
  const refresh = h('button', { type: 'submit', class: 'btn' }, 'Refresh');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const body = h('div', { class: 'history-body' });
  const title = h('h1', { tabindex: '-1' }, 'Call history');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter calls' },
    h('label', { for: 'state-filter' }, 'State'),
    select,
    h('label', { for: 'reason-filter' }, 'End reason'),
    reasonSelect,
    refresh,
  );
  replaceChildren(
    main,
    h('div', { class: 'page history-page' }, h('section', { class: 'card' }, title, form, status, body)),
  );

  const row = (c: ConversationRow) => {
    const duration = durationBetween(c.created_at, c.ended_at);
    const cell = (label: string, ...content: Array<Node | string>) =>
      h('td', { 'data-label': label }, ...content);
    return h(
      'tr',
      null,
      h('th', { scope: 'row', 'data-label': 'Claim' }, h('a', { href: linkTo(c.id) }, c.claim_id)),
      cell('Outcome', outcomeBadge(c)),
      cell(
        'Claim status',
        h(
          'span',
          { class: `badge badge-${c.claim_status === 'Pending' ? 'ok' : 'neutral'}` },
          c.claim_status,
        ),
      ),
      cell('End reason', c.ended_at ? endReasonText(c.end_reason) : '—'),
      cell('Amount', formatAmount(c.claim_amount)),
      cell('Claim date', formatClaimDate(c.claim_date)),
      cell(
        'When',
        h('time', { datetime: c.created_at, title: formatAgo(c.created_at) }, formatWhen(c.created_at)),
      ),
      cell('Duration', duration === null ? (c.ended_at ? '—' : 'not ended') : formatDurationMs(duration)),
      cell('Channel', callKindOf(c)),
    );
  };

  const load = async () => {
    replaceChildren(status, 'Loading…');
    try {
      const state = select.value as ConversationState | '';
      const rows = await listConversations(
        { limit: 100, state, endReason: reasonSelect.value },
        abort.signal,
      );
      replaceChildren(
        status,
        rows.length ? `${rows.length} call${rows.length === 1 ? '' : 's'}, newest first.` : '',
      );
      if (!rows.length) {
        replaceChildren(
          body,
          h(
            'p',
            { class: 'empty' },
            'No calls yet. ',
            h('a', { href: '#/talk' }, 'Talk to the bot'),
            ' to make one.',
          ),
        );
        return;
      }
      replaceChildren(
        body,
        h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'calls' },
            h('caption', { class: 'visually-hidden' }, 'Calls'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h('tbody', null, rows.map(row)),
          ),
        ),
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      replaceChildren(status, '');
      replaceChildren(
        body,
        h(
          'p',
          { class: 'call-error', role: 'alert' },
          err instanceof ApiError ? err.message : 'Could not load the calls.',
        ),
      );
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  select.addEventListener('change', () => void load());
  reasonSelect.addEventListener('change', () => void load());
  void load();
  if (moveFocus) title.focus();
  return () => abort.abort();
}
