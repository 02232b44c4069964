/**
 * One stored conversation: summary, transcript (with what the caller heard of interrupted bot
 * turns, keypad entries as one turn each), a timeline of both machines' transitions, and the
 * metrics as charts. A transferred call says so above the transcript; the recording player
 * (client/src/call/recording-player.ts) mounts into the `#recording-slot` element.
 */
import { h, replaceChildren } from '../lib/dom';
import { ApiError, getConversation } from '../lib/api';
import { durationBetween, formatAmount, formatClaimDate, formatDurationMs, formatWhen } from '../lib/format';
import type { ConversationDetail, MessageRow } from '../lib/rows';
import { renderTimeline } from '../charts/transition-timeline';
import { renderMetrics } from '../charts/metrics-chart';
import { callerTurnBody, renderToolCall } from '../call/transcript-view';
import { callKindOf, callOutcomeOf, endReasonText } from '../lib/call-outcome';
import { describeStoredTool } from '../lib/tool-text';
import { renderRecordingPlayer } from '../call/recording-player';

function message(m: MessageRow): HTMLElement {
  if (m.role === 'tool' || m.role === 'system') {
    const t = m.role === 'tool' ? describeStoredTool(m.text) : null;
    return t
      ? renderToolCall(t)
      : h('li', { class: 'msg-tool' }, h('span', { class: 'tool-name' }, m.role), ` ${m.text}`);
  }
  const who = m.role === 'user' ? 'you' : 'bot';
  if (m.role === 'user') {
    const shown = callerTurnBody(m.text);
    return h(
      'li',
      { class: `msg msg-you ${shown.cls}` },
      h('span', { class: 'msg-who' }, 'Caller'),
      shown.body,
    );
  }
  const body = h('p', { class: 'msg-text' });
  if (m.role === 'assistant' && m.interrupted) {
    const heard = (m.heard_text ?? '').trim();
    const rest = heard && m.text.startsWith(heard) ? m.text.slice(heard.length) : heard ? '' : m.text;
    replaceChildren(
      body,
      heard ? h('span', { class: 'heard' }, heard) : null,
      rest ? h('del', { class: 'unheard', title: 'not heard: the caller interrupted' }, rest) : null,
      h('span', { class: 'badge badge-warn' }, heard ? 'interrupted' : 'interrupted before any audio'),
    );
  } else replaceChildren(body, m.text);
  return h(
    'li',
    { class: `msg msg-${who}${m.interrupted ? ' msg-interrupted' : ''}` },
    h('span', { class: 'msg-who' }, who === 'you' ? 'Caller' : 'Bot'),
    body,
  );
}

/** A machine version (`claim+call@af0d38a7da5b`) that breaks only between its parts, never mid-hash. */
function versionText(version: string): HTMLElement {
  const parts = version.split(/(?<=[@+])/);
  return h(
    'code',
    { class: 'version' },
    parts.flatMap((p, i) => (i ? [h('wbr'), h('span', null, p)] : [h('span', null, p)])),
  );
}

function render(main: HTMLElement, d: ConversationDetail, moveFocus: boolean): void {
  const c = d.conversation;
  const duration = durationBetween(c.created_at, c.ended_at);
  const outcome = callOutcomeOf(c);
  const facts: Array<[string, Node | string]> = [
    ['Outcome', h('span', { class: `badge badge-outcome-${outcome.kind}` }, outcome.text)],
    ['Claim status', c.claim_status],
    ['Incident date', formatClaimDate(c.claim_date)],
    ['Amount', formatAmount(c.claim_amount)],
    ['Started', formatWhen(c.created_at)],
    ['Duration', duration === null ? 'not ended' : formatDurationMs(duration)],
    ['Ended because', c.ended_at ? endReasonText(c.end_reason) : '—'],
    ['Channel', callKindOf(c, d.transitions)],
    ['From', c.from_number ?? '—'],
    ['Machine version', versionText(c.machine_version)],
  ];
  const transferred = c.end_reason === 'transferred';
  const title = h('h1', { tabindex: '-1' }, `Claim ${c.claim_id}`);
  const items = d.messages.map((m) => ({ message: m, el: message(m) }));
  replaceChildren(
    main,
    h(
      'div',
      { class: 'page conversation-page' },
      h('p', null, h('a', { href: '#/history', class: 'back' }, '← All calls')),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'conv-title' },
        Object.assign(title, { id: 'conv-title' }),
        h(
          'dl',
          { class: 'facts' },
          facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
        ),
      ),
      h(
        'div',
        { class: 'conversation-grid' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'conv-transcript' },
          h('h2', { id: 'conv-transcript' }, 'Transcript'),
          transferred
            ? h(
                'p',
                { class: 'hint transfer-note', role: 'note' },
                'This call was transferred to a person: the transcript ends where the bot handed the caller over.',
              )
            : null,
          renderRecordingPlayer(d, items),
          d.messages.length
            ? h(
                'ol',
                { class: 'transcript-list static' },
                items.map((i) => i.el),
              )
            : h('p', { class: 'muted' }, 'No messages were stored.'),
        ),
        renderMetrics(d.metrics),
      ),
      renderTimeline(d.transitions, c.ended_at),
    ),
  );
  if (moveFocus) title.focus();
  document.title = `Claim ${c.claim_id} · statecall`;
}

/** Renders the page into `main` (focus moves to its heading after a navigation); returns a cleanup. */
export function mountConversationPage(main: HTMLElement, id: string, moveFocus: boolean): () => void {
  const abort = new AbortController();
  replaceChildren(
    main,
    h('div', { class: 'page' }, h('p', { class: 'muted', role: 'status' }, 'Loading the call…')),
  );
  getConversation(id, abort.signal).then(
    (d) => render(main, d, moveFocus),
    (err: unknown) => {
      if ((err as Error).name === 'AbortError') return;
      replaceChildren(
        main,
        h(
          'div',
          { class: 'page' },
          h('p', null, h('a', { href: '#/history', class: 'back' }, '← All calls')),
          h(
            'p',
            { class: 'call-error', role: 'alert' },
            err instanceof ApiError ? err.message : 'Could not load this call.',
          ),
        ),
      );
    },
  );
  return () => abort.abort();
}
