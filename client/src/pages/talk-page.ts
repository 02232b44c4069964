/**
 * The Talk page: call the bot with the microphone (or chat by typing), hear it, and watch
 * everything live: transcript, claim card, both machines, latency per turn.
 *
 * The page object lives for the whole visit, so a call goes on while the user looks at History.
 */
import { h, replaceChildren } from '../lib/dom';
import { dashboardLockedReason, type Health } from '../lib/api';
import { startCall, type CallConnection } from '../call/call-connection';
import type { ServerFrame } from '../call/protocol';
import { createTranscriptView } from '../call/transcript-view';
import { createClaimCard } from '../call/claim-card';
import { createMachinesNow } from '../call/machines-now';
import { createMachineChart } from '../charts/machine-chart';
import { createLatencyChart } from '../charts/latency-chart';
import { CALL_MACHINE, CLAIM_MACHINE } from '../machines';

/** The mounted page. */
export interface TalkPage {
  readonly element: HTMLElement;
  setHealth(health: Health | null): void;
  /** Called when the page is shown; after a navigation focus moves to the input or the heading. */
  shown(moveFocus: boolean): void;
}

type Phase = 'idle' | 'starting' | 'live' | 'ended';

const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** Builds the Talk page. */
export function createTalkPage(): TalkPage {
  const transcript = createTranscriptView();
  const claim = createClaimCard();
  const machinesNow = createMachinesNow('machines-live');
  const latency = createLatencyChart();
  const callChart = createMachineChart(CALL_MACHINE, { title: 'Call machine (turn-taking)' });
  const claimChart = createMachineChart(CLAIM_MACHINE, { title: 'Claim machine (business flow)' });

  const callBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'call-button' }, 'Call');
  const chatBtn = h('button', { type: 'button', class: 'btn', id: 'chat-button' }, 'Chat without microphone');
  const hangBtn = h(
    'button',
    { type: 'button', class: 'btn btn-danger', id: 'hangup-button', hidden: true },
    'Hang up',
  );
  const muteBtn = h(
    'button',
    { type: 'button', class: 'btn', id: 'mute-button', 'aria-pressed': 'false', hidden: true },
    'Mute microphone',
  );
  const micDot = h('span', { class: 'mic-dot', 'aria-hidden': 'true' });
  const micText = h('span', { id: 'mic-state' }, 'Microphone off');
  const micLevel = h('span', { class: 'mic-level-bar' });
  const micState = h(
    'div',
    { class: 'mic-state mic-off', role: 'status' },
    micDot,
    micText,
    h('span', { class: 'mic-level', 'aria-hidden': 'true' }, micLevel),
  );
  const status = h('p', { class: 'call-status', role: 'status', id: 'call-status' }, 'Ready. Start a call.');
  const sttHint = h(
    'p',
    { class: 'hint', hidden: true },
    'This server has no speech-to-text (set DEEPGRAM_API_KEY): on a call the bot hears that you speak, not what you say. Type your answers or use the keypad; the bot still speaks.',
  );
  const error = h('p', { class: 'call-error', role: 'alert', hidden: true });
  const locked = h('p', { class: 'call-error locked', role: 'alert', id: 'dashboard-locked', hidden: true });
  const input = h('input', {
    id: 'say-input',
    name: 'say',
    type: 'text',
    autocomplete: 'off',
    enterkeyhint: 'send',
    maxlength: '2000',
    disabled: true,
    placeholder: 'e.g. "March 3rd"',
    title: 'e.g. "got it", "March 3rd", "$1,250", "yes"',
  });
  const sendBtn = h('button', { type: 'submit', class: 'btn', disabled: true }, 'Send');
  const form = h(
    'form',
    { class: 'say-form', 'aria-label': 'Typed turn' },
    h('label', { for: 'say-input' }, 'Type what you would say'),
    h('div', { class: 'say-row' }, input, sendBtn),
  );
  const keys = KEYPAD.map((d) =>
    h('button', { type: 'button', class: 'btn key', disabled: true, 'aria-label': `key ${d}` }, d),
  );
  const keypad = h(
    'details',
    { class: 'keypad' },
    h('summary', null, 'Keypad (DTMF)'),
    h(
      'p',
      { class: 'muted' },
      'Type a date as MMDDYYYY then #, an amount as dollars*cents then #, 1 = yes, 2 = no.',
    ),
    h('div', { class: 'keys', role: 'group', 'aria-label': 'Keypad' }, keys),
  );

  const element = h(
    'div',
    { class: 'page talk-page' },
    h(
      'div',
      { class: 'talk-grid' },
      h(
        'section',
        { class: 'card call-panel', 'aria-labelledby': 'talk-title' },
        h('h1', { id: 'talk-title', tabindex: '-1' }, 'Talk to the bot'),
        h(
          'p',
          { class: 'muted intro' },
          'The bot opens an insurance claim, reads you its number, asks for the incident date and the amount, reads them back and files the claim. Call with your microphone, or chat by typing.',
        ),
        h('div', { class: 'call-controls' }, callBtn, chatBtn, muteBtn, hangBtn),
        locked,
        sttHint,
        micState,
        status,
        error,
        transcript.element,
        form,
        keypad,
      ),
      h(
        'aside',
        { class: 'talk-side', 'aria-label': 'Claim and machines, live' },
        claim.element,
        machinesNow.element,
        latency.element,
      ),
    ),
    h(
      'section',
      { class: 'machines', id: 'machines-live', 'aria-labelledby': 'machines-title' },
      h('h2', { id: 'machines-title' }, 'Machines, live'),
      h('div', { class: 'machines-grid' }, callChart.element, claimChart.element),
    ),
  );

  let phase: Phase = 'idle';
  let call: CallConnection | null = null;
  let ctx: AudioContext | null = null;
  let botAudible = false;
  let callValue: unknown = null;
  let sttLocal = false;
  let lockedReason: string | null = null;

  const setError = (msg: string | null) => {
    error.hidden = !msg;
    replaceChildren(error, msg ?? '');
  };
  const setStatus = (text: string) => replaceChildren(status, text);
  const setMic = (state: 'off' | 'on' | 'muted', text: string) => {
    micState.className = `mic-state mic-${state}`;
    if (micText.textContent !== text) replaceChildren(micText, text);
    if (state !== 'on') micLevel.style.transform = 'scaleX(0)';
  };

  /** What the microphone does for the bot: without speech-to-text it hears that you speak, not what. */
  const micOnText = () =>
    sttLocal
      ? 'Microphone on: the bot hears when you speak, not your words (no speech-to-text)'
      : 'Microphone on: the bot hears you';

  const setPhase = (p: Phase) => {
    phase = p;
    const live = p === 'live';
    const busy = p === 'starting' || live;
    callBtn.hidden = busy;
    chatBtn.hidden = busy;
    callBtn.disabled = lockedReason !== null;
    chatBtn.disabled = lockedReason !== null;
    hangBtn.hidden = !busy;
    muteBtn.hidden = !(busy && call?.mode === 'audio');
    input.disabled = !live;
    sendBtn.disabled = !live;
    for (const k of keys) k.disabled = !live;
    element.classList.toggle('in-call', busy);
  };

  const closeAudio = () => {
    const c = ctx;
    ctx = null;
    if (c && c.state !== 'closed') void c.close().catch(() => undefined);
  };

  const describeCall = () => {
    if (phase !== 'live') return;
    const v = callValue;
    const text = JSON.stringify(v ?? '');
    if (botAudible || text.includes('speaking')) setStatus('Live: the bot is speaking.');
    else if (text.includes('thinking')) setStatus('Live: the bot is thinking…');
    else if (text.includes('userSpeaking')) setStatus('Live: hearing you…');
    else
      setStatus(
        call?.mode === 'audio'
          ? 'Live: listening. Speak when you are ready.'
          : 'Live: your turn. Type a reply.',
      );
  };

  const onFrame = (f: ServerFrame) => {
    switch (f.event) {
      case 'session.started': {
        const focusWasOnStart = [callBtn, chatBtn, document.body].includes(
          document.activeElement as HTMLElement,
        );
        claim.start(f.claimId);
        setPhase('live');
        describeCall();
        // The start buttons are now hidden: keep the keyboard user in the conversation.
        if (focusWasOnStart || document.activeElement === null)
          (call?.mode === 'text' ? input : hangBtn).focus();
        break;
      }
      case 'state.changed': {
        const eventType = f.eventType ?? null;
        if (f.actor === 'call') {
          callValue = f.value;
          callChart.setValue(f.value, eventType);
          describeCall();
        } else claimChart.setValue(f.value, eventType);
        machinesNow.set(f.actor, f.value, eventType);
        break;
      }
      case 'claim.updated':
        claim.update(f.claim);
        break;
      case 'transcript.partial':
        transcript.userPartial(f.text);
        break;
      case 'transcript.final':
        transcript.userFinal(f.text);
        break;
      case 'user.turn':
        transcript.userTurn(f.text);
        break;
      case 'bot.turn.started':
        transcript.botStarted(f.turn);
        break;
      case 'bot.text':
        transcript.botText(f.turn, f.text);
        break;
      case 'bot.turn.ended':
        transcript.botEnded(f.turn, f.text, f.heardText, f.interrupted);
        break;
      case 'tool.called':
        transcript.tool(f.turn, f.name, f.arguments, f.result);
        break;
      case 'metrics.turn':
        latency.add(f.timing);
        break;
      case 'hangup':
        transcript.note('The bot hung up.');
        break;
      case 'session.ended':
        // The session ends exactly when the call machine reaches its final state, `ended`.
        callValue = 'ended';
        callChart.setValue('ended', 'session ended');
        machinesNow.set('call', 'ended', 'session ended');
        break;
      default:
        break;
    }
  };

  const begin = async (mode: 'text' | 'audio') => {
    if (phase === 'starting' || phase === 'live') return;
    setError(null);
    transcript.clear();
    claim.reset();
    latency.reset();
    callChart.reset();
    claimChart.reset();
    machinesNow.reset();
    callValue = null;
    botAudible = false;
    closeAudio();
    setPhase('starting');
    setStatus(mode === 'audio' ? 'Asking for the microphone…' : 'Connecting…');
    if (mode === 'audio') {
      // Created inside the click: browsers only let a page play sound after a user gesture.
      ctx = new AudioContext({ latencyHint: 'interactive' });
      void ctx.resume().catch(() => undefined);
    }
    try {
      call = await startCall(
        mode,
        {
          onFrame,
          onError: (m) => setError(m),
          onEnded: (reason) => {
            setPhase('ended');
            setMic('off', 'Microphone off');
            setStatus(`Call ended (${reason.replace(/_/g, ' ')}).`);
            transcript.note(`Call ended: ${reason.replace(/_/g, ' ')}.`);
            if (!botAudible) closeAudio();
            callBtn.focus();
          },
          onMicLevel: (rms) => {
            const level = Math.min(1, Math.sqrt(rms) * 2.2);
            micLevel.style.transform = `scaleX(${level.toFixed(3)})`;
          },
          onSpeakingChange: (audible) => {
            botAudible = audible;
            element.classList.toggle('bot-audible', audible);
            if (!audible && phase === 'ended') closeAudio();
            describeCall();
          },
        },
        ctx,
      );
      if (mode === 'audio') setMic('on', micOnText());
      setStatus('Connecting…');
    } catch (err) {
      call = null;
      closeAudio();
      setPhase('idle');
      setMic('off', 'Microphone off');
      setStatus('Ready. Start a call.');
      setError((err as Error).message);
    }
  };

  callBtn.addEventListener('click', () => void begin('audio'));
  chatBtn.addEventListener('click', () => void begin('text'));
  hangBtn.addEventListener('click', () => call?.hangUp());
  muteBtn.addEventListener('click', () => {
    if (!call) return;
    const muted = !call.muted;
    call.setMuted(muted);
    muteBtn.setAttribute('aria-pressed', String(muted));
    replaceChildren(muteBtn, muted ? 'Unmute microphone' : 'Mute microphone');
    setMic(muted ? 'muted' : 'on', muted ? 'Microphone muted: the bot hears silence' : micOnText());
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !call || phase !== 'live') return;
    call.sendText(text);
    transcript.userTyped(text);
    input.value = '';
    input.focus();
  });
  for (const k of keys) {
    k.addEventListener('click', () => {
      const d = k.textContent ?? '';
      if (!call || phase !== 'live') return;
      call.sendDtmf(d);
      transcript.keypadDigit(d);
    });
  }

  // A locked dashboard refuses the call socket without a word (the browser sees code 1006): ask
  // the API first, and say why and how to open the page instead of offering a call that fails.
  void dashboardLockedReason().then((reason) => {
    lockedReason = reason;
    locked.hidden = reason === null;
    replaceChildren(locked, reason ?? '');
    if (phase === 'idle') {
      setPhase('idle');
      if (reason) setStatus('Calls from this page are refused by the server.');
    }
  });

  return {
    element,
    setHealth(health) {
      latency.setProviders(health?.providers ?? {});
      sttLocal = health?.providers?.stt === 'local';
      sttHint.hidden = !sttLocal;
      if (call?.mode === 'audio' && phase === 'live' && !call.muted) setMic('on', micOnText());
    },
    shown(moveFocus) {
      if (!moveFocus) return;
      (phase === 'live' ? input : element.querySelector<HTMLElement>('#talk-title'))?.focus();
    },
  };
}
