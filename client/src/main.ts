/**
 * The browser client: a hash router over three views (Talk, History, one conversation), the
 * provider names in the header, and the dashboard token carried in the page's own `?token=`.
 */
import './styles.css';
import { h, replaceChildren } from './lib/dom';
import { getHealth, type Health } from './lib/api';
import { createTalkPage, type TalkPage } from './pages/talk-page';
import { mountHistoryPage } from './pages/history-page';
import { mountConversationPage } from './pages/conversation-page';
import { mountLivePage } from './pages/live-page';

const main = document.getElementById('main') as HTMLElement;
const providersEl = document.getElementById('providers') as HTMLElement;
let talk: TalkPage | null = null;
let cleanup: (() => void) | null = null;
let health: Health | null = null;

type Route = { page: 'talk' } | { page: 'history' } | { page: 'live' } | { page: 'conversation'; id: string };

function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const m = /^history\/([0-9a-fA-F-]{36})$/.exec(path);
  if (m) return { page: 'conversation', id: m[1]! };
  if (path === 'history' || path.startsWith('history')) return { page: 'history' };
  if (path === 'live') return { page: 'live' };
  return { page: 'talk' };
}

let navigated = false;

function show(route: Route): void {
  // Focus moves to the new page's heading after a navigation, never on first load (skip link first).
  const moveFocus = navigated;
  navigated = true;
  cleanup?.();
  cleanup = null;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    const current = a.dataset.nav === (route.page === 'conversation' ? 'history' : route.page);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (route.page === 'talk') {
    if (!talk) {
      talk = createTalkPage();
      talk.setHealth(health);
    }
    replaceChildren(main, talk.element);
    document.title = 'Talk · statecall';
    talk.shown(moveFocus);
  } else if (route.page === 'live') {
    document.title = 'Live calls · statecall';
    cleanup = mountLivePage(main, (id) => `#/history/${id}`, moveFocus);
  } else if (route.page === 'history') {
    document.title = 'History · statecall';
    cleanup = mountHistoryPage(main, (id) => `#/history/${id}`, moveFocus);
  } else {
    document.title = 'Call · statecall';
    cleanup = mountConversationPage(main, route.id, moveFocus);
  }
}

function showProviders(health: Health | null): void {
  const p = health?.providers;
  if (!p) {
    replaceChildren(providersEl);
    return;
  }
  replaceChildren(
    providersEl,
    (['stt', 'llm', 'tts'] as const).map((k) =>
      h(
        'span',
        {
          class: `provider provider-${p[k] === 'local' ? 'local' : 'cloud'}`,
          title: `${k.toUpperCase()} provider`,
        },
        `${k} ${p[k] ?? '?'}`,
      ),
    ),
  );
}

window.addEventListener('hashchange', () => show(parseRoute(window.location.hash)));
show(parseRoute(window.location.hash));
void getHealth().then((result) => {
  health = result;
  showProviders(result);
  talk?.setHealth(result);
});
