/**
 * History: the stored conversations, newest first, filterable by state; each row links to its
 * detail page. On a narrow screen the table becomes one card per call.
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
  const refresh = h('button', { type: 'submit', class: 'btn' }, 'Refresh');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const body = h('div', { class: 'history-body' });
  const title = h('h1', { tabindex: '-1' }, 'Call history');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter calls' },
    h('label', { for: 'state-filter' }, 'State'),
    select,
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
      cell('State', h('span', { class: `badge badge-state-${c.state}` }, c.state)),
      cell('Amount', formatAmount(c.claim_amount)),
      cell('Claim date', formatClaimDate(c.claim_date)),
      cell(
        'When',
        h('time', { datetime: c.created_at, title: formatAgo(c.created_at) }, formatWhen(c.created_at)),
      ),
      cell(
        'Duration',
        duration === null ? (c.ended_at ? '—' : 'live or cut off') : formatDurationMs(duration),
      ),
      cell('Channel', c.channel),
    );
  };

  const load = async () => {
    replaceChildren(status, 'Loading…');
    try {
      const state = select.value as ConversationState | '';
      const rows = await listConversations({ limit: 100, state }, abort.signal);
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
                ['Claim', 'State', 'Amount', 'Claim date', 'When', 'Duration', 'Channel'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
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
  void load();
  if (moveFocus) title.focus();
  return () => abort.abort();
}
