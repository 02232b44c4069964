/**
 * The live transcript: caller turns (partial transcripts in progress, then the final turn), bot
 * turns sentence by sentence, and for an interrupted bot turn the part the caller actually heard,
 * with the rest struck through. Keypad digits build one caller entry as they are pressed
 * (`03032026#`), confirmed when the server takes it as a turn. Also small notes for tool calls and
 * call events.
 */
import { h, replaceChildren } from '../lib/dom';
import { describeToolCall, type ToolText } from '../lib/tool-text';
import { isUnheardTurnText, keypadEntryOf } from '../../../src/session/caller-turn-text';

/** The text of a caller turn as shown: a keypad entry with its key symbol, else the words. */
export function callerTurnBody(text: string): { cls: string; body: HTMLElement } {
  const entry = keypadEntryOf(text);
  if (entry !== null)
    return {
      cls: 'msg-keypad',
      body: h(
        'p',
        { class: 'msg-text' },
        h('span', { class: 'keypad-tag' }, 'Keypad '),
        h('span', { class: 'keypad-digits' }, entry),
      ),
    };
  if (isUnheardTurnText(text))
    return { cls: 'msg-unheard', body: h('p', { class: 'msg-text' }, h('em', null, text)) };
  return { cls: '', body: h('p', { class: 'msg-text' }, text) };
}

/** The transcript panel. */
export interface TranscriptView {
  readonly element: HTMLElement;
  clear(): void;
  /** A typed turn, shown at once (confirmed by `userTurn`). */
  userTyped(text: string): void;
  userPartial(text: string): void;
  userFinal(text: string): void;
  userTurn(text: string): void;
  /** A keypad key pressed: added to the caller's keypad entry in progress. */
  keypadDigit(digit: string): void;
  botStarted(turn: number): void;
  botText(turn: number, text: string): void;
  botEnded(turn: number, text: string, heardText: string, interrupted: boolean): void;
  tool(turn: number, name: string, args: string, result: string): void;
  note(text: string): void;
}

/** Creates the transcript panel. */
export function createTranscriptView(): TranscriptView {
  const list = h('ol', { class: 'transcript-list' });
  const empty = h('p', { class: 'transcript-empty' }, 'Start a call: the conversation appears here.');
  const element = h(
    'div',
    { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': 'Transcript', tabindex: '0' },
    empty,
    list,
  );
  const bot = new Map<number, { li: HTMLElement; body: HTMLElement; text: string }>();
  let live: { li: HTMLElement; body: HTMLElement; finals: string } | null = null;
  const typed: HTMLElement[] = [];
  let keypad: { li: HTMLElement; digits: HTMLElement; entry: string } | null = null;

  const scroll = () => {
    element.scrollTop = element.scrollHeight;
  };
  const add = (li: HTMLElement) => {
    empty.hidden = true;
    list.appendChild(li);
    scroll();
    return li;
  };
  const bubble = (who: 'you' | 'bot', cls: string, ...body: HTMLElement[]) =>
    h(
      'li',
      { class: `msg msg-${who} ${cls}` },
      h('span', { class: 'msg-who' }, who === 'you' ? 'You' : 'Bot'),
      ...body,
    );

  const liveBubble = () => {
    if (!live) {
      const body = h('p', { class: 'msg-text' });
      const li = add(bubble('you', 'msg-live', body));
      live = { li, body, finals: '' };
    }
    return live;
  };

  return {
    element,
    clear() {
      list.replaceChildren();
      bot.clear();
      live = null;
      typed.length = 0;
      keypad = null;
      empty.hidden = false;
    },
    userTyped(text) {
      typed.push(add(bubble('you', 'msg-pending', h('p', { class: 'msg-text' }, text))));
    },
    userPartial(text) {
      const l = liveBubble();
      replaceChildren(
        l.body,
        l.finals ? `${l.finals} ` : '',
        h('span', { class: 'partial', title: 'still listening' }, text),
        h('span', { class: 'visually-hidden' }, ' (listening)'),
      );
      scroll();
    },
    userFinal(text) {
      const l = liveBubble();
      l.finals = `${l.finals} ${text}`.trim();
      replaceChildren(l.body, l.finals);
    },
    keypadDigit(digit) {
      if (!keypad) {
        const digits = h('span', { class: 'keypad-digits' });
        const li = add(
          bubble(
            'you',
            'msg-keypad msg-pending',
            h('p', { class: 'msg-text' }, h('span', { class: 'keypad-tag' }, 'Keypad '), digits),
          ),
        );
        keypad = { li, digits, entry: '' };
      }
      keypad.entry += digit;
      replaceChildren(keypad.digits, keypad.entry);
      scroll();
    },
    userTurn(text) {
      if (!text.trim()) return;
      const shown = callerTurnBody(text);
      if (keypadEntryOf(text) !== null && keypad) {
        // The server took the entry (it may have dropped keys pressed after an earlier entry).
        keypad.li.replaceWith(bubble('you', shown.cls, shown.body));
        keypad = null;
        return;
      }
      if (live) {
        replaceChildren(live.body, text);
        live.li.classList.remove('msg-live');
        live = null;
        return;
      }
      if (typed.length) {
        const [first, ...rest] = typed.splice(0);
        replaceChildren(first!.querySelector('.msg-text')!, text);
        first!.classList.remove('msg-pending');
        for (const r of rest) r.remove();
        return;
      }
      add(bubble('you', shown.cls, shown.body));
    },
    botStarted(turn) {
      if (bot.has(turn)) return;
      const body = h(
        'p',
        { class: 'msg-text' },
        h('span', { class: 'typing', 'aria-label': 'bot is answering' }, '…'),
      );
      const li = add(bubble('bot', 'msg-pending', body));
      bot.set(turn, { li, body, text: '' });
    },
    botText(turn, text) {
      if (!bot.has(turn)) this.botStarted(turn);
      const b = bot.get(turn)!;
      b.text = `${b.text} ${text}`.trim();
      replaceChildren(b.body, b.text);
      b.li.classList.remove('msg-pending');
      scroll();
    },
    botEnded(turn, text, heardText, interrupted) {
      if (!bot.has(turn)) this.botStarted(turn);
      const b = bot.get(turn)!;
      b.li.classList.remove('msg-pending');
      if (!text.trim()) {
        b.li.remove();
        bot.delete(turn);
        return;
      }
      if (!interrupted) {
        replaceChildren(b.body, text);
        return;
      }
      const heard = heardText.trim();
      const rest = heard && text.startsWith(heard) ? text.slice(heard.length) : heard ? '' : text;
      b.li.classList.add('msg-interrupted');
      replaceChildren(
        b.body,
        heard ? h('span', { class: 'heard' }, heard) : null,
        rest ? h('del', { class: 'unheard', title: 'not heard: the caller interrupted' }, rest) : null,
        h('span', { class: 'badge badge-warn' }, heard ? 'interrupted' : 'interrupted before any audio'),
      );
      if (heard && !text.startsWith(heard)) {
        b.body.appendChild(h('span', { class: 'visually-hidden' }, ` Full text: ${text}`));
      }
    },
    tool(turn, name, args, result) {
      add(renderToolCall(describeToolCall(name, args, result), turn));
    },
    note(text) {
      add(h('li', { class: 'msg-note' }, text));
    },
  };
}

/** A tool call as a transcript line. */
export function renderToolCall(t: ToolText, turn?: number): HTMLElement {
  return h(
    'li',
    {
      class: `msg-tool${t.ok === false ? ' tool-refused' : ''}`,
      'data-turn': turn === undefined ? undefined : String(turn),
    },
    h('span', { class: 'tool-name' }, t.name),
    t.args ? ` (${t.args})` : '',
    h('span', { class: 'tool-result' }, ` → ${t.outcome}`),
  );
}
