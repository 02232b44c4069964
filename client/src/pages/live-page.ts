/**
 * Live calls: every call in progress on every instance sharing the database (instance, state,
 * claim step, duration, latest latency, masked caller), and the instances themselves (heartbeat,
 * draining). Fed by `GET /api/calls/live/events` (Server-Sent Events, pushed on every change);
 * when the stream cannot be opened it polls `GET /api/calls/live` every 5 s. Durations tick
 * locally between updates.
 */
import { h, replaceChildren } from '../lib/dom';
import { pageToken, serverUrl } from '../lib/api';
import { formatAgo, formatDurationMs, ms } from '../lib/format';

interface LiveCall {
  instanceId: string;
  conversationId: string;
  channel: string;
  callState: string | null;
  claimStep: string | null;
  claimState: string | null;
  durationMs: number;
  latestLatencyMs: number | null;
  caller: string | null;
}

interface LiveInstance {
  instanceId: string;
  heartbeatAt: string;
  draining: boolean;
  calls: number;
  streamUrl: string | null;
}

interface LiveView {
  source: string;
  instanceId: string;
  heartbeatMs: number;
  expiresAfterMs: number;
  generatedAt: string;
  instances: LiveInstance[];
  calls: LiveCall[];
}

const POLL_MS = 5_000;

function withToken(path: string): URL {
  const url = serverUrl(path);
  const token = pageToken();
  if (token) url.searchParams.set('token', token);
  return url;
}

/** Renders the page into `main` (focus moves to its heading after a navigation); returns a cleanup. */
export function mountLivePage(
  main: HTMLElement,
  linkTo: (id: string) => string,
  moveFocus: boolean,
): () => void {
  const title = h('h1', { tabindex: '-1' }, 'Live calls');
  const status = h('p', { class: 'muted', role: 'status' }, 'Connecting…');
  const instancesEl = h('div', { class: 'live-instances' });
  const callsEl = h('div', { class: 'live-calls' });
  replaceChildren(
    main,
    h(
      'div',
      { class: 'page live-page' },
      h('section', { class: 'card' }, title, status, h('h2', null, 'Calls in progress'), callsEl),
      h('section', { class: 'card' }, h('h2', null, 'Instances'), instancesEl),
    ),
  );
  if (moveFocus) title.focus();

  let view: LiveView | null = null;
  let receivedAt = 0;
  let source: EventSource | null = null;
  let poll: number | undefined;
  let stopped = false;

  const renderCalls = () => {
    if (!view) return;
    const elapsed = Date.now() - receivedAt;
    if (!view.calls.length) {
      replaceChildren(callsEl, h('p', { class: 'empty' }, 'No call in progress.'));
      return;
    }
    const cell = (label: string, ...content: Array<Node | string>) =>
      h('td', { 'data-label': label }, ...content);
    replaceChildren(
      callsEl,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'calls' },
          h('caption', { class: 'visually-hidden' }, 'Calls in progress'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [
                'Call',
                'Instance',
                'Channel',
                'State',
                'Claim step',
                'Duration',
                'Latest latency',
                'Caller',
              ].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            null,
            view.calls.map((c) =>
              h(
                'tr',
                null,
                h(
                  'th',
                  { scope: 'row', 'data-label': 'Call' },
                  h('a', { href: linkTo(c.conversationId) }, c.conversationId.slice(0, 8)),
                ),
                cell('Instance', c.instanceId),
                cell('Channel', c.channel),
                cell('State', h('code', null, c.callState ?? '—')),
                cell('Claim step', c.claimStep ?? '—'),
                cell('Duration', formatDurationMs(c.durationMs + elapsed)),
                cell('Latest latency', c.latestLatencyMs === null ? '—' : ms(c.latestLatencyMs)),
                cell('Caller', c.caller ?? '—'),
              ),
            ),
          ),
        ),
      ),
    );
  };

  const render = (next: LiveView) => {
    view = next;
    receivedAt = Date.now();
    replaceChildren(
      status,
      `${next.calls.length} call${next.calls.length === 1 ? '' : 's'} on ${next.instances.length} instance${next.instances.length === 1 ? '' : 's'} (${next.source}; an instance silent for ${Math.round(next.expiresAfterMs / 1000)} s is gone).`,
    );
    replaceChildren(
      instancesEl,
      h(
        'ul',
        { class: 'instance-list' },
        next.instances.map((i) =>
          h(
            'li',
            null,
            h('strong', null, i.instanceId),
            i.instanceId === next.instanceId ? ' (this one)' : '',
            i.draining ? [' ', h('span', { class: 'badge badge-warn' }, 'draining')] : '',
            ` · ${i.calls} call${i.calls === 1 ? '' : 's'} · heartbeat ${formatAgo(i.heartbeatAt)}`,
            i.streamUrl ? h('span', { class: 'muted' }, ` · ${i.streamUrl}`) : '',
          ),
        ),
      ),
    );
    renderCalls();
  };

  const fail = (message: string) => replaceChildren(status, message);

  const fetchOnce = async () => {
    try {
      const res = await fetch(withToken('/api/calls/live'), { headers: { Accept: 'application/json' } });
      const body = (await res.json().catch(() => null)) as (LiveView & { error?: string }) | null;
      if (!res.ok || !body) fail(body?.error ?? `HTTP ${res.status}`);
      else render(body);
    } catch {
      fail('the server did not answer (is it running?)');
    }
  };

  const startPolling = () => {
    if (poll !== undefined || stopped) return;
    void fetchOnce();
    poll = window.setInterval(() => void fetchOnce(), POLL_MS);
  };

  if (typeof EventSource === 'function') {
    source = new EventSource(withToken('/api/calls/live/events'));
    source.addEventListener('view', (e) => {
      try {
        render(JSON.parse((e as MessageEvent<string>).data) as LiveView);
      } catch {
        /* a malformed message: keep the last view */
      }
    });
    source.addEventListener('unavailable', () =>
      fail('Live calls are unavailable: the store cannot be read.'),
    );
    source.onerror = () => {
      // A refused stream (401/403) or a server without it: fall back to polling, which says why.
      if (source?.readyState === EventSource.CLOSED) {
        source = null;
        startPolling();
      }
    };
  } else startPolling();
  const tick = window.setInterval(renderCalls, 1000);

  return () => {
    stopped = true;
    source?.close();
    if (poll !== undefined) window.clearInterval(poll);
    window.clearInterval(tick);
  };
}
