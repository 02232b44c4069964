/**
 * The call recording's player on the call page, with the transcript in sync: the turn being played
 * is highlighted (and scrolled into view), and clicking (or Enter on) a turn seeks the recording
 * to it. The recording is `GET /api/conversations/:id/recording` (stereo: caller left, bot right);
 * the dashboard token goes as `?token=` because an <audio> element cannot send headers.
 *
 * Where each turn sits in the recording: src/recording/transcript-timing.ts (shared with the tests).
 */
import { h } from '../lib/dom';
import { pageToken, serverUrl } from '../lib/api';
import type { ConversationDetail, MessageRow } from '../lib/rows';
import { messageStarts } from '../../../src/recording/transcript-timing';

/** A transcript row and its element. */
export interface PlayerItem {
  message: MessageRow;
  el: HTMLElement;
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
