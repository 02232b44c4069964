/**
 * The respond actor's rules for one bot turn (runRespondTurn, dialogueFailedEvent): when the
 * fallback dialogue takes over, when it does not, what an abort stops, and that tool calls reach the
 * real claim machine through the gateway. The dialogues are scripted; the speaker records pushes.
 */
import { createActor } from 'xstate';
import type { RespondInput } from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { dtmfToClaimEvents } from '../../machines/claim/claim.keypad.js';
import {
  ProviderError,
  type DialogueChunk,
  type DialogueMessage,
  type DialogueProvider,
  type DialogueRequest,
  type Speaker,
  type SpeechResult,
} from '../../src/providers/types.js';
import { ClaimGateway } from '../../src/session/claim-gateway.js';
import { createLocalDialogue } from '../../src/providers/local/local-dialogue.js';
import { dialogueFailedEvent } from '../../src/session/respond-actor.js';
import { runRespondTurn, type RespondContext } from '../../src/session/respond-turn.js';

/** One scripted step of a dialogue: chunks to stream, then (optionally) a failure. */
interface Step {
  chunks: DialogueChunk[];
  failWith?: Error;
  /** Wait for the request's abort, then fail the way an aborted fetch does. */
  hangUntilAborted?: boolean;
}

/** A dialogue that answers request i with step i, recording the requests it got. */
function scriptedDialogue(name: string, steps: Step[]) {
  const requests: DialogueRequest[] = [];
  const dialogue: DialogueProvider = {
    name,
    async *respond(request) {
      requests.push({ ...request, history: [...request.history] });
      const step = steps[requests.length - 1];
      if (!step) throw new Error(`${name}: no step ${requests.length - 1} in the script`);
      for (const chunk of step.chunks) yield chunk;
      if (step.hangUntilAborted) {
        await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve()));
        throw Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
      }
      if (step.failWith) throw step.failWith;
    },
  };
  return { dialogue, requests };
}

const text = (t: string): DialogueChunk => ({ type: 'text', text: t });
const tool = (id: string, name: string, args: object = {}): DialogueChunk => ({
  type: 'tool_call',
  call: { id, name, arguments: JSON.stringify(args) },
});

/** A speaker whose turns record what was pushed and resolve `done` when ended or cancelled. */
function recordingSpeaker() {
  const turns: { pushed: string[]; cancelled: boolean }[] = [];
  const speaker: Speaker = {
    name: 'recording',
    close: () => {},
    startTurn: (_turn, hooks) => {
      const rec = { pushed: [] as string[], cancelled: false };
      turns.push(rec);
      let resolve!: (r: SpeechResult) => void;
      const done = new Promise<SpeechResult>((r) => (resolve = r));
      const spoken = () => rec.pushed.join(' ');
      return {
        push: (piece) => {
          if (rec.pushed.length === 0) hooks.onFirstAudio();
          rec.pushed.push(piece);
        },
        end: () => resolve({ spokenText: spoken(), heardText: spoken(), interrupted: false }),
        cancel: () => {
          rec.cancelled = true;
          resolve({ spokenText: spoken(), heardText: '', interrupted: true });
        },
        release: () => {},
        done,
        timings: { firstTextAt: null, firstAudioAt: null, doneAt: null, firstHeardAt: null },
      };
    },
  };
  return { speaker, turns };
}

/** A turn's context over a live claim actor, recording every callback. */
function setUp(primary: DialogueProvider, fallback: DialogueProvider) {
  const claim = createActor(claimMachine, {
    input: { claimId: 'CLM-4821-0937', today: '2026-11-24' },
  }).start();
  const gateway = new ClaimGateway(claim);
  const { speaker, turns } = recordingSpeaker();
  const history: DialogueMessage[] = [];
  const failures: { message: string; vendor: string }[] = [];
  const toolCalls: { name: string; args: string; result: string }[] = [];
  const ctx: RespondContext = {
    gateway,
    history,
    dialogue: primary,
    fallback,
    speaker,
    callInfo: { channel: 'terminal', fromMasked: null, companyName: 'Acme' },
    userStoppedAt: () => null,
    dtmfEvents: (entry) => dtmfToClaimEvents(gateway.view(), entry),
    onFirstAudio: () => {},
    onUserMessage: () => {},
    onToolCall: (name, args, result) => toolCalls.push({ name, args, result }),
    onDialogueFailure: (err, vendor) => failures.push({ message: (err as Error).message, vendor }),
    onBotText: () => {},
  };
  return { claim, ctx, turns, history, failures, toolCalls };
}

function input(over: Partial<RespondInput> = {}): RespondInput {
  return {
    turn: 1,
    reason: 'user',
    userText: 'got it',
    dtmf: null,
    resumeTurn: null,
    keypadOffer: null,
    dialogue: 'primary',
    ...over,
  };
}

const llmDown = () => new ProviderError('llm', 'openai', 'openai 503', true, 503);

describe('the respond turn', () => {
  it.each([
    ['why do you need that?', 'answered'],
    ['hang on, let me check', 'answered'],
    ['blah blah', 'none'],
  ] as const)('reports %j, which the claim takes nothing from, as %s', async (said, outcome) => {
    const primary = scriptedDialogue('openai', [{ chunks: [text('We need it to open your claim.')] }]);
    const s = setUp(primary.dialogue, createLocalDialogue({ today: () => '2026-11-24' }));
    s.claim.send({ type: 'claim.number.acknowledged' });
    const result = await runRespondTurn(input({ userText: said }), s.ctx, new AbortController().signal);
    expect(result.outcome).toBe(outcome);
  });

  it('falls back to the fallback dialogue for the turn when the primary fails before speaking', async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [], failWith: llmDown() }]);
    const fallback = scriptedDialogue('local', [{ chunks: [text('Sorry, could you say that again?')] }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.failures).toEqual([{ message: 'openai 503', vendor: 'openai' }]);
    expect(fallback.requests).toHaveLength(1);
    expect(fallback.requests[0]!.history).toEqual([{ role: 'user', content: 'got it' }]);
    expect(s.turns[0]!.pushed).toEqual(['Sorry, could you say that again?']);
    expect(result.speech).toEqual({
      spokenText: 'Sorry, could you say that again?',
      heardText: 'Sorry, could you say that again?',
      interrupted: false,
    });
    expect(result.outcome).toBe('none');
    expect(s.history.at(-1)).toEqual({ role: 'assistant', content: 'Sorry, could you say that again?' });
  });

  it('words a tool turn from the fallback (the machines’ meta) after one LLM request, never a second', async () => {
    const primary = scriptedDialogue('openai', [
      { chunks: [tool('c1', 'claim_number_acknowledged')] },
      { chunks: [], failWith: llmDown() }, // would be the second request: never asked
    ]);
    const fallback = scriptedDialogue('local', [{ chunks: [text('On what date did the incident happen?')] }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(primary.requests).toHaveLength(1);
    expect(s.failures).toHaveLength(0);
    expect(fallback.requests[0]!.claim.path).toBe('ongoing.collectingDate');
    expect(s.turns[0]!.pushed).toEqual(['On what date did the incident happen?']);
    expect(result.outcome).toBe('accepted');
  });

  it('does not restart the turn when the primary fails after it already spoke, and drops its half sentence', async () => {
    const primary = scriptedDialogue('openai', [
      { chunks: [text('Thank you. '), text('On what date')], failWith: llmDown() },
    ]);
    const fallback = scriptedDialogue('local', []);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.failures).toEqual([{ message: 'openai 503', vendor: 'openai' }]);
    expect(fallback.requests).toHaveLength(0);
    // What was already split off is spoken; the half sentence the stream broke off in is not.
    expect(s.turns[0]!.pushed).toEqual(['Thank you.']); // the broken-off half sentence is not spoken
    expect(result.speech.interrupted).toBe(false);
  });

  it('does not restart the turn when the primary fails after streaming a tool call, and drops that call', async () => {
    const primary = scriptedDialogue('openai', [
      { chunks: [tool('c1', 'claim_number_acknowledged')], failWith: llmDown() },
    ]);
    const fallback = scriptedDialogue('local', []);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.failures).toHaveLength(1);
    expect(fallback.requests).toHaveLength(0);
    expect(s.toolCalls).toEqual([]);
    expect(s.claim.getSnapshot().value).toBe('initial');
    expect(result.outcome).toBe('none');
  });

  // KNOWN BUG (reported, not fixed here): the splitter keeps the failed primary's words that were
  // not yet a whole piece, and the fallback's reply is appended to them ("Thanks, IWhat date...").
  it("does not mix the failed primary's unspoken words into the fallback's reply", async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [text('Thanks, I')], failWith: llmDown() }]);
    const fallback = scriptedDialogue('local', [{ chunks: [text('On what date did it happen?')] }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.turns[0]!.pushed).toEqual(['On what date did it happen?']);
  });

  it('ends the turn without speaking when the fallback fails too, and never rejects', async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [], failWith: llmDown() }]);
    const fallback = scriptedDialogue('local', [{ chunks: [], failWith: new Error('local broke') }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.failures).toEqual([
      { message: 'openai 503', vendor: 'openai' },
      { message: 'local broke', vendor: 'local' },
    ]);
    expect(fallback.requests).toHaveLength(1);
    expect(s.turns[0]!.pushed).toEqual([]);
    expect(result.outcome).toBe('none');
  });

  it('uses the fallback from the start when the machine says the LLM is lost', async () => {
    const primary = scriptedDialogue('openai', []);
    const fallback = scriptedDialogue('local', [{ chunks: [text('Got it. ')] }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    await runRespondTurn(input({ dialogue: 'fallback' }), s.ctx, new AbortController().signal);

    expect(primary.requests).toHaveLength(0);
    expect(s.failures).toEqual([]);
    expect(s.turns[0]!.pushed).toEqual(['Got it.']);
  });

  it('stops the turn on abort without calling the fallback or reporting a failure', async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [text('Thank you. ')], hangUntilAborted: true }]);
    const fallback = scriptedDialogue('local', []);
    const s = setUp(primary.dialogue, fallback.dialogue);
    const ac = new AbortController();

    const running = runRespondTurn(input(), s.ctx, ac.signal);
    await new Promise((r) => setImmediate(r)); // the primary is now waiting mid-stream
    ac.abort();
    const result = await running;

    expect(s.failures).toEqual([]);
    expect(fallback.requests).toHaveLength(0);
    expect(s.turns[0]!.cancelled).toBe(true);
    expect(s.turns[0]!.pushed).toEqual(['Thank you.']);
    expect(result.speech.interrupted).toBe(true);
    expect(result.timing.interrupted).toBe(true);
  });

  it('asks no dialogue at all when the turn is aborted before it starts', async () => {
    const primary = scriptedDialogue('openai', []);
    const fallback = scriptedDialogue('local', []);
    const s = setUp(primary.dialogue, fallback.dialogue);
    const ac = new AbortController();
    ac.abort();

    await runRespondTurn(input(), s.ctx, ac.signal);

    expect(primary.requests).toHaveLength(0);
    expect(fallback.requests).toHaveLength(0);
    expect(s.failures).toEqual([]);
  });

  it('applies tool calls to the claim through the gateway and gives the dialogue their results', async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [tool('c1', 'claim_number_acknowledged')] }]);
    const fallback = scriptedDialogue('local', [
      { chunks: [text('Thank you. On what date did the incident happen?')] },
    ]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(s.claim.getSnapshot().value).toEqual({ ongoing: 'collectingDate' });
    expect(result).toMatchObject({ outcome: 'accepted', acceptedEvents: 1 });
    expect(s.toolCalls).toEqual([
      { name: 'claim_number_acknowledged', args: '{}', result: expect.stringContaining('"ok":true') },
    ]);
    // The wording round (the fallback, no second LLM request) sees the call, its result and the new state.
    expect(primary.requests).toHaveLength(1);
    expect(fallback.requests[0]!.claim.path).toBe('ongoing.collectingDate');
    expect(fallback.requests[0]!.history.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'c1', name: 'claim_number_acknowledged', arguments: '{}' }],
      },
      { role: 'tool', toolCallId: 'c1', content: s.toolCalls[0]!.result },
    ]);
    expect(s.turns[0]!.pushed).toEqual(['Thank you.', 'On what date did the incident happen?']);
  });

  it('reports a refused tool call as rejected, leaving the claim where it was', async () => {
    const primary = scriptedDialogue('openai', [
      { chunks: [tool('c1', 'claim_date_provided', { date: '2026-11-20' })] },
      { chunks: [text('Sorry. ')] },
    ]);
    const s = setUp(primary.dialogue, scriptedDialogue('local', []).dialogue);

    // A date is not expected while the claim number is being read out.
    const result = await runRespondTurn(input(), s.ctx, new AbortController().signal);

    expect(result).toMatchObject({ outcome: 'rejected', acceptedEvents: 0 });
    expect(s.claim.getSnapshot().value).toBe('initial');
    expect(JSON.parse(s.toolCalls[0]!.result)).toMatchObject({ ok: false });
  });

  it("notes the caller's goodbye and asks the dialogue nothing more that turn", async () => {
    const primary = scriptedDialogue('openai', [{ chunks: [tool('c1', 'caller_goodbye_said')] }]);
    const s = setUp(primary.dialogue, scriptedDialogue('local', []).dialogue);

    const result = await runRespondTurn(input({ userText: 'bye' }), s.ctx, new AbortController().signal);

    expect(result.outcome).toBe('goodbye');
    expect(primary.requests).toHaveLength(1);
    expect(s.toolCalls).toEqual([
      { name: 'caller_goodbye_said', args: '{}', result: '{"ok":true,"event":"caller.goodbye.said"}' },
    ]);
    expect(s.claim.getSnapshot().value).toBe('initial');
  });

  it('applies a keypad entry through the gateway before the dialogue answers', async () => {
    const primary = scriptedDialogue('openai', []);
    const fallback = scriptedDialogue('local', [{ chunks: [text('Thank you. ')] }]);
    const s = setUp(primary.dialogue, fallback.dialogue);

    const result = await runRespondTurn(
      input({ reason: 'dtmf', userText: '', dtmf: '1' }),
      s.ctx,
      new AbortController().signal,
    );

    expect(s.claim.getSnapshot().value).toEqual({ ongoing: 'collectingDate' });
    expect(result.outcome).toBe('accepted');
    expect(primary.requests).toHaveLength(0); // the keypad needs no LLM: the meta words the reply
    expect(fallback.requests[0]!.claim.path).toBe('ongoing.collectingDate');
    expect(s.toolCalls.map((c) => c.name)).toEqual(['claim_number_acknowledged']);
  });
});

describe('the dialogue failure event', () => {
  it("carries a provider error's retryability and status", () => {
    expect(dialogueFailedEvent(new ProviderError('llm', 'openai', 'rate limited', false, 429))).toEqual({
      type: 'provider.failed',
      provider: 'llm',
      retryable: false,
      status: 429,
      message: 'rate limited',
    });
  });

  it('treats any other error as a retryable LLM failure without a status', () => {
    expect(dialogueFailedEvent(new TypeError('fetch failed'))).toEqual({
      type: 'provider.failed',
      provider: 'llm',
      retryable: true,
      message: 'fetch failed',
    });
  });
});
