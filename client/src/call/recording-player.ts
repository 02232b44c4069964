/**
 * The call recording's player on the call page, with the transcript in sync: the turn being played
 * is highlighted (and scrolled into view), and clicking (or Enter on) a turn seeks the recording
 * to it. The recording is `GET /api/conversations/:id/recording` (stereo: caller left, bot right);
 * the dashboard token goes as `?token=` because an <audio> element cannot send headers.
 *
 * Timing: the recording starts with the call (the conversation's `created_at`), and each stored
 * message has its own time. A message is stored once it was said: a caller's when their words were
 * recognised, a bot turn's when its audio finished (or was cut). So a turn's seek point is its
 * stored time minus an estimate of how long it took to say (the caller at about 0.35 s a word; the
 * bot at 15 characters a second, the playback tracker's rate, over what the caller heard), never
 * before the previous message ended.
 */
import { h } from '../lib/dom';
import { pageToken, serverUrl } from '../lib/api';
import type { ConversationDetail, MessageRow } from '../lib/rows';

/** A transcript row and its element. */
export interface PlayerItem {
  message: MessageRow;
  el: HTMLElement;
}

/** Seconds a caller takes per word, and before their first word (the seek estimate above). */
const SECONDS_PER_WORD = 0.35;
const CALLER_LEAD_S = 0.5;
/** The bot's speaking rate (characters per second), as the playback tracker assumes. */
const BOT_CHARS_PER_SECOND = 15;

/** About how long a stored message took to say, in seconds. */
function spokenSeconds(m: MessageRow): number {
  if (m.role === 'user') {
    const words = m.text.trim().split(/\s+/).filter(Boolean).length;
    return CALLER_LEAD_S + words * SECONDS_PER_WORD;
  }
  const said = m.interrupted ? (m.heard_text ?? '') : m.text;
  return said.trim().length / BOT_CHARS_PER_SECOND;
}

/** Where each spoken message starts in the recording, in seconds (null for tool/system rows). */
export function messageStarts(d: ConversationDetail): Array<number | null> {
  const t0 = Date.parse(d.conversation.created_at);
  let previous = 0;
  return d.messages.map((m) => {
    if (m.role !== 'user' && m.role !== 'assistant') return null;
    const at = Math.max(0, (Date.parse(m.created_at) - t0) / 1000);
    const start = Math.max(previous, at - spokenSeconds(m));
    previous = at;
    return Number.isFinite(start) ? start : null;
  });
}

/** The index of the spoken item playing at `t` (the last one started), or -1. */
function playingAt(starts: Array<number | null>, t: number): number {
  let found = -1;
  starts.forEach((s, i) => {
    if (s !== null && s <= t) found = i;
  });
  return found;
}

/**
 * The player for a conversation, wired to its transcript `items` (in message order); null when the
 * call has no recording (not recorded, or deleted by the retention period).
 */
export function renderRecordingPlayer(d: ConversationDetail, items: PlayerItem[]): HTMLElement | null {
  if (!d.recording) return null;
  const url = serverUrl(d.recording.url);
  const token = pageToken();
  if (token) url.searchParams.set('token', token);
  const audio = h('audio', {
    controls: true,
    preload: 'metadata',
    src: url.toString(),
    'aria-label': 'Call recording (caller on the left, bot on the right)',
  }) as HTMLAudioElement;
  const note = h('p', { class: 'muted recording-note' }, 'Caller on the left channel, bot on the right.');
  const box = h('div', { class: 'recording-player' }, audio, note);
  const starts = messageStarts(d);
  let current = -1;

  const highlight = () => {
    const i = playingAt(starts, audio.currentTime);
    if (i === current) return;
    if (current >= 0) items[current]?.el.classList.remove('msg-playing');
    current = i;
    const el = items[i]?.el;
    if (!el) return;
    el.classList.add('msg-playing');
    if (!audio.paused) el.scrollIntoView({ block: 'nearest' });
  };
  audio.addEventListener('timeupdate', highlight);
  audio.addEventListener('seeked', highlight);
  audio.addEventListener('error', () => {
    // Deleted since the page loaded (retention), or the server is gone.
    box.replaceChildren(h('p', { class: 'muted' }, 'The recording could not be loaded.'));
    if (current >= 0) items[current]?.el.classList.remove('msg-playing');
  });

  items.forEach((item, i) => {
    const start = starts[i];
    if (start === null || start === undefined) return;
    const seek = () => {
      audio.currentTime = start;
      void audio.play().catch(() => {});
    };
    item.el.classList.add('msg-seekable');
    item.el.tabIndex = 0;
    item.el.title = 'Play the recording from here';
    item.el.addEventListener('click', seek);
    item.el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        seek();
      }
    });
  });
  return box;
}
